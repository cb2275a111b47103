"""EW113 lost-traceback: errors logged without their traceback; look-alike negatives."""

from __future__ import annotations

import pytest

POSITIVES = {
    # seed HIGH-3: cleanup logs only str(e) and returns False
    "seed_cleanup_worktree": (
        """
        import logging
        logger = logging.getLogger(__name__)
        def cleanup_worktree(root, path):
            try:
                run_command(["git", "worktree", "remove", str(path)], cwd=root)
                return True
            except Exception as e:
                logger.error(f"Failed to cleanup worktree: {e}")
                return False
        """,
        "high",
        "not even its type",
    ),
    "print_without_error": (
        """
        import os
        def list_dir(path):
            try:
                names = os.listdir(path)
            except OSError:
                print("Can't list", path)
                names = []
            return names
        """,
        "high",
        "without the error itself",
    ),
    "broad_with_type_is_medium": (
        """
        import logging
        log = logging.getLogger("x")
        def refresh(cache):
            try:
                cache.reload()
            except Exception as exc:
                log.warning("refresh failed: %r", exc)
        """,
        "medium",
        "only the message",
    ),
    "exc_info_false_is_no_traceback": (
        """
        import logging
        log = logging.getLogger("x")
        def sync(repo):
            try:
                repo.pull()
            except Exception as exc:
                log.error("sync failed: %s", exc, exc_info=False)
        """,
        "high",
        "only the message",
    ),
}

