"""The sweep report (contract section 3): built from a baseline, a plan and the finished runs.

Promise: `build_report` is a pure function of its inputs (the baseline, the plan, the finished
runs, why each unrun unit was not run, the benign declarations and the cross-link), so a merge
of shards that rebuilds it from the shards' runs gives the report an unsharded sweep gives
(up to timings). Survivals are the silent runs, one per (site, operation, handler, fault,
persistent) with the tests they were seen in; those whose handler is outside the project (the
standard library's `Path.exists()` answering an injected ENOENT with False, say) are listed
apart as `absorbed`, and benign ones apart too; neither counts as an auditor miss, and the exit
code is 1 exactly when a survival is left. A benign declaration that matched nothing is stale
only when the sweep was complete; otherwise it is `unchecked_benign`. A site file the
guarding-handler analysis cannot read or parse (changed since the baseline) is listed in
`coverage.unanalysed`, never dropped quietly. Every report also carries what `merge` needs
(`baseline` and `plan`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from errwise.error import Error
from errwise.sweep.baseline import Baseline
from errwise.sweep.config import Benign, apply_benign
from errwise.sweep.crosslink import CrossLink
from errwise.sweep.model import VERDICTS, SiteKey, in_project
from errwise.sweep.plan import Unit

__all__ = ["REPORT_VERSION", "SHARD_REASON", "ReportInputs", "build_report", "exit_code"]

REPORT_VERSION: Final = 1
SHARD_REASON: Final = "assigned to another shard"

Linker = Callable[[Path, Sequence[Mapping[str, object]]], CrossLink]
Guards = Callable[[Path, list[tuple[str, int]]], set[tuple[str, int]]]


@dataclass(frozen=True, slots=True)
class ReportInputs:
    """Everything a report is built from."""

    root: Path
    baseline: Baseline
    units: Sequence[Unit]
    faults: str
    runs: Mapping[str, dict[str, Any]]
    """Finished runs by id (the plan's only)."""
    skipped: Mapping[str, str]
    """Transient run id -> why that unit was not run (max-runs, time budget, shard, ...)."""
    shard: str | None
    seconds: float
    complete: bool
    benign: Sequence[Benign]


def build_report(inputs: ReportInputs, *, link: Linker, guards: Guards) -> dict[str, Any]:
    """The sweep JSON (see the module promise)."""
    runs = _ordered_runs(inputs)
    sites = inputs.baseline.sites()
    survivals = _survivals(runs)
    absorbed = [s for s in survivals if s["handler"] and not in_project(s["handler"]["path"])]
    ours = [s for s in survivals if not (s["handler"] and not in_project(s["handler"]["path"]))]
    failing, benign, stale = apply_benign(ours, inputs.benign)
    unchecked: list[dict[str, Any]] = []
    if not inputs.complete:  # a declaration may match a run that was never made
        stale, unchecked = [], stale
    # The auditor is judged on the project's own handlers that nobody declared benign.
    crosslink = link(inputs.root, [r for r in runs if not _set_apart(r, inputs.benign)])
    for survival in (*failing, *benign):
        handler = survival["handler"]
        if handler:
            survival["finding"] = crosslink.rules.get((handler["path"], int(handler["line"])))
    verdicts = dict.fromkeys(VERDICTS, 0)
    for run in runs:
        verdicts[run["verdict"]] += 1
    faulted = {_site_of(r) for r in runs if r.get("fired")}
    guarding, unanalysed = _guarding(inputs.root, sites, guards)
    reached = {(h["path"], int(h["line"])) for r in runs for h in r.get("handlers") or [] if h} | {
        (r["handler"]["path"], int(r["handler"]["line"])) for r in runs if r.get("handler")
    }
    covered = reached & guarding
    counts = crosslink.counts()
    tests = inputs.baseline.tests()
    return {
        "version": REPORT_VERSION,
        "command": inputs.baseline.command,
        "root": str(inputs.root),
        "runs": runs,
        "survivals": failing,
        "benign": benign,
        "stale_benign": stale,
        "unchecked_benign": unchecked,
        "absorbed": absorbed,
        "not_swept": inputs.baseline.not_swept(),
        "unfaulted_sites": _unfaulted(inputs, runs, faulted),
        "crosslink": crosslink.to_dict(),
        "coverage": {
            "handlers_reached": len(covered),
            "handlers_guarding": len(guarding),
            "ratio": round(len(covered) / len(guarding), 3) if guarding else None,
            "handlers_reached_anywhere": len(reached),
            "sites_reached": len(sites),
            "sites_faulted": len(faulted & sites.keys()),
            "unanalysed": unanalysed,
        },
        "summary": {
            "tests": len(tests),
            "swept_tests": len(inputs.baseline.swept_tests()),
            "sites": len(sites),
            "runs": len(runs),
            "planned": sum(
                1 + (u.persistent.id in inputs.runs or u.persistent.id in inputs.skipped)
                for u in inputs.units
                if inputs.skipped.get(u.transient.id) != SHARD_REASON
            ),
            "verdicts": verdicts,
            "silent": len(failing),
            "benign": len(benign),
            "absorbed": len(absorbed),
            **counts,
            "seconds": round(inputs.seconds, 3),
            "complete": inputs.complete,
        },
        "shard": inputs.shard,
        "plan": {"faults": inputs.faults, "skipped": dict(sorted(inputs.skipped.items()))},
        "baseline": inputs.baseline.doc,
    }


def _guarding(
    root: Path, sites: Mapping[SiteKey, object], guards: Guards
) -> tuple[set[tuple[str, int]], list[dict[str, str]]]:
    """The handlers guarding the sites, file by file; a file that cannot be analysed (changed
    or removed since the baseline) is listed with its error, and the others still count."""
    by_path: dict[str, set[tuple[str, int]]] = {}
    for path, line, _operation in sites:
        by_path.setdefault(path, set()).add((path, line))
    found: set[tuple[str, int]] = set()
    unanalysed: list[dict[str, str]] = []
    for path in sorted(by_path):
        try:
            found |= guards(root, sorted(by_path[path]))
        except Error as err:
            unanalysed.append({"path": path, "code": err.code, "message": err.message})
    return found, unanalysed


def exit_code(report: Mapping[str, Any]) -> int:
    """0 when no survival is left (benign ones excluded), else 1."""
    return 1 if report["survivals"] else 0


def _ordered_runs(inputs: ReportInputs) -> list[dict[str, Any]]:
    out = []
    for unit in inputs.units:
        for spec in (unit.transient, unit.persistent):
            run = inputs.runs.get(spec.id)
            if run is not None and run.get("test") == spec.test:
                out.append(run)
    return out


def _site_of(run: Mapping[str, Any]) -> SiteKey:
    return (run["site"]["path"], int(run["site"]["line"]), run["operation"])


def _set_apart(run: Mapping[str, Any], declared: Sequence[Benign]) -> bool:
    """A silent run the auditor is not judged on: absorbed outside the project, or benign."""
    if run["verdict"] != "silent":
        return False
    handler = run.get("handler")
    if handler and not in_project(str(handler["path"])):
        return True
    return any(d.matches(run) for d in declared)


def _survivals(runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    grouped: dict[tuple[Any, ...], dict[str, Any]] = {}
    for run in runs:
        if run["verdict"] != "silent":
            continue
        handler = run.get("handler")
        where = (handler["path"], int(handler["line"])) if handler else None
        key = (*_site_of(run), where or ("", 0), run["fault"], run["persistent"])
        entry = grouped.get(key)
        if entry is None:
            entry = grouped[key] = {
                "fault": run["fault"],
                "operation": run["operation"],
                "site": dict(run["site"]),
                "handler": (
                    {"path": where[0], "line": where[1], "function": handler.get("function")}
                    if where and handler
                    else None
                ),
                "tests": [],
                "finding": None,
                "persistent": run["persistent"],
                "reason": run["reason"],
                "replay": run["replay"],
            }
        if run["test"] is not None and run["test"] not in entry["tests"]:
            entry["tests"].append(run["test"])
    return [grouped[k] for k in sorted(grouped, key=_sort_key)]


def _sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple("" if part is None else part for part in key)


def _unfaulted(
    inputs: ReportInputs, runs: Sequence[Mapping[str, Any]], faulted: set[SiteKey]
) -> list[dict[str, Any]]:
    by_site: dict[SiteKey, list[Mapping[str, Any]]] = {}
    for run in runs:
        by_site.setdefault(_site_of(run), []).append(run)
    planned: dict[SiteKey, list[str]] = {}
    for unit in inputs.units:
        reason = inputs.skipped.get(unit.transient.id)
        planned.setdefault(unit.site, [])
        if reason is not None:
            planned[unit.site].append(reason)
    out = []
    for site in inputs.baseline.sites():
        if site in faulted:
            continue
        tried = by_site.get(site, [])
        if tried:
            if all(r["verdict"] == "unreached" for r in tried):
                reason = "the fault never fired (every run unreached)"
            else:
                reason = "no run fired the fault (runs unsettled or unreached)"
        elif site not in planned:
            reason = "no chosen fault fits this operation"
        else:
            reasons = sorted(set(planned[site]))
            reason = "; ".join(reasons) if reasons else "not run"
        out.append({"path": site[0], "line": site[1], "operation": site[2], "reason": reason})
    for path, line, operation in inputs.baseline.unswept_sites():
        out.append(
            {
                "path": path,
                "line": line,
                "operation": operation,
                "reason": "reached only by tests that are not swept",
            }
        )
    return out
