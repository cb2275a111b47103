"""run_main: exit codes per kind, bugs, signals, --json-errors, stdout hygiene, broken pipes."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import jsonschema
import pytest
from boundary_helpers import CHILD_TIMEOUT_S, child_env, run_python

import errwise
from errwise import metrics, policy
from errwise.cli import main as errwise_main

ERROR_LINE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "code",
        "kind",
        "title",
        "message",
        "context",
        "hints",
        "recoverable",
        "cause",
        "exit_code",
        "run_id",
    ],
    "properties": {
        "code": {"type": ["string", "null"], "pattern": "^ERR_[A-Z0-9_]+$"},
        "kind": {"enum": ["usage", "environment", "target", "internal", None]},
        "title": {"type": ["string", "null"]},
        "message": {"type": ["string", "null"]},
        "context": {"type": "object"},
        "hints": {"type": "array", "items": {"type": "string"}},
        "recoverable": {"type": ["boolean", "null"]},
        "cause": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["type", "message"],
                    "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
                },
            ]
        },
        "exit_code": {"type": "integer"},
        "run_id": {"type": "string", "minLength": 1},
    },
}


def json_line(stderr: str) -> dict[str, Any]:
    """The last stderr line, parsed and checked against design.md's JSON form."""
    lines = stderr.splitlines()
    data: dict[str, Any] = json.loads(lines[-1])
    jsonschema.validate(data, ERROR_LINE_SCHEMA)
    assert sum(1 for line in lines if line.startswith("{")) == 1
    return data


def raiser(exc: BaseException) -> Any:
    def main() -> NoReturn:
        raise exc

    return main


# -- exit codes (in process) ------------------------------------------------------------------

KIND_CASES = [
    (errwise.usage("ERR_USAGE", "bad flag", flag="--x"), 2),
    (errwise.env("ERR_DISK_FULL", "disk full", path="/x"), 10),
    (errwise.target("ERR_TARGET_RAISED", "plugin raised"), 20),
    (errwise.bug("invariant broken"), 70),
]


