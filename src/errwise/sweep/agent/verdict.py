"""The verdict of one fault run, proven from what happened, and the sentence that proves it.

Promise: `decide` applies contract section 2 exactly:
- unreached: no injection was made (never a pass);
- propagated: the test failed with the injected error or one chained to it, or the last place
  it was caught is test code (`pytest.raises`, an `except` in a test);
- unsettled: the test failed (or was skipped) for another reason;
- reported: the test passed and a report carries the error (log, warning, stderr, unraisable,
  errwise `Err`/`Error`);
- silent: the test passed, the fault fired and nothing reported it; `handler` names where it
  stopped (null when it stopped where errwise could not trace).
The `reason` names the error, the operation, the site, the handler and the evidence, so a user
can check it by reading the code at those lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from errwise.sweep.agent.chain import chained_to, describe
from errwise.sweep.agent.paths import ProjectFiles
from errwise.sweep.agent.reports import Report
from errwise.sweep.agent.tracker import Catch

__all__ = ["Evidence", "Verdict", "decide"]


@dataclass
class Evidence:
    """Everything observed in one test (or the whole command) with a fault armed."""

    operation: str
    fault: str
    site: str
    outcome: str
    whole: bool
    failure: BaseException | None = None
    failure_text: str | None = None
    fired: int = 0
    injected: BaseException | None = None
    injected_site: str | None = None
    tracked: Sequence[BaseException] = ()
    catches: Sequence[Catch] = ()
    reports: Sequence[Report] = ()
    errors: Sequence[str] = field(default_factory=list)


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str
    handler: dict[str, Any] | None
    handlers: list[dict[str, Any]]


def _where(catch: Catch, files: ProjectFiles) -> str:
    header = f" ({catch.header})" if catch.header else ""
    return f"{files.rel(catch.path)}:{catch.line}{header} in {catch.function}()"


def _handler(catch: Catch, files: ProjectFiles) -> dict[str, Any]:
    return {"path": files.rel(catch.path), "line": catch.line, "function": catch.function}


def decide(ev: Evidence, files: ProjectFiles) -> Verdict:
    """See the module promise."""
    handlers: list[dict[str, Any]] = []
    for catch in ev.catches:
        if files.is_project(catch.path):
            entry = _handler(catch, files)
            if not handlers or handlers[-1] != entry:
                handlers.append(entry)
    last = ev.catches[-1] if ev.catches else None
    who = "the command" if ev.whole else "the test"
    if ev.fired == 0:
        return Verdict(
            "unreached",
            f"the {ev.fault} fault for {ev.operation} at {ev.site} never fired: no matching "
            f"{ev.operation} call came from that line while {who} ran ({who} {ev.outcome})",
            None,
            handlers,
        )
    what = type(ev.injected).__name__ if ev.injected is not None else f"the {ev.fault} fault"
    subject = f"{what} from {ev.operation} at {ev.injected_site or ev.site}"
    if ev.outcome in ("failed", "error"):
        failure = ev.failure
        if failure is not None and chained_to(failure, ev.tracked):
            how = "" if any(failure is t for t in ev.tracked[:1]) else ", chained to it"
            return Verdict(
                "propagated",
                f"{subject} propagated: {who} failed with {describe(failure)}{how}",
                None,
                handlers,
            )
        text = ev.failure_text or (describe(failure) if failure is not None else "an error")
        return Verdict(
            "unsettled",
            f"{subject} fired, but {who} failed with {text}, which is not chained to it",
            _handler(last, files) if last is not None else None,
            handlers,
        )
    if ev.outcome != "passed":
        return Verdict(
            "unsettled",
            f"{subject} fired, then {who} was {ev.outcome}: no verdict on the handling",
            _handler(last, files) if last is not None else None,
            handlers,
        )
    if last is not None and files.is_test(last.path):
        return Verdict(
            "propagated",
            f"{subject} reached test code: caught at {_where(last, files)}",
            _handler(last, files),
            handlers,
        )
    ended = "the command exited 0" if ev.whole else "test passed"
    if ev.reports:
        caught = f" was caught at {_where(last, files)} and" if last is not None else ""
        return Verdict(
            "reported",
            f"{subject}{caught} was reported ({ev.reports[0].detail}); {ended}",
            _handler(last, files) if last is not None else None,
            handlers,
        )
    unheard = "not logged, warned, written to stderr or re-raised"
    if last is not None:
        reason = f"{subject} was caught at {_where(last, files)} and {unheard}; {ended}"
    elif ev.injected is None:
        reason = f"{subject} raised no error and was absorbed: nothing was {unheard[4:]}; {ended}"
    else:
        reason = (
            f"{subject} stopped where errwise does not trace (no except clause or with "
            f"statement in the frames it unwound through) and was {unheard}; {ended}"
        )
    if ev.errors:
        reason += f" ({'; '.join(ev.errors)})"
    return Verdict("silent", reason, _handler(last, files) if last is not None else None, handlers)
