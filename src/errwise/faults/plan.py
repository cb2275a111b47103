"""`FaultPlan` and `inject`: declare faults, activate them for a block, read what fired.

Promise: entering a plan installs interception (all or nothing) and arms its rules in the
calling thread only, or in every thread with `all_threads=True`; leaving it disarms them and,
when it was the last active plan, restores every patched name exactly — also when the body
raises or is interrupted. Entering a plan that is already active is a `UsageError`. Every fault
injected is recorded (`injections`); `assert_fired()` fails listing the rules that never fired.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

from errwise.error import usage
from errwise.faults import dispatch as _dispatch
from errwise.faults import intercept
from errwise.faults.rules import Injection, Rule
from errwise.faults.site import Site, SiteFilter, default_filter

__all__ = ["FaultPlan", "inject", "Inject"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


class FaultPlan:
    """A set of fault rules, active inside `with plan:` (see the module docstring)."""

    def __init__(
        self,
        *,
        site_filter: Callable[[str], bool] | None = None,
        all_threads: bool = False,
        siteless: bool = False,
    ) -> None:
        """`site_filter(abs_path)`: which files are code under test (default: not the standard
        library, not errwise). `all_threads`: arm the rules in every thread, not only this one.
        `siteless`: also fail calls made from no such file at all (the test harness reporting,
        the interpreter); by default those are never failed."""
        self.site_filter: SiteFilter = site_filter if site_filter is not None else default_filter
        self.all_threads = all_threads
        self.siteless = siteless
        self.rules: list[Rule] = []
        self.injections: list[Injection] = []
        self._observers: list[Callable[[str, Site], None]] = []
        self._injectors: list[Callable[[Injection], None]] = []
        self._verdicts: dict[str, bool] = {}  # site_filter's answer per file name
        self._thread: int | None = None
        self._lock = threading.Lock()

    # -- declaring -------------------------------------------------------------------------
    def fail(
        self,
        operation: str,
        fault: str | None = None,
        *,
        path: str | None = None,
        module: str | None = None,
        site: tuple[str, int] | None = None,
        nth: int = 1,
        persistent: bool = False,
        probability: float | None = None,
        seed: int = 0,
    ) -> Rule:
        """Add a rule: fail the selected calls of `operation` (a name or a glob) with `fault`."""
        rule = Rule(
            operation,
            fault,
            path=path,
            module=module,
            site=site,
            nth=nth,
            persistent=persistent,
            probability=probability,
            seed=seed,
        )
        with self._lock:
            self.rules.append(rule)
        return rule

    def observe(self, callback: Callable[[str, Site], None]) -> None:
        """Call `callback(operation, site)` for every intercepted call from a filtered site."""
        self._observers.append(callback)

    def on_inject(self, callback: Callable[[Injection], None]) -> None:
        """Call `callback(injection)` in the faulting thread just before the fault is applied."""
        self._injectors.append(callback)

    # -- results ---------------------------------------------------------------------------
    @property
    def fired(self) -> bool:
        """True once any rule of this plan injected a fault."""
        return bool(self.injections)

    def assert_fired(self) -> None:
        """Raise AssertionError naming every rule that never fired."""
        idle = [rule for rule in self.rules if not rule.fired]
        if idle:
            lines = "\n".join(
                f"  {rule.describe()} (matching calls: {rule.calls})" for rule in idle
            )
            raise AssertionError(f"{len(idle)} fault rule(s) never fired:\n{lines}")

    # -- activation ------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """True between `__enter__` and `__exit__`."""
        return self._thread is not None

    def __enter__(self) -> FaultPlan:
        if self._thread is not None:
            raise usage("ERR_USAGE", "this fault plan is already active: plans are not re-entrant")
        state = _dispatch.STATE
        with state.lock:
            if state.active == 0:
                intercept.install()
            state.active += 1
            self._thread = threading.get_ident()
            if self.all_threads:
                state.global_plans = (*state.global_plans, self)
            else:
                _dispatch.thread_plans().append(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._deactivate()

    def _deactivate(self) -> None:
        if self._thread is None:
            return
        if not self.all_threads and self._thread != threading.get_ident():
            raise usage("ERR_USAGE", "a fault plan must be left in the thread that entered it")
        state = _dispatch.STATE
        with state.lock:
            if self.all_threads:
                state.global_plans = tuple(p for p in state.global_plans if p is not self)
            else:
                mine = _dispatch.thread_plans()
                if self in mine:
                    mine.remove(self)
            self._thread = None
            state.active -= 1
            if state.active == 0:
                intercept.uninstall()

    # -- called by the dispatcher (thread busy) --------------------------------------------
    def _observed(self, operation: str, site: Site) -> None:
        for callback in self._observers:
            callback(operation, site)

    def _decide(
        self, operation: str, path: str | None, site: Site | None, exclude: tuple[str, ...]
    ) -> tuple[Rule, str] | None:
        with self._lock:
            for rule in self.rules:
                if site is None and (not self.siteless or rule.needs_site()):
                    continue
                fault = rule.decide(operation, path, site, exclude)
                if fault is not None:
                    return rule, fault
        return None

    def _record(self, rule: Rule, injection: Injection) -> None:
        with self._lock:
            rule.injections.append(injection)
            self.injections.append(injection)
        for callback in self._injectors:
            callback(injection)

    def __repr__(self) -> str:
        state = "active" if self.active else "inactive"
        return f"<FaultPlan {state} rules={len(self.rules)} injections={len(self.injections)}>"


class Inject:
    """One-rule fault plan: `with inject(...) as plan:`, or `@inject(...)` (fresh plan per call)."""

    def __init__(self, operation: str, fault: str | None, selection: dict[str, Any]) -> None:
        self._args = (operation, fault, selection)
        self._check = self._new()  # bad arguments fail here, where the user wrote them
        self._plans: list[FaultPlan] = []

    def _new(self) -> FaultPlan:
        operation, fault, selection = self._args
        options = dict(selection)
        plan = FaultPlan(
            site_filter=options.pop("site_filter", None),
            all_threads=options.pop("all_threads", False),
            siteless=options.pop("siteless", False),
        )
        plan.fail(operation, fault, **options)
        return plan

    def __enter__(self) -> FaultPlan:
        plan = self._new()
        plan.__enter__()
        self._plans.append(plan)
        return plan

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._plans.pop().__exit__(exc_type, exc, tb)

    def __call__(self, func: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(func)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            with self:
                return func(*args, **kwargs)

        return wrapper


def inject(operation: str, fault: str | None = None, **selection: Any) -> Inject:
    """A one-rule `FaultPlan` (selection: path, module, site, nth, persistent, probability,
    seed, site_filter, all_threads, siteless): a context manager giving the plan, and a
    decorator."""
    return Inject(operation, fault, selection)
