"""errwise sweep end to end against the fake agent: verdicts, survivals, the JSON contract,
the other formats, exit codes, and a project left untouched."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sweep_fake import LOGGED, SWALLOW, make_project, scenario

SARIF_SCHEMA = Path(__file__).parents[1] / "report" / "data" / "sarif-schema-2.1.0.json"


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_swallowed_error_is_a_silent_survival_with_its_handler(
    sweep: Callable[..., Any], tmp_path: Path
) -> None:
    root = make_project(tmp_path, scenario())
    before = _files(root)
    result = sweep(root)
    assert result.code == 1, result
    report = result.json()
    summary = report["summary"]
    # save's open: EACCES, EIO; save's write: ENOSPC; load's open: EACCES, EIO; replace: EACCES.
    # Each transient run; a persistent follow-up where the test passed (silent or reported).
    assert summary["verdicts"] == {
        "propagated": 1,
        "reported": 4,
        "silent": 6,
        "unreached": 0,
        "unsettled": 0,
    }
    # Planned: 6 transient runs and the 5 follow-ups that became due (the propagated run has
    # none: counting one for it, as before, promised a run that never comes).
    assert (summary["runs"], summary["planned"], summary["sites"]) == (11, 11, 4)
    assert (summary["tests"], summary["swept_tests"], summary["complete"]) == (3, 3, True)
    assert summary["silent"] == len(report["survivals"]) == 6
    first = report["survivals"][0]
    assert first == {
        "fault": "EACCES",
        "operation": "open",
        "site": {"path": "pkg/store.py", "line": 7},
        "handler": SWALLOW,
        "tests": ["tests/test_store.py::test_save"],  # the cheaper of the two tests
        "finding": first["finding"],
        "persistent": False,
        "reason": "fake: silent",
        "replay": "errwise sweep --run pkg/store.py:7:open:EACCES:transient --test "
        "tests/test_store.py::test_save -- " + " ".join(report["command"]),
    }
    # The auditor flags `except OSError: pass`: the survival confirms its finding.
    assert first["finding"] is not None and first["finding"].startswith("EW")
    assert summary["confirmed"] == 1 and summary["miss"] == 0
    assert {s["handler"]["line"] for s in report["survivals"]} == {SWALLOW["line"]}
    assert report["coverage"]["handlers_reached"] == 2
    assert report["coverage"]["handlers_guarding"] == 2
    assert report["coverage"]["ratio"] == 1.0
    assert report["coverage"]["sites_faulted"] == 4
    assert report["unfaulted_sites"] == [] and report["not_swept"] == []
    assert _files(root) == before  # the project under test is never changed


def test_the_json_report_holds_the_contract_keys(sweep: Callable[..., Any], tmp_path: Path) -> None:
    report = sweep(make_project(tmp_path, scenario())).json()
    assert {
        "version",
        "command",
        "root",
        "runs",
        "survivals",
        "benign",
        "stale_benign",
        "not_swept",
        "unfaulted_sites",
        "crosslink",
        "coverage",
        "summary",
    } <= report.keys()
    run_keys = {"id", "test", "operation", "fault", "persistent", "site", "verdict", "reason"}
    run_keys |= {"handler", "handlers", "duration", "replay"}
    for run in report["runs"]:
        assert run_keys <= run.keys()
        assert run["site"].keys() == {"path", "line"}
        assert run["id"] == (
            f"{run['site']['path']}:{run['site']['line']}:{run['operation']}:{run['fault']}:"
            + ("persistent" if run["persistent"] else "transient")
        )
    for survival in report["survivals"]:
        assert {"fault", "operation", "site", "handler", "tests", "finding", "persistent"} <= (
            survival.keys()
        )
        assert "replay" in survival
    assert {"confirmed", "miss", "refuted"} <= report["crosslink"].keys()
    assert {"handlers_reached", "handlers_guarding", "ratio", "sites_reached", "sites_faulted"} <= (
        report["coverage"].keys()
    )
    assert {
        "tests",
        "swept_tests",
        "sites",
        "runs",
        "planned",
        "verdicts",
        "silent",
        "benign",
        "confirmed",
        "miss",
        "refuted",
        "seconds",
        "complete",
    } <= report["summary"].keys()


def test_nothing_silent_exits_0(sweep: Callable[..., Any], tmp_path: Path) -> None:
    data = scenario()
    data["behaviour"] = {
        "pkg/store.py:7:open": {"verdict": "propagated"},
        "pkg/store.py:8:file.write": {"verdict": "propagated"},
        "pkg/store.py:15:open": {"verdict": "reported", "handler": LOGGED},
    }
    result = sweep(make_project(tmp_path, data))
    assert result.code == 0, result
    report = result.json()
    assert report["survivals"] == []
    assert report["summary"]["verdicts"]["silent"] == 0


def test_the_text_report_names_each_survival_and_its_replay(
    sweep: Callable[..., Any], tmp_path: Path
) -> None:
    result = sweep(make_project(tmp_path, scenario()), fmt="text")
    assert result.code == 1
    assert "verdicts  propagated 1, reported 4, silent 6, unreached 0, unsettled 0" in result.out
    assert "Silent survivals (6)" in result.out
    assert "handler: pkg/store.py:9 in save" in result.out
    assert "replay:  errwise sweep --run pkg/store.py:7:open:EACCES:transient" in result.out
    assert result.err == ""  # -q: no progress


def test_sarif_is_schema_valid_with_one_result_per_survival_at_the_handler(
    sweep: Callable[..., Any], tmp_path: Path
) -> None:
    data = scenario()
    outside = {"path": "/usr/lib/python3.11/pathlib.py", "line": 10, "function": "exists"}
    data["behaviour"]["pkg/store.py:23:os.replace"] = {"verdict": "silent", "handler": outside}
    result = sweep(make_project(tmp_path, data), fmt="sarif")
    log = json.loads(result.out)
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))
    (run,) = log["runs"]
    # The two runs absorbed inside pathlib are not the project's survivals (see below).
    assert len(run["results"]) == 6
    for item in run["results"]:
        region = item["locations"][0]["physicalLocation"]
        assert region["artifactLocation"]["uri"] == "pkg/store.py"
        assert region["region"]["startLine"] == SWALLOW["line"]


@pytest.mark.parametrize(
    "handler",
    [
        {"path": "/usr/lib/python3.11/pathlib.py", "line": 10, "function": "exists"},
        {"path": "<frozen genericpath>", "line": 19, "function": "exists"},
    ],
)
def test_an_error_absorbed_by_a_library_is_listed_apart_and_fails_nothing(
    sweep: Callable[..., Any], tmp_path: Path, handler: dict[str, Any]
) -> None:
    data = scenario()
    data["behaviour"]["pkg/store.py:23:os.replace"] = {"verdict": "silent", "handler": handler}
    report = sweep(make_project(tmp_path, data)).json()
    summary = report["summary"]
    assert summary["absorbed"] == len(report["absorbed"]) == 2  # transient and persistent
    assert {a["handler"]["path"] for a in report["absorbed"]} == {handler["path"]}
    assert all(s["handler"]["path"] == "pkg/store.py" for s in report["survivals"])
    assert summary["silent"] == len(report["survivals"]) == 6
    # never an auditor miss: the auditor does not read the library
    assert all(m["path"] == "pkg/store.py" for m in report["crosslink"]["miss"])


def test_markdown_has_the_summary_and_survival_tables(
    sweep: Callable[..., Any], tmp_path: Path
) -> None:
    result = sweep(make_project(tmp_path, scenario()), fmt="markdown")
    assert "## errwise sweep" in result.out
    assert "| fault | operation | site | handler | tests | finding | replay |" in result.out
    assert result.out.count("`pkg/store.py:9 in save`") == 6


def test_output_file_and_progress_on_stderr(
    cli: Callable[..., Any], tmp_path: Path, fake: None
) -> None:
    from sweep_fake import COMMAND

    root = make_project(tmp_path, scenario())
    out = tmp_path / "report.json"
    result = cli(
        "sweep",
        "--root",
        str(root),
        "--state",
        str(tmp_path / "state.json"),
        "--format",
        "json",
        "-o",
        str(out),
        "--",
        *COMMAND,
    )
    assert result.code == 1 and result.out == ""
    assert json.loads(out.read_text(encoding="utf-8"))["summary"]["runs"] == 11
    assert "baseline run 1/2" in result.err
    assert "11/" in result.err and "silent" in result.err and "s left" in result.err


def test_a_site_file_gone_since_the_baseline_is_listed_not_fatal(
    sweep: Callable[..., Any], tmp_path: Path
) -> None:
    from sweep_fake import REPLACE

    data = scenario()
    gone = {**REPLACE, "path": "pkg/gone.py"}
    data["tests"][2]["sites"] = [REPLACE, gone]
    data["behaviour"]["pkg/gone.py:23:os.replace"] = {"verdict": "propagated"}
    report = sweep(make_project(tmp_path, data)).json()
    assert report["coverage"]["handlers_guarding"] == 2
    (problem,) = report["coverage"]["unanalysed"]
    assert problem["path"] == "pkg/gone.py" and problem["code"] == "ERR_NOT_FOUND"
