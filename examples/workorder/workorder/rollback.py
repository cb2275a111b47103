"""Undo the steps of a half-done `take`: remove the lock, the worktree, move the state back."""

# ruff: noqa: B012
# This module is deliberately wrong: it is what `errwise audit` is shown on.

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from workorder.gitops import cleanup_worktree
from workorder.state import move_to_pending

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Operation:
    wo_id: str
    kind: str
    target: Path


def execute_rollback(operations: list[Operation], root: Path) -> tuple[bool, list[str]]:
    failed: list[str] = []
    for op in reversed(operations):
        try:
            if op.kind == "remove_lock":
                op.target.unlink()
            elif op.kind == "move_wo_to_pending":
                move_to_pending(root, op.wo_id)
            elif op.kind == "remove_worktree":
                cleanup_worktree(root, f"wo/{op.wo_id}", op.target)
            log.info(f"✓ undone: {op.kind}")
        except Exception as exc:
            message = f"{op.kind}: {type(exc).__name__}: {exc}"
            log.error(f"rollback step failed: {message}")
            failed.append(message)
    return not failed, failed


def release_all(locks: list[Path]) -> int:
    released = 0
    try:
        for lock in locks:
            lock.unlink()
            released += 1
    finally:
        return released
