"""EW101 swallowed-exception: positives of varied shape, and look-alike negatives."""

from __future__ import annotations

import pytest

POSITIVES = {
    "pass_after_unlink": (
        """
        def remove_lock(lock_path):
            try:
                lock_path.unlink()
            except Exception:
                pass
        """,
        "critical",
    ),
    "bare_except_around_command": (
        """
        import subprocess as sp
        def status():
            try:
                sp.run(["git", "status"], check=True, timeout=5)
            except:
                pass
        """,
        "high",
    ),
    "oserror_continue_in_loop_reading": (
        """
        import os
        def sizes(paths):
            out = []
            for p in paths:
                try:
                    out.append(os.stat(p).st_size)
                except OSError:
                    continue
            return out
        """,
        "medium",
    ),
    "bare_return_after_rename": (
        """
        import os
        def rotate(path):
            try:
                os.rename(path, path + ".1")
            except OSError:
                return
            print("rotated")
        """,
        "high",
    ),
}

NEGATIVES = {
    "specific_expected_condition": """
        import os
        def remove(path):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        """,
    "logs_with_traceback": """
        import logging
        log = logging.getLogger(__name__)
        def remove(path):
            try:
                path.unlink()
            except Exception:
                log.exception("cannot remove %s", path)
        """,
    "reraises_after_inspecting": """
        import errno, os
        def make(path):
            try:
                os.mkdir(path)
            except OSError as exc:
                if exc.errno != errno.EEXIST:
                    raise
        """,
    "records_into_result": """
        def load(path):
            try:
                return Ok(path.read_text())
            except OSError as exc:
                return Err(exc)
        """,
    "error_stored_for_later": """
        class Worker:
            def run(self):
                try:
                    self.step()
                except Exception as exc:
                    self.failure = exc
        """,
    "value_error_parse_attempt": """
        def port(text):
            try:
                return int(text)
            except ValueError:
                pass
            return None
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_positive(audit, name):
    source, severity = POSITIVES[name]
    findings = audit(source, "swallowed-exception")
    assert [f.rule for f in findings] == ["EW101"], findings
    assert findings[0].severity.value == severity
    assert "discards the error" in findings[0].message


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative(audit, name):
    assert audit(NEGATIVES[name], "EW101") == []


def test_cleanup_before_reraise_is_silent(audit):
    # Was reported as low. A maintainer reading the whole clause sees the original OSError
    # re-raised right after the tidy-up: nothing is lost, so the old finding was a false claim.
    findings = audit(
        """
        import os
        def write(path, data):
            try:
                open(path + ".tmp", "w").write(data)
            except OSError:
                try:
                    os.unlink(path + ".tmp")
                except OSError:
                    pass
                raise
        """,
        "EW101",
    )
    assert findings == []


def test_swallow_inside_a_handler_that_goes_on_is_low_and_says_what_the_code_shows(audit):
    # The inner step used to be `os.unlink(tmp)` catching `OSError`: an "ensure gone" whose only
    # cost is a leftover temp file, now deliberately silent (see
    # test_removal_catching_oserror_is_ensure_gone); a rename keeps the claim under test.
    findings = audit(
        """
        import os
        def write(path, data):
            try:
                open(path + ".tmp", "w").write(data)
            except OSError:
                try:
                    os.rename(path + ".tmp", path + ".bad")
                except OSError:
                    pass
                return False
            return True
        """,
        "EW101",
    )
    assert [(f.line, f.severity.value) for f in findings] == [(9, "low")]
    assert "inside the handler of an earlier error" in findings[0].message
    assert "already being handled" not in findings[0].message


def test_function_name_does_not_decide_severity(audit):
    # The same code in `cleanup` and in `remove_file`: the message and severity follow the code.
    template = """
        import shutil
        def {name}(path):
            try:
                shutil.rmtree(path)
            except Exception:
                pass
        """
    a = audit(template.format(name="cleanup"), "EW101")
    b = audit(template.format(name="remove_file"), "EW101")
    assert [(f.severity, f.message) for f in a] == [(f.severity, f.message) for f in b]
    assert a and a[0].severity.value == "high"


def test_suppressed_on_except_line_and_comment_above(audit):
    source = """
        def a(p):
            try:
                p.unlink()
            except Exception:  # errwise: ignore[swallowed-exception]
                pass
        def b(p):
            try:
                p.unlink()
            # errwise: ignore[EW101] -- the lock is advisory here
            except Exception:
                pass
        def c(p):
            try:
                p.unlink()
            except Exception:  # noqa: EW105
                pass
        """
    assert [f.function for f in audit(source, "EW101")] == ["c"]


def test_documented_silence(audit):
    # `quiet` guarded `os.stat(path)` before: a metadata probe is now silent by design. The
    # point of `quiet` is that a tool directive explains nothing, so it guards a non-probe call.
    findings = audit(
        """
        import os, subprocess
        def browser(url):
            try:
                subprocess.Popen(["konqueror", url])
            except OSError:
                # fall through to the next browser variant
                pass
        def drop(path):
            # (was two `os.unlink` calls: a removal catching `OSError` is now an "ensure gone",
            # silent by design; two renames keep the point: a comment on a file change is low)
            try:
                os.rename(path, path + ".old")
                os.rename(path + ".idx", path + ".idx.old")
            except OSError:  # the index may be rebuilt later anyway
                pass
        def quiet(path):
            try:
                os.chdir(path)
            except OSError:  # pragma: no cover
                pass
        """,
        "EW101",
    )
    assert [(f.function, f.severity.value) for f in findings] == [
        ("drop", "low"),
        ("quiet", "medium"),
    ]
    assert "deliberate" in findings[0].message
