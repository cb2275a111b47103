"""The one decision point every intercepted call goes through.

Promise: `dispatch(operation, path)` costs one attribute test when no plan is active; otherwise it
asks the plans active in the calling thread (and those activated with `all_threads=True`) to
observe the call and decide on a fault, builds the exception, records the `Injection` and returns
it, or returns None. While errwise.faults does its own bookkeeping, runs callbacks, or performs
the real call of an intercepted operation, the thread is *busy*: nothing it does is intercepted.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from errwise.faults.errors import make_error
from errwise.faults.rules import Injection
from errwise.faults.site import Site, SiteFilter, locate

if TYPE_CHECKING:
    from errwise.faults.plan import FaultPlan

__all__ = ["STATE", "dispatch", "busy", "is_busy", "wants_wrapper", "thread_plans"]


class _State:
    """Process-wide: how many plans are active, and those active in every thread."""

    __slots__ = ("active", "global_plans", "lock")

    def __init__(self) -> None:
        self.active = 0
        self.global_plans: tuple[FaultPlan, ...] = ()
        self.lock = threading.RLock()


STATE = _State()


class _Local(threading.local):
    def __init__(self) -> None:
        self.busy = 0
        self.plans: list[FaultPlan] = []


_local = _Local()


def thread_plans() -> list[FaultPlan]:
    """The plans activated in the calling thread (the list itself)."""
    return _local.plans


def is_busy() -> bool:
    """True while the calling thread is inside errwise.faults' own work."""
    return _local.busy > 0


@contextmanager
def busy() -> Iterator[None]:
    """Suspend interception in this thread for the block."""
    _local.busy += 1
    try:
        yield
    finally:
        _local.busy -= 1


def _plans() -> tuple[FaultPlan, ...]:
    mine = _local.plans
    shared = STATE.global_plans
    if not shared:
        return tuple(mine)
    return tuple(mine) + tuple(plan for plan in shared if plan not in mine)


def dispatch(
    operation: str,
    path: str | None = None,
    *,
    build: Callable[[str], BaseException | None] | None = None,
    path2: str | None = None,
    exclude: tuple[str, ...] = (),
) -> Injection | None:
    """Observe one call of `operation` and return the fault to apply to it, if any.

    `build(fault)` makes the exception the interceptor will raise (None: it applies the fault
    another way, e.g. a short write); by default `make_error(operation, fault, path=path)`.
    `exclude` lists faults this particular call cannot take (a short readline).
    """
    if not STATE.active or _local.busy:
        return None
    plans = _plans()
    if not plans:
        return None
    _local.busy += 1
    try:
        frame = sys._getframe(1)
        located: dict[SiteFilter, tuple[Site | None, tuple[Site, ...]]] = {}
        chosen: Injection | None = None
        for plan in plans:
            where = located.get(plan.site_filter)
            if where is None:
                where = located[plan.site_filter] = locate(plan.site_filter, frame)
            site, stack = where
            if site is not None:
                plan._observed(operation, site)
            if chosen is not None:
                continue
            hit = plan._decide(operation, path, site, exclude)
            if hit is None:
                continue
            rule, fault = hit
            if build is not None:
                exception = build(fault)
            elif fault == "short":
                exception = None
            else:
                exception = make_error(operation, fault, path=path, path2=path2)
            chosen = Injection(operation, fault, site, stack, rule.calls, exception)
            plan._record(rule, chosen)
        return chosen
    finally:
        _local.busy -= 1


def wants_wrapper() -> bool:
    """True when an active plan's site filter passes the calling code (wrap its new file)."""
    if not STATE.active or _local.busy:
        return False
    plans = _plans()
    if not plans:
        return False
    _local.busy += 1
    try:
        frame = sys._getframe(1)
        return any(locate(plan.site_filter, frame)[0] is not None for plan in plans)
    finally:
        _local.busy -= 1
