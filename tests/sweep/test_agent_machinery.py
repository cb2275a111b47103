"""The agent on work the project does through the interpreter's machinery and in worker threads:
real child pytest runs on a tiny project in tmp_path.

- a traceback formatted for `log.warning(..., exc_info=True)` reads source through linecache:
  machinery, never a site; the project's own writes (also through pathlib/tempfile) stay sites;
- file work in a ThreadPoolExecutor worker is recorded, a fault injected there is tracked to the
  worker's handler (silent), one re-raised by `future.result()` fails the test (propagated), and
  one the test's thread catches from `future.result()` is tracked to that handler (silent).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from agent_project import line_of, run_child

from errwise.sweep.agent.launch import FaultRequest

WORK = """\
import logging
import os
import pathlib
import tempfile
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger("pkg")


def load_logged(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        log.warning("cannot load %s", path, exc_info=True)
        return None


def save_pathlib(path):
    pathlib.Path(path).write_text("x")
    fd, name = tempfile.mkstemp()
    os.close(fd)
    os.remove(name)


def _write_quietly(path):
    try:
        with open(path, "w") as f:
            f.write("x")
    except OSError:
        pass


def _write(path):
    with open(path, "w") as f:
        f.write("x")


def save_in_worker(path):
    with ThreadPoolExecutor(1) as pool:
        pool.submit(_write_quietly, path).result()


def save_via_future(path):
    with ThreadPoolExecutor(1) as pool:
        pool.submit(_write, path).result()


def save_via_future_quietly(path):
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(_write, path)
        try:
            future.result()
        except OSError:
            return False
    return True
"""

TESTS = """\
import logging
import tempfile

from pkg import work


def test_logged(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    assert work.load_logged(tmp_path / "missing") is None


def test_pathlib(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", None)  # tempfile probes the candidate dirs again
    work.save_pathlib(tmp_path / "a")


def test_worker(tmp_path):
    work.save_in_worker(tmp_path / "w")


def test_future(tmp_path):
    work.save_via_future(tmp_path / "f")


def test_future_quietly(tmp_path):
    work.save_via_future_quietly(tmp_path / "q")
"""

PYTEST = ("python", "-m", "pytest", "-q", "-p", "no:randomly", "tests")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    base = tmp_path_factory.mktemp("machinery")
    root, work = base / "proj", base / "work"
    for name, text in {
        "pkg/__init__.py": "",
        "pkg/work.py": WORK,
        "tests/test_work.py": TESTS,
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    worker_open = line_of(root, 'with open(path, "w") as f:', path="pkg/work.py")
    future_open = line_of(root, 'with open(path, "w") as f:', path="pkg/work.py", nth=2)
    requests = {
        "worker": (
            "test_worker",
            FaultRequest("open", "EACCES", "pkg/work.py", worker_open, False),
        ),
        "future": (
            "test_future",
            FaultRequest("open", "EACCES", "pkg/work.py", future_open, False),
        ),
        "quietly": (
            "test_future_quietly",
            FaultRequest("open", "EACCES", "pkg/work.py", future_open, False),
        ),
    }

    def one(name: str) -> dict[str, Any]:
        if name == "record":
            report, _ = run_child(root, work, name, PYTEST)
        else:
            test, request = requests[name]
            report, _ = run_child(
                root, work, name, PYTEST, fault=request, test="tests/test_work.py::" + test
            )
        return report

    names = ["record", "worker", "future", "quietly"]
    with ThreadPoolExecutor(len(names)) as pool:
        return dict(zip(names, pool.map(one, names), strict=True))


def _tests(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["nodeid"].rpartition("::")[2]: entry for entry in report["tests"]}


def test_traceback_formatting_for_a_log_is_not_a_site(runs: dict[str, dict[str, Any]]) -> None:
    logged = _tests(runs["record"])["test_logged"]
    assert logged["outcome"] == "passed"
    # the open of the missing file is the one site; linecache's reads for exc_info are not
    assert [(s["function"], s["operation"]) for s in logged["sites"]] == [("load_logged", "open")]


def test_work_through_pathlib_and_tempfile_stays_a_site(runs: dict[str, dict[str, Any]]) -> None:
    sites = _tests(runs["record"])["test_pathlib"]["sites"]
    assert {s["function"] for s in sites} == {"save_pathlib"}
    by_line: dict[int, set[str]] = {}
    for site in sites:
        by_line.setdefault(site["line"], set()).add(site["operation"])
    assert len(by_line) == 3  # write_text, mkstemp, os.remove
    # mkstemp's own os.open is the project's; tempfile probing the temp dirs (os.open, os.write,
    # os.unlink of a probe file) is not
    assert {"os.open"} in by_line.values()
    assert {"os.remove"} in by_line.values()


def test_worker_threads_are_recorded(runs: dict[str, dict[str, Any]]) -> None:
    tests = _tests(runs["record"])
    assert {s["function"] for s in tests["test_worker"]["sites"]} == {"_write_quietly"}
    assert {s["function"] for s in tests["test_future"]["sites"]} == {"_write"}


def test_fault_swallowed_in_a_worker_names_its_handler(runs: dict[str, dict[str, Any]]) -> None:
    (entry,) = runs["worker"]["tests"]
    assert entry["fired"] == 1
    assert entry["verdict"] == "silent", entry["reason"]
    assert entry["handler"]["path"] == "pkg/work.py"
    assert entry["handler"]["function"] == "_write_quietly"


def test_fault_raised_through_future_result_propagates(runs: dict[str, dict[str, Any]]) -> None:
    (entry,) = runs["future"]["tests"]
    assert entry["fired"] == 1
    assert entry["outcome"] == "failed"
    assert entry["verdict"] == "propagated", entry["reason"]
    assert "PermissionError" in entry["failure"]


def test_fault_swallowed_after_future_result_names_the_waiting_handler(
    runs: dict[str, dict[str, Any]],
) -> None:
    (entry,) = runs["quietly"]["tests"]
    assert entry["fired"] == 1
    assert entry["verdict"] == "silent", entry["reason"]
    assert entry["handler"]["function"] == "save_via_future_quietly", entry["reason"]
