"""The sweep agent's parts, in this process: launch environment, request parsing, exception
chains, clause maps, the handler tracker (including its own failure, injected) and the report
watch. The end-to-end behaviour in real children is in test_agent_verdicts.py."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from errwise.error import Error, UsageError
from errwise.result import Err
from errwise.sweep.agent import clauses, config, launch, tracker
from errwise.sweep.agent.chain import chained_to, describe
from errwise.sweep.agent.output import write_report
from errwise.sweep.agent.paths import ProjectFiles
from errwise.sweep.agent.reports import ReportWatch

HERE = Path(__file__).resolve().parent


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["python", "-m", "pytest", "-q"], True),
        (["/venv/bin/pytest", "tests"], True),
        (["coverage", "run", "-m", "pytest"], True),
        (["uv", "run", "py.test"], True),
        (["python", "tool.py", "pytest"], False),
        (["python", "-m", "unittest"], False),
        (["make", "test"], False),
        (["/usr/bin/python3.11", "-X", "dev", "/venv/bin/pytest", "-q"], True),
        (["python", "-c", "import pytest"], False),
        (["python", "-mpytest"], True),
        (["uv", "run", "python", "tool.py", "pytest"], False),
    ],
)
def test_is_pytest(argv: list[str], expected: bool) -> None:
    assert launch.is_pytest(argv) is expected


def test_child_env_bootstrap_outside_the_project(tmp_path: Path) -> None:
    root, work = tmp_path / "proj", tmp_path / "work"
    root.mkdir()
    request = launch.FaultRequest("os.replace", "ENOSPC", "pkg/a.py", 3, True)
    env = launch.child_env(
        {"PYTHONPATH": "/x", "PYTEST_ADDOPTS": "-x", "ERRWISE_SWEEP_TEST": "stale"},
        mode="fault",
        root=root,
        out=tmp_path / "out" / "r.json",
        fault=request,
        workdir=work,
    )
    boot = Path(env["PYTHONPATH"].split(os.pathsep)[0])
    assert env["PYTHONPATH"].split(os.pathsep)[1:] == ["/x"]
    assert boot.is_relative_to(work) and (boot / "sitecustomize.py").is_file()
    assert (boot / "errwise" / "__init__.py").is_file()
    assert env["PYTEST_ADDOPTS"] == f"-p {launch.PLUGIN} -p no:cacheprovider -x"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert "ERRWISE_SWEEP_TEST" not in env  # a stale value from the base never leaks through
    assert launch.FaultRequest.from_json(env[launch.ENV_FAULT]) == request
    assert json.loads(env[launch.ENV_ORIG_ADDOPTS]) == "-x"
    assert list(root.iterdir()) == []
    again = launch.child_env({}, mode="record", root=root, out=tmp_path / "o.json", workdir=work)
    assert json.loads(again[launch.ENV_ORIG_PYTHONPATH]) is None


def test_child_env_refuses_files_inside_the_project(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="outside the project"):
        launch.child_env(
            {}, mode="record", root=tmp_path, out=tmp_path / "r.json", workdir=tmp_path.parent
        )
    with pytest.raises(UsageError, match="fault mode needs"):
        launch.child_env(
            {}, mode="fault", root=tmp_path / "p", out=tmp_path / "r.json", workdir=tmp_path / "w"
        )


@pytest.mark.parametrize(
    "text",
    [
        "nope",
        "[]",
        '{"operation": "open"}',
        json.dumps(
            {
                "operation": "open",
                "fault": "EACCES",
                "path": "a.py",
                "line": True,
                "persistent": False,
            }
        ),
    ],
)
def test_malformed_fault_request_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError):
        launch.FaultRequest.from_json(text)


def test_config_pops_its_variables_and_restores_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = launch.child_env(
        {"PYTHONPATH": "/orig"},
        mode="record",
        root=tmp_path / "p",
        out=tmp_path / "r.json",
        workdir=tmp_path / "w",
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PYTEST_ADDOPTS")
    monkeypatch.setenv(launch.ENV_ORIG_ADDOPTS, "null")
    config.reset()
    try:
        cfg = config.load()
        assert cfg is not None and cfg.mode == "record" and cfg.fault is None
        assert config.load() is cfg
        assert not [name for name in os.environ if name.startswith("ERRWISE_SWEEP_")]
        assert os.environ["PYTHONPATH"] == "/orig"
        assert "PYTEST_ADDOPTS" not in os.environ
    finally:
        config.reset()


def test_chained_to_follows_causes_contexts_groups_and_err() -> None:
    root = OSError(28, "No space left on device")
    try:
        try:
            raise root
        except OSError as exc:
            raise RuntimeError("save failed") from exc
    except RuntimeError as exc:
        wrapped = exc
    assert chained_to(wrapped, [root])
    assert chained_to(ExceptionGroup("g", [ValueError(), wrapped]), [root])
    assert chained_to(Err(wrapped), [root])
    assert not chained_to(RuntimeError("other"), [root])
    loop = ValueError("a")
    loop.__context__ = loop
    assert not chained_to(loop, [root])
    assert describe(root) == "OSError: [Errno 28] No space left on device"


SAMPLE = """\
try:
    a()
