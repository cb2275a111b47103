"""`workorder take WO-ID`: lock a work order, give it a worktree, mark it running."""

# This module is deliberately wrong: it is what `errwise audit` is shown on.

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from workorder.gitops import create_worktree
from workorder.lock import create_lock
from workorder.rollback import Operation, execute_rollback
from workorder.state import move_to_running

log = logging.getLogger("workorder")


def take(root: Path, wo_id: str, owner: str) -> int:
    lock_path = root / "locks" / f"{wo_id}.lock"
    if not create_lock(lock_path, wo_id):
        log.error("work order %s is locked", wo_id)
        return 1
    operations = [Operation(wo_id, "remove_lock", lock_path)]
    worktree = root / ".worktrees" / wo_id
    try:
        create_worktree(root, f"wo/{wo_id}", worktree)
        operations.append(Operation(wo_id, "remove_worktree", worktree))
        move_to_running(root, wo_id, owner)
        operations.append(Operation(wo_id, "move_wo_to_pending", root))
    except Exception as exc:
        log.error(f"take failed: {exc}")
        all_ok, failed = execute_rollback(operations, root)
        if not all_ok:
            log.error("rollback partially failed: %s", failed)
        return 1
    os.system(f"notify-send 'work order {wo_id} taken'")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="workorder")
    parser.add_argument("wo_id")
    parser.add_argument("--root", type=Path, default=Path.cwd())
    parser.add_argument("--owner", default=os.environ.get("USER", "nobody"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    try:
        return take(args.root, args.wo_id, args.owner)
    except Exception:
        log.exception("workorder crashed; this is a bug")
        return 70


if __name__ == "__main__":
    sys.exit(main())
