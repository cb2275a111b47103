"""Issue 16, round 2: the shapes swallows-interrupt (EW110) and broad-catch (EW105) learnt from
labelled real code. Each silent shape has a look-alike that still fires."""

from __future__ import annotations

import pytest

# -- EW110: an interruption needs a window ---------------------------------------------------

EW110_SILENT = {
    # a Unix-domain socket is a local path: connecting cannot wait on a host
    "unix_socket_connect": """
        import os, socket
        def agent():
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                conn.connect(os.environ["AGENT_SOCKET"])
                return conn
            except:
                return None
        """,
    # local, instant file-system calls
    "local_chdir": """
        import os
        def can_enter(path):
            try:
                os.chdir(path)
                return True
            except:
                return False
        """,
    # a lenient parse loop through the class's own private helper
    "own_parse_helper_in_loop": """
        class Pack:
            def _parse(self, line):
                a, b = line.split()
                self.items.append((int(a), int(b)))
            def read(self, lines):
                for line in lines:
                    try:
                        self._parse(line)
                    except:
                        continue
        """,
    # a callback handed in: nothing is known about it
    "callback_value": """
        def evaluate(f):
            try:
                return f()
            except:
                return f
        """,
    # the guarded code only raises
    "only_raises": """
        for y in (0, 1, 2):
            try:
                if y:
                    raise ValueError("odd")
            except:
                print("other")
        """,
    # a follow-up step inside another clause; the function returns right after
    "follow_up_then_return": """
        def dispatch(handlers, r, log):
            for h in handlers:
                try:
                    h.handle(r)
                except Exception:
                    log.error("failed")
                    try:
                        r.error(500)
                    except:
                        pass
                    return
        """,
    # round 3: the class routes SIGINT through the event loop: Ctrl-C runs its handler
    "loop_sigint_handler": """
        import asyncio, signal
        class Worker:
            def init_signals(self):
                self.loop.add_signal_handler(signal.SIGINT, self.handle_quit, signal.SIGINT)
            def handle_quit(self, sig):
                self.alive = False
            async def _run(self):
                try:
                    while self.alive:
                        await asyncio.sleep(1)
                except BaseException:
                    pass
        """,
    # round 3: the function installs its own SIGINT handler before it waits
    "own_sigint_handler": """
        import signal, socket
        def serve(sock, on_interrupt):
            signal.signal(signal.SIGINT, on_interrupt)
            while True:
                try:
                    sock.recv(1024)
                except:
                    continue
        """,
    # round 3: asking who the user is reads the environment, nothing waits
    "getuser_probe": """
        import getpass
        def owner():
            try:
                return getpass.getuser()
            except BaseException:
                return "unknown"
        """,
}