except (OSError,
        ValueError) as exc:
    b()
finally:
    c()
with x(), y():
    d()
"""


def test_clause_map(tmp_path: Path) -> None:
    path = tmp_path / "s.py"
    path.write_text(SAMPLE)
    found = clauses.clauses_of(str(path))
    assert found is not None
    header = found.except_header(4)
    assert header is not None and header.header == "except (OSError, ValueError)"
    assert found.except_body(5) == header and found.except_body(2) is None
    assert found.in_finally(7) and not found.in_finally(5)
    assert found.with_header(8, inside=9) is not None
    assert found.with_header(8, inside=2) is None
    broken = tmp_path / "broken.py"
    broken.write_text("def (:\n")
    assert clauses.clauses_of(str(broken)) is None


def _raiser(track: tracker.HandlerTracker, exc: BaseException) -> None:
    track.arm(exc, sys._getframe())
    raise exc


def _swallower(track: tracker.HandlerTracker, exc: BaseException) -> str:
    try:
        _raiser(track, exc)
    except OSError:
        return "swallowed"
    return "not reached"


def test_tracker_names_the_except_clause_and_restores_the_tracer() -> None:
    seen: list[str] = []

    def previous(frame: Any, event: str, arg: Any) -> Any:
        seen.append(event)
        return None

    returned: list[object] = []
    track = tracker.HandlerTracker(ProjectFiles(HERE), returned.append)
    sys.settrace(previous)
    try:
        assert _swallower(track, OSError(5, "Input/output error")) == "swallowed"
        during = sys.gettrace()
        track.stop()
        after = sys.gettrace()
    finally:
        sys.settrace(None)
    assert during is not previous and after is previous
    (catch,) = track.catches
    assert catch.kind == "except" and catch.header == "except OSError"
    assert catch.function == "_swallower" and Path(catch.path) == Path(__file__).resolve()
    assert "call" in seen  # the previous tracer kept receiving new frames meanwhile


def _one_liner(track: tracker.HandlerTracker, exc: BaseException) -> str:
    try:
        _raiser(track, exc)
    except OSError: pass  # noqa: E701  # fmt: skip
    return "went on"


def test_tracker_names_a_one_line_except_clause() -> None:
    track = tracker.HandlerTracker(ProjectFiles(HERE), lambda value: None)
    try:
        assert _one_liner(track, OSError(5, "Input/output error")) == "went on"
    finally:
        track.stop()
    (catch,) = track.catches
    assert (catch.kind, catch.header, catch.function) == ("except", "except OSError", "_one_liner")


def test_tracker_armed_in_another_thread_is_removed_there_after_stop() -> None:
    track = tracker.HandlerTracker(ProjectFiles(HERE), lambda value: None)
    armed, stopped, seen = threading.Event(), threading.Event(), []

    def worker() -> None:
        _swallower(track, OSError(5, "Input/output error"))
        armed.set()
        stopped.wait(10)
        describe(ValueError())  # any call: the thread's trace function is put back
        seen.append(sys.gettrace())

    thread = threading.Thread(target=worker)
    thread.start()
    assert armed.wait(10)
    track.stop()
    stopped.set()
    thread.join(10)
    assert seen == [None] and len(track.catches) == 1


def test_tracker_failure_is_recorded_never_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(path: str) -> None:
        raise RuntimeError("clause map exploded")

    monkeypatch.setattr(tracker, "clauses_of", broken)
    track = tracker.HandlerTracker(ProjectFiles(HERE), lambda value: None)
    try:
        assert _swallower(track, OSError(5, "Input/output error")) == "swallowed"
    finally:
        track.stop()
    assert track.catches == []
    assert track.errors == ["the handler tracer failed: RuntimeError: clause map exploded"]


def test_report_watch_sees_logs_warnings_and_err_results_then_unwraps() -> None:
    error = PermissionError(13, "Permission denied", "/x")
    handle, show = logging.Logger.handle, warnings._showwarnmsg  # type: ignore[attr-defined]
    watch = ReportWatch([error])
    watch.start()
    try:
        logging.getLogger("agent.test").warning("before the fault", exc_info=error)
        watch.fired = True
        logging.getLogger("agent.test").info("info is not a report: %s", error)
        logging.getLogger("agent.test").error("failed", exc_info=error)
        logging.getLogger("agent.test").warning("failed: %s", error)
        logging.getLogger("agent.test").warning("unrelated")
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            warnings.warn("cache not saved", UserWarning, stacklevel=1)
            warnings.warn("old api", DeprecationWarning, stacklevel=1)
        watch.returned(Err(RuntimeError("x")))
    finally:
        watch.stop()
    assert logging.Logger.handle is handle
    assert warnings._showwarnmsg is show  # type: ignore[attr-defined]
    assert [r.how for r in watch.reports] == ["log", "log", "warning", "err-result"]
    assert "traceback" in watch.reports[0].detail
    assert "without its traceback" in watch.reports[1].detail


def test_report_write_failure_is_classified(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    cfg = config.AgentConfig("record", tmp_path, blocker / "sub" / "r.json", None, None, None)
    with pytest.raises(Error) as caught:  # mkdir under a regular file: a real ENOTDIR
        write_report(cfg, [], pytest=True)
    assert caught.value.code == "ERR_NOT_A_DIRECTORY"
    assert caught.value.context["path"] == str(blocker / "sub")


def test_report_watch_sees_unraisable_calls_and_chains_to_the_previous_hook(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    error = OSError(5, "Input/output error")
    earlier: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", earlier.append)
    watch = ReportWatch([error])
    watch.watch_unraisable()
    try:
        unraisable = SimpleNamespace(exc_value=RuntimeError("close failed"), object=None)
        sys.unraisablehook(unraisable)  # type: ignore[arg-type]
        watch.fired = True
        sys.unraisablehook(unraisable)  # type: ignore[arg-type]
    finally:
        watch.unwatch_unraisable()
    assert sys.unraisablehook == earlier.append
    assert earlier == [unraisable, unraisable]
    assert [(r.how, r.detail) for r in watch.reports] == [
        ("unraisable", "sys.unraisablehook received RuntimeError: close failed")
    ]


def test_project_files_tell_code_tests_and_installed_code_apart(tmp_path: Path) -> None:
    files = ProjectFiles(tmp_path)
    code = str(tmp_path / "pkg" / "store.py")
    assert files.is_code(code) and files.rel(code) == "pkg/store.py"
    for test in ("tests/helpers.py", "pkg/conftest.py", "pkg/test_x.py", "pkg/x_test.py"):
        assert files.is_test(str(tmp_path / test)) and not files.is_code(str(tmp_path / test))
    odd = str(tmp_path / "checks" / "smoke.py")
    assert files.is_code(odd)
    files.add_tests([odd])  # a collected test module, wherever it lives
    assert files.is_test(odd)
    for installed in (".venv/lib/python3.11/site-packages/dep.py", "venv/lib/dep.py"):
        assert not files.is_project(str(tmp_path / installed))
    assert not files.is_project(str(tmp_path / "<frozen runpy>"))
    assert not files.is_project("/elsewhere/x.py") and files.rel("/elsewhere/x.py") == (
        os.path.realpath("/elsewhere/x.py")
    )


def test_stderr_counts_only_when_written_while_handling_or_naming_the_error() -> None:
    error = OSError(28, "No space left on device")
    watch = ReportWatch([error])
    watch.fired = True
    watch.watch_stderr()
    try:
        print("progress: 3 files", file=sys.stderr)  # the test's own output: not a report
    finally:
        watch.unwatch_stderr()
    watch.flush_stderr()
    assert watch.reports == []
    watch.watch_stderr()
    try:
        try:
            raise error
        except OSError:
            print("could not save", file=sys.stderr)
    finally:
        watch.unwatch_stderr()
    watch.flush_stderr()
    assert [r.detail for r in watch.reports] == [
        "written to stderr while handling the error: 'could not save'"
    ]
    watch.watch_stderr()
    try:
        print("later: No space left on device", file=sys.stderr)
    finally:
        watch.unwatch_stderr()
    watch.flush_stderr()
    assert watch.reports[-1].detail.startswith("written to stderr, naming the error:")
