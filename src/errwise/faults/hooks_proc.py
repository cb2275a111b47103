"""Interceptors for subprocess: run, call, check_call, check_output and Popen.

Promise: a spawn error (ENOENT: command not found, EACCES, ...) is raised as Popen raises it,
naming the program; "nonzero" gives what a child exiting 1 gives — a CompletedProcess with
returncode 1, `call` returning 1, CalledProcessError from check_* and `check=True`, a real Popen
whose child exits 1; "timeout" raises TimeoutExpired from run/call/check_* without running the
command, and for Popen starts a real child that sleeps until the last plan ends (so
`wait(timeout=...)` / `communicate(timeout=...)` time out for real); then the child is killed.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from errwise.faults.dispatch import STATE, busy, dispatch, is_busy
from errwise.faults.errors import make_error
from errwise.faults.hooks_fs import pathname

__all__ = ["wrap_popen_init", "wrap_runner", "kill_sleepers"]

AnyFunc = Callable[..., Any]
_EXIT_1 = [sys.executable, "-c", "raise SystemExit(1)"]
_SLEEP = [sys.executable, "-c", "import time; time.sleep(3600)"]
_sleepers: list[subprocess.Popen[Any]] = []


def _program(args: Any, executable: Any) -> str | None:
    if executable is not None:
        return pathname(executable)
    if isinstance(args, (list, tuple)):
        return pathname(args[0]) if args else None
    return pathname(args)


def _text(kwargs: dict[str, Any]) -> bool:
    return bool(
        kwargs.get("text")
        or kwargs.get("universal_newlines")
        or kwargs.get("encoding")
        or kwargs.get("errors")
    )


# With shell=True the program is the shell: a command it cannot find or run is its exit status
# 127/126 ("nonzero"), not an exec error of Popen.
_EXEC_ERRORS = ("ENOENT", "EACCES", "ENOEXEC", "ENOTDIR")


def _excluded(shell: bool, timed: bool) -> tuple[str, ...]:
    """The faults a call cannot get: exec errors through a shell, a timeout without one."""
    excluded: tuple[str, ...] = ("short",)
    if shell:
        excluded += _EXEC_ERRORS
    if not timed:
        excluded += ("timeout",)
    return excluded


def wrap_runner(original: AnyFunc, operation: str) -> AnyFunc:
    """subprocess.run / call / check_call / check_output."""
    kind = operation.rsplit(".", 1)[1]

    def runner(*popenargs: Any, **kwargs: Any) -> Any:
        if not STATE.active or is_busy():
            return original(*popenargs, **kwargs)
        args: Any = popenargs[0] if popenargs else kwargs.get("args")
        program = _program(args, kwargs.get("executable"))
        timeout = kwargs.get("timeout")
        captured = kind == "check_output" or bool(kwargs.get("capture_output"))
        empty: Any = ("" if _text(kwargs) else b"") if captured else None
        check = kind.startswith("check_") or bool(kwargs.get("check"))

        def build(fault: str) -> BaseException | None:
            if fault == "nonzero":
                if not check:
                    return None
                return subprocess.CalledProcessError(
                    1, args, output=empty, stderr=(empty if kwargs.get("capture_output") else None)
                )
            return make_error(operation, fault, path=program, command=args, timeout=timeout)

        # A call without a timeout cannot time out.
        excluded = _excluded(bool(kwargs.get("shell")), timeout is not None)
        injection = dispatch(operation, program, build=build, exclude=excluded)
        if injection is not None:
            if injection.exception is not None:
                raise injection.exception
            if kind == "call":
                return 1
            stderr = empty if kwargs.get("capture_output") else None
            return subprocess.CompletedProcess(args, 1, empty, stderr)
        with busy():
            return original(*popenargs, **kwargs)

    runner.__wrapped__ = original  # type: ignore[attr-defined]
    runner.__name__ = kind
    runner.__qualname__ = kind
    runner.__doc__ = original.__doc__
    return runner


def wrap_popen_init(original: AnyFunc, operation: str) -> AnyFunc:
    """subprocess.Popen.__init__ (the class itself stays the same object)."""
    signature = inspect.signature(original)

    def __init__(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> None:
        if not STATE.active or is_busy():
            original(self, *args, **kwargs)
            return
        bound = signature.bind(self, *args, **kwargs)
        command: Any = bound.arguments.get("args")
        program = _program(command, bound.arguments.get("executable"))
        injection = dispatch(
            operation,
            program,
            build=lambda fault: (
                None
                if fault in ("nonzero", "timeout")
                else make_error(operation, fault, path=program, command=command)
            ),
            exclude=_excluded(bool(bound.arguments.get("shell")), True),
        )
        if injection is None:
            with busy():
                original(self, *args, **kwargs)
            return
        if injection.exception is not None:
            raise injection.exception
        bound.arguments["args"] = list(_EXIT_1 if injection.fault == "nonzero" else _SLEEP)
        bound.arguments["executable"] = None
        bound.arguments["shell"] = False
        with busy():
            original(*bound.args, **bound.kwargs)
        self.args = command
        if injection.fault == "timeout":
            _sleepers.append(self)

    __init__.__wrapped__ = original  # type: ignore[attr-defined]
    return __init__


def kill_sleepers() -> None:
    """Kill and reap the children started for Popen "timeout" faults."""
    while _sleepers:
        child = _sleepers.pop()
        if child.poll() is None:
            child.kill()
        child.wait(timeout=10)
