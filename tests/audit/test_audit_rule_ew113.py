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
