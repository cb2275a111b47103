"""Static typing checks (run by mypy, not pytest) for FileLock, inspect_lock and Transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any, assert_type

import errwise


def lock_types(path: Path) -> None:
    with errwise.FileLock(path, lease=10.0, on_lost=lambda err: print(err.code)) as lk:
        assert_type(lk, errwise.FileLock)
        assert_type(lk.check(), None)
        assert_type(lk.info, errwise.LockInfo | None)
    assert_type(errwise.FileLock(path).acquire(timeout=None), errwise.FileLock)
    match errwise.inspect_lock(path):
        case errwise.Ok(info):
            assert_type(info, errwise.LockInfo)
            assert_type(info.pid, int)
        case errwise.Err(problem):
            assert_type(problem, errwise.LockProblem)
            assert_type(problem.recoverable, bool)
            assert_type(problem.to_error(), errwise.Error)


def transaction_types(journal: Path) -> None:
    with errwise.Transaction("t", journal_path=journal) as tx:
        assert_type(tx, errwise.Transaction)
        assert_type(tx.step("a", do=lambda: 3, undo=lambda: None), int)
        assert_type(tx.step("b", do=lambda: "x", recovery="rm x", data={"k": 1}), str)

    def undo(data: dict[str, Any]) -> None:
        del data

    report = errwise.Transaction.recover(journal, {"a": undo})
    assert_type(report, errwise.RecoveryReport)
    assert_type(report.undone, tuple[str, ...])
    try:
        pass
    except errwise.RollbackError as err:
        assert_type(err.recovery_steps, list[str])
        assert_type(err.failed, list[dict[str, str]])
