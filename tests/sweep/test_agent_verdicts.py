"""The sweep agent in real child pytest processes on a sample project: one record run and one
fault run per verdict, all started at once (each child costs a fraction of a second).

Every fault here is really injected by the agent in the child (errwise.faults armed from the
environment `launch.child_env` builds); the verdicts are read back from the agent's report.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from agent_project import line_of, run_child, write_project

from errwise.sweep.agent.launch import FaultRequest

PYTEST = ("python", "-m", "pytest", "-q", "-p", "no:randomly", "tests")
NODE = "tests/test_store.py::"


def _listing(root: Path) -> dict[str, float]:
    return {
        os.path.relpath(os.path.join(d, name), root): os.stat(os.path.join(d, name)).st_mtime
        for d, dirs, files in os.walk(root)
        for name in dirs + files
    }


class Sweep:
    """The sample project, its listing before any run, and every run's report."""

    def __init__(self, root: Path, work: Path) -> None:
        self.root = root
        self.work = work
        self.before: dict[str, float] = {}
        self.results: dict[str, tuple[dict[str, Any], Any]] = {}

    def fault(self, text: str, operation: str, fault: str, *, nth: int = 1) -> FaultRequest:
        line = line_of(self.root, text, nth=nth)
        return FaultRequest(operation, fault, "pkg/store.py", line, False)

    def test(self, name: str) -> dict[str, Any]:
        report, _ = self.results[name]
        assert report["mode"] == "fault"
        (entry,) = report["tests"]
        return entry


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Sweep:
    base = tmp_path_factory.mktemp("agent")
    root, work = base / "proj", base / "work"
    write_project(root)
    usersite = base / "usersite"
    usersite.mkdir()
    (usersite / "sitecustomize.py").write_text(
        "import sys\nsys.user_sitecustomize_ran = True\nMARK = 'theirs'\n"
    )
    state = Sweep(root, work)
    state.before = _listing(root)
    probe = str(base / "probe.json")
    open_ = "open(path"
    runs: dict[str, Callable[[], tuple[dict[str, Any], Any]]] = {}

    def add(name: str, test: str, request: FaultRequest) -> None:
        runs[name] = lambda: run_child(
            root,
            work,
            name,
            PYTEST,
            fault=request,
            test=NODE + test,
            extra_env={"AGENT_TEST_PROBE": probe},
        )

    runs["record"] = lambda: run_child(root, work, "record", PYTEST)
    add("logged", "test_logged", state.fault(open_, "open", "EACCES", nth=2))
    add("raise", "test_raise", state.fault(open_, "open", "EACCES", nth=3))
    add("suppress", "test_suppress", state.fault("os.unlink(path)", "os.unlink", "EACCES"))
    add("warn_text", "test_warn_text", state.fault(open_, "open", "ENOSPC", nth=4))
    add("stderr", "test_stderr", state.fault(open_, "open", "EROFS", nth=5))
    add("pytest_raises", "test_pytest_raises", state.fault(open_, "open", "ENOSPC", nth=6))
    add("otherwise", "test_fails_otherwise", state.fault(open_, "open", "ENOSPC", nth=1))
    add("unreached", "test_no_io", state.fault(open_, "open", "ENOSPC", nth=1))
    add("interrupt", "test_swallow", state.fault(open_, "open", "interrupt", nth=1))
    add("tracer", "test_tracer_chained", state.fault(open_, "open", "ENOSPC", nth=1))
    tool_swallow = state.fault(open_, "open", "ENOSPC", nth=1)
    tool_exit = state.fault(open_, "open", "EACCES", nth=6)
    outside = str(base / "tool-output")
    runs["tool_swallow"] = lambda: run_child(
        root,
        work,
        "tool_swallow",
        ("python", "tool.py", "swallow", outside),
        fault=tool_swallow,
        extra_env={"PYTHONPATH": str(usersite)},
    )
    bad = FaultRequest("open", "EIO", "pkg/store.py", 1, False)  # open cannot return EIO
    runs["bad_request"] = lambda: run_child(
        root, work, "bad_request", PYTEST, fault=bad, test=NODE + "test_no_io"
    )
    runs["tool_exit"] = lambda: run_child(
        root, work, "tool_exit", ("python", "tool.py", "exit", outside), fault=tool_exit
    )
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(run) for name, run in runs.items()}
        state.results = {name: future.result() for name, future in futures.items()}
    tracer_run = state.results["tracer"][1]
    assert Path(probe).is_file(), f"no probe: {tracer_run.stdout[-3000:]}"
    state.results["probe"] = ({"probe": Path(probe).read_text()}, None)
    return state


