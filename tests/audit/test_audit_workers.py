"""The audit's worker processes, attacked: modules of the audited tree never run in them, no
process outlives a `kill -9`, Ctrl-C and SIGTERM stop a run within a second, a dying worker
costs only its file, and a file over the time or memory budget is a diagnostic, not a hang.

The real `errwise` command runs in a subprocess. Slow, dying and memory-hungry scans are injected
through a `sitecustomize` on PYTHONPATH (which worker processes inherit with the environment):
a file containing `# SLOW` blocks its scan, `# DIE` kills the worker scanning it, `# HOG`
allocates a gigabyte."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from audit_samples import SWALLOW

from errwise.audit import runner, workers
from errwise.audit.workers import Done, Lost, Pool, Returned
from errwise.error import UsageError

ERRWISE = str(Path(sys.executable).with_name("errwise"))
CLEAN = "def add(a, b):\n    return a + b\n"
PADDING = "# padding\n" * 400  # a bigger file: workers take the biggest first
HOSTILE_MODULES = (
    "signal.py",
    "socket.py",
    "pickle.py",
    "selectors.py",
    "threading.py",
    "struct.py",
    "multiprocessing/__init__.py",
    "errwise.py",
)

INJECTION = """\
import importlib.machinery, os, sys, time


def _patch(engine):
    real = engine.scan_source

    def scan_source(data, *args, **kwargs):
        if b"# SLOW" in data:
            time.sleep(3600)
        if b"# DIE" in data and sys.flags.safe_path:  # in a worker process only
            os.kill(os.getpid(), 9)
        if b"# HOG" in data:
            hog = bytearray(1 << 30)
            del hog
        return real(data, *args, **kwargs)

    engine.scan_source = scan_source


class _Finder:
    def find_spec(self, name, path=None, target=None):
        if name != "errwise.audit.engine":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None:
            execute = spec.loader.exec_module

            def exec_module(module):
                execute(module)
                _patch(module)

            spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _Finder())
