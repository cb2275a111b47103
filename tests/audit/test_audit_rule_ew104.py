"""EW104 best-effort-loop: seed 004 CRITICAL-1 (rollback loop) and other shapes; negatives."""

from __future__ import annotations

import pytest

POSITIVES = {
    # seed CRITICAL-1: the rollback logs, collects, and carries on; (bool, list) is returned
    "rollback_loop_logs_and_collects": (
        """
        import logging
        logger = logging.getLogger(__name__)
        def execute_rollback(transaction, root):
            failed_ops = []
            for op in reversed(transaction.operations):
                try:
                    if op.rollback_type == "remove_lock":
                        op.lock_path.unlink()
                    elif op.rollback_type == "move_wo_to_pending":
                        op.move_back()
                except Exception as e:
                    error_msg = f"{op.name}: {type(e).__name__}: {e}"
                    logger.error(f"Rollback failed: {error_msg}")
                    failed_ops.append(error_msg)
            return len(failed_ops) == 0, failed_ops
        """,
        "critical",
        "half rolled back",
    ),
    "release_locks_loop_with_traceback": (
        """
        import logging
        log = logging.getLogger(__name__)
        def release_all(locks):
            for lock in locks:
                try:
                    lock.release()
                except Exception:
                    log.exception("cannot release %s", lock)
        """,
        "critical",
        "lock or cleanup",
    ),
    "writes_continue": (
        """
        def write_all(outputs):
            for path, text in outputs.items():
                try:
                    path.write_text(text)
                except OSError as exc:
                    print("skipping", path, exc)
                    continue
        """,
        "high",
        "on-disk state half changed",
    ),
    "commands_loop": (
        """
        import subprocess
        def push_all(remotes):
            for remote in remotes:
                try:
                    subprocess.run(["git", "push", remote], check=True, timeout=60)
                except subprocess.CalledProcessError:
                    pass
        """,
        "high",
        "as if every step had succeeded",
    ),
    "temp_file_deletion": (
        """
        import os
        def clean(files):
            for name in files:
                try:
                    os.remove(name)
                except OSError:
                    pass
        """,
        "medium",
        "stay behind",
    ),
}

NEGATIVES = {
    # the collected failures are raised after the loop
    "raised_after_loop": """
        import logging
        logger = logging.getLogger(__name__)
        def rollback(ops):
            errors = []
            for op in reversed(ops):
                try:
                    op.undo()
                except Exception as exc:
                    logger.error("undo failed: %s", exc)
                    errors.append(exc)
            if errors:
                raise ExceptionGroup("rollback failed", errors)
        """,
    "returned_as_err": """
        def remove_all(paths):
            failed = []
            for p in paths:
                try:
                    p.unlink()
                except OSError as exc:
                    failed.append((p, exc))
            if failed:
                return Err(RemoveError(failed))
            return Ok(None)
        """,
    # a retry loop: success leaves the loop
    "retry_loop": """
        import os, time
        def replace_with_retry(src, dst):
            for attempt in range(3):
                try:
                    os.replace(src, dst)
                    break
                except PermissionError:
                    time.sleep(0.1)
            else:
                raise TimeoutError(dst)
        """,
    # a first-success search: the loop returns on success
    "first_success_search": """
        import os
        def open_first(names):
            for name in names:
                try:
                    fd = os.open(name, os.O_RDWR | os.O_CREAT)
                except OSError:
                    continue
                return fd
            raise FileNotFoundError(names)
        """,
    # a specific expected condition while deleting
    "missing_is_fine": """
        import os
        def clean(files):
            for name in files:
                try:
                    os.remove(name)
                except FileNotFoundError:
                    pass
        """,
    # a loop over reads: nothing is left half changed
    "read_only_loop": """
        import json, logging
        log = logging.getLogger(__name__)
        def load_all(paths):
            out = []
            for p in paths:
                try:
                    out.append(json.loads(p.read_text()))
                except Exception as exc:
                    log.warning("skip %s: %s", p, exc)
            return out
        """,
    # the failure goes to a caller-supplied error handler
    "onerror_callback": """
        import os, sys
        def remove_tree(entries, onerror):
            for entry in entries:
                try:
                    os.unlink(entry)
                except OSError:
                    onerror(os.unlink, entry, sys.exc_info())
        """,
    # the handler stops the loop
    "stops_on_failure": """
        import logging
        log = logging.getLogger(__name__)
        def rollback(ops):
            for op in reversed(ops):
                try:
                    op.undo()
                except Exception:
                    log.exception("undo of %s failed; stopping", op)
                    break
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_positive(audit, name):
    source, severity, harm = POSITIVES[name]
    findings = audit(source, "best-effort-loop")
    assert [f.rule for f in findings] == ["EW104"], findings
    assert findings[0].severity.value == severity
    assert harm in findings[0].message
    assert "errwise.Transaction" in findings[0].recommendation


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative(audit, name):
    assert audit(NEGATIVES[name], "EW104") == []


def test_claims_over_lost_traceback_and_broad_catch(audit):
    findings = audit(POSITIVES["rollback_loop_logs_and_collects"][0])
    assert [f.rule for f in findings if f.line == 12] == ["EW104"], findings


def test_suppressed_on_loop_line(audit):
    source = """
        import os
        def clean(files):
            for name in files:  # errwise: ignore[best-effort-loop] -- scratch files
                try:
                    os.remove(name)
                except OSError:
                    pass
        """
    assert audit(source, "EW104") == []