def test_record_mode_lists_each_tests_project_sites(sweep: Sweep) -> None:
    report, proc = sweep.results["record"]
    assert proc.returncode == 0, proc.stdout
    assert report["agent"] == 1 and report["mode"] == "record" and report["pytest"] is True
    tests = {t["nodeid"]: t for t in report["tests"]}
    assert len(tests) == 11
    assert all(t["outcome"] == "passed" for t in tests.values())
    assert tests[NODE + "test_no_io"]["sites"] == []
    sites = tests[NODE + "test_suppress"]["sites"]
    line = line_of(sweep.root, "os.unlink(path)")
    assert sites == [
        {
            "path": "pkg/store.py",
            "line": line,
            "function": "remove_quietly",
            "operation": "os.unlink",
            "calls": 1,
        }
    ]  # the test's own write_text is test code: not a site
    ops = {(s["operation"], s["function"]) for s in tests[NODE + "test_swallow"]["sites"]}
    assert ("open", "save_swallow") in ops and ("file.write", "save_swallow") in ops


def test_swallowing_handler_is_silent_at_its_except_line(sweep: Sweep) -> None:
    entry = sweep.test("tracer")  # test_tracer_chained: save_swallow under a user's tracer
    handler_line = line_of(sweep.root, "except OSError:", nth=1)
    assert entry["verdict"] == "silent", entry["reason"]
    assert set(entry) == {
        "nodeid",
        "outcome",
        "duration",
        "failure",
        "sites",
        "fired",
        "injection",
        "verdict",
        "reason",
        "handler",
        "handlers",
        "reports",
    }  # contract section 2, exactly
    assert set(entry["injection"]) == {"operation", "fault", "error", "site", "stack"}
    assert entry["injection"]["stack"][-1] == entry["injection"]["site"]
    assert entry["fired"] == 1
    assert entry["handler"] == {
        "path": "pkg/store.py",
        "line": handler_line,
        "function": "save_swallow",
    }
    assert entry["handlers"] == [entry["handler"]]
    assert entry["injection"]["error"].startswith("OSError: [Errno 28] No space left on device")
    assert entry["injection"]["site"]["path"] == "pkg/store.py"
    assert (
        f"caught at pkg/store.py:{handler_line} (except OSError) in save_swallow()"
        in (entry["reason"])
    )


def test_logged_with_traceback_is_reported(sweep: Sweep) -> None:
    entry = sweep.test("logged")
    assert entry["verdict"] == "reported", entry["reason"]
    (report,) = entry["reports"]
    assert report["how"] == "log" and "with the error's traceback" in report["detail"]
    assert entry["injection"]["error"].startswith("PermissionError: [Errno 13]")


def test_reraise_from_propagates(sweep: Sweep) -> None:
    entry = sweep.test("raise")
    assert entry["outcome"] == "failed"
    assert entry["verdict"] == "propagated", entry["reason"]
    assert entry["failure"].startswith("RuntimeError: cannot save")
    assert "chained to it" in entry["reason"]


def test_contextlib_suppress_is_silent_at_the_with_line(sweep: Sweep) -> None:
    entry = sweep.test("suppress")
    assert entry["verdict"] == "silent", entry["reason"]
    assert entry["handler"]["line"] == line_of(sweep.root, "contextlib.suppress(OSError)")
    assert "(with contextlib.suppress(OSError))" in entry["reason"]


def test_log_message_without_traceback_is_reported_and_says_so(sweep: Sweep) -> None:
    entry = sweep.test("warn_text")
    assert entry["verdict"] == "reported", entry["reason"]
    (report,) = entry["reports"]
    assert report["how"] == "log"
    assert "naming the error, without its traceback" in report["detail"]


