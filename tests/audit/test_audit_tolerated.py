"""Silences whose cost is known and small (rules/_tolerated.py and the round-2 shapes of the
lost-error rules EW101-EW104): each shape stays silent, and a look-alike that differs in the one
piece of evidence the shape rests on still fires with the right rule."""

from __future__ import annotations

import textwrap

import pytest

from errwise.audit.config import AuditConfig
from errwise.audit.engine import analyze_source

OWN = ("EW101", "EW102", "EW103", "EW104")


def _rules(source: str) -> list[str]:
    config = AuditConfig(select=frozenset(OWN))
    result = analyze_source(textwrap.dedent(source), "snippet.py", config)
    assert not result.diagnostics, result.diagnostics
    return [f.rule for f in result.findings]


SILENT = {
    # an optional file: absent or unreadable means "nothing to read"
    "optional_file_read": """
        def read_all(self, paths):
            for path in paths:
                try:
                    with open(path, "rb") as fp:
                        self._read(fp, fp.name)
                except OSError:
                    continue
        """,
    # "ensure gone": removing one file, catching only OSError
    "removal_catching_oserror": """
        import os
        def drop_stale(path):
            try:
                os.unlink(path)
            except OSError:
                pass
        """,
    # releasing a resource: the object is unusable either way
    "single_close": """
        def close(sock):
            try:
                sock.close()
            except OSError:
                pass
        """,
    # the pre-`exist_ok` idiom: a missing directory fails the open that follows, loudly
    "makedirs_catching_oserror": """
        import os
        def prepare(path):
            try:
                os.makedirs(os.path.dirname(path))
            except OSError:
                pass
            return open(path, "w")
        """,
    # a release call named with a `close` word
    "force_close_all": """
        def reset(pools):
            for pool in pools:
                try:
                    pool.force_close_all()
                except Exception:
                    pass
        """,
    # asking the platform who we are: optional information
    "getuser_probe": """
        import getpass
        def info():
            args = []
            try:
                args += [("username", getpass.getuser())]
            except Exception:
                pass
            return args
        """,
    # asking the file system what exists: "could not tell" is "no"
    "exists_probe": """
        def in_venv(path):
            try:
                return path.joinpath("pyvenv.cfg").is_file()
            except OSError:
                return False
        """,
    # a malformed item of outside input skipped
    "lenient_parse": """
        def load(self, lines):
            for line in lines:
                try:
                    self._parse_entry(line)
                except:
                    continue
        """,
    # a failure while answering an error the outer handler already logged
    "after_reported_error": """
        import logging
        log = logging.getLogger(__name__)
        def serve(handler, request):
            try:
                handler.handle(request)
            except Exception:
                log.exception("handler failed")
                try:
                    request.error(500)
                except:
                    pass
        """,
    # one narrow step with a comment block above saying why
    "explained_step": """
        import os
        def open_log(path, uid, gid):
            # the log may be /dev/null, which we cannot chown: keep the default owner
            try:
                os.chown(path, uid, gid)
            except OSError:
                pass
        """,
    # a command run for its output, one source among several
    "command_output_attempt": """
        import re
        from subprocess import PIPE, Popen
        def serial():
            try:
                dump = Popen(["ioreg", "-d", "2"], stdout=PIPE).communicate()[0]
                match = re.search(b"serial = <([^>]+)", dump)
                if match is not None:
                    return match.group(1)
            except OSError:
                pass
            return None
        """,
    # the exception thrown into a coroutine on purpose, caught as it leaves
    "thrown_on_purpose": """
        def cancel_all(tasks, exc):
            for t in tasks:
                try:
                    t._coro.throw(exc)
                except exc:
                    pass
        """,
    # a probe that raises a different error from its own body (re-raised by an earlier clause)
    "probe_with_own_raise": """
        import asyncio
        def sync(loop):
            try:
                running = asyncio.get_running_loop()
                if running is loop:
                    raise NotImplementedError("called from within the loop")
            except NotImplementedError:
                raise
            except RuntimeError:
                pass
            return loop
        """,
    # a module constant bound in the try's `else:` or the fallback clause
    "module_constant_in_else": """
        import sys
        try:
            shell = sys.modules["IPython"].get_ipython
        except Exception:
            from .console import bar
        else:
            from .notebook import bar
        """,
    # each candidate type tried in turn; success leaves the loop in the try's `else:`
    "first_success_else_break": """
        def convert(value, types):
            for typ in types:
                try:
                    value = typ(value)
                except Exception:
                    pass
                else:
                    break
            return value
        """,
    # an introspecting dump: any attribute of a foreign object may raise
    "attribute_dump": """
        def details(self, obj):
            items = []
            for key in dir(obj):
                try:
                    items.append((key, self.repr(getattr(obj, key))))
                except Exception:
                    pass
            return items
        """,
    # EW104: signals to processes that may already have exited
    "kill_loop": """
        import os, signal
        def kill_children(pids):
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        """,
    # EW102: a read-only lookup whose "not available" answer is already the value
    "lookup_not_available": """
        def loader(reader, path):
            if path is None:
                return None, None
            try:
                resource = reader.open_resource(path)
            except OSError:
                return None, None
            return path, resource
        """,
    # EW103: nothing outside is read, so no outside cause hides behind the default
    "pure_computation": """
        import os, sys
        def prog_name():
            try:
                prog = os.path.basename(sys.argv[0])
                if prog == "__main__.py":
                    return "python -m tool"
                return prog
            except Exception:
                pass
            return "tool"
        """,
    # EW103: an error message handed back is a failure result
    "error_message_result": """
        import os
        def drop_privileges(gid):
            try:
                os.setgid(gid)
            except OSError:
                return "Could not set group id of effective user"
            return "ok"
        """,
    # EW103: the marker is rejected with an error later in the block
    "marker_rejected_later": """
        def send(sock, out):
            while out:
                try:
                    n = sock.send(out)
                except Exception:
                    n = -1
                if not out:
                    break
                if n < 0:
                    raise EOFError()
                out = out[n:]
        """,
    # EW103: a broad clause whose comment names the errors it is there for
    "comment_names_errors": """
        import os
        def entries(head):
            try:
                files = os.listdir(head)
            except Exception:
                # This raises OSError, or a TypeError for bytes on some platforms
                files = ["."]
            return files
        """,
}

