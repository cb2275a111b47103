"""Ctrl-C and resume: an interrupted sweep (a real SIGINT to a real errwise process) kills its
children, writes the partial report and the state, exits 130; the next sweep runs only what is
left. And the replay: `--run ID` makes exactly that one run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sweep_fake import COMMAND, make_project, scenario

DRIVER = Path(__file__).with_name("sweep_drive.py")


def _ledger(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    return [line.split() for line in path.read_text(encoding="utf-8").splitlines()]


def _wait_for(predicate: Callable[[], bool], limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_ctrl_c_writes_the_partial_report_and_the_sweep_resumes(
    sweep: Callable[..., Any], tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger"
    data = scenario(ledger=str(ledger))
    for act in data["behaviour"].values():
        act["sleep"] = 0.2
    data["behaviour"]["pkg/store.py:23:os.replace"] = {"hang": True}  # the last site
    root = make_project(tmp_path, data)
    state, out = tmp_path / "state.json", tmp_path / "partial.json"
    args = ["sweep", "--root", str(root), "--state", str(state), "--format", "json"]
    args += ["-o", str(out), "-q", "--", *COMMAND]
    proc = subprocess.Popen([sys.executable, str(DRIVER), *args], stderr=subprocess.PIPE, text=True)
    try:
        # Wait until the hanging run has started: 10 runs done, the 11th in flight.
        _wait_for(lambda: any("23" in e[1] for e in _ledger(ledger) if e[0] == "fault"))
        hanging = int(next(e for e in _ledger(ledger) if "23" in e[1])[3])
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    _wait_for(lambda: not _alive(hanging), 10)  # the child's group was killed
    partial = json.loads(out.read_text(encoding="utf-8"))
    assert partial["summary"]["complete"] is False
    assert partial["summary"]["runs"] == 10
    assert any(s["reason"] == "interrupted" for s in partial["unfaulted_sites"])
    assert len(_state_runs(state)) == 10

    # Resume: no new baseline, only the interrupted run is made again (now it does not hang).
    data["behaviour"]["pkg/store.py:23:os.replace"] = {"verdict": "propagated"}
    (root / "scenario.json").write_text(
        json.dumps({"counter": str(tmp_path / "counter"), **data}), encoding="utf-8"
    )
    before = len(_ledger(ledger))
    report = sweep(root).json()
    new = _ledger(ledger)[before:]
    assert [e[0] for e in new] == ["fault"]
    assert report["summary"]["runs"] == 11 and report["summary"]["complete"] is True
    # A finished sweep is not resumed: the next one starts afresh, with a baseline.
    before = len(_ledger(ledger))
    sweep(root)
    assert [e[0] for e in _ledger(ledger)[before:]].count("record") == 2


def _state_runs(state: Path) -> list[dict[str, Any]]:
    lines = state.read_text(encoding="utf-8").splitlines()[1:]
    return [json.loads(line)["run"] for line in lines if '"run"' in line]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_replay_makes_exactly_one_run(cli: Callable[..., Any], tmp_path: Path, fake: None) -> None:
    ledger = tmp_path / "ledger"
    root = make_project(tmp_path, scenario(ledger=str(ledger)))
    run_id = "pkg/store.py:7:open:EACCES:transient"
    args = ["sweep", "--root", str(root), "--run", run_id]
    result = cli(*args, "--test", "tests/test_store.py::test_save", "--", *COMMAND)
    assert result.code == 1, result
    assert result.out.splitlines()[0] == f"{run_id} in tests/test_store.py::test_save: silent"
    assert "handler: pkg/store.py:9" in result.out
    assert [e[0] for e in _ledger(ledger)] == ["fault"]
    # Without --test, a baseline finds the cheapest test reaching the site, for a pytest
    # command (here: the fake suite under the name pytest).
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "pytest").symlink_to(COMMAND[-1])
    pytest_like = [*COMMAND[:-1], str(tmp_path / "bin" / "pytest")]
    result = cli(*args, "--format", "json", "--", *pytest_like)
    assert result.code == 1, result
    assert result.json()["test"] == "tests/test_store.py::test_save"
    assert [e[0] for e in _ledger(ledger)][1:] == ["record", "record", "fault"]
    result = cli(*args[:-1], "pkg/nowhere.py:1:open:EIO:transient", "--", *pytest_like)
    assert result.code == 2 and "no swept test reaches" in result.err
    # A plain command runs whole: no baseline needed.
    before = len(_ledger(ledger))
    result = cli(*args, "--", *COMMAND)
    assert [e[0] for e in _ledger(ledger)[before:]] == ["fault"]


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_with_parallel_jobs_kills_every_running_child(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    ledger = tmp_path / "ledger"
    data = scenario(ledger=str(ledger))
    for act in data["behaviour"].values():
        act["hang"] = True
    root = make_project(tmp_path, data)
    args = ["sweep", "--root", str(root), "--state", str(tmp_path / "state.json")]
    args += ["--jobs", "3", "--format", "json", "-q", "--", *COMMAND]
    proc = subprocess.Popen(
        [sys.executable, str(DRIVER), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(lambda: sum(e[0] == "fault" for e in _ledger(ledger)) == 3)
        pids = [int(e[3]) for e in _ledger(ledger) if e[0] == "fault"]
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, err
    for pid in pids:
        _wait_for(lambda pid=pid: not _alive(pid), 10)
    partial = json.loads(out)
    assert partial["summary"]["runs"] == 0 and partial["summary"]["complete"] is False


def test_the_state_lives_in_the_user_cache_and_a_corrupt_one_is_reported(
    cli: Callable[..., Any], tmp_path: Path, fake: None
) -> None:
    root = make_project(tmp_path, scenario())
    args = ["sweep", "--root", str(root), "--format", "json", "-q", "--", *COMMAND]
    assert cli(*args).code == 1
    cache = Path(os.environ["ERRWISE_CACHE_DIR"]) / "sweep"
    (state,) = [p for p in cache.iterdir() if f'"root": "{root}"' in p.read_text()]
    assert state.suffix == ".jsonl"
    state.write_text("{\n", encoding="utf-8")
    result = cli(*args)
    assert result.code == 10, result
    assert f"the sweep state {state} is not JSON at line 1" in result.err
    assert cli(*args[:1], "--fresh", *args[1:]).code == 1  # --fresh ignores it


def test_a_baseline_of_another_command_is_refused(
    sweep: Callable[..., Any], tmp_path: Path
) -> None:
    root = make_project(tmp_path, scenario())
    base = tmp_path / "base.json"
    assert sweep(root, "--save-baseline", str(base)).code == 1
    result = sweep(root, "--fresh", "--baseline", str(base), command=[*COMMAND, "-x"])
    assert result.code == 2 and "recorded for another command" in result.err


def test_a_run_cut_short_in_the_journal_is_made_again(
    sweep: Callable[..., Any], tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger"
    root = make_project(tmp_path, scenario(ledger=str(ledger)))
    state = tmp_path / "state.json"
    assert sweep(root, "--max-runs", "4").json()["summary"]["complete"] is False
    lines = state.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) == 1 + 4
    state.write_text("".join(lines[:-1]) + lines[-1][:20], encoding="utf-8")  # a torn append
    before = len(_ledger(ledger))
    report = sweep(root).json()
    assert report["summary"]["runs"] == 11 and report["summary"]["complete"] is True
    assert [e[0] for e in _ledger(ledger)[before:]].count("fault") == 11 - 3