EW110_FIRES = {
    "dns_lookup": (
        """
        from socket import gethostbyname
        def offline():
            try:
                return gethostbyname("mirror.example.org") is None
            except BaseException:
                return True
        """,
        "`gethostbyname()`",
    ),
    "tcp_connect": (
        """
        import socket
        def reachable(host):
            conn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                conn.connect((host, 22))
                return True
            except:
                return False
        """,
        "`conn.connect()`",
    ),
    "coroutine_await": (
        """
        class FS:
            async def _is_file(self, path):
                try:
                    return (await self._fetch_meta(path))["type"] == "file"
                except:
                    return False
        """,
        "CancelledError",
    ),
    "own_remote_method": (
        """
        class RemoteFile:
            def _get_size(self):
                try:
                    return self.stat().st_size
                except:
                    return 0
        """,
        "`self.stat()`",
    ),
    "own_helper_that_waits": (
        """
        import socket
        class Client:
            def _ping(self):
                socket.create_connection(("example.org", 80)).close()
            def alive(self):
                try:
                    self._ping()
                    return True
                except:
                    return False
        """,
        "which calls",
    ),
    "imported_work_per_iteration": (
        """
        from tasks import process
        def run(items):
            for item in items:
                try:
                    process(item)
                except:
                    pass
        """,
        "the loop goes on",
    ),
    # round 3: the installed handler raises `KeyboardInterrupt` itself: Ctrl-C still lands
    "sigint_handler_reraises": (
        """
        import signal, socket
        def on_interrupt(signum, frame):
            raise KeyboardInterrupt
        def serve(sock):
            signal.signal(signal.SIGINT, on_interrupt)
            while True:
                try:
                    sock.recv(1024)
                except:
                    continue
        """,
        "`sock.recv()`",
    ),
    # round 3: Python's own handler restored: Ctrl-C raises `KeyboardInterrupt` again
    "default_int_handler_restored": (
        """
        import signal, socket
        def fetch(host):
            signal.signal(signal.SIGINT, signal.default_int_handler)
            try:
                return socket.create_connection((host, 80))
            except:
                return None
        """,
        "`create_connection()`",
    ),
    # round 3: only SIGTERM is routed through the loop; Ctrl-C still cancels the coroutine
    "loop_sigterm_handler_only": (
        """
        import asyncio, signal
        class Worker:
            def init_signals(self):
                self.loop.add_signal_handler(signal.SIGTERM, self.handle_exit)
            async def _run(self):
                try:
                    await asyncio.sleep(1)
                except BaseException:
                    pass
        """,
        "CancelledError",
    ),
    # round 3: the handler is installed by another class, not around this code
    "sigint_handler_elsewhere": (
        """
        import signal, socket
        class Server:
            def install(self):
                signal.signal(signal.SIGINT, self.stop)
        class Client:
            def alive(self, host):
                try:
                    socket.create_connection((host, 80)).close()
                    return True
                except:
                    return False
        """,
        "`create_connection()`",
    ),
    # round 3: a password prompt waits on the terminal
    "password_prompt": (
        """
        import getpass
        def ask():
            try:
                return getpass.getpass("Password: ")
            except BaseException:
                return ""
        """,
        "`getpass.getpass()`",
    ),
}


@pytest.mark.parametrize("name", sorted(EW110_SILENT))
def test_ew110_shape_is_silent(audit, name):
    assert audit(EW110_SILENT[name], "EW110") == []


@pytest.mark.parametrize("name", sorted(EW110_FIRES))
def test_ew110_look_alike_fires(audit, name):
    source, text = EW110_FIRES[name]
    findings = audit(source, "EW110")
    assert [f.rule for f in findings] == ["EW110"], findings
    assert text in findings[0].message


THREAD_GRANDCHILD = """
    import socket, threading
    class Handler(threading.Thread):
        pass
    class Sub(Handler):
        def serve(self):
            try:
                socket.create_connection(("h", 1))
            except:
                pass
    """


def test_ew110_thread_grandchild_is_silent(audit):
    # Ctrl-C is delivered to the main thread only; `Sub` derives `Thread` through `Handler`
    assert audit(THREAD_GRANDCHILD, "EW110") == []
    # the look-alike: the same classes without the thread base
    source = THREAD_GRANDCHILD.replace("class Handler(threading.Thread)", "class Handler")
    assert [f.rule for f in audit(source, "EW110")] == ["EW110"]


# -- EW105: containment by choice ------------------------------------------------------------

