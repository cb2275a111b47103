"""Static typing checks (run by mypy, not pytest) for errwise.faults."""

from __future__ import annotations

from typing import assert_type

from errwise import faults


def plan_types() -> None:
    with faults.FaultPlan(site_filter=lambda path: path.endswith(".py")) as plan:
        assert_type(plan, faults.FaultPlan)
        rule = plan.fail("os.replace", "ENOSPC", path="*.json", nth=2, persistent=True)
        assert_type(rule, faults.Rule)
        assert_type(rule.calls, int)
        assert_type(rule.fired, bool)
        plan.observe(lambda operation, site: None)
        plan.on_inject(lambda injection: None)
    for injection in plan.injections:
        assert_type(injection, faults.Injection)
        assert_type(injection.site, faults.Site | None)
        assert_type(injection.stack, tuple[faults.Site, ...])
        assert_type(injection.exception, BaseException | None)
    assert_type(faults.make_error("open", "EACCES", path="x"), BaseException)
    assert_type(faults.OPERATIONS["open"].sweep, tuple[str, ...])


@faults.inject("os.unlink", "EACCES")
def decorated(x: int) -> str:
    return str(x)


def decorator_types() -> None:
    assert_type(decorated(1), str)
    with faults.inject("open") as plan:
        assert_type(plan, faults.FaultPlan)