"""


@pytest.fixture
def marker() -> str:
    """A token in the environment of the run and of every process it starts."""
    return f"errwise-test-{uuid.uuid4().hex}"


@pytest.fixture
def injected(tmp_path: Path) -> Path:
    site = tmp_path / "inject"
    site.mkdir()
    (site / "sitecustomize.py").write_text(INJECTION)
    return site


def write(root: Path, files: Mapping[str, str]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return root


def start(cwd: Path, *args: str, marker: str, inject: Path | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "ERRWISE_TEST_MARKER": marker}
    if inject is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(inject), os.environ.get("PYTHONPATH", "")) if p
        )
    return subprocess.Popen(
        [ERRWISE, "audit", "--profile", "strict", "--no-cache", "--format", "json", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail("the run hung")  # (its output: processes it started may hold the pipes)
    return proc.returncode, out, err


def processes_of(marker: str) -> list[int]:
    """Live (not zombie) processes whose environment holds the marker."""
    found: list[int] = []
    needle = f"ERRWISE_TEST_MARKER={marker}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                state = stat.read().rsplit(b")", 1)[1].split()[0]
            with open(f"/proc/{entry}/environ", "rb") as environ:
                if state != b"Z" and needle in environ.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


def wait_for(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting for the run to get going")
        time.sleep(0.05)


@pytest.fixture
def no_leftovers(marker: str) -> Iterator[None]:
    yield
    for pid in processes_of(marker):  # a failed test must not leave its run behind
        os.kill(pid, signal.SIGKILL)


# -- nothing of the audited tree runs ------------------------------------------------------------


@pytest.mark.skipif(not os.path.exists(ERRWISE), reason="needs the installed errwise command")
def test_modules_of_the_audited_tree_never_run_in_workers(tmp_path: Path, marker: str) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    repo = tmp_path / "repo"
    files = {f"m{i:02}.py": SWALLOW for i in range(24)}
    for name in HOSTILE_MODULES:
        files[name] = f"open({str(markers / name.replace('/', '_'))!r}, 'w').close()\n"
    write(repo, files)
    pooled = finish(start(repo, "--jobs", "2", ".", marker=marker))
    alone = finish(start(repo, "--jobs", "1", ".", marker=marker))
    assert sorted(p.name for p in markers.iterdir()) == []
    assert "cannot start worker processes" not in pooled[2]
    assert pooled[0] == alone[0] == 1, pooled
    assert pooled[1] == alone[1]
    assert len(json.loads(pooled[1])["findings"]) == 24


def test_workers_import_errwise_from_the_parents_package_and_start_in_the_root() -> None:
    with Pool(1, item_timeout=None, memory_limit=0) as pool:
        pool.submit(functools.partial(map, os.path.realpath), ["."])
        outcomes = _all(pool, 1)
    assert outcomes == [Done(".", os.path.realpath(os.sep))]


# -- clean exits -----------------------------------------------------------------------------------


def _slow_repo(root: Path) -> Path:
    # Every file blocks: this process and the workers are all mid-file when the signal comes.
    return write(root, {f"m{i:02}.py": f"# SLOW\n{SWALLOW}" for i in range(24)})


@pytest.mark.usefixtures("no_leftovers")
def test_kill_9_of_the_run_leaves_no_process_behind(
    tmp_path: Path, marker: str, injected: Path
) -> None:
    repo = _slow_repo(tmp_path / "repo")
    proc = start(repo, "--jobs", "3", ".", marker=marker, inject=injected)
    wait_for(lambda: len(processes_of(marker)) >= 3)  # the run and its two workers
    time.sleep(0.5)
    proc.kill()
    proc.wait()
    time.sleep(2)
    assert processes_of(marker) == []


@pytest.mark.usefixtures("no_leftovers")
@pytest.mark.parametrize(
    ("sig", "code", "line"),
    [
        (signal.SIGINT, 130, "errwise: interrupted (Ctrl-C)"),
        (signal.SIGTERM, 143, "errwise: terminated (SIGTERM)"),
    ],
)
def test_a_signal_stops_the_run_within_a_second_with_one_line(
    tmp_path: Path, marker: str, injected: Path, sig: signal.Signals, code: int, line: str
) -> None:
    repo = _slow_repo(tmp_path / "repo")
    proc = start(repo, "--jobs", "3", ".", marker=marker, inject=injected)
    wait_for(lambda: len(processes_of(marker)) >= 3)
    time.sleep(0.5)
    sent = time.monotonic()
    proc.send_signal(sig)
    returncode, out, err = finish(proc, timeout=10)
    took = time.monotonic() - sent
    assert returncode == code, err
    assert took < 1.0, took
    assert err.splitlines() == [line]
    assert "Traceback" not in err
    assert out == ""
    assert processes_of(marker) == []


# -- one file's trouble is that file's diagnostic ------------------------------------------------


@pytest.mark.usefixtures("no_leftovers")
def test_a_worker_killed_mid_batch_costs_only_its_files(
    tmp_path: Path, marker: str, injected: Path
) -> None:
    dying = {f"die{i}.py": f"# DIE\n{PADDING}{SWALLOW}" for i in range(3)}
    others = {f"m{i:02}.py": SWALLOW for i in range(30)}
    repo = write(tmp_path / "repo", {**dying, **others})
    code, out, err = finish(start(repo, "--jobs", "2", ".", marker=marker, inject=injected))
    assert code == 70, err
    doc = json.loads(out)
    died = {d["path"] for d in doc["diagnostics"]}
    analysed = {f["path"] for f in doc["findings"]}
    assert died == set(dying)  # the biggest files: the worker's
    assert analysed == set(others)
    for path in died:
        assert f"{path}: ERR_INTERNAL: the worker process analysing this file died" in err
    assert "killed by SIGKILL" in err
    assert "Traceback" not in err


@pytest.mark.usefixtures("no_leftovers")
@pytest.mark.parametrize(
    ("jobs", "slow"),
    [
        ("1", "slow.py"),  # in this process: SIGALRM
        ("2", "slow.py"),  # the biggest file: a worker's, killed and replaced
        ("2", "tiny.py"),  # the smallest: this process's share
    ],
)
def test_a_file_over_the_time_budget_is_a_diagnostic_not_a_hang(
    tmp_path: Path, marker: str, injected: Path, jobs: str, slow: str
) -> None:
    files = {f"m{i:02}.py": f"{CLEAN}# {'x' * i}\n" for i in range(30)}
    files["slow.py"] = f"{PADDING}{CLEAN}"
    files["tiny.py"] = "x = 1\n"
    files[slow] = f"# SLOW\n{files[slow]}"
    repo = write(tmp_path / "repo", files)
    began = time.monotonic()
    proc = start(repo, "--jobs", jobs, "--file-timeout", "1", ".", marker=marker, inject=injected)
    code, out, err = finish(proc, timeout=60)
    assert time.monotonic() - began < 30
    assert code == 10, err
    doc = json.loads(out)
    assert [(d["path"], d["code"]) for d in doc["diagnostics"]] == [(slow, "ERR_TIMEOUT")]
    assert doc["summary"]["files"] == 32
    assert doc["summary"]["files_not_analysed"] == 1
    assert f"{slow}: ERR_TIMEOUT:" in err
    assert "per-file time budget (1 s)" in err


@pytest.mark.usefixtures("no_leftovers")
@pytest.mark.parametrize("jobs", ["2", "1"])
def test_a_file_over_the_memory_budget_is_a_diagnostic(
    tmp_path: Path, marker: str, injected: Path, jobs: str
) -> None:
    """In a worker process (capped whole) and in the auditing process itself (capped while it
    analyses a file), a file needing more than the budget is that file's diagnostic."""
    files = {f"m{i:02}.py": CLEAN for i in range(30)}
    files["hog.py"] = f"# HOG\n{PADDING}{CLEAN}"
    repo = write(tmp_path / "repo", files)
    proc = start(repo, "--jobs", jobs, "--file-memory", "600", ".", marker=marker, inject=injected)
    code, out, err = finish(proc)
    assert code == 10, err
    doc = json.loads(out)
    assert [(d["path"], d["code"]) for d in doc["diagnostics"]] == [("hog.py", "ERR_IO")]
    assert doc["diagnostics"][0]["message"].startswith("out of memory analysing this file")
    assert "--file-memory" in doc["diagnostics"][0]["message"]


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--file-timeout", "-1"),
        ("--file-timeout", "nan"),
        ("--file-memory", "-5"),
        ("--file-memory", "10"),
    ],
)
def test_bad_budgets_are_usage_errors(tmp_path: Path, flag: str, value: str) -> None:
    write(tmp_path, {"a.py": CLEAN})
    run = subprocess.run(
        [ERRWISE, "audit", "--profile", "strict", flag, value, "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2, run.stderr
    assert flag in run.stderr


def test_budgets_come_from_the_flags_else_the_configuration_else_the_defaults(
    tmp_path: Path,
) -> None:
    write(tmp_path, {"a.py": CLEAN})
    assert runner.plan(runner.AuditOptions(root=str(tmp_path), no_config=True)).budget == (
        runner.Budget(runner.DEFAULT_FILE_TIMEOUT, runner.DEFAULT_FILE_MEMORY)
    )
    config = "[tool.errwise]\nfile-timeout = 5\nfile-memory = 512\n"
    (tmp_path / "pyproject.toml").write_text(config)
    configured = runner.AuditOptions(paths=(str(tmp_path),), root=str(tmp_path))
    assert runner.plan(configured).budget == runner.Budget(5.0, 512 * 1024**2)
    flagged = runner.AuditOptions(
        paths=(str(tmp_path),), root=str(tmp_path), file_timeout=0, file_memory=300
    )
    assert runner.plan(flagged).budget == runner.Budget(None, 300 * 1024**2)


@pytest.mark.parametrize(
    "setting", ["file-timeout = 0", "file-timeout = 3600", "file-memory = 0", "file-memory = 8192"]
)
def test_the_configuration_cannot_lift_a_budget(tmp_path: Path, setting: str) -> None:
    """The configuration is the audited tree's: a hostile one must not turn the limits off."""
    write(tmp_path, {"a.py": CLEAN, "pyproject.toml": f"[tool.errwise]\n{setting}\n"})
    options = runner.AuditOptions(paths=(str(tmp_path),), root=str(tmp_path))
    with pytest.raises(UsageError) as caught:
        runner.plan(options)
    key = setting.split(" ", maxsplit=1)[0]
    assert key in str(caught.value) and f"--{key}" in str(caught.value)
    assert "pyproject.toml" in str(caught.value)
    # The flag, the user's own choice, still lifts it.
    lifted = runner.plan(replace(options, **{key.replace("-", "_"): 0}))
    assert lifted.budget == runner.Budget(
        None if key == "file-timeout" else runner.DEFAULT_FILE_TIMEOUT,
        None if key == "file-memory" else runner.DEFAULT_FILE_MEMORY,
    )


@pytest.mark.parametrize(
    "setting",
    ["file-timeout = -1", "file-timeout = true", "file-memory = 1.5", 'file-memory = "1G"'],
)
def test_bad_configured_budgets_are_usage_errors(tmp_path: Path, setting: str) -> None:
    write(tmp_path, {"a.py": CLEAN, "pyproject.toml": f"[tool.errwise]\n{setting}\n"})
    with pytest.raises(UsageError) as caught:
        runner.plan(runner.AuditOptions(paths=(str(tmp_path),), root=str(tmp_path)))
    assert setting.split(" ", maxsplit=1)[0] in str(caught.value)


# -- when workers cannot run -------------------------------------------------------------------


def test_no_process_support_falls_back_to_one_process_and_says_so(
    tmp_path: Path,
    cli: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def no_processes(*args: object, **kwargs: object) -> object:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(workers.subprocess, "Popen", no_processes)
    write(tmp_path, {f"m{i:02}.py": SWALLOW for i in range(20)})
    with caplog.at_level("WARNING", logger="errwise.audit"):
        run = cli(
            "audit",
            "--profile",
            "strict",
            "--no-cache",
            "--jobs",
            "4",
            "--format",
            "json",
            ".",
            cwd=tmp_path,
        )
    assert run.code == 1
    assert len(run.json()["findings"]) == 20
    assert "cannot start worker processes" in caplog.text


def test_workers_that_cannot_get_ready_leave_the_work_to_this_process(
    tmp_path: Path,
    cli: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(workers, "_BOOT", "import sys; sys.exit(3)")
    write(tmp_path, {f"m{i:02}.py": SWALLOW for i in range(40)})
    with caplog.at_level("WARNING", logger="errwise.audit"):
        run = cli(
            "audit",
            "--profile",
            "strict",
            "--no-cache",
            "--jobs",
            "3",
            "--format",
            "json",
            ".",
            cwd=tmp_path,
        )
    assert run.code == 1, run
    assert len(run.json()["findings"]) == 40
    assert run.json()["diagnostics"] == []
    assert caplog.text.count("cannot start worker processes") == 1
    assert "exit status 3" in caplog.text


# -- the pool itself -----------------------------------------------------------------------------


def _all(pool: Pool, count: int) -> list[Any]:
    outcomes: list[Any] = []
    deadline = time.monotonic() + 30
    while len([o for o in outcomes if not isinstance(o, Returned)]) < count:
        assert time.monotonic() < deadline, outcomes
        outcomes.extend(pool.poll(1.0))
    return outcomes


def test_an_item_over_time_is_lost_and_the_rest_returned() -> None:
    with Pool(1, item_timeout=0.5, memory_limit=0) as pool:
        pool.submit(functools.partial(map, time.sleep), [0, 30, 0, 0])
        began = time.monotonic()
        outcomes = _all(pool, 2)
        assert time.monotonic() - began < 10
        assert not pool.busy()
    assert outcomes[0] == Done(0, None)
    assert isinstance(outcomes[1], Lost)
    assert (outcomes[1].item, outcomes[1].why) == (30, "timeout")
    assert outcomes[2:] == [Returned([0, 0])]


def test_a_dead_worker_loses_its_item_and_a_new_one_takes_the_rest() -> None:
    with Pool(1, item_timeout=None, memory_limit=0) as pool:
        pool.submit(functools.partial(map, os._exit), [7, 8])
        lost = _all(pool, 1)
        assert isinstance(lost[0], Lost)
        assert (lost[0].item, lost[0].why, lost[0].detail) == (7, "died", "exit status 7")
        assert lost[1:] == [Returned([8])]
        pool.submit(iter, [1, 2])
        assert _all(pool, 2) == [Done(1, 1), Done(2, 2)]
        assert pool.broken is None


def test_a_replacement_that_cannot_start_breaks_the_pool_instead_of_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with Pool(1, item_timeout=None, memory_limit=0) as pool:
        pool.submit(functools.partial(map, os._exit), [7])
        _all(pool, 1)

        def no_processes(*args: object, **kwargs: object) -> object:
            raise BlockingIOError(11, "Resource temporarily unavailable")

        monkeypatch.setattr(workers.subprocess, "Popen", no_processes)
        assert pool.submit(iter, [1]) is False
        assert pool.broken is not None
        assert "Resource temporarily unavailable" in pool.broken
        assert not pool.wants()


def test_a_bug_in_the_function_is_lost_for_its_item_and_the_worker_goes_on() -> None:
    with Pool(1, item_timeout=None, memory_limit=0) as pool:
        pool.submit(functools.partial(map, int), ["1", "x", "3"])
        outcomes = _all(pool, 2)
        pool.submit(iter, ["again"])
        assert _all(pool, 1) == [Done("again", "again")]
    assert outcomes[0] == Done("1", 1)
    assert isinstance(outcomes[1], Lost)
    assert outcomes[1].why == "failed"
    assert "ValueError: invalid literal for int()" in outcomes[1].detail
    assert outcomes[2:] == [Returned(["3"])]


def test_leaving_the_pool_by_an_exception_kills_its_workers_at_once() -> None:
    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt), Pool(2, item_timeout=None, memory_limit=0) as pool:
        pool.submit(functools.partial(map, time.sleep), [30])
        pool.submit(functools.partial(map, time.sleep), [30])
        pids = [w.proc.pid for w in pool._workers]
        pool.poll(0.3)
        raise KeyboardInterrupt
    assert time.monotonic() - began < 2
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_the_runner_needs_no_multiprocessing() -> None:
    source = Path(runner.__file__).read_text(encoding="utf-8")
    assert "multiprocessing" not in source
    assert "concurrent.futures" not in source
