"""`bench/sweep.py`, the sweep benchmark, without the network: its project table is well formed,
an unreachable package index skips it cleanly (exit 0, said on stderr, nothing swept), any other
setup failure is an error, and the figures it prints are read from the sweep's JSON contract."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "sweep.py"
PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[0-9][A-Za-z0-9.+-]*$")


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("errwise_bench_sweep", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    saved_path, had_precision = list(sys.path), "precision" in sys.modules
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)  # puts bench/ on sys.path to import its `precision`
    yield module
    del sys.modules[spec.name]
    sys.path[:] = saved_path
    if not had_precision:
        del sys.modules["precision"]


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "corpus"
    monkeypatch.setenv("ERRWISE_BENCH_CORPUS", str(path))
    return path


def fake_run(
    monkeypatch: pytest.MonkeyPatch, answer: Callable[[list[str]], tuple[int, str]]
) -> list[list[str]]:
    """Replace subprocess.run: `answer(cmd)` gives (returncode, stderr); every command is kept."""
    seen: list[list[str]] = []

    def run(cmd: Sequence[str], *args: Any, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen.append([str(c) for c in cmd])
        if kwargs.get("cwd") is not None and "sweep" in cmd:
            raise AssertionError(f"a sweep ran: {cmd}")
        code, stderr = answer([str(c) for c in cmd])
        if code and kwargs.get("check"):
            raise subprocess.CalledProcessError(code, cmd, "", stderr)
        return subprocess.CompletedProcess(cmd, code, "", stderr)

    monkeypatch.setattr(subprocess, "run", run)
    return seen


NO_NETWORK = (
    "WARNING: Retrying (Retry(total=4)) after connection broken by "
    "'NewConnectionError(': Failed to establish a new connection: [Errno -3] "
    "Temporary failure in name resolution')'\n"
    "ERROR: Could not find a version that satisfies the requirement filelock==3.16.1\n"
)


def test_the_project_table_is_well_formed(bench: ModuleType) -> None:
    projects = bench.PROJECTS
    names = [p.name for p in projects]
    assert len(set(names)) == len(names)
    examples = [p for p in projects if p.example]
    assert [p.name for p in examples] == ["sweepdemo"]
    downloaded = [p for p in projects if not p.example]
    assert len(downloaded) >= 2
    for project in projects:
        assert project.tests, project
        assert all(not Path(t).is_absolute() and ".." not in Path(t).parts for t in project.tests)
        assert project.deps and all(PINNED.match(dep) for dep in project.deps), project.deps
        assert any(dep.startswith("pytest==") for dep in project.deps)
        assert project.note.strip()
    for project in downloaded:
        assert re.fullmatch(r"[0-9]+(\.[0-9]+)+", project.version), project
        assert project.install
    command = bench.sweep_command(downloaded[0])
    assert command[:6] == ["python", "-m", "pytest", "-q", "-p", "no:randomly"]
    assert command[6:] == list(downloaded[0].tests)


def test_an_unreachable_index_skips_the_bench_and_sweeps_nothing(
    bench: ModuleType,
    corpus: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def answer(cmd: list[str]) -> tuple[int, str]:
        assert cmd[1:4] == ["-m", "pip", "download"], cmd  # nothing but the download is tried
        return 1, NO_NETWORK

    seen = fake_run(monkeypatch, answer)
    assert bench.main(["--project", "filelock"]) == 0
    err = capsys.readouterr().err
    assert "sweep: skipped" in err and "filelock==3.16.1" in err and "offline" in err
    assert len(seen) == 1
    assert not (corpus / "sweep").exists()


def test_an_unreachable_index_while_installing_skips_too(
    bench: ModuleType, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    source = tmp_path / "filelock-3.16.1"
    (source / "tests").mkdir(parents=True)
    monkeypatch.setattr(bench, "fetch", lambda name, version, into: _project(bench, source))

    def answer(cmd: list[str]) -> tuple[int, str]:
        if cmd[1:3] == ["-m", "venv"]:
            bindir = Path(cmd[3]) / "bin"
            bindir.mkdir(parents=True)
            (bindir / "python").touch()
            return 0, ""
        assert cmd[1:4] == ["-m", "pip", "install"], cmd
        return 1, NO_NETWORK

    fake_run(monkeypatch, answer)
    assert bench.main(["--project", "filelock"]) == 0
    err = capsys.readouterr().err
    assert "sweep: skipped: cannot install filelock (offline?)" in err
    assert not list(corpus.glob("sweep/envs/*/deps.json"))  # a half-made venv is not reused


def test_any_other_install_failure_is_an_error_not_a_skip(
    bench: ModuleType, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    source = tmp_path / "filelock-3.16.1"
    source.mkdir()
    monkeypatch.setattr(bench, "fetch", lambda name, version, into: _project(bench, source))

    def answer(cmd: list[str]) -> tuple[int, str]:
        if cmd[1:3] == ["-m", "venv"]:
            return 0, ""
        return 1, "ERROR: Failed building wheel for filelock\n"

    fake_run(monkeypatch, answer)
    assert bench.main(["--project", "filelock"]) == 2
    err = capsys.readouterr().err
    assert "cannot install filelock: ERROR: Failed building wheel" in err
    assert "skipped" not in err


def _project(bench: ModuleType, root: Path) -> Any:
    """What `precision.fetch` returns (the module `bench/sweep.py` imports it from)."""
    return sys.modules["precision"].Project("filelock", "3.16.1", root)


def _report(*verdicts: str, survivals: int) -> dict[str, Any]:
    runs = [{"id": f"m.py:{n}:open:EIO:transient", "verdict": v} for n, v in enumerate(verdicts)]
    counts = {v: verdicts.count(v) for v in bench_verdicts()}
    return {
        "version": 1,
        "runs": runs,
        "survivals": [
            {
                "fault": "EIO",
                "operation": "open",
                "site": {"path": "m.py", "line": 3},
                "handler": {"path": "m.py", "line": 5},
                "tests": ["t.py::t"],
                "finding": "EW101",
                "persistent": False,
                "replay": "errwise sweep --run x -- python -m pytest",
            }
            for _ in range(survivals)
        ],
        "coverage": {"handlers_reached": 2, "handlers_guarding": 4, "sites_faulted": 3},
        "summary": {
            "tests": 5,
            "swept_tests": 4,
            "sites": 3,
            "runs": len(runs),
            "planned": 9,
            "verdicts": counts,
            "confirmed": 1,
            "miss": 0,
            "refuted": 2,
            "seconds": 1.5,
            "complete": True,
        },
    }


def bench_verdicts() -> tuple[str, ...]:
    return ("propagated", "reported", "silent", "unreached", "unsettled")


def test_the_figures_are_read_from_the_contract(bench: ModuleType) -> None:
    report = _report("silent", "propagated", "reported", "reported", survivals=1)
    row = bench.summarize(report)
    assert (row["tests"], row["swept"], row["sites"], row["runs"], row["planned"]) == (
        5,
        4,
        3,
        4,
        9,
    )
    assert (row["silent"], row["propagated"], row["reported"], row["unreached"]) == (1, 1, 2, 0)
    assert (row["survivals"], row["confirmed"], row["miss"], row["refuted"]) == (1, 1, 0, 2)
    assert (row["handlers_reached"], row["handlers_guarding"]) == (2, 4)
    assert row["complete"] is True
    assert bench.check_report(report, 1) == []


def test_a_report_that_contradicts_itself_is_a_failed_check(bench: ModuleType) -> None:
    report = _report("silent", "propagated", survivals=1)
    assert any("exit 0 with 1 silent survival" in p for p in bench.check_report(report, 0))
    report["summary"]["verdicts"]["silent"] = 0
    assert any("add up to 1, not to the 2 runs" in p for p in bench.check_report(report, 1))
    del report["survivals"][0]["replay"]
    assert any("lacks replay" in p for p in bench.check_report(report, 1))
    assert any("no 'runs'" in p for p in bench.check_report({"survivals": [], "summary": {}}, 0))


def test_the_sample_project_must_show_what_it_was_built_to_show(bench: ModuleType) -> None:
    shows_all = _report("silent", "propagated", "reported", survivals=1)
    shows_all["summary"]["miss"] = 1
    assert bench.check_demo(shows_all) == []
    nothing_silent = _report("propagated", "reported", survivals=0)
    problems = bench.check_demo(nothing_silent)
    assert any("0 silent survivals with a handler" in p for p in problems)
    assert any("0 miss" in p for p in problems)


def test_files_a_sweep_leaves_in_the_project_are_named(bench: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "gone.txt").write_text("", encoding="utf-8")
    before = bench.snapshot(tmp_path)
    (tmp_path / "pkg" / "m.py").write_text("x = 2\n", encoding="utf-8")
    (tmp_path / "gone.txt").unlink()
    (tmp_path / ".coverage").write_text("", encoding="utf-8")
    assert bench.changed_files(before, bench.snapshot(tmp_path)) == [
        "+.coverage",
        "~pkg/m.py",
        "-gone.txt",
    ]


def test_options_are_checked_and_quick_bounds_each_sweep(bench: ModuleType) -> None:
    demo, filelock = bench.PROJECTS[0], bench.PROJECTS[1]
    quick = bench.parse_args(["--quick", "--jobs", "3"])
    options, timeout = bench.sweep_options(quick, filelock)
    assert options == ["--jobs", "3", "--max-runs", str(bench.QUICK_MAX_RUNS), "--time-budget",
                       f"{bench.QUICK_TIME_BUDGET_S:g}"]  # fmt: skip
    assert timeout == 2 * bench.QUICK_TIME_BUDGET_S + 600
    assert bench.sweep_options(quick, demo) == (["--jobs", "3"], bench.SWEEP_TIMEOUT_S)
    told = bench.parse_args(["--quick", "--max-runs", "5"])
    assert bench.sweep_options(told, demo)[0][2:] == ["--max-runs", "5"]
    for bad in (["--max-runs", "0"], ["--jobs", "0"], ["--time-budget", "-1"], ["--project", "x"]):
        with pytest.raises(SystemExit) as exc:
            bench.parse_args(bad)
        assert exc.value.code == 2


def test_survivals_are_listed_by_the_handler_that_swallowed_them(bench: ModuleType) -> None:
    report = _report("silent", "silent", survivals=2)
    report["survivals"][1].update(fault="ENOSPC", persistent=True)
    report["survivals"].append({**report["survivals"][0], "handler": None, "finding": None})
    stdlib = {"path": "/usr/lib/python3.11/pathlib.py", "line": 1236}
    report["survivals"].append({**report["survivals"][0], "handler": stdlib, "finding": None})
    lines = bench.survival_lines(report)
    assert bench.summarize(report)["survivals_in_project"] == 2
    assert lines[0] == (
        "    handler m.py:5: 2 survival(s), finding EW101, persistent+transient, 1 test(s)"
    )
    assert lines[1] == "      open at m.py:3: EIO/ENOSPC"
    assert lines[2].startswith("      replay: errwise sweep --run ")
    assert lines[3] == (
        "    handler /usr/lib/python3.11/pathlib.py:1236 (not in the project): 1 survival(s), "
        "finding -, transient, 1 test(s)"
    )
    assert lines[6] == "    handler -: 1 survival(s), finding -, transient, 1 test(s)"
    assert len(lines) == 9


def test_a_sweep_that_overruns_is_interrupted_like_ctrl_c_and_its_progress_kept(
    bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slow = (
        "import sys, time\n"
        "print('runs 1/9', file=sys.stderr, flush=True)\n"
        "try:\n    time.sleep(60)\n"
        "except KeyboardInterrupt:\n    print('stopped', file=sys.stderr); sys.exit(130)\n"
    )
    code, overran, tail = bench.run_teed(
        [sys.executable, "-c", slow], cwd=tmp_path, env={"PATH": "/usr/bin:/bin"}, timeout=1.0
    )
    assert (code, overran) == (130, True)
    assert tail.splitlines() == ["runs 1/9", "stopped"]
    assert "    | runs 1/9\n" in capsys.readouterr().err


def test_the_committed_hand_labels_are_well_formed(bench: ModuleType) -> None:
    labels = bench.load_labels()
    assert len(labels) >= 10
    swept = {p.name: p for p in bench.PROJECTS if not p.example}
    for (project, handler), label in labels.items():
        assert project in swept and label.version == swept[project].version
        path, _, line = handler.rpartition(":")
        assert path and not path.startswith("/") and int(line) > 0, handler
    assert {label.defect for label in labels.values()} == {True, False}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("filelock,3.16.1,a.py:3,bug,x", "label must be defect or benign"),
        ("filelock,3.16.1,a.py:3,defect, ", "label must be defect or benign"),
        ("filelock,9.9,a.py:3,defect,x", "filelock 9.9 is not a pinned project"),
        ("sweepdemo,repo,a.py:3,defect,x", "sweepdemo repo is not a pinned project"),
    ],
)
def test_a_malformed_hand_label_is_refused(
    bench: ModuleType, tmp_path: Path, row: str, message: str
) -> None:
    path = tmp_path / "sweep.csv"
    path.write_text("project,version,handler,label,reason\n" + row + "\n", encoding="utf-8")
    with pytest.raises(sys.modules["precision"].CorpusError, match=message):
        bench.load_labels(path)


def test_the_projects_silent_handlers_are_tallied_by_their_labels(bench: ModuleType) -> None:
    report = _report("silent", "silent", "silent", survivals=3)
    report["survivals"][1]["handler"] = {"path": "m.py", "line": 9}
    report["survivals"][2]["handler"] = {"path": "<frozen genericpath>", "line": 19}
    label = bench.HandlerLabel("p", "1", "m.py:5", True, "loses the error")
    assert bench.label_tally(report, {("p", "m.py:5"): label}, "p") == (1, 0, 1)
    lines = bench.survival_lines(report, {("p", "m.py:5"): label}, "p")
    assert "      DEFECT: loses the error" in lines
    assert "      not labelled yet (bench/labels/sweep.csv)" in lines
