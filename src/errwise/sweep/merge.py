"""`errwise sweep merge`: the shards' reports combined into the report one unsharded sweep gives.

Promise: every input must be a sweep report (ERR_SWEEP_CORRUPT naming the file otherwise) of the
same command, baseline and fault choice (ERR_SWEEP_MERGE otherwise: those shards did not sweep
the same plan); the shards' roots may differ (CI machines), the merge reads the project at
`root` (default: the first report's). The merged report is rebuilt from the union of the
shards' runs, with the plan's units not run in any shard listed with the owning shard's reason;
a unit no given shard owned is listed as such (a missing shard). `seconds` is the sum of the
shards' times.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from errwise.classify import classify
from errwise.error import env, usage
from errwise.sweep.baseline import Baseline
from errwise.sweep.config import read_benign
from errwise.sweep.engine import report_from
from errwise.sweep.plan import make_plan
from errwise.sweep.report import SHARD_REASON, ReportInputs

__all__ = ["merge_reports", "read_report_file"]

MISSING_SHARD = "its shard's report was not merged"


def read_report_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise classify(exc).with_context(path=str(path)) from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _corrupt(path, f"is not JSON ({exc})") from exc
    if not isinstance(data, dict) or data.get("version") != 1:
        raise _corrupt(path, "is not an errwise sweep report (version 1)")
    for key, kind in (("runs", list), ("baseline", dict), ("plan", dict), ("summary", dict)):
        if not isinstance(data.get(key), kind):
            raise _corrupt(path, f"has no `{key}` (write it with --format json)")
    return data


def _corrupt(path: Path, what: str) -> Exception:
    err = env("ERR_SWEEP_CORRUPT", f"{path} {what}", path=str(path))
    return err.add_hint("merge the files `errwise sweep --format json --output FILE` wrote")


def merge_reports(
    paths: Sequence[Path], *, profile: str, root: Path | None = None
) -> dict[str, Any]:
    """The merged report (see the module promise); `root` (default: the first report's) is
    where the project's files are read for the cross-link."""
    if not paths:
        raise usage("ERR_USAGE", "errwise sweep merge needs at least one report file")
    reports = [read_report_file(p) for p in paths]
    first = reports[0]
    for path, report in zip(paths[1:], reports[1:], strict=True):
        for key in ("command", "baseline"):
            if report[key] != first[key]:
                raise _mismatch(paths[0], path, key)
        if report["plan"].get("faults") != first["plan"].get("faults"):
            raise _mismatch(paths[0], path, "--faults")
    baseline = Baseline(first["baseline"])
    faults = str(first["plan"].get("faults", "sweep"))
    units = make_plan(baseline.sites(), faults=faults)
    runs = {run["id"]: run for report in reports for run in report["runs"]}
    reasons = {
        unit_id: reason
        for report in reports
        for unit_id, reason in report["plan"].get("skipped", {}).items()
        if reason != SHARD_REASON
    }
    skipped = {
        u.transient.id: reasons.get(u.transient.id, MISSING_SHARD)
        for u in units
        if u.transient.id not in runs
        and (u.transient.id in reasons or not _owned_anywhere(u.transient.id, reports))
    }
    skipped |= {  # persistent follow-ups a shard's limits dropped
        u.persistent.id: reasons[u.persistent.id]
        for u in units
        if u.persistent.id in reasons and u.persistent.id not in runs
    }
    root = root or Path(first["root"])
    return report_from(
        ReportInputs(
            root=root,
            baseline=baseline,
            units=units,
            faults=faults,
            runs=runs,
            skipped=skipped,
            shard=None,
            seconds=sum(float(r["summary"].get("seconds", 0.0)) for r in reports),
            complete=all(r["summary"].get("complete") for r in reports)
            and MISSING_SHARD not in skipped.values(),
            benign=read_benign(root),
        ),
        profile=profile,
    )


def _owned_anywhere(unit_id: str, reports: Sequence[dict[str, Any]]) -> bool:
    """Did some report own this unit (it is not skipped as another shard's there)?"""
    return any(r["plan"].get("skipped", {}).get(unit_id) != SHARD_REASON for r in reports)


def _mismatch(one: Path, other: Path, what: str) -> Exception:
    err = usage(
        "ERR_SWEEP_MERGE",
        f"{one} and {other} do not come from one sweep: their {what} differ",
        what=what,
    )
    return err.add_hint(
        "shards share one baseline: record it once with --save-baseline FILE and pass "
        "--baseline FILE to every shard"
    )