@pytest.mark.parametrize(("err", "exit_code"), KIND_CASES)
def test_exit_code_per_kind(
    err: errwise.Error, exit_code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    err.add_hint("try this") if err.exit_code != 70 else None
    assert errwise.run_main(raiser(err)) == exit_code
    out, errtext = capsys.readouterr()
    assert out == ""
    assert f"[{err.code}] {err.message}" in errtext
    if exit_code != 70:
        assert errtext.splitlines()[0].endswith(f"error: {err}")
        assert "hint: try this" in errtext.splitlines()
        assert "Traceback" not in errtext
    assert metrics.snapshot() == {(err.code, err.kind.value): 1}


def test_unclassified_exception_is_a_bug_with_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert errwise.run_main(raiser(ZeroDivisionError("oops"))) == 70
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback (most recent call last)" in err
    assert err.count("Traceback (most recent call last)") == 1  # the traceback once
    assert err.splitlines().count("ZeroDivisionError: oops") == 1
    assert "internal error (a bug): [ERR_INTERNAL] unexpected ZeroDivisionError: oops" in err
    assert err.splitlines()[-1] == (
        "hint: the traceback is printed above; please report this bug in "
        f"{os.path.basename(sys.argv[0])}"
    )


def test_bug_traceback_goes_to_the_log_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "run.log"
    monkeypatch.setenv("ERRWISE_LOG_FILE", str(log))
    assert errwise.run_main(raiser(KeyError("k"))) == 70
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    assert f"the traceback is in the log file {log}" in err
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(records) == 1
    assert records[0]["error_code"] == "ERR_INTERNAL"
    assert "KeyError: 'k'" in records[0]["traceback"]


def test_classified_error_is_logged_to_the_file_with_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "run.log"
    parser = argparse.ArgumentParser(prog="tool")

    def main(args: argparse.Namespace) -> int:
        try:
            open(tmp_path / "missing.txt", encoding="utf-8").close()
        except OSError as exc:
            raise errwise.classify(exc).with_context(step="read") from exc
        return 0

    assert errwise.run_main(main, ["--log-file", str(log)], parser=parser) == 10
    err = capsys.readouterr().err
    assert err.startswith("tool: error: [ERR_NOT_FOUND]")
    (record,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert (record["error_code"], record["error_kind"]) == ("ERR_NOT_FOUND", "environment")
    assert record["error_context"]["step"] == "read"
    assert record["cause_chain"][0]["type"] == "FileNotFoundError"
    assert record["run_id"] == errwise.run_id()


def test_return_values_and_sys_exit(capsys: pytest.CaptureFixture[str]) -> None:
    assert errwise.run_main(lambda: None) == 0
    assert errwise.run_main(lambda: 0) == 0
    assert errwise.run_main(lambda: 3) == 3
    assert errwise.run_main(raiser(SystemExit(4))) == 4
    assert errwise.run_main(raiser(SystemExit(None))) == 0
    assert errwise.run_main(raiser(SystemExit("fatal: gone"))) == 1
    assert capsys.readouterr().err.splitlines()[-1].endswith(": fatal: gone")


@pytest.mark.parametrize("bad", ["0", 1.0, True, 256, -1])
def test_main_returning_a_non_exit_code_is_a_bug(
    bad: object, capsys: pytest.CaptureFixture[str]
) -> None:
    assert errwise.run_main(lambda: bad) == 70
    assert "main() must return an exit code" in capsys.readouterr().err


def test_keyboard_interrupt_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert errwise.run_main(raiser(KeyboardInterrupt())) == 130
    assert capsys.readouterr().err.splitlines()[-1].endswith(": interrupted (Ctrl-C)")
    assert metrics.snapshot() == {("ERR_INTERRUPTED", "environment"): 1}


def test_policy_is_loaded_installed_and_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERRWISE_KEEP_PARTIAL", "on")
    seen: list[errwise.Policy] = []
    parser = argparse.ArgumentParser()

    def main(args: argparse.Namespace) -> int:
        seen.append(policy.current())
        return 0

    assert errwise.run_main(main, ["--on-error", "disable"], parser=parser) == 0
    assert (seen[0].on_error, seen[0].keep_partial) == ("disable", True)
    assert policy.current() == errwise.Policy()


@pytest.mark.parametrize(
    ("argv", "env"),
    [(["--on-error", "explode"], {}), ([], {"ERRWISE_LOG_LEVEL": "loud"})],
)
def test_bad_policy_value_is_exit_2_and_main_does_not_run(
    argv: list[str],
    env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    ran = []
    parser = argparse.ArgumentParser(prog="tool")
    code = errwise.run_main(lambda args: ran.append(1), [*argv, "--json-errors"], parser=parser)
    assert code == 2
    assert ran == []
    out, err = capsys.readouterr()
    assert out == ""
    assert "tool: error: [ERR_INVALID_POLICY_VALUE]" in err
    data = json_line(err)
    assert (data["code"], data["kind"], data["exit_code"]) == (
        "ERR_INVALID_POLICY_VALUE",
        "usage",
        2,
    )


def test_bad_command_line_with_json_errors(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="tool")
    parser.add_argument("--count", type=int)
    assert errwise.run_main(lambda a: 0, ["--count", "x", "--json-errors"], parser=parser) == 2
    err = capsys.readouterr().err
    assert "tool: error: argument --count: invalid int value: 'x'" in err
    assert json_line(err)["code"] == "ERR_USAGE"


def test_unopenable_log_file_is_an_environment_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def denied(self: logging.FileHandler) -> NoReturn:
        raise PermissionError(errno.EACCES, "Permission denied", self.baseFilename)

    monkeypatch.setattr(logging.FileHandler, "_open", denied)
    monkeypatch.setenv("ERRWISE_LOG_FILE", str(tmp_path / "x.log"))
    ran = []
    assert errwise.run_main(lambda: ran.append(1)) == 10
    assert ran == []
    err = capsys.readouterr().err
    assert "[ERR_PERMISSION_DENIED]" in err
    assert "setting=log_file" in err


@pytest.mark.parametrize(("err", "exit_code"), [*KIND_CASES, (ValueError("v"), 70)])
def test_json_errors_line_for_every_kind(
    err: BaseException,
    exit_code: int,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ERRWISE_JSON_ERRORS", "1")
    assert errwise.run_main(raiser(err)) == exit_code
    out, errtext = capsys.readouterr()
    assert out == ""
    data = json_line(errtext)
    assert data["exit_code"] == exit_code
    assert data["run_id"] == errwise.run_id()
    classified = errwise.classify(err)
    assert (data["code"], data["kind"]) == (classified.code, classified.kind.value)
    if not isinstance(err, errwise.Error):
        assert data["cause"] == {"type": "ValueError", "message": "v"}


def test_json_errors_line_on_success(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ERRWISE_JSON_ERRORS", "true")

    def main() -> int:
        sys.stdout.write("result\n")
        logging.getLogger("app").warning("careful")
        return 0

    assert errwise.run_main(main) == 0
    out, err = capsys.readouterr()
    assert out == "result\n"
    assert err.splitlines()[0].endswith("warning: careful")
    data = json_line(err)
    assert (data["code"], data["exit_code"]) == (None, 0)


def test_bad_input_to_run_main() -> None:
    with pytest.raises(errwise.UsageError):
        errwise.run_main(42)  # type: ignore[call-overload]
    with pytest.raises(errwise.UsageError, match="needs parser"):
        errwise.run_main(lambda: 0, ["--x"])  # type: ignore[call-overload]
    with pytest.raises(errwise.UsageError):
        errwise.run_main(lambda a: 0, "--x", parser=argparse.ArgumentParser())
    with pytest.raises(errwise.UsageError):
        errwise.run_main(lambda a: 0, parser="p")  # type: ignore[call-overload]
    with pytest.raises(errwise.UsageError):
        errwise.entrypoint("main")  # type: ignore[arg-type]


# -- the errwise command itself --------------------------------------------------------------


def test_errwise_cli_success_with_json_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert errwise_main(["codes", "--json-errors"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("ERR_ALREADY_EXISTS")
    assert json_line(err)["exit_code"] == 0


def test_errwise_cli_bad_policy_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert errwise_main(["--on-error", "sometimes", "codes"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("errwise: error: [ERR_INVALID_POLICY_VALUE] command-line flag --on-error")


def test_errwise_cli_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert errwise_main(["frobnicate"]) == 2
    assert capsys.readouterr().out == ""


# -- signals and pipes (child processes) -----------------------------------------------------

SLEEPER = """
import pathlib, sys, time
import errwise

ready, cleaned = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])

def main():
    try:
        ready.write_text("ready")  # inside the try: the signal may come as soon as it exists
        time.sleep(60)
    finally:
        cleaned.write_text("cleaned")
    return 0

sys.exit(errwise.run_main(main))
"""


def _wait_for(path: Path, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + CHILD_TIMEOUT_S
    while not path.exists():
        assert proc.poll() is None, proc.communicate(timeout=CHILD_TIMEOUT_S)
        assert time.monotonic() < deadline, "child never became ready"
        time.sleep(0.01)


@pytest.mark.parametrize(
    ("signum", "exit_code", "line"),
    [
        (signal.SIGINT, 130, "interrupted (Ctrl-C)"),
        (signal.SIGTERM, 143, "terminated (SIGTERM)"),
    ],
)
@pytest.mark.parametrize("json_errors", [False, True])
def test_signal_exit_code_one_line_and_cleanup(
    signum: signal.Signals, exit_code: int, line: str, json_errors: bool, tmp_path: Path
) -> None:
    ready, cleaned = tmp_path / "ready", tmp_path / "cleaned"
    env = child_env(ERRWISE_JSON_ERRORS="1" if json_errors else "0")
    with subprocess.Popen(
        [sys.executable, "-c", SLEEPER, str(ready), str(cleaned)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as proc:
        try:
            _wait_for(ready, proc)
            proc.send_signal(signum)
            out, err = proc.communicate(timeout=CHILD_TIMEOUT_S)
        finally:
            proc.kill()
    assert proc.returncode == exit_code
    assert out == ""
    assert cleaned.read_text() == "cleaned"  # the finally block ran: the same cleanup path
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines[0] == f"-c: {line}"
    if json_errors:
        assert len(lines) == 2
        data = json_line(err)
        assert (data["code"], data["kind"], data["exit_code"]) == (
            "ERR_INTERRUPTED",
            "environment",
            exit_code,
        )
    else:
        assert len(lines) == 1


WRITER = """
import sys
import errwise

def main():
    for i in range(1_000_000):
        sys.stdout.write(f"line {i}\\n")
    return 0

sys.exit(errwise.run_main(main))
"""


def test_stdout_closed_early_exits_quietly() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", WRITER],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    ) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline() == "line 0\n"
            proc.stdout.close()  # the reader goes away, like `| head -1`
            _, err = proc.communicate(timeout=CHILD_TIMEOUT_S)
        finally:
            proc.kill()
    assert proc.returncode == errwise.entry.EXIT_BROKEN_PIPE
    assert err == ""


def test_stdout_closed_early_in_a_shell_pipeline() -> None:
    script = f"{sys.executable} -c '{WRITER}' | head -n 2"
    proc = subprocess.run(
        ["sh", "-c", script],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )
    assert proc.stdout == "line 0\nline 1\n"
    assert proc.stderr == ""


def test_run_main_in_a_child_process_bug_exit_70() -> None:
    code = "import sys, errwise\nsys.exit(errwise.run_main(lambda: 1 / 0))"
    proc = run_python(["-c", code], env=child_env(ERRWISE_JSON_ERRORS="yes"))
    assert proc.returncode == 70
    assert proc.stdout == ""
    data = json_line(proc.stderr)
    assert data["cause"] == {"type": "ZeroDivisionError", "message": "division by zero"}


def test_entrypoint_decorator_exits_with_the_code() -> None:
    code = (
        "import errwise\n"
        "@errwise.entrypoint\n"
        "def main():\n"
        "    raise errwise.target('ERR_TARGET_RAISED', 'plugin failed')\n"
        "main()\n"
    )
    proc = run_python(["-c", code])
    assert proc.returncode == 20
    assert proc.stderr == "-c: error: [ERR_TARGET_RAISED] plugin failed\n"


def test_stdout_on_a_full_device_is_an_environment_error() -> None:
    code = "import sys\nfrom errwise.cli import main\nsys.exit(main(['codes', '--json-errors']))"
    with open("/dev/full", "w", encoding="utf-8") as full:
        proc = subprocess.run(
            [sys.executable, "-c", code],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
    assert proc.returncode == 10
    assert "Exception ignored" not in proc.stderr
    assert "errwise: error: [ERR_DISK_FULL]" in proc.stderr
    assert json_line(proc.stderr)["code"] == "ERR_DISK_FULL"


def test_configure_logs_false_leaves_logging_to_the_application(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    root = logging.getLogger()
    handlers_before = list(root.handlers)
    seen: list[list[logging.Handler]] = []

    def main() -> NoReturn:
        seen.append(list(root.handlers))
        raise ValueError("bug")

    assert errwise.run_main(main, configure_logs=False) == 70
    assert seen == [handlers_before]
    assert root.handlers == handlers_before
    err = capsys.readouterr().err
    assert "the traceback went to the application's log (logger 'errwise')" in err
    assert any(r.name == "errwise" and r.exc_info for r in caplog.records)


def test_parser_that_already_has_the_policy_flags(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    policy.add_arguments(parser)
    seen: list[str] = []

    def main(args: argparse.Namespace) -> int:
        seen.append(policy.current().on_error)
        return 0

    assert errwise.run_main(main, ["--on-error", "disable"], parser=parser) == 0
    assert seen == ["disable"]


def test_run_main_restores_root_logger_level() -> None:
    root = logging.getLogger()
    before = root.level
    parser = argparse.ArgumentParser()
    levels: list[int] = []
    assert (
        errwise.run_main(
            lambda a: levels.append(root.level), ["--log-level", "debug"], parser=parser
        )
        == 0
    )
    assert levels == [logging.DEBUG]
    assert root.level == before
