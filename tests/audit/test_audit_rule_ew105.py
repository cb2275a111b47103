"""EW105 broad-catch: broad clauses outside boundaries, judged by what they guard; negatives."""

from __future__ import annotations

import pytest

POSITIVES = {
    # fallback value after a state change: nobody else claims it
    "fallback_after_disk_change": (
        """
        import os
        def rotate(path):
            try:
                os.rename(path, path + ".1")
                moved = True
            except Exception:
                moved = None
            return moved
        """,
        "high",
    ),
    # Was `logs_traceback_and_continues` (low), now a negative: with the traceback logged a bug
    # caught there is seen; all 7 such findings of the bench corpus were labelled false.
    # The same clause dropping the error is the defect:
    "drops_error_of_a_call": (
        """
        def refresh(cache):
            try:
                cache.reload()
            except Exception:
                cache.loaded = False
        """,
        "medium",
    ),
    "base_exception_cleanup_call": (
        """
        import shutil
        def publish(src, dst):
            try:
                shutil.copytree(src, dst)
            except BaseException:
                notify_admin(dst)
        """,
        "high",
    ),
    # at a boundary, but the run ends as if it succeeded
    "boundary_without_traceback_or_status": (
        """
        def main():
            try:
                run()
            except Exception:
                cleanup_screen()
            return 0
        """,
        "medium",
    ),
    # at a boundary, a bug reaches the user as one line, without its traceback
    "boundary_message_without_traceback": (
        """
        import sys
        def main():
            try:
                run()
            except Exception as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            return 0
        """,
        "medium",
    ),
}

NEGATIVES = {
    "logs_traceback_and_continues": """
        import logging
        log = logging.getLogger(__name__)
        def refresh(cache):
            try:
                cache.reload()
            except Exception:
                log.exception("refresh failed")
        """,
    "reraises_after_cleanup": """
        import os
        def write(path, data):
            try:
                open(path, "w").write(data)
            except Exception:
                os.unlink(path)
                raise
        """,
    "wraps_with_cause": """
        def load(path):
            try:
                return parse(path.read_text())
            except Exception as exc:
                raise errwise.classify(exc).with_context(path=str(path)) from exc
        """,
    # a boundary that logs the traceback and ends the run non-zero
    "boundary_logs_and_exits": """
        import logging, sys
        log = logging.getLogger(__name__)
        def main():
            try:
                run()
            except Exception:
                log.exception("fatal")
                return 1
            return 0
        """,
    # the exception object is handed on intact (another thread re-raises it)
    "handed_to_future": """
        def work(future, fn):
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)
        """,
    "narrow_oserror": """
        def size(path):
            try:
                return path.stat().st_size
            except OSError:
                return 0
        """,
    "contained_in_repr": """
        class Lock:
            def __repr__(self):
                try:
                    owner = self._owner()
                except Exception:
                    owner = "unknown"
                return f"<Lock owner={owner}>"
        """,
    "thread_top_level_reports": """
        import threading, traceback
        class Worker(threading.Thread):
            def run(self):
                try:
                    self.step()
                except Exception:
                    traceback.print_exc()
        """,
    "repr_helper": """
        class Repr:
            def repr_instance(self, x):
                try:
                    return repr(x)
                except Exception:
                    return "<%s instance>" % type(x).__name__
        """,
    "exception_kept_for_later": """
        def lookup(cls, value):
            try:
                exc = None
                result = cls._missing_(value)
            except Exception as e:
                exc = e
                result = None
            if result is None:
                raise ValueError(value) from exc
            return result
        """,
    "documented_containment": """
        def run_plugins(plugins):
            for plugin in plugins:
                try:
                    plugin.run()
                # errwise: ignore[broad-catch] -- one bad plugin must not stop the others
                except Exception:
                    plugin.disabled = True
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_positive(audit, name):
    source, severity = POSITIVES[name]
    findings = audit(source, "broad-catch")
    assert [f.rule for f in findings] == ["EW105"], findings
    assert findings[0].severity.value == severity
    assert "catches every error" in findings[0].message


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative(audit, name):
    assert audit(NEGATIVES[name], "EW105") == []


def test_base_exception_mentions_interrupts(audit):
    findings = audit(POSITIVES["base_exception_cleanup_call"][0], "EW105")
    assert "KeyboardInterrupt" in findings[0].message


def test_boundary_message_says_what_is_missing(audit):
    findings = audit(POSITIVES["boundary_without_traceback_or_status"][0], "EW105")
    assert "top-level boundary" in findings[0].message
    assert "run_main" in findings[0].recommendation


def test_more_specific_rule_wins_the_clause(audit):
    source = """
        def remove(p):
            try:
                p.unlink()
            except Exception:
                pass
        """
    assert [f.rule for f in audit(source)] == ["EW101"]
