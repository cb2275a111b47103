"""EW111 interrupt-skips-cleanup: seed 004 MEDIUM-1 done right — `except Exception` does not
catch Ctrl-C, so a rollback placed only there is skipped by it."""

from __future__ import annotations

import pytest

POSITIVES = {
    # seed MEDIUM-1: the take() command's rollback lives only in `except Exception`
    "seed_take_rollback": (
        """
        import logging
        logger = logging.getLogger(__name__)
        def take(root, wo_id, transaction, branch, worktree):
            try:
                create_worktree(root, wo_id, branch, worktree)
            except Exception as e:
                logger.error(f"Failed to create worktree: {e}")
                execute_rollback(transaction, root)
                return 1
            return 0
        """,
        "critical",
        "rollback `execute_rollback()`",
    ),
    # re-raising does not help: KeyboardInterrupt never enters the clause
    "cleanup_then_reraise": (
        """
        import os
        def write_atomic(path, data):
            tmp = path + ".tmp"
            try:
                with open(tmp, "w") as f:
                    f.write(data)
                os.replace(tmp, path)
            except Exception:
                os.unlink(tmp)
                raise
        """,
        "medium",
        "cleanup `os.unlink()`",
    ),
    "lock_release_in_handler": (
        """
        def move(job, lock):
            lock.acquire()
            try:
                job.move_to_running()
                lock.release()
            except Exception:
                lock.release()
                raise
        """,
        "critical",
        "`lock.release()`",
    ),
    "method_undo": (
        """
        import shutil
        class Deployer:
            def deploy(self, src, dst):
                try:
                    shutil.copytree(src, dst)
                    self.switch(dst)
                except Exception:
                    self.undo(dst)
                    raise
        """,
        "critical",
        "`self.undo()`",
    ),
}

