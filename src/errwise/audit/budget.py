"""A time and a memory budget for one step (one file's scan) run in this process.

Promise (time): inside `time_budget(seconds)`, `budget.call(fn)` returns `fn()` or raises
`OverBudget` once `fn` has run `seconds` (wall clock): SIGALRM from `ITIMER_REAL` raises an
exception in the middle of `fn` (a `BaseException`, so `except Exception` in `fn` does not take
it; code that catches everything is hit again every `_REPEAT_S` until the budget is left).
Python checks for signals between bytecodes, so a single long C call (one regular expression
match) finishes first. The budget is enforced only on the main thread, with SIGALRM and the
real-time timer free (no handler of the caller's, no timer running): elsewhere `call` simply
runs `fn` and `enforced` is False — scans in worker processes are timed by the pool
(`errwise.audit.workers`) either way. The previous SIGALRM handler is restored when the block is
left.

Promise (memory): inside `memory_cap(limit)` the process's address space is capped
(`RLIMIT_AS`) at `limit` bytes, or at what it uses already plus `_HEADROOM` when that is more
(a process holding many files' results is not starved), never above the hard limit: an
allocation past it is a `MemoryError` where it happens, and the previous limit is back when
the block is left; a lower limit already in force (a worker process's) is kept. Where the cap
cannot be set (no `/proc/self/statm` to tell the use) the block runs as it is, and
`memory_capped()`, true inside a block that caps, says False.
"""

from __future__ import annotations

import os
import resource
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Final, TypeVar

__all__ = ["OverBudget", "TimeBudget", "memory_cap", "memory_capped", "time_budget"]

T = TypeVar("T")

_REPEAT_S: Final = 0.1
_HEADROOM: Final = 256 * 1024 * 1024
"""What a scan in this process may add at least, whatever the process holds already."""

_capped = False


class OverBudget(BaseException):
    """`fn` ran over its time budget (a BaseException: containment of errors must not hide it)."""


class _Alarm(BaseException):
    pass


class TimeBudget:
    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        """The budget per call; None when it is not enforced."""

    @property
    def enforced(self) -> bool:
        return self.seconds is not None

    def call(self, fn: Callable[[], T]) -> T:
        """`fn()`, or `OverBudget` when it runs over (see the module promise)."""
        if self.seconds is None:
            return fn()
        try:
            signal.setitimer(signal.ITIMER_REAL, self.seconds, _REPEAT_S)
            try:
                return fn()
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except _Alarm:
            raise OverBudget(self.seconds) from None


@contextmanager
def time_budget(seconds: float | None) -> Iterator[TimeBudget]:
    """A `TimeBudget` of `seconds` per call (None: no budget) for the block."""
    if seconds is None or not _alarm_is_free():
        yield TimeBudget(None)
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        yield TimeBudget(seconds)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _alarm_is_free() -> bool:
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        return False
    if signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, None):
        return False
    return signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _Alarm()


def memory_capped() -> bool:
    """Whether a `memory_cap` block of this process is in force now."""
    return _capped


@contextmanager
def memory_cap(limit: int | None) -> Iterator[bool]:
    """The address space capped at `limit` bytes for the block (see the module promise);
    whether the cap is in force."""
    global _capped  # noqa: PLW0603 - one process-wide limit, so one process-wide flag
    if not limit or _capped or (used := _address_space()) is None:
        yield False
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = max(limit, used + _HEADROOM)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    lower = soft != resource.RLIM_INFINITY and soft <= cap  # a worker process's own limit
    if not lower:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    _capped = True
    try:
        yield True
    finally:
        _capped = False
        if not lower:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _address_space() -> int | None:
    """This process's address space in bytes (Linux), or None where it cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            pages = int(statm.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None  # no procfs: the cap is not set
    return pages * os.sysconf("SC_PAGE_SIZE")