FIRES = {
    # a network read, not a local file: a truncated response nobody hears of
    "network_read": (
        """
        def stream(resp, size):
            while True:
                try:
                    data = resp.read(size)
                except OSError:
                    break
                if not data:
                    break
                yield data
        """,
        "EW101",
    ),
    # a lock file is never an "ensure gone" detail
    "lock_removal": (
        """
        def remove_lock(lock_path):
            try:
                lock_path.unlink()
            except OSError:
                pass
        """,
        "EW101",
    ),
    # not a release: a write that silently did not happen
    "single_send": (
        """
        def notify(sock, data):
            try:
                sock.sendall(data)
            except OSError:
                pass
        """,
        "EW101",
    ),
    # configuring, not parsing: the timeout silently not set
    "settimeout_swallowed": (
        """
        import socket
        def connect(addr, timeout):
            sock = socket.socket()
            try:
                sock.settimeout(timeout)
            except:
                pass
            sock.connect(addr)
            return sock
        """,
        "EW101",
    ),
    # creating a directory and writing into it in one guarded block: the write's failure is lost
    "makedirs_and_write": (
        """
        import os
        def prepare(path, data):
            try:
                os.makedirs(os.path.dirname(path))
                open(path, "w").write(data)
            except OSError:
                pass
        """,
        "EW101",
    ),
    # flushing is not a release: pending data that silently was not written
    "flush_not_close": (
        """
        def finish(stream):
            try:
                stream.flush_pending()
            except Exception:
                pass
        """,
        "EW101",
    ),
    # reading the file under a broad clause, not asking whether it exists: any bug or decode
    # error becomes "not a venv"
    "read_not_probe": (
        """
        def venv_version(path):
            if not path.exists():
                return False
            try:
                return path.joinpath("pyvenv.cfg").read_text()
            except Exception:
                return False
        """,
        "EW102",
    ),
    # the outer handler reported nothing: both errors vanish
    "after_unreported_error": (
        """
        def serve(self, handler, request):
            try:
                handler.handle(request)
            except Exception:
                self.errors += 1
                try:
                    request.error(500)
                except:
                    pass
        """,
        "EW101",
    ),
    # a comment admitting a problem explains nothing
    "todo_above": (
        """
        import os
        def open_log(path, uid, gid):
            # TODO: find out why this fails on some systems
            try:
                os.chown(path, uid, gid)
            except OSError:
                pass
        """,
        "EW101",
    ),
    # a command run for its effect, not its output
    "command_for_effect": (
        """
        import subprocess
        def size():
            try:
                return subprocess.check_call(["tput", "cols"])
            except Exception:
                pass
            return None
        """,
        "EW101",
    ),
    # not the thrown exception: something else the coroutine raised
    "send_not_throw": (
        """
        def step_all(tasks, exc):
            for t in tasks:
                try:
                    t._coro.send(None)
                except exc:
                    pass
        """,
        "EW101",
    ),
    # each candidate tried, but nothing leaves the loop on success
    "no_first_success": (
        """
        def convert_all(values, typ):
            for value in values:
                try:
                    typ(value)
                except Exception:
                    pass
        """,
        "EW101",
    ),
    # the loop is over data, not the object's attribute names
    "attribute_of_data": (
        """
        def details(self, obj, keys):
            items = []
            for key in keys:
                try:
                    items.append((key, self.fetch(getattr(obj, key))))
                except Exception:
                    pass
            return items
        """,
        "EW101",
    ),
    # a removal loop is still a best effort nobody hears of (only signals are tolerated)
    "remove_loop": (
        """
        import os
        def clean(files):
            for name in files:
                try:
                    os.remove(name)
                except OSError:
                    pass
        """,
        "EW104",
    ),
    # about a lock: "no lock" and "could not read it" must not look alike
    "lookup_about_lock": (
        """
        def read_lock(lock_path):
            if not lock_path.exists():
                return None
            try:
                text = lock_path.read_text()
            except OSError:
                return None
            return text
        """,
        "EW102",
    ),
    # a plausible string, not an error message
    "plausible_string": (
        """
        import subprocess
        def branch():
            try:
                out = subprocess.run(["git", "branch"], capture_output=True, check=True)
            except Exception:
                return "main"
            return out.stdout.decode()
        """,
        "EW103",
    ),
    # the marker is never rejected: -1 flows on as a count
    "marker_used": (
        """
        def send(sock, out):
            try:
                n = sock.send(out)
            except Exception:
                n = -1
            return out[n:]
        """,
        "EW103",
    ),
    # the same shape reading the environment: a broken setting hidden behind the default
    "environment_read": (
        """
        import os
        def prog_name():
            try:
                prog = os.path.basename(os.environ["TOOL_PROG"])
                if prog == "__main__.py":
                    return "python -m tool"
                return prog
            except Exception:
                pass
            return "tool"
        """,
        "EW103",
    ),
    # a comment that names no error explains nothing about the breadth
    "comment_without_errors": (
        """
        import os
        def entries(head):
            try:
                files = os.listdir(head)
            except Exception:
                # be lenient here
                files = ["."]
            return files
        """,
        "EW103",
    ),
}


@pytest.mark.parametrize("name", sorted(SILENT))
def test_tolerated_shape_is_silent(name):
    assert _rules(SILENT[name]) == []


@pytest.mark.parametrize("name", sorted(FIRES))
def test_look_alike_still_fires(name):
    source, rule = FIRES[name]
    assert rule in _rules(source)