NEGATIVES = {
    "finally_cleanup": """
        import os
        def write(path, data):
            tmp = path + ".tmp"
            done = False
            try:
                open(tmp, "w").write(data)
                os.replace(tmp, path)
                done = True
            except Exception:
                os.unlink(tmp)
                raise
            finally:
                if not done and os.path.exists(tmp):
                    os.unlink(tmp)
        """,
    "base_exception_clause": """
        def take(root, tx):
            try:
                create_worktree(root)
            except BaseException:
                execute_rollback(tx, root)
                raise
        """,
    "interrupt_clause_beside": """
        def take(root, tx):
            try:
                create_worktree(root)
            except KeyboardInterrupt:
                execute_rollback(tx, root)
                raise
            except Exception:
                execute_rollback(tx, root)
                return 1
        """,
    "enclosing_try_has_finally": """
        def take(root, tx):
            try:
                try:
                    create_worktree(root)
                except Exception:
                    execute_rollback(tx, root)
                    raise
            finally:
                tx.close()
        """,
    "narrow_clause_is_not_the_defect": """
        import os
        def write(path, data):
            try:
                open(path, "w").write(data)
            except OSError:
                os.unlink(path)
                raise
        """,
    "no_cleanup_in_clause": """
        import logging
        log = logging.getLogger(__name__)
        def take(root):
            try:
                create_worktree(root)
            except Exception:
                log.exception("failed")
                return 1
        """,
    "thread_target": """
        import threading
        def _feed(queue, sem):
            try:
                queue.send()
            except Exception:
                sem.release()
        threading.Thread(target=_feed, daemon=True).start()
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_positive(audit, name):
    source, severity, text = POSITIVES[name]
    findings = audit(source, "interrupt-skips-cleanup")
    assert [f.rule for f in findings] == ["EW111"], findings
    assert findings[0].severity.value == severity
    assert text in findings[0].message
    assert "KeyboardInterrupt" in findings[0].message
    assert "BaseException" in findings[0].recommendation


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative(audit, name):
    assert audit(NEGATIVES[name], "EW111") == []


def test_seed_clause_reports_both_harms(audit):
    # the lost traceback (claimed) and the skipped rollback (not claiming) are both reported
    findings = audit(POSITIVES["seed_take_rollback"][0])
    assert sorted(f.rule for f in findings if f.line == 7) == ["EW111", "EW113"]


# The undo is a call to a helper of the same module whose body removes or rolls back: the
# clause still runs only for `Exception`, so Ctrl-C skips the helper too.
HELPER_POSITIVES = {
    "method_that_removes_the_workdir": (
        """
        import shutil
        class Builder:
            def _discard(self):
                shutil.rmtree(self.workdir)

            def build(self):
                try:
                    self._compile()
                except Exception:
                    self._discard()
                    raise
        """,
        "`self._discard()` (which calls `shutil.rmtree()`)",
    ),
    "function_that_removes_a_partial_download": (
        """
        import os
        def _remove_partial(path):
            if os.path.exists(path):
                os.remove(path)

        def fetch(url, out):
            try:
                download(url, out)
            except Exception:
                _remove_partial(out)
                raise
        """,
        "`_remove_partial()` (which calls `os.remove()`)",
    ),
}

HELPER_NEGATIVES = {
    # the helper forgets an in-memory entry: nothing on disk is left behind
    "helper_changes_memory_only": """
        class Observer:
            def _forget(self, emitter):
                self._emitters.remove(emitter)
                emitter.stop()

            def start(self, emitter):
                try:
                    emitter.start()
                except Exception:
                    self._forget(emitter)
                    raise
        """,
    "helper_cleanup_in_finally": """
        import shutil
        class Builder:
            def _discard(self):
                shutil.rmtree(self.workdir)

            def build(self):
                ok = False
                try:
                    self._compile()
                    ok = True
                finally:
                    if not ok:
                        self._discard()
        """,
    "helper_cleanup_on_base_exception": """
        import os
        def _remove_partial(path):
            os.remove(path)

        def fetch(url, out):
            try:
                download(url, out)
            except BaseException:
                _remove_partial(out)
                raise
        """,
}


@pytest.mark.parametrize("name", sorted(HELPER_POSITIVES))
def test_cleanup_by_helper_call(audit, name):
    source, text = HELPER_POSITIVES[name]
    findings = audit(source, "interrupt-skips-cleanup")
    assert [f.rule for f in findings] == ["EW111"], findings
    assert text in findings[0].message
    assert "KeyboardInterrupt" in findings[0].message


@pytest.mark.parametrize("name", sorted(HELPER_NEGATIVES))
def test_cleanup_by_helper_call_negative(audit, name):
    assert audit(HELPER_NEGATIVES[name], "EW111") == []


# Named undo calls of any receiver: a method of the class, a module function, a DB connection.
NAMED_UNDO_CALLS = {
    "self_rollback": (
        """
        class Store:
            def apply(self, items):
                try:
                    self._write(items)
                except Exception:
                    self._rollback()
                    raise
        """,
        "rollback `self._rollback()`",
    ),
    "cleanup_function": (
        """
        import os
        def build(tmp, out):
            try:
                render(tmp)
                os.replace(tmp, out)
            except Exception:
                cleanup(tmp)
                raise
        """,
        "rollback `cleanup()`",
    ),
    "connection_rollback": (
        """
        def insert(conn, rows):
            try:
                conn.executemany("insert into t values (?)", rows)
                conn.commit()
            except Exception:
                conn.rollback()
                raise
        """,
        "rollback `conn.rollback()`",
    ),
}


@pytest.mark.parametrize("name", sorted(NAMED_UNDO_CALLS))
def test_named_undo_call_only_for_exception(audit, name):
    source, text = NAMED_UNDO_CALLS[name]
    findings = audit(source, "interrupt-skips-cleanup")
    assert [(f.rule, f.severity.value) for f in findings] == [("EW111", "critical")]
    assert text in findings[0].message


def test_connection_rollback_on_base_exception_is_silent(audit):
    source = NAMED_UNDO_CALLS["connection_rollback"][0].replace(
        "except Exception", "except BaseException"
    )
    assert audit(source, "EW111") == []


# -- round 2 (issue 16): a "restore" helper that only assigns attributes ---------------------------


def test_in_memory_restore_helper_is_silent(audit):
    source = """
        class Handler:
            def _restore_delegate(self):
                self.transport.auth_handler = self._delegate
            def parse_token(self, m):
                try:
                    token = self.gss.accept(m.get_string())
                except Exception as e:
                    self.transport.saved_exception = e
                    self._restore_delegate()
                    raise
                return token
        """
    assert audit(source, "EW111") == []


def test_restore_helper_touching_disk_still_fires(audit):
    source = """
        import os
        class Handler:
            def _restore_backup(self):
                os.replace(self.backup, self.path)
            def rewrite(self, data):
                try:
                    self.write(data)
                except Exception:
                    self._restore_backup()
                    raise
        """
    assert [f.rule for f in audit(source, "EW111")] == ["EW111"]
