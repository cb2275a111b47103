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
from collections.abc import Callable
from typing import TYPE_CHECKING

from errwise.faults.errors import make_error
from errwise.faults.rules import Injection
from errwise.faults.site import Site, SiteFilter, locate, stack

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


class _Busy:
    """`with busy():` suspends interception in this thread for the block."""

    __slots__ = ()

    def __enter__(self) -> None:
        _local.busy += 1

    def __exit__(self, *exc_info: object) -> None:
        _local.busy -= 1


_BUSY = _Busy()


def busy() -> _Busy:
    """Suspend interception in this thread for the block: `with busy(): ...`."""
    return _BUSY


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
        located: dict[SiteFilter, Site | None] = {}
        chosen: Injection | None = None
        for plan in plans:
            if plan.site_filter in located:
                site = located[plan.site_filter]
            else:
                site = located[plan.site_filter] = locate(plan.site_filter, frame, plan._verdicts)
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
            frames = stack(plan.site_filter, frame, plan._verdicts)
            chosen = Injection(operation, fault, site, frames, rule.calls, exception)
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
        return any(locate(plan.site_filter, frame, plan._verdicts) is not None for plan in plans)
    finally:
        _local.busy -= 1