EW105_SILENT = {
    "instant_conversion": """
        def parse_version(part):
            try:
                return int(part)
            except Exception:
                return part.strip()
        """,
    "named_default": """
        def user(config, default):
            try:
                val = config.get("user", "name")
            except Exception:
                val = default()
            return val
        """,
    "comment_explains": """
        import os
        class Runner:
            def stop(self):
                try:
                    os.close(self.fd)
                except Exception:
                    # nothing can be done about a failed close at this point
                    pass
        """,
    "linter_acknowledged": """
        import subprocess
        def term_size(what):
            try:
                return int(subprocess.check_output(["term-size", what]))
            except Exception:  # noqa: BLE001
                return None
        """,
    "stand_in_import": """
        try:
            shell = detect_shell().config
            from .widgets import Bar
        except Exception:
            from .console import Bar
        """,
    "first_success_search": """
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
    "release_only": """
        class Worker:
            def tick(self):
                if hasattr(self, "server"):
                    try:
                        self.server.stop()
                    except Exception:
                        pass
        """,
    "success_flag": """
        import os
        def enter(path):
            can = 0
            try:
                os.chdir(path)
                can = 1
            except Exception:
                pass
            return can
        """,
    "follow_up_of_a_logged_error": """
        def serve(self, request):
            try:
                self.process(request)
            except Exception as e:
                self.log("failed: %s" % e)
                try:
                    self.send_status(request, "FAILURE")
                except Exception:
                    pass
        """,
    "predicate_logs_why_no": """
        import logging
        log = logging.getLogger(__name__)
        def is_special_host(path):
            try:
                out = probe_host(path)
            except Exception as e:
                log.debug("probe failed: %s", e)
                out = ""
            return "SPECIAL" in out
        """,
    "remote_predicate": """
        class FS:
            def exists(self, path):
                try:
                    self.info(path)
                    return True
                except Exception:
                    return False
        """,
    "identity_fallback": """
        def evaluate(f):
            try:
                return f()
            except Exception:
                return f
        """,
    "repr_class": """
        class ValueRepr:
            def dump(self, obj):
                items = []
                for key in dir(obj):
                    try:
                        items.append((key, self.repr(getattr(obj, key))))
                    except Exception:
                        pass
                return items
        """,
}

EW105_FIRES = {
    # `stat` of a remote file is a round trip, not a probe; `0` is a wrong size
    "remote_round_trip_is_no_probe": """
        class RemoteFile:
            def _get_size(self):
                try:
                    return self.stat().st_size
                except Exception:
                    return 0
        """,
    # a feature silently disabled for the whole run
    "socket_setup_dropped": """
        import socket
        class Metrics:
            def __init__(self, host):
                try:
                    self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    self.sock.connect(host)
                except Exception:
                    self.sock = None
        """,
    # a conversion of what the network sent is not local computation
    "conversion_of_a_network_read": """
        def count(sock):
            try:
                return int(sock.recv(16))
            except Exception:
                return 0
        """,
    # logged outside a predicate: a bug still hides behind one line (and the traceback is lost)
    "logged_around_work": """
        import logging
        log = logging.getLogger(__name__)
        def take(root, wo_id):
            try:
                create_worktree(root, wo_id)
            except Exception as exc:
                log.error(f"take failed: {exc}")
                return 1
            return 0
        """,
    # a trailing note on the `except` line, or a question, explains nothing
    "trailing_note": """
        def load_state(path):
            try:
                return parse(path.read_text())
            except Exception:                 # a typo in parse() looks like a missing state
                return None
        """,
    "question_comment": """
        def load_state(path):
            try:
                return parse(path.read_text())
            except Exception:
                # can this really fail?
                return None
        """,
    # a failed removal leaves the file behind: not only letting go
    "removal_is_not_release": """
        import os
        class Marker:
            def unlink(self):
                try:
                    if int(open(self.fname).read() or 0) == self.pid:
                        os.unlink(self.fname)
                except Exception:
                    self.fname = None
        """,
    # removing one file and writing another is not only letting go
    "release_then_write": """
        import os
        def rotate(path):
            try:
                os.unlink(path + ".1")
                open(path, "w").close()
            except Exception:
                pass
        """,
    # a follow-up inside a clause that reported nothing
    "follow_up_of_a_dropped_error": """
        def serve(self, request):
            try:
                self.process(request)
            except Exception:
                try:
                    self.send_status(request, "FAILURE")
                except Exception:
                    self.failed = True
        """,
    # an override hook of the class's own is not the file's private helper
    "public_hook_of_the_class": """
        class Server:
            def finish(self):
                self.channel.close()
            def end(self):
                try:
                    self.finish()
                except Exception:
                    self.ended = False
        """,
}


@pytest.mark.parametrize("name", sorted(EW105_SILENT))
def test_ew105_shape_is_silent(audit, name):
    assert audit(EW105_SILENT[name], "EW105") == []


@pytest.mark.parametrize("name", sorted(EW105_FIRES))
def test_ew105_look_alike_fires(audit, name):
    findings = audit(EW105_FIRES[name], "EW105")
    if name == "follow_up_of_a_dropped_error":  # the follow-up (and the outer clause) fire
        assert [f.line for f in findings] == [5, 8], findings
        return
    assert [f.rule for f in findings] == ["EW105"], findings
