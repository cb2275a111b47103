"""The sweep's own failure paths, each injected: a hanging run, a dying child, a fault that
never fires, a verdict without proof, a flaky or failing test, a missing command, an agent that
never loads; and benign declarations."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sweep_fake import LOGGED, REPLACE, SWALLOW, make_project, scenario


def _run(report: dict[str, Any], run_id: str) -> dict[str, Any]:
    (found,) = [r for r in report["runs"] if r["id"] == run_id]
    return found


REPLACE_ID = "pkg/store.py:23:os.replace:EACCES:transient"


def test_a_hanging_run_is_unsettled_after_its_timeout(
    sweep: Callable[..., Any], tmp_path: Path
) -> None:
    data = scenario()
    data["behaviour"]["pkg/store.py:23:os.replace"] = {"hang": True}
    started = time.monotonic()
    report = sweep(make_project(tmp_path, data), "--run-timeout", "1").json()
    assert time.monotonic() - started < 30
    run = _run(report, REPLACE_ID)
    assert run["verdict"] == "unsettled"
    assert "did not finish within 1 s (timed out)" in run["reason"]
    assert not any(r["id"] == REPLACE_ID.replace("transient", "persistent") for r in report["runs"])


@pytest.mark.parametrize(
    ("act", "said"),
    [
        ({"exit": 3}, "exited with status 3 before the agent reported"),
        ({"kill": True}, "was killed by SIGKILL before the agent reported"),
    ],
)
def test_a_child_that_dies_is_unsettled(
    sweep: Callable[..., Any], tmp_path: Path, act: dict[str, Any], said: str
) -> None:
    data = scenario()
    data["behaviour"]["pkg/store.py:23:os.replace"] = act
    report = sweep(make_project(tmp_path, data)).json()
    run = _run(report, REPLACE_ID)
    assert run["verdict"] == "unsettled" and said in run["reason"]
    assert report["summary"]["verdicts"]["unsettled"] == 1


def test_a_fault_that_never_fires_is_unreached_and_its_site_listed(
    sweep: Callable[..., Any], tmp_path: Path
) -> None:
    data = scenario()
    data["behaviour"]["pkg/store.py:23:os.replace"] = {"verdict": "unreached"}
    result = sweep(make_project(tmp_path, data))
    report = result.json()
    assert _run(report, REPLACE_ID)["verdict"] == "unreached"
    site = {k: v for k, v in report["unfaulted_sites"][0].items() if k != "reason"}
    assert site == {"path": "pkg/store.py", "line": 23, "operation": "os.replace"}
    assert "never fired" in report["unfaulted_sites"][0]["reason"]
    assert report["coverage"]["sites_faulted"] == 3


def test_a_verdict_without_a_fired_fault_is_not_trusted(
    sweep: Callable[..., Any], tmp_path: Path
) -> None:
    data = scenario()
    data["behaviour"]["pkg/store.py:23:os.replace"] = {"verdict": "silent", "fired": 0}
    report = sweep(make_project(tmp_path, data)).json()
    run = _run(report, REPLACE_ID)
    assert run["verdict"] == "unsettled" and "no fault fired" in run["reason"]


def test_a_run_whose_agent_failed_is_unsettled(sweep: Callable[..., Any], tmp_path: Path) -> None:
    data = scenario()
    data["behaviour"]["pkg/store.py:23:os.replace"] = {"errors": ["tracker: RuntimeError: x"]}
    report = sweep(make_project(tmp_path, data)).json()
    run = _run(report, REPLACE_ID)
    assert run["verdict"] == "unsettled"
    assert run["reason"] == "the sweep agent itself failed: tracker: RuntimeError: x"


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [
        (["passed", "failed"], "flaky: passed once, failed once"),
        (["failed", "passed"], "flaky: passed once, failed once"),
        ("failed", "failed in the baseline"),
        ("skipped", "skipped in the baseline"),
    ],
)
def test_a_test_that_does_not_pass_twice_is_never_swept(
    sweep: Callable[..., Any], tmp_path: Path, outcome: Any, reason: str
) -> None:
    data = scenario()
    data["tests"][2]["outcome"] = outcome  # test_replace, the only test reaching os.replace
    report = sweep(make_project(tmp_path, data)).json()
    assert report["not_swept"] == [{"test": "tests/test_store.py::test_replace", "reason": reason}]
    assert all(r["test"] != "tests/test_store.py::test_replace" for r in report["runs"])
    assert report["unfaulted_sites"] == [
        {
            "path": REPLACE["path"],
            "line": REPLACE["line"],
            "operation": REPLACE["operation"],
            "reason": "reached only by tests that are not swept",
        }
    ]
    assert report["summary"]["swept_tests"] == 2


def test_a_command_not_found_exits_10(sweep: Callable[..., Any], tmp_path: Path) -> None:
    result = sweep(make_project(tmp_path, scenario()), command=[str(tmp_path / "no-such")])
    assert result.code == 10, result
    assert "ERR_COMMAND_NOT_FOUND" in result.err or "command not found" in result.err


def test_an_agent_that_never_reports_is_an_environment_error_saying_how_to_fix_it(
    sweep: Callable[..., Any], tmp_path: Path
) -> None:
    result = sweep(make_project(tmp_path, scenario(no_agent=True)))
    assert result.code == 10, result
    assert "sweep agent never reported" in result.err
    assert "errwise importable" in result.err


BENIGN = """\
[tool.errwise.sweep]
benign = [
  {handler = "pkg/store.py:9", reason = "a cache: losing it is fine"},
  {site = "pkg/gone.py:3", reason = "removed long ago"},
]
"""


def test_benign_survivals_are_listed_apart_and_stale_declarations_reported(
    sweep: Callable[..., Any], tmp_path: Path
) -> None:
    result = sweep(make_project(tmp_path, scenario(), pyproject=BENIGN))
    assert result.code == 0, result
    report = result.json()
    assert report["survivals"] == []
    assert len(report["benign"]) == 6
    assert {b["reason"] for b in report["benign"]} == {"a cache: losing it is fine"}
    assert {b["handler"]["line"] for b in report["benign"]} == {SWALLOW["line"]}
    assert report["stale_benign"] == [{"site": "pkg/gone.py:3", "reason": "removed long ago"}]
    assert (report["summary"]["silent"], report["summary"]["benign"]) == (0, 6)


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        ('{handler = "pkg/store.py:9"}', "benign entry 1 (handler pkg/store.py:9) needs a reason"),
        ('{handler = "pkg/store.py", reason = "x"}', "benign entry 1: handler must read"),
        ('{handler = "a.py:1", site = "b.py:2", reason = "x"}', "exactly one of handler or site"),
        ('"pkg/store.py:9"', "benign entry 1 must be a table"),
    ],
)
def test_a_bad_benign_declaration_is_a_usage_error_naming_it(
    sweep: Callable[..., Any], tmp_path: Path, entry: str, said: str
) -> None:
    pyproject = f"[tool.errwise.sweep]\nbenign = [{entry}]\n"
    result = sweep(make_project(tmp_path, scenario(), pyproject=pyproject))
    assert result.code == 2, result
    assert said in result.err
    assert not (tmp_path / "counter").exists()  # nothing ran


@pytest.mark.parametrize(
    "flags",
    [
        ("--shard", "3/2"),
        ("--shard", "x"),
        ("--jobs", "0"),
        ("--run-timeout", "0"),
        ("--faults", "ENOSUCH"),
        ("--run", "not-an-id"),
        ("--audit-profile", "nope"),
    ],
)
def test_bad_flags_exit_2(
    sweep: Callable[..., Any], tmp_path: Path, flags: tuple[str, ...]
) -> None:
    result = sweep(make_project(tmp_path, scenario()), *flags)
    assert result.code == 2, result


def test_no_command_exits_2(cli: Callable[..., Any], tmp_path: Path) -> None:
    result = cli("sweep", "--root", str(tmp_path))
    assert result.code == 2 and "needs the command to sweep" in result.err


def test_a_command_that_fails_its_baseline_sweeps_nothing_and_says_so(
    sweep: Callable[..., Any], tmp_path: Path
) -> None:
    data = scenario()
    for test in data["tests"]:
        test["outcome"] = "failed"
    result = sweep(make_project(tmp_path, data))
    assert result.code == 0
    assert result.json()["summary"]["runs"] == 0
    assert "nothing was swept" in result.err  # even with -q


def test_a_persistent_fault_that_hangs_the_test_is_flagged_as_a_hang(
    sweep: Callable[..., Any], tmp_path: Path
) -> None:
    data = scenario()
    survived = {"verdict": "silent", "handler": SWALLOW}
    data["behaviour"]["pkg/store.py:23:os.replace:EACCES:transient"] = survived
    data["behaviour"]["pkg/store.py:23:os.replace:EACCES:persistent"] = {"hang": True}
    result = sweep(make_project(tmp_path, data), "--run-timeout", "1", fmt="json")
    report = result.json()
    run = _run(report, REPLACE_ID.replace("transient", "persistent"))
    assert run["verdict"] == "unsettled" and run["hang"] is True
    assert "under a persistent EACCES at os.replace pkg/store.py:23" in run["reason"]
    assert "a retry loop that never gives up?" in run["reason"]
    assert _run(report, REPLACE_ID)["hang"] is False  # the transient run finished
    text = sweep(make_project(tmp_path, data), "--run-timeout", "1", fmt="text").out
    assert "Hung under a persistent fault (1):" in text


@pytest.mark.parametrize(("code", "verdict"), [(0, "silent"), (3, "unsettled")])
def test_a_whole_command_that_exits_non_zero_after_the_fault_is_not_a_survival(
    tmp_path: Path, code: int, verdict: str
) -> None:
    """The agent sees what Python sees: an os._exit(3) after the handler fails the run."""
    from errwise.sweep.child import ChildOutcome
    from errwise.sweep.engine import _judge
    from errwise.sweep.model import RunSpec

    spec = RunSpec("tool.py", 4, "open", "EACCES", persistent=False, test=None)
    agent = {"nodeid": None, "verdict": "silent", "fired": 1, "reason": "caught at tool.py:6"}
    outcome = ChildOutcome(returncode=code, duration=0.1, log=tmp_path / "log")
    got, reason, _ = _judge(spec, outcome, {"tests": [agent], "errors": []}, 10.0)
    assert got == verdict
    if code:
        assert reason.startswith("the command exited with status 3 after the fault")


def test_a_sweep_stopped_early_does_not_call_declarations_stale(
    sweep: Callable[..., Any], tmp_path: Path
) -> None:
    result = sweep(make_project(tmp_path, scenario(), pyproject=BENIGN), "--max-runs", "2")
    report = result.json()
    assert report["summary"]["complete"] is False
    assert report["stale_benign"] == []
    assert {"site": "pkg/gone.py:3", "reason": "removed long ago"} in report["unchecked_benign"]


def test_a_benign_survival_is_never_an_auditor_miss(
    sweep: Callable[..., Any], tmp_path: Path
) -> None:
    # load's handler logs with the traceback: the auditor has nothing to say about it, so a
    # silent run there would be a miss, unless the project declared that handler benign.
    data = scenario()
    data["behaviour"]["pkg/store.py:15:open"] = {"verdict": "silent", "handler": LOGGED}
    declared = '[tool.errwise.sweep]\nbenign = [{handler = "pkg/store.py:17", reason = "x"}]\n'
    bare = sweep(make_project(tmp_path / "bare", data)).json()
    assert any(m["line"] == LOGGED["line"] for m in bare["crosslink"]["miss"])
    report = sweep(make_project(tmp_path / "declared", data, pyproject=declared)).json()
    assert {b["handler"]["line"] for b in report["benign"]} == {LOGGED["line"]}
    assert report["crosslink"]["miss"] == [] and report["summary"]["miss"] == 0
    assert report["summary"]["confirmed"] == bare["summary"]["confirmed"]
