"""The baseline: the command run twice without faults, recording which sites each test reaches.

Promise: `record_baseline` runs the command twice in record mode and returns a `Baseline` (a
JSON-able document, saved and loaded with `save_baseline` / `load_baseline`). A test is swept
only when it passed both times; every other test is in `not_swept()` with the reason (failed,
skipped, error, flaky, seen once). Sites are those reached by swept tests, each with the
cheapest test reaching it (shortest mean duration in steps of 0.1 s, then node id). A baseline
run whose agent report never appears is ERR_SWEEP_AGENT_MISSING (exit 10) with the command's
output tail and how to fix it; a baseline that hangs past its timeout is ERR_TIMEOUT.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from errwise.error import env
from errwise.ops.atomic import atomic_write
from errwise.sweep import agentio
from errwise.sweep.child import Children, log_tail
from errwise.sweep.model import SiteKey

__all__ = ["Baseline", "record_baseline", "load_baseline", "save_baseline", "BASELINE_VERSION"]

BASELINE_VERSION: Final = 1
_TAIL: Final = 1500


@dataclass(frozen=True, slots=True)
class Baseline:
    """What two fault-free runs of the command showed."""

    doc: dict[str, Any]
    """{"baseline": 1, "command", "root", "pytest", "seconds", "tests": [{"nodeid", "outcomes",
    "duration", "failure", "sites"}]}"""

    @property
    def command(self) -> list[str]:
        return list(self.doc["command"])

    @property
    def seconds(self) -> float:
        return float(self.doc["seconds"])

    def tests(self) -> list[dict[str, Any]]:
        return list(self.doc["tests"])

    def swept_tests(self) -> list[dict[str, Any]]:
        return [t for t in self.doc["tests"] if t["outcomes"] == ["passed", "passed"]]

    def not_swept(self) -> list[dict[str, Any]]:
        out = []
        for test in self.doc["tests"]:
            reason = _why_not(test["outcomes"])
            if reason is not None:
                out.append({"test": test["nodeid"], "reason": reason})
        return out

    def sites(self) -> dict[SiteKey, dict[str, Any]]:
        """Each site reached by a swept test -> the cheapest swept test reaching it."""
        best: dict[SiteKey, dict[str, Any]] = {}
        for test in sorted(self.swept_tests(), key=_cost):
            for site in test["sites"]:
                key = (site["path"], int(site["line"]), site["operation"])
                best.setdefault(key, test)
        return dict(sorted(best.items()))

    def unswept_sites(self) -> list[SiteKey]:
        """Sites reached only by tests that are not swept."""
        swept = self.sites()
        seen = {
            (s["path"], int(s["line"]), s["operation"])
            for t in self.doc["tests"]
            for s in t["sites"]
        }
        return sorted(seen - swept.keys())

    def test_duration(self, nodeid: str | None) -> float:
        for test in self.doc["tests"]:
            if test["nodeid"] == nodeid:
                return float(test["duration"])
        return self.seconds


_COST_STEP: Final = 0.1
"""Seconds: tests whose mean durations fall in one step cost the same (then the node id decides),
so timing noise between two baselines does not change the plan."""


def _cost(test: Mapping[str, Any]) -> tuple[int, str]:
    return (int(float(test["duration"]) // _COST_STEP), test["nodeid"] or "")


def _why_not(outcomes: Sequence[str]) -> str | None:
    if list(outcomes) == ["passed", "passed"]:
        return None
    if len(outcomes) < 2:
        return "ran in only one of the two baseline runs"
    first, second = outcomes
    if "passed" in outcomes:
        other = second if first == "passed" else first
        return f"flaky: passed once, {other} once"
    if first != second:
        return f"unstable in the baseline: {first}, then {second}"
    return {
        "failed": "failed in the baseline",
        "skipped": "skipped in the baseline",
        "error": "error in the baseline",
    }.get(first, f"{first} in the baseline")


def record_baseline(
    command: Sequence[str],
    *,
    root: Path,
    workdir: Path,
    children: Children,
    timeout: float,
    say: Callable[[str], None],
) -> Baseline:
    """Run `command` twice in record mode and return what it showed (see the module promise)."""
    reports: list[dict[str, Any]] = []
    seconds = 0.0
    for attempt in (1, 2):
        say(f"baseline run {attempt}/2 (no faults): {' '.join(command)}")
        out = workdir / f"baseline-{attempt}.json"
        log = workdir / f"baseline-{attempt}.log"
        child_env = agentio.agent_env(
            os.environ, mode="record", root=root, out=out, workdir=workdir
        )
        outcome = children.execute(command, env_=child_env, cwd=root, timeout=timeout, log=log)
        if outcome.timed_out:
            err = env(
                "ERR_TIMEOUT",
                f"the baseline run did not finish within {timeout:g} s (process group killed)",
                command=list(command),
                output_tail=log_tail(log, _TAIL),
            )
            raise err.add_hint("raise --baseline-timeout, or find out why the command hangs")
        report = agentio.read_report(out)
        if report is None:
            raise _agent_missing(command, outcome.returncode, log)
        for problem in report.get("errors") or []:
            say(f"warning: the sweep agent reported a problem in baseline run {attempt}: {problem}")
        reports.append(report)
        seconds = max(seconds, outcome.duration)
    return Baseline(
        {
            "baseline": BASELINE_VERSION,
            "command": list(command),
            "root": str(root),
            "pytest": bool(reports[0].get("pytest")),
            "seconds": round(seconds, 3),
            "tests": _combine(reports),
        }
    )


def _agent_missing(command: Sequence[str], returncode: int | None, log: Path) -> Exception:
    err = env(
        "ERR_SWEEP_AGENT_MISSING",
        f"the sweep agent never reported from {' '.join(command)!r} "
        f"(exit status {returncode}): errwise could not load itself inside the command",
        command=list(command),
        returncode=returncode,
        output_tail=log_tail(log, _TAIL),
    )
    err.add_hint(
        "the command must run Python with errwise importable: run it from the environment "
        "errwise is installed in (e.g. `errwise sweep -- python -m pytest`, with that python)"
    )
    return err.add_hint(
        "a command that resets PYTHONPATH or PYTEST_ADDOPTS, or runs pytest with -p no:errwise "
        "or --noconftest in a wrapper, keeps the agent out: call python -m pytest directly"
    )


def _combine(reports: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One entry per test: its outcome in each run, mean duration, union of sites."""
    merged: dict[str | None, dict[str, Any]] = {}
    order: list[str | None] = []
    for report in reports:
        for test in report["tests"]:
            nodeid = test.get("nodeid")
            entry = merged.get(nodeid)
            if entry is None:
                entry = merged[nodeid] = {
                    "nodeid": nodeid,
                    "outcomes": [],
                    "duration": 0.0,
                    "failure": None,
                    "sites": {},
                }
                order.append(nodeid)
            entry["outcomes"].append(test["outcome"])
            entry["duration"] += float(test.get("duration") or 0.0) / len(reports)
            entry["failure"] = entry["failure"] or test.get("failure")
            for site in test.get("sites", []):
                key = (site["path"], int(site["line"]), site["operation"])
                known = entry["sites"].get(key)
                if known is None:
                    entry["sites"][key] = {
                        "path": site["path"],
                        "line": int(site["line"]),
                        "function": site.get("function"),
                        "operation": site["operation"],
                        "calls": int(site.get("calls") or 1),
                    }
                else:
                    known["calls"] = max(known["calls"], int(site.get("calls") or 1))
    out = []
    for nodeid in sorted(order, key=lambda n: n or ""):
        entry = merged[nodeid]
        entry["duration"] = round(entry["duration"], 4)
        entry["sites"] = [entry["sites"][k] for k in sorted(entry["sites"])]
        out.append(entry)
    return out


def save_baseline(baseline: Baseline, path: Path) -> None:
    """Write the baseline to `path` atomically."""
    atomic_write(path, json.dumps(baseline.doc, indent=1, sort_keys=True) + "\n")


def load_baseline(path: Path) -> Baseline:
    """A baseline written by `save_baseline`; ERR_SWEEP_CORRUPT when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad(path, f"not JSON ({exc})") from exc
    if not isinstance(data, dict) or data.get("baseline") != BASELINE_VERSION:
        raise _bad(path, "not an errwise sweep baseline (version 1)")
    for key, kind in (("command", list), ("root", str), ("tests", list)):
        if not isinstance(data.get(key), kind):
            raise _bad(path, f"missing or malformed `{key}`")
    return Baseline(data)


def _bad(path: Path, what: str) -> Exception:
    err = env("ERR_SWEEP_CORRUPT", f"{path} is {what}", path=str(path))
    return err.add_hint("write it again with --save-baseline")
