"""Planning and sharding: deterministic order, the cheapest test, fault choices, and shards
whose union is the whole plan and whose merge is the unsharded report."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sweep_fake import make_project, scenario

from errwise.error import UsageError
from errwise.sweep.plan import Shard, make_plan, parse_shard, shard_units

SITES = {
    ("b.py", 3, "open"): {"nodeid": "t::b"},
    ("a.py", 9, "os.replace"): {"nodeid": "t::a"},
    ("a.py", 2, "open"): {"nodeid": "t::a"},
    ("c.py", 1, "os.unknown"): {"nodeid": "t::c"},
}


def test_the_plan_is_ordered_by_site_then_fault_transient_before_persistent(fake: None) -> None:
    units = make_plan(SITES)
    assert [u.id for u in units] == [
        "a.py:2:open:EACCES:transient",
        "a.py:2:open:EIO:transient",
        "a.py:9:os.replace:EACCES:transient",
        "b.py:3:open:EACCES:transient",
        "b.py:3:open:EIO:transient",
    ]  # an operation no fault fits plans nothing
    assert all(u.persistent.persistent and not u.transient.persistent for u in units)
    assert units[3].transient.test == "t::b"
    assert make_plan(dict(reversed(list(SITES.items())))) == units


def test_fault_choices(fake: None) -> None:
    assert [u.transient.fault for u in make_plan(SITES, faults="all")][:3] == [
        "EACCES",
        "EIO",
        "ENOENT",
    ]
    assert {u.transient.fault for u in make_plan(SITES, faults="EIO")} == {"EIO"}
    with pytest.raises(UsageError, match="unknown fault name"):
        make_plan(SITES, faults="EIO,ENOPE")


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_shards_partition_the_plan(fake: None, n: int) -> None:
    units = make_plan(SITES, faults="all")
    owned = [{u.id for _, u in shard_units(units, Shard(k, n))} for k in range(1, n + 1)]
    assert set().union(*owned) == {u.id for u in units}
    assert sum(len(o) for o in owned) == len(units)  # no overlap
    assert parse_shard(f"{n}/{n}") == Shard(n, n)


def test_the_cheapest_swept_test_is_chosen(sweep: Callable[..., Any], tmp_path: Path) -> None:
    # test_load (0.5 s) and test_save (0.01 s) both reach save's open.
    report = sweep(make_project(tmp_path, scenario())).json()
    tests = {r["test"] for r in report["runs"] if r["site"]["line"] == 7}
    assert tests == {"tests/test_store.py::test_save"}


def _stable(report: dict[str, Any]) -> dict[str, Any]:
    """The report without timings (and without what only says which shard wrote it)."""
    out = json.loads(json.dumps(report))
    for run in out["runs"]:
        run.pop("duration")
    out["summary"].pop("seconds")
    out.pop("baseline")  # its own timings; the tests and sites are compared through the rest
    return out


def test_sharded_sweeps_merge_into_the_unsharded_report(
    sweep: Callable[..., Any], cli: Callable[..., Any], tmp_path: Path
) -> None:
    root = make_project(tmp_path, scenario())
    whole = sweep(root, "--fresh").json()
    base = tmp_path / "base.json"
    one = sweep(root, "--fresh", "--shard", "1/2", "--save-baseline", str(base))
    two = sweep(root, "--fresh", "--shard", "2/2", "--baseline", str(base))
    parts = [one.json(), two.json()]
    ids = [{r["id"] for r in p["runs"]} for p in parts]
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    assert ids[0] | ids[1] == {r["id"] for r in whole["runs"]}
    for part in parts:  # a transient run and its persistent follow-up share a shard
        for run_id in ids[parts.index(part)]:
            assert run_id.replace(":persistent", ":transient") in ids[parts.index(part)]
    assert parts[0]["shard"] == "1/2" and parts[0]["summary"]["complete"] is True
    files = []
    for n, part in enumerate(parts):
        files.append(tmp_path / f"s{n}.json")
        files[-1].write_text(json.dumps(part), encoding="utf-8")
    merged = cli("sweep", "merge", *map(str, files), "--format", "json")
    assert merged.code == 1, merged
    assert _stable(json.loads(merged.out)) == _stable(whole)


def test_merging_a_missing_shard_says_so(
    sweep: Callable[..., Any], cli: Callable[..., Any], tmp_path: Path
) -> None:
    root = make_project(tmp_path, scenario())
    one = tmp_path / "one.json"
    one.write_text(sweep(root, "--shard", "1/2").out, encoding="utf-8")
    merged = json.loads(cli("sweep", "merge", str(one), "--format", "json").out)
    assert merged["summary"]["complete"] is False
    assert any("not merged" in s["reason"] for s in merged["unfaulted_sites"])


def test_merging_reports_of_different_sweeps_is_a_usage_error(
    sweep: Callable[..., Any], cli: Callable[..., Any], tmp_path: Path
) -> None:
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    one.write_text(sweep(make_project(tmp_path, scenario())).out, encoding="utf-8")
    other = scenario()
    other["tests"] = other["tests"][:2]
    two.write_text(sweep(make_project(tmp_path / "x", other), "--fresh").out, encoding="utf-8")
    result = cli("sweep", "merge", str(one), str(two))
    assert result.code == 2 and "do not come from one sweep" in result.err
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    assert cli("sweep", "merge", str(tmp_path / "bad.json")).code == 10


def test_max_runs_bounds_the_sweep_and_lists_what_was_left(
    sweep: Callable[..., Any], tmp_path: Path
) -> None:
    report = sweep(make_project(tmp_path, scenario()), "--max-runs", "3").json()
    assert report["summary"]["runs"] == 3 and report["summary"]["complete"] is False
    reasons = {s["reason"] for s in report["unfaulted_sites"]}
    assert reasons == {"--max-runs 3 reached"}


def test_parallel_jobs_give_the_serial_verdicts(sweep: Callable[..., Any], tmp_path: Path) -> None:
    root = make_project(tmp_path, scenario())
    serial = sweep(root, "--fresh").json()
    parallel = sweep(root, "--fresh", "--jobs", "4").json()
    assert _stable(parallel) == _stable(serial)


def test_the_time_budget_stops_starting_runs(sweep: Callable[..., Any], tmp_path: Path) -> None:
    data = scenario()
    for act in data["behaviour"].values():
        act["sleep"] = 0.3
    report = sweep(make_project(tmp_path, data), "--time-budget", "0.5").json()
    assert 1 <= report["summary"]["runs"] < 11
    assert report["summary"]["complete"] is False
    assert any("--time-budget 0.5 s spent" in s["reason"] for s in report["unfaulted_sites"])


def test_a_persistent_follow_up_cut_by_max_runs_leaves_the_sweep_incomplete(
    sweep: Callable[..., Any], tmp_path: Path
) -> None:
    report = sweep(make_project(tmp_path, scenario()), "--max-runs", "1").json()
    assert [r["id"] for r in report["runs"]] == ["pkg/store.py:7:open:EACCES:transient"]
    assert report["summary"]["complete"] is False
    assert report["plan"]["skipped"]["pkg/store.py:7:open:EACCES:persistent"] == (
        "--max-runs 1 reached"
    )
