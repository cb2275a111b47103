"""Worker functions for the multi-process FileLock tests (imported by spawned processes)."""

from __future__ import annotations

import os
from typing import Any

import errwise
from errwise import FileLock


def count_under_lock(lock_path: str, counter_path: str, inside_path: str, n: int) -> int:
    """Increment the counter file n times under the lock; return how many overlaps were seen."""
    lk = FileLock(lock_path, lease=10.0, timeout=120.0)
    overlaps = 0
    for _ in range(n):
        with lk:
            try:
                os.close(os.open(inside_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                overlaps += 1  # another process is inside the critical section too
            with open(counter_path, "r+", encoding="ascii") as fh:
                value = int(fh.read() or "0")
                fh.seek(0)
                fh.write(str(value + 1))
                fh.truncate()
            try:
                os.unlink(inside_path)
            except FileNotFoundError:
                overlaps += 1
    return overlaps


def race_to_break(lock_path: str, trials: int, barrier: Any, results: Any) -> None:
    """For each trial: wait for the start, try to take the (stale) lock once, report, then let
    the parent verify before the winner releases."""
    for trial in range(trials):
        barrier.wait()  # the parent has written a stale lock
        lk = FileLock(lock_path, lease=10.0)
        try:
            lk.acquire(timeout=0)
        except errwise.Error as err:
            results.put((trial, os.getpid(), err.code, None))
        else:
            assert lk.info is not None
            results.put((trial, os.getpid(), "won", lk.info.token))
        barrier.wait()  # the parent has checked the lock file
        if lk.state != "released":
            lk.release()
        barrier.wait()  # released: the next trial may start