NEGATIVES = {
    "logs_exception": """
        import logging
        log = logging.getLogger("x")
        def sync(repo):
            try:
                repo.pull()
            except Exception:
                log.exception("sync failed")
        """,
    "exc_info_true": """
        import logging
        log = logging.getLogger("x")
        def sync(repo):
            try:
                repo.pull()
            except Exception as exc:
                log.error("sync failed: %s", exc, exc_info=True)
        """,
    "reraised_after_log": """
        import logging
        log = logging.getLogger("x")
        def sync(repo):
            try:
                repo.pull()
            except Exception as exc:
                log.error("sync failed: %s", exc)
                raise
        """,
    "specific_failure_with_its_cause": """
        import logging
        log = logging.getLogger("x")
        def remove(path):
            try:
                path.unlink()
            except OSError as exc:
                log.warning("cannot remove %s: %s", path, exc)
        """,
    "expected_condition": """
        import logging
        log = logging.getLogger("x")
        def load(path):
            try:
                return path.read_text()
            except FileNotFoundError:
                log.info("no config at %s, using defaults", path)
                return ""
        """,
    "boundary_clean_message_nonzero": """
        import sys
        def main():
            try:
                run()
            except Exception as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            return 0
        """,
    "dunder_main_guard": """
        import sys
        if __name__ == "__main__":
            rc = 1
            try:
                run()
                rc = 0
            except Exception as e:
                print("Error: %s" % e, file=sys.stderr)
            sys.exit(rc)
        """,
    "debug_probe": """
        import logging
        log = logging.getLogger("x")
        def find_tool(reg):
            try:
                key = reg.open("tool")
            except OSError:
                log.debug("tool is not registered")
                return None
            return key
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_positive(audit, name):
    source, severity, text = POSITIVES[name]
    findings = audit(source, "lost-traceback")
    assert [f.rule for f in findings] == ["EW113"], findings
    assert findings[0].severity.value == severity
    assert text in findings[0].message
    assert "logger.exception" in findings[0].recommendation


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative(audit, name):
    assert audit(NEGATIVES[name], "EW113") == []


def test_false_result_is_mentioned(audit):
    findings = audit(POSITIVES["seed_cleanup_worktree"][0], "EW113")
    assert "the caller learns only `False`" in findings[0].message


def test_claims_over_broad_catch(audit):
    findings = audit(POSITIVES["exc_info_false_is_no_traceback"][0])
    assert [f.rule for f in findings] == ["EW113"]


# -- a family of failures logged with only its message (issue: the classic lost traceback) ------

CHECKSUM = """
    import hashlib, logging
    logger = logging.getLogger(__name__)
    def checksum(path):
        try:
            with open(path, "rb") as fh:
                return hashlib.sha256(fh.read()).hexdigest()
        except OSError as e:
            logger.error(f"checksum failed for {path}: {e}")
            return None
    """

RETRY = """
    import logging, time
    import requests
    logger = logging.getLogger(__name__)
    def fetch(url):
        for attempt in range(5):
            try:
                return requests.get(url, timeout=5).json()
            except requests.RequestException as e:
                logger.error(f"attempt {attempt} failed: {e}")
                time.sleep(2 ** attempt)
        return None
    """


@pytest.mark.parametrize("source", [CHECKSUM, RETRY], ids=["checksum", "retry_loop"])
def test_family_error_with_only_its_message_is_lost_traceback(audit, source):
    findings = audit(source)
    assert [f.rule for f in findings] == ["EW113"], findings
    assert "only the message" in findings[0].message


def test_one_step_note_is_not_lost_traceback(audit):
    # look-alike: one call, noted at info level; the OSError message names the file and errno
    source = """
        import logging
        logger = logging.getLogger(__name__)
        def stop(proc):
            try:
                proc.terminate()
            except OSError as e:
                logger.info("ignored error after the process died: %s", e)
        """
    assert audit(source, "EW113") == []


def test_error_shown_to_the_user_is_kept(audit):
    # look-alike of CHECKSUM that prints the error to stderr: the user sees it
    source = CHECKSUM.replace(
        'logger.error(f"checksum failed for {path}: {e}")',
        'print(f"checksum failed for {path}: {e}", file=sys.stderr)',
    ).replace("import hashlib, logging", "import hashlib, logging, sys")
    assert audit(source, "EW113") == []


def test_import_probe_warning_is_not_lost_traceback(audit):
    source = """
        import warnings
        def observer():
            try:
                from .fsevents import FSEventsObserver
            except Exception:
                warnings.warn("fsevents is not available: falling back to polling")
                return None
            return FSEventsObserver
        """
    assert audit(source, "EW113") == []


def test_predicate_noting_it_could_not_tell_is_silent(audit):
    source = """
        import logging
        log = logging.getLogger(__name__)
        def is_cygwin(git):
            try:
                out = git.version_info()
                return "cygwin" in out.lower()
            except Exception as ex:
                log.debug("cannot tell if %s is cygwin's: %r", git, ex)
            return False
        """
    assert audit(source, "EW113") == []
    # look-alike: the same clause in a function that computes a value still loses the cause
    value = source.replace("def is_cygwin", "def git_flavour").replace(
        'log.debug("cannot', 'log.warning("cannot'
    )
    assert [f.rule for f in audit(value, "EW113")] == ["EW113"]


def test_bool_flag_of_work_is_not_a_predicate(audit):
    # `-> bool` alone is a "did it work" flag, not a question: the seed's cleanup shape fires
    source = """
        import logging
        log = logging.getLogger(__name__)
        def cleanup(root, branch) -> bool:
            try:
                run_command(["git", "branch", "-D", branch], root)
            except Exception:
                log.info("branch %s not removed", branch)
            return True
        """
    assert [f.rule for f in audit(source, "EW113")] == ["EW113"]


def test_a_value_derived_from_the_error_shows_it(audit):
    # `code = exc.args[0]` logged: the message carries the errno of the one call guarded
    source = """
        import errno, logging, os
        log = logging.getLogger(__name__)
        def reap():
            try:
                pid, sts = os.waitpid(-1, os.WNOHANG)
            except OSError as exc:
                code = exc.args[0]
                if code not in (errno.ECHILD, errno.EINTR):
                    log.critical("waitpid error %r", code)
                return None
            return pid
        """
    assert audit(source, "EW113") == []
    # look-alike: a message that drops the error entirely
    lost = source.replace('log.critical("waitpid error %r", code)', 'log.critical("waitpid error")')
    assert [f.rule for f in audit(lost, "EW113")] == ["EW113"]


# -- issue 16, round 2: shapes the labelled corpus showed are not a lost traceback -------------


def _fires(audit, source):
    return [f.rule for f in audit(source, "EW113")] == ["EW113"]


def test_error_stored_in_the_record_is_kept(audit):
    source = """
        import logging
        log = logging.getLogger(__name__)
        def authenticate(sources, transport, failures):
            for source in sources:
                try:
                    return source.authenticate(transport)
                except Exception as e:
                    failures.append(e)
                    log.warning("authentication with %s failed: %s", source, e)
        """
    assert audit(source, "EW113") == []
    # look-alike: only the message is logged, nothing keeps the error
    assert _fires(audit, source.replace("failures.append(e)", "pass"))


def test_error_text_in_a_chosen_note_is_kept(audit):
    source = """
        import logging, subprocess
        log = logging.getLogger(__name__)
        def flavour(git):
            kind = "plain"
            try:
                out = subprocess.check_output([git, "--version"], text=True)
                kind = out.split()[-1]
            except Exception as ex:
                log.debug("cannot tell the flavour of %s: %r", git, ex)
            return kind
        """
    assert audit(source, "EW113") == []
    # look-alike: the same note without the error's text
    assert _fires(audit, source.replace('%s: %r", git, ex)', '%s", git)'))


def test_guarded_code_raising_only_its_own_errors(audit):
    source = """
        def classify(values):
            for y in values:
                try:
                    if y % 2:
                        raise ValueError("odd")
                    if y == 0:
                        raise Exception("zero")
                except ValueError:
                    print("y was odd")
                except:
                    print("y is something else")
        """
    assert audit(source, "EW113") == []
    # look-alike: the guarded code also calls out, and the bare clause hides why that failed
    assert _fires(audit, source.replace('raise Exception("zero")', "check(y)"))


def test_note_logged_only_when_verbose(audit):
    source = """
        import json, logging
        log = logging.getLogger(__name__)
        class Metadata:
            def read(self, verbose=False):
                try:
                    with open(self.path, "rb") as fh:
                        self.data = json.load(fh)
                except OSError:
                    if verbose:
                        log.warning("Unable to read the metadata file; operations may fail")
                    self.data = {}
        """
    assert audit(source, "EW113") == []
    # look-alike: always logged, without the error: why it failed is lost
    assert _fires(audit, source.replace("if verbose:\n", "if True:\n"))


def test_bad_input_answered_to_the_peer(audit):
    source = """
        import logging
        log = logging.getLogger(__name__)
        def handle(self, data, request):
            try:
                params, method = self.loads(data)
            except:
                log.error("request data %r is invalid: unmarshallable", data)
                request.error(400)
                return
            return self.call(method, params)
        """
    assert audit(source, "EW113") == []
    # look-alike: the message names nothing the guarded code worked on
    assert _fires(audit, source.replace('invalid: unmarshallable", data)', 'invalid")'))


def test_signal_handler_naming_the_file_it_could_not_read(audit):
    source = """
        import os, signal
        class Proxy:
            def setsignals(self):
                signal.signal(signal.SIGUSR2, self.passtochild)
            def passtochild(self, sig, frame):
                try:
                    with open(self.pidfile) as f:
                        pid = int(f.read().strip())
                except:
                    print("Can't read child pidfile %s!" % self.pidfile)
                    return
                os.kill(pid, sig)
        """
    assert audit(source, "EW113") == []
    # look-alike: the same method, not a signal handler, has a caller to report to
    assert _fires(audit, source.replace("signal.signal(signal.SIGUSR2, self.passtochild)", "pass"))


def test_stale_file_left_by_a_failed_removal(audit):
    source = """
        import logging, os
        log = logging.getLogger(__name__)
        def clear(logdir, names):
            for name in names:
                pathname = os.path.join(logdir, name)
                try:
                    os.remove(pathname)
                except OSError:
                    log.warning("Failed to clean up %r", pathname)
        """
    assert audit(source, "EW113") == []
    # look-alike: listing the directory fails, and the message names neither it nor the error
    listing = """
        import logging, os
        log = logging.getLogger(__name__)
        def clear(logdir):
            try:
                names = os.listdir(logdir)
            except OSError:
                log.warning("Could not clear the log dir")
                return
            return names
        """
    assert _fires(audit, listing)
