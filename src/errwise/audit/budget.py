"""A time budget for one step (one file's scan) run in this process.

Promise: inside `time_budget(seconds)`, `budget.call(fn)` returns `fn()` or raises `OverBudget`
once `fn` has run `seconds` (wall clock): SIGALRM from `ITIMER_REAL` raises an exception in the
middle of `fn` (a `BaseException`, so `except Exception` in `fn` does not take it; code that
catches everything is hit again every `_REPEAT_S` until the budget is left). Python checks for
signals between bytecodes, so a single long C call (one regular expression match) finishes
first. The budget is enforced only on the main thread, with SIGALRM and the real-time timer
free (no handler of the caller's, no timer running): elsewhere `call` simply runs `fn` and
`enforced` is False — scans in worker processes are timed by the pool (`errwise.audit.workers`)
either way. The previous SIGALRM handler is restored when the block is left.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Final, TypeVar

__all__ = ["OverBudget", "TimeBudget", "time_budget"]

T = TypeVar("T")

_REPEAT_S: Final = 0.1


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