def test_stderr_written_after_the_fault_is_reported(sweep: Sweep) -> None:
    entry = sweep.test("stderr")
    assert entry["verdict"] == "reported", entry["reason"]
    (report,) = entry["reports"]
    assert report["how"] == "stderr"
    assert report["detail"] == (
        "written to stderr while handling the error: 'warning: not saved (Read-only file system)'"
    )


def test_error_caught_by_pytest_raises_propagated(sweep: Sweep) -> None:
    entry = sweep.test("pytest_raises")
    assert entry["outcome"] == "passed"
    assert entry["verdict"] == "propagated", entry["reason"]
    assert entry["handler"]["path"] == "tests/test_store.py"
    assert "reached test code" in entry["reason"]


def test_ctrl_c_at_the_site_ends_the_run_and_propagated(sweep: Sweep) -> None:
    report, proc = sweep.results["interrupt"]
    (entry,) = report["tests"]
    assert proc.returncode == 2  # pytest: interrupted
    assert entry["outcome"] == "failed" and entry["failure"] == "KeyboardInterrupt"
    assert entry["verdict"] == "propagated", entry["reason"]
    # the tracer's own reads (while the handler ran) are neither sites nor faulted
    assert [(s["line"], s["operation"]) for s in entry["sites"]] == [
        (line_of(sweep.root, "open(path", nth=1), "open")
    ]


def test_failure_for_another_reason_is_unsettled(sweep: Sweep) -> None:
    entry = sweep.test("otherwise")
    assert entry["outcome"] == "failed"
    assert entry["verdict"] == "unsettled", entry["reason"]
    assert "AssertionError" in entry["failure"]


def test_fault_never_reached_is_unreached(sweep: Sweep) -> None:
    entry = sweep.test("unreached")
    assert entry["outcome"] == "passed"
    assert entry["fired"] == 0 and entry["injection"] is None
    assert entry["verdict"] == "unreached"
    assert "never fired" in entry["reason"]


def test_only_the_requested_test_runs_and_the_environment_is_clean(sweep: Sweep) -> None:
    report, proc = sweep.results["unreached"]
    assert [t["nodeid"] for t in report["tests"]] == [NODE + "test_no_io"]
    assert "10 deselected" in proc.stdout
    record, _ = sweep.results["record"]
    clean = {t["nodeid"]: t for t in record["tests"]}[NODE + "test_environment_is_clean"]
    assert clean["outcome"] == "passed", clean["failure"]


def test_a_previous_tracer_keeps_working_and_is_restored(sweep: Sweep) -> None:
    entry = sweep.test("tracer")
    assert entry["outcome"] == "passed", entry["failure"]  # the user's tracer saw later calls
    assert '"tracer_restored": true' in sweep.results["probe"][0]["probe"]


def test_a_plain_command_is_one_pseudo_test(sweep: Sweep) -> None:
    report, proc = sweep.results["tool_swallow"]
    assert report["pytest"] is False
    (entry,) = report["tests"]
    assert entry["nodeid"] is None
    assert {s["function"] for s in entry["sites"]} >= {"save_swallow"}
    assert proc.returncode == 0 and entry["outcome"] == "passed"
    assert entry["verdict"] == "silent", entry["reason"]
    assert entry["handler"]["function"] == "save_swallow"
    # the environment's own sitecustomize still ran, and is the one `import sitecustomize` finds
    assert "user sitecustomize: True theirs" in proc.stdout


def test_a_plain_command_exiting_1_from_the_handler_propagated(sweep: Sweep) -> None:
    report, proc = sweep.results["tool_exit"]
    (entry,) = report["tests"]
    assert proc.returncode == 1
    assert entry["outcome"] == "failed"
    assert entry["verdict"] == "propagated", entry["reason"]


def test_a_fault_the_plan_cannot_arm_is_a_usage_error_in_the_report(sweep: Sweep) -> None:
    report, proc = sweep.results["bad_request"]
    assert proc.returncode == 4  # pytest's usage error: no test ran
    assert report["tests"] == []
    (error,) = report["errors"]
    assert error.startswith("cannot arm the fault: [ERR_USAGE]") and "EIO" in error


def test_nothing_is_written_inside_the_project(sweep: Sweep) -> None:
    assert _listing(sweep.root) == sweep.before
