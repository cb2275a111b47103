"""Run a sweep: baseline, plan, the runs (in parallel, bounded, resumable), the report.

Promise: `sweep(options)` returns the sweep JSON (contract section 3). Each run is one child
process with the fault armed by the agent; the agent's verdict is taken as it is, except that
the orchestrator makes a run `unsettled` when it timed out (process group killed), died (killed
by a signal, or exited without the agent's report), did not run the test, the agent reported
an error of its own, or the agent claims a verdict
other than unreached with no fault fired (no verdict without proof). Runs start in plan order;
no run starts once `max_runs` new runs have started or `time_budget` seconds have passed, and
the units left are listed with that reason. A persistent run follows its transient run only
when the transient run's test passed (silent or reported). Ctrl-C (KeyboardInterrupt) kills
every child, saves the state, hands the partial report to `on_interrupt` and re-raises.
Progress goes to `say` (stderr, unless quiet). The project is never written to: children's
files live in a temporary directory, the state in the user cache.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from errwise.error import usage
from errwise.sweep import agentio
from errwise.sweep.baseline import Baseline, record_baseline
from errwise.sweep.child import ChildOutcome, Children, log_tail
from errwise.sweep.config import read_benign
from errwise.sweep.crosslink import crosslink
from errwise.sweep.handlers import guarding_handlers
from errwise.sweep.model import VERDICTS, RunSpec, run_record
from errwise.sweep.plan import Shard, Unit, make_plan, shard_units
from errwise.sweep.report import SHARD_REASON, ReportInputs, build_report
from errwise.sweep.state import State

__all__ = ["SweepOptions", "sweep", "run_one", "report_from", "default_timeout"]


@dataclass(frozen=True, slots=True)
class SweepOptions:
    """What `errwise sweep` was asked to do."""

    command: tuple[str, ...]
    root: Path
    faults: str = "sweep"
    jobs: int = 1
    max_runs: int | None = None
    time_budget: float | None = None
    run_timeout: float | None = None
    baseline_timeout: float = 3600.0
    shard: Shard | None = None
    state_path: Path | None = None
    fresh: bool = False
    baseline_file: Path | None = None
    save_baseline: Path | None = None
    audit_profile: str = "strict"
    say: Callable[[str], None] = field(default=lambda _text: None)
    on_interrupt: Callable[[dict[str, Any]], None] = field(default=lambda _report: None)
    """Given the partial report (summary.complete false) when Ctrl-C stops the sweep."""


def default_timeout(baseline: Baseline, test: str | None) -> float:
    """A generous per-run limit: the whole baseline command twice, plus ten times the test."""
    return max(30.0, 2 * baseline.seconds + 10 * baseline.test_duration(test))


def sweep(options: SweepOptions) -> dict[str, Any]:
    """Run the sweep and return its report (see the module promise)."""
    started = time.monotonic()
    benign = read_benign(options.root)  # a bad declaration fails before anything runs
    children = Children()
    workdir = Path(tempfile.mkdtemp(prefix="errwise-sweep-"))
    try:
        state = State.open(
            options.state_path or _state_path(options),
            options.root,
            options.command,
            shard=str(options.shard) if options.shard is not None else None,
            fresh=options.fresh,
        )
        baseline = _baseline(options, state, workdir, children)
        units = make_plan(baseline.sites(), faults=options.faults)
        if state.resumed and state.runs:
            options.say(f"resuming: {len(state.runs)} runs already done ({state.path})")
        batch = _Batch(
            options=options,
            baseline=baseline,
            units=units,
            state=state,
            children=children,
            workdir=workdir,
            started=started,
        )
        try:
            batch.go()
        except KeyboardInterrupt:
            children.kill_all()
            partial = _report(batch, benign, complete=False)
            options.on_interrupt(partial)
            raise
        complete = not any(r != SHARD_REASON for r in batch.skipped.values())
        if complete:
            state.finish()
        return _report(batch, benign, complete=complete)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # our own scratch files; nothing to keep


def _state_path(options: SweepOptions) -> Path:
    from errwise.sweep.state import default_state_path

    shard = str(options.shard) if options.shard is not None else None
    return default_state_path(options.root, options.command, shard)


def _baseline(options: SweepOptions, state: State, workdir: Path, children: Children) -> Baseline:
    from errwise.sweep.baseline import load_baseline, save_baseline

    if options.baseline_file is not None:
        baseline = load_baseline(options.baseline_file)
        if baseline.command != list(options.command):
            err = usage(
                "ERR_USAGE",
                f"the baseline {options.baseline_file} was recorded for another command",
                recorded=baseline.command,
                command=list(options.command),
            )
            raise err.add_hint("pass the same command after `--` on every shard")
    elif state.resumed and state.baseline is not None:
        baseline = Baseline(state.baseline)
        options.say("resuming: using the baseline of the interrupted sweep")
    else:
        baseline = record_baseline(
            options.command,
            root=options.root,
            workdir=workdir,
            children=children,
            timeout=options.baseline_timeout,
            say=options.say,
        )
    state.baseline = baseline.doc
    state.start()
    if options.save_baseline is not None:
        save_baseline(baseline, options.save_baseline)
    swept, total = len(baseline.swept_tests()), len(baseline.tests())
    options.say(f"baseline: {swept} of {total} tests swept, {len(baseline.sites())} sites reached")
    return baseline


def _report(batch: _Batch, benign: Sequence[Any], *, complete: bool) -> dict[str, Any]:
    options = batch.options
    skipped = dict(batch.skipped)
    runs: dict[str, dict[str, Any]] = {}
    for _index, unit in batch.owned:
        for spec in (unit.transient, unit.persistent):
            if spec.id in batch.state.runs:
                runs[spec.id] = batch.state.runs[spec.id]
        if unit.id not in batch.state.runs and unit.id not in skipped:
            skipped[unit.id] = "interrupted"
    return report_from(
        ReportInputs(
            root=options.root,
            baseline=batch.baseline,
            units=batch.units,
            faults=options.faults,
            runs=runs,
            skipped=skipped,
            shard=str(options.shard) if options.shard is not None else None,
            seconds=time.monotonic() - batch.started,
            complete=complete,
            benign=benign,
        ),
        profile=options.audit_profile,
    )


def report_from(inputs: ReportInputs, *, profile: str) -> dict[str, Any]:
    """`build_report` with the real cross-link and guarding-handler analysis."""
    return build_report(
        inputs,
        link=lambda root, runs: crosslink(root, runs, profile=profile),
        guards=guarding_handlers,
    )


class _Batch:
    """The runs of one sweep invocation: scheduling, limits, progress."""

    def __init__(
        self,
        *,
        options: SweepOptions,
        baseline: Baseline,
        units: Sequence[Unit],
        state: State,
        children: Children,
        workdir: Path,
        started: float,
    ) -> None:
        self.options = options
        self.units = units
        self.baseline = baseline
        self.state = state
        self.children = children
        self.workdir = workdir
        self.started = started
        self.owned = shard_units(units, options.shard)
        owned_ids = {u.transient.id for _, u in self.owned}
        self.skipped: dict[str, str] = {
            u.transient.id: SHARD_REASON for u in units if u.transient.id not in owned_ids
        }
        self.lock = threading.Lock()
        self.started_runs = 0
        self.done = 0
        self.silent = 0
        self.spent = 0.0
        # Runs left: every transient run not made yet, and the persistent follow-ups known to
        # be due (their transient run's test passed); `_unit` adds a follow-up when one becomes due.
        self.due = {
            u.persistent.id
            for _, u in self.owned
            if _passed(state.runs.get(u.transient.id)) and u.persistent.id not in state.runs
        }
        self.todo = sum(u.transient.id not in state.runs for _, u in self.owned) + len(self.due)

    def go(self) -> None:
        if self.options.jobs <= 1:
            for _index, unit in self.owned:
                self._unit(unit)
            return
        pool = ThreadPoolExecutor(self.options.jobs, thread_name_prefix="errwise-sweep")
        try:
            futures = [pool.submit(self._unit, unit) for _index, unit in self.owned]
            for future in futures:
                future.result()
        except BaseException:
            self.children.kill_all()  # Ctrl-C or a failed run: the workers then return at once
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _unit(self, unit: Unit) -> None:
        first = self._get(unit.transient, unit)
        if not _passed(first):
            return  # not run, or the transient fault already failed the test (or never fired)
        if unit.persistent.id not in self.state.runs:
            with self.lock:
                if unit.persistent.id not in self.due:
                    self.due.add(unit.persistent.id)
                    self.todo += 1
        self._get(unit.persistent, unit)

    def _get(self, spec: RunSpec, unit: Unit) -> dict[str, Any] | None:
        known = self.state.runs.get(spec.id)
        if known is not None and known.get("test") == spec.test:
            return known
        why = self._reserve()
        if why is not None:
            with self.lock:  # a dropped persistent follow-up also makes the sweep incomplete
                self.skipped[spec.id] = why
            return None
        record = run_one(
            spec,
            command=self.options.command,
            root=self.options.root,
            workdir=self.workdir,
            children=self.children,
            timeout=self.options.run_timeout or default_timeout(self.baseline, spec.test),
        )
        self.state.add(record)
        self._progress(record)
        return record

    def _reserve(self) -> str | None:
        """None when a run may start now, else why not."""
        with self.lock:
            limit = self.options.max_runs
            if limit is not None and self.started_runs >= limit:
                return f"--max-runs {limit} reached"
            budget = self.options.time_budget
            if budget is not None and time.monotonic() - self.started >= budget:
                return f"--time-budget {budget:g} s spent"
            self.started_runs += 1
            return None

    def _progress(self, record: Mapping[str, Any]) -> None:
        with self.lock:
            self.done += 1
            self.silent += record["verdict"] == "silent"
            self.spent += float(record["duration"])
            left = max(0, self.todo - self.done)
            eta = self.spent / self.done * left / max(1, self.options.jobs)
            budget = self.options.time_budget
            if budget is not None:
                eta = min(eta, max(0.0, budget - (time.monotonic() - self.started)))
            line = (
                f"{self.done}/{self.todo} runs, {self.silent} silent, ~{eta:.0f} s left: "
                f"{record['id']} -> {record['verdict']}"
            )
        self.options.say(line)


def run_one(
    spec: RunSpec,
    *,
    command: Sequence[str],
    root: Path,
    workdir: Path,
    children: Children,
    timeout: float,
) -> dict[str, Any]:
    """Make one run and return its record (see the module promise)."""
    scratch = Path(tempfile.mkdtemp(prefix="run-", dir=workdir))
    try:
        out, log = scratch / "agent.json", scratch / "output.log"
        child_env = agentio.agent_env(
            os.environ, mode="fault", root=root, out=out, workdir=scratch, spec=spec
        )
        outcome = children.execute(command, env_=child_env, cwd=root, timeout=timeout, log=log)
        report = None if outcome.timed_out else agentio.read_report(out)
        verdict, reason, test = _judge(spec, outcome, report, timeout)
        return run_record(
            spec,
            command=command,
            verdict=verdict,
            reason=reason,
            duration=outcome.duration,
            agent=test,
            hang=outcome.timed_out and spec.persistent,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # our own scratch files; nothing to keep


def _judge(
    spec: RunSpec, outcome: ChildOutcome, report: Mapping[str, Any] | None, timeout: float
) -> tuple[str, str, Mapping[str, Any] | None]:
    if outcome.timed_out:
        if spec.persistent:
            return (
                "unsettled",
                f"the run did not finish within {timeout:g} s under a persistent {spec.fault} at "
                f"{spec.operation} {spec.path}:{spec.line} (timed out): a retry loop that never "
                "gives up?",
                None,
            )
        return "unsettled", f"the run did not finish within {timeout:g} s (timed out)", None
    if report is None:
        code = outcome.returncode
        assert code is not None
        tail = _last_line(log_tail(outcome.log, 600))
        how = f"was killed by {_signal_name(-code)}" if code < 0 else f"exited with status {code}"
        return (
            "unsettled",
            f"the process {how} before the agent reported (it died){tail}",
            None,
        )
    problems = report.get("errors") or []
    if problems:
        return "unsettled", f"the sweep agent itself failed: {problems[0]}", None
    tests = [t for t in report["tests"] if spec.test is None or t.get("nodeid") == spec.test]
    if not tests:
        return "unsettled", f"the test {spec.test} did not run (not collected?)", None
    test = tests[0]
    verdict = test.get("verdict")
    reason = str(test.get("reason") or "")
    if verdict not in VERDICTS:
        return "unsettled", f"the agent gave no valid verdict ({verdict!r})", test
    if verdict != "unreached" and not test.get("fired"):
        return "unsettled", f"the agent said {verdict} but no fault fired: not trusted", test
    code = outcome.returncode
    if spec.test is None and code and verdict in ("silent", "reported"):
        # A whole command: the agent sees only what Python sees (not an os._exit, say).
        return (
            "unsettled",
            f"the command exited with status {code} after the fault, though the agent saw no "
            f"failure ({verdict}: {reason})",
            test,
        )
    return str(verdict), reason, test


def _passed(run: Mapping[str, Any] | None) -> bool:
    """Whether a finished run's test passed with the fault fired (a persistent run follows)."""
    return run is not None and run["verdict"] in ("silent", "reported")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return f"; last output: {lines[-1][:200]}" if lines else ""
