"""One armed test (or the whole command): its fault plan, its watchers and its JSON entry.

Promise: `TestRun.start()` activates a `FaultPlan` whose sites are the project's code (not its
tests, not installed code, not errwise), observing every site reached; in fault mode it also
arms exactly the requested fault (`site=(root/path, line)`, `nth=1`, persistent as asked) and,
when it fires, the handler tracker and the report watch. `stop()` undoes all of it (also after
a failure). `entry()` is the test's object of contract section 2.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from errwise.faults import FaultPlan, Injection, Site
from errwise.sweep.agent.chain import describe
from errwise.sweep.agent.config import AgentConfig
from errwise.sweep.agent.paths import ProjectFiles
from errwise.sweep.agent.reports import ReportWatch
from errwise.sweep.agent.tracker import HandlerTracker
from errwise.sweep.agent.verdict import Evidence, decide

__all__ = ["TestRun"]


def _site_json(site: Site, files: ProjectFiles) -> dict[str, Any]:
    return {"path": files.rel(site.path), "line": site.line, "function": site.function}


class TestRun:
    """See the module promise."""

    __test__ = False  # not a pytest test class

    def __init__(self, cfg: AgentConfig, files: ProjectFiles, *, all_threads: bool) -> None:
        self.cfg = cfg
        self.files = files
        self.sites: dict[tuple[str, int, str, str], int] = {}
        self.injections: list[Injection] = []
        self.watch = ReportWatch([])
        self.tracker = HandlerTracker(files, self.watch.returned)
        self.watch.tracked = self.tracker.tracked
        self.plan = FaultPlan(site_filter=files.is_code, all_threads=all_threads)
        self.plan.observe(self._observed)
        request = cfg.fault
        if request is not None:
            self.plan.fail(
                request.operation,
                request.fault,
                site=(os.path.join(cfg.root, *request.path.split("/")), request.line),
                nth=1,
                persistent=request.persistent,
            )
            self.plan.on_inject(self._injected)
        self.started = 0.0
        self.duration = 0.0
        self._active = False

    # -- lifetime -----------------------------------------------------------------------------

    def start(self) -> None:
        self.started = time.perf_counter()
        if self.cfg.fault is not None:
            self.watch.start()
            self.tracker.watch()
        self.plan.__enter__()
        self._active = True

    def stop(self) -> None:
        if not self._active:
            return
        self._active = False
        try:
            self.plan.__exit__(None, None, None)
        finally:
            self.tracker.stop()
            self.watch.stop()
            self.duration = time.perf_counter() - self.started

    def phase_start(self) -> None:
        """A pytest phase begins: watch its stderr and unraisable hook once the fault fired."""
        if self.watch.fired:
            self.watch.watch_stderr()
            self.watch.watch_unraisable()

    def phase_end(self) -> None:
        self.watch.unwatch_stderr()
        self.watch.unwatch_unraisable()

    # -- callbacks from the plan --------------------------------------------------------------

    def _observed(self, operation: str, site: Site) -> None:
        key = (site.path, site.line, site.function, operation)
        self.sites[key] = self.sites.get(key, 0) + 1

    def _injected(self, injection: Injection) -> None:
        self.injections.append(injection)
        self.watch.fired = True
        self.watch.watch_stderr()
        self.watch.watch_unraisable()
        self.tracker.arm(injection.exception, sys._getframe(1))

    # -- the result ---------------------------------------------------------------------------

    def entry(
        self,
        nodeid: str | None,
        outcome: str,
        *,
        duration: float | None = None,
        failure: BaseException | None = None,
        failure_text: str | None = None,
    ) -> dict[str, Any]:
        """The test's object of contract section 2."""
        if failure_text is None and failure is not None:
            failure_text = describe(failure)
        entry: dict[str, Any] = {
            "nodeid": nodeid,
            "outcome": outcome,
            "duration": round(self.duration if duration is None else duration, 6),
            "failure": failure_text,
            "sites": [
                {
                    "path": self.files.rel(path),
                    "line": line,
                    "function": function,
                    "operation": operation,
                    "calls": calls,
                }
                for (path, line, function, operation), calls in self.sites.items()
            ],
        }
        request = self.cfg.fault
        if request is None:
            return entry
        first = self.injections[0] if self.injections else None
        injected = first.exception if first is not None else None
        injected_site = None
        if first is not None and first.site is not None:
            injected_site = f"{self.files.rel(first.site.path)}:{first.site.line}"
        evidence = Evidence(
            operation=request.operation,
            fault=request.fault,
            site=f"{request.path}:{request.line}",
            outcome=outcome,
            whole=nodeid is None,
            failure=failure,
            failure_text=failure_text,
            fired=len(self.injections),
            injected=injected,
            injected_site=injected_site,
            tracked=list(self.tracker.tracked),
            catches=list(self.tracker.catches),
            reports=list(self.watch.reports),
            errors=list(self.tracker.errors),
        )
        verdict = decide(evidence, self.files)
        entry["fired"] = len(self.injections)
        entry["injection"] = None
        if first is not None:
            entry["injection"] = {
                "operation": first.operation,
                "fault": first.fault,
                "error": describe(injected) if injected is not None else None,
                "site": _site_json(first.site, self.files) if first.site is not None else None,
                "stack": [_site_json(site, self.files) for site in first.stack],
            }
        entry["verdict"] = verdict.verdict
        entry["reason"] = verdict.reason
        entry["handler"] = verdict.handler
        entry["handlers"] = verdict.handlers
        entry["reports"] = [report.to_json() for report in self.watch.reports]
        return entry
