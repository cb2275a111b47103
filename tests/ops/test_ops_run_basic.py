"""run / run_result: results, classified failures, bounded output and argument checks."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Any

import pytest

import errwise
from errwise.ops.run import STDERR_TAIL_LINES

PY = sys.executable


def test_returns_the_output() -> None:
    result = errwise.run([PY, "-c", "import sys; print('out'); print('err', file=sys.stderr)"])
    assert result.ok and result.returncode == 0
    assert result.stdout == "out\n" and result.stderr == "err\n"
    assert result.stdout_cut == result.stderr_cut == 0
    assert result.command == (PY, "-c", "import sys; print('out'); print('err', file=sys.stderr)")
    assert result.duration > 0


def test_input_cwd_env_and_pathlike(tmp_path: Path) -> None:
    script = tmp_path / "echo.py"
    script.write_text(
        "import os, sys; sys.stdout.write(os.getcwd() + os.environ['X'] + sys.stdin.read())"
    )
    result = errwise.run([PY, script], input="-piped", cwd=tmp_path, env={"X": "-env"})
    assert result.stdout == f"{tmp_path}-env-piped"


def test_large_input_and_output_do_not_deadlock() -> None:
    data = b"x" * (4 << 20)
    result = errwise.run([PY, "-c", "import sys; sys.stdout.write(sys.stdin.read())"], input=data)
    assert len(result.stdout) == len(data)


def test_stdin_is_devnull_by_default() -> None:
    result = errwise.run([PY, "-c", "import sys; print(repr(sys.stdin.read()))"], timeout=10)
    assert result.stdout == "''\n"


def test_child_that_stops_reading_input() -> None:
    result = errwise.run([PY, "-c", "pass"], input=b"x" * (1 << 20))
    assert result.ok


def test_failure_carries_command_status_stderr_tail_and_context(tmp_path: Path) -> None:
    code = "import sys\nfor i in range(120): print(f'line {i}', file=sys.stderr)\nsys.exit(3)"
    with pytest.raises(errwise.TargetError) as info:
        errwise.run([PY, "-c", code], cwd=tmp_path, context={"wo_id": "WO-7", "branch": "wo/7"})
    err = info.value
    assert err.code == "ERR_SUBPROCESS_FAILED"
    assert err.kind is errwise.Kind.TARGET
    assert err.context["returncode"] == 3
    assert err.context["cwd"] == str(tmp_path)
    assert err.context["wo_id"] == "WO-7" and err.context["branch"] == "wo/7"
    assert PY in str(err.context["command"])
    tail = str(err.context["stderr_tail"]).splitlines()
    assert len(tail) == STDERR_TAIL_LINES
    assert tail[0] == "line 70" and tail[-1] == "line 119"
    assert "status 3" in err.message


def test_death_by_signal_is_named() -> None:
    with pytest.raises(errwise.TargetError) as info:
        errwise.run([PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"])
    assert info.value.context["signal"] == "SIGSEGV"
    assert info.value.context["returncode"] == -11


def test_check_false_returns_the_failed_result() -> None:
    result = errwise.run([PY, "-c", "raise SystemExit(4)"], check=False)
    assert result.returncode == 4 and not result.ok


def test_missing_executable() -> None:
    with pytest.raises(errwise.EnvError) as info:
        errwise.run(["errwise-no-such-tool-4a"], context={"wo_id": "WO-1"})
    err = info.value
    assert err.code == "ERR_COMMAND_NOT_FOUND"
    assert err.context["executable"] == "errwise-no-such-tool-4a"
    assert err.context["path_searched"] == os.environ["PATH"]
    assert err.context["wo_id"] == "WO-1"
    assert any("PATH" in hint for hint in err.hints)


def test_missing_executable_path_and_custom_path(tmp_path: Path) -> None:
    with pytest.raises(errwise.EnvError) as info:
        errwise.run([str(tmp_path / "nope")])
    assert info.value.code == "ERR_COMMAND_NOT_FOUND"
    with pytest.raises(errwise.EnvError) as info:
        errwise.run(["ls"], env={"PATH": str(tmp_path)})
    assert info.value.context["path_searched"] == str(tmp_path)


def test_not_executable_is_permission_denied(tmp_path: Path) -> None:
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\n")
    os.chmod(script, 0o644)
    with pytest.raises(errwise.EnvError) as info:
        errwise.run([str(script)])
    assert info.value.code == "ERR_PERMISSION_DENIED"
    assert info.value.context["executable"] == str(script)


def test_missing_cwd(tmp_path: Path) -> None:
    with pytest.raises(errwise.EnvError) as info:
        errwise.run([PY, "-c", "pass"], cwd=tmp_path / "gone")
    assert info.value.code == "ERR_NOT_FOUND"
    assert "working directory" in info.value.message


def test_output_is_bounded_and_the_cut_is_said() -> None:
    code = "import sys; sys.stdout.write('H' * 1000 + 'M' * 100000 + 'T' * 1000)"
    result = errwise.run([PY, "-c", code], max_output=2000)
    assert result.stdout_cut == 100000
    head, marker, tail = result.stdout.split("\n")
    assert head == "H" * 1000 and tail == "T" * 1000
    assert marker == "[errwise: 100000 bytes cut from the middle]"


def test_output_cut_is_in_the_failure_context() -> None:
    code = "import sys; sys.stderr.write('E' * 50000 + '\\nlast line\\n'); sys.exit(1)"
    with pytest.raises(errwise.TargetError) as info:
        errwise.run([PY, "-c", code], max_output=1000)
    assert info.value.context["output_cut"] == {"stdout": 0, "stderr": 49011}
    assert str(info.value.context["stderr_tail"]).endswith("last line")


def test_unbounded_capture_on_request() -> None:
    result = errwise.run([PY, "-c", "print('x' * 300000)"], max_output=None)
    assert result.stdout == "x" * 300000 + "\n"


def test_undecodable_output_is_replaced() -> None:
    result = errwise.run([PY, "-c", "import sys; sys.stdout.buffer.write(b'ok\\xff')"])
    assert result.stdout == "ok\ufffd"


def test_capture_false_leaves_output_to_the_parent(capfd: pytest.CaptureFixture[str]) -> None:
    result = errwise.run([PY, "-c", "print('visible')"], capture=False)
    assert result.stdout == ""
    assert capfd.readouterr().out == "visible\n"


def test_run_result_ok_and_err() -> None:
    ok = errwise.run_result([PY, "-c", "print(1)"])
    assert isinstance(ok, errwise.Ok) and ok.value.stdout == "1\n"
    failed = errwise.run_result([PY, "-c", "raise SystemExit(2)"], context={"step": "build"})
    match failed:
        case errwise.Err(error):
            assert error.code == "ERR_SUBPROCESS_FAILED" and error.context["step"] == "build"
        case _:
            pytest.fail("expected Err")
    missing = errwise.run_result(["errwise-no-such-tool-4a"])
    assert isinstance(missing, errwise.Err) and missing.error.code == "ERR_COMMAND_NOT_FOUND"


def test_run_result_still_raises_usage_errors() -> None:
    with pytest.raises(errwise.UsageError):
        errwise.run_result("echo hi")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cmd": "echo hi"},
        {"cmd": []},
        {"cmd": [""]},
        {"cmd": ["echo", 3]},
        {"cmd": ["echo", "a\0b"]},
        {"timeout": math.inf},
        {"timeout": math.nan},
        {"timeout": -1},
        {"timeout": 0},
        {"timeout": True},
        {"timeout": "5"},
        {"kill_grace": -1},
        {"max_output": 1},
        {"max_output": 2.5},
        {"cwd": ""},
        {"env": {"A": 1}},
        {"env": ["A=1"]},
        {"input": 5},
        {"context": {"command": "mine"}},
        {"context": {1: "x"}},
        {"check": "yes"},
        {"capture": None},
    ],
)
def test_bad_input_is_usage_error(kwargs: dict[str, Any]) -> None:
    kwargs.setdefault("cmd", ["true"])
    with pytest.raises(errwise.UsageError):
        errwise.run(**kwargs)


def test_timeout_none_must_be_explicit_and_works() -> None:
    assert errwise.run([PY, "-c", "print(1)"], timeout=None).stdout == "1\n"
