"""Run a command with a time limit that really holds, and classified errors when it fails.

Promise of `run(cmd, ...)`:
- `timeout` is finite seconds (> 0); no limit only when the caller writes `timeout=None`.
- The child runs in its own session and process group; stdin is `/dev/null` unless `input` is
  given. On timeout (or when the caller is interrupted: `KeyboardInterrupt`, `SystemExit`) the
  whole group gets SIGTERM, then SIGKILL after `kill_grace` seconds, and the call returns within
  about `timeout + kill_grace` even when grandchildren hold the output pipes. A command that
  exits while processes it started keep the pipes open is waited for until they close them or
  the deadline passes (then: ERR_TIMEOUT saying so, with the command's return code).
- Failures raise classified errors carrying the caller's `context` (e.g. `wo_id=..., branch=...`):
  ERR_TIMEOUT (command, cwd, timeout, the output so far), ERR_COMMAND_NOT_FOUND (executable, the
  PATH searched), ERR_SUBPROCESS_FAILED (command, cwd, return code or signal, the last 50 lines of
  stderr) when `check` is on, and the classified OS error when the command cannot be started.
- Captured output is bounded: at most `max_output` bytes per stream are kept (the first and the
  last halves); what was cut is said in the text (`[errwise: ... bytes cut ...]`) and counted in
  `RunResult.stdout_cut` / `stderr_cut`. Output is decoded as UTF-8 (undecodable bytes replaced).
- `run_result(...)` is `run(...)` returning `Ok(RunResult)` or `Err(error)` instead of raising;
  bad arguments are still raised (`UsageError`): they are bugs, not outcomes.
"""

from __future__ import annotations

import math
import os
import selectors
import shlex
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from errwise.classify import classify
from errwise.error import EnvError, Error, TargetError, target, usage
from errwise.error import env as env_error
from errwise.ops._capture import BoundedBuffer
from errwise.result import Err, Ok, Result

__all__ = ["run", "run_result", "RunResult", "DEFAULT_MAX_OUTPUT", "STDERR_TAIL_LINES"]

DEFAULT_MAX_OUTPUT: Final = 8 * 1024 * 1024
"""Bytes of each output stream kept by default (the first and the last halves)."""
STDERR_TAIL_LINES: Final = 50
"""Lines of stderr (and of the output so far, on timeout) put in an error's context."""
_DEFAULT_GRACE: Final = 2.0
_READ_SIZE: Final = 65536
_POLL_S: Final = 0.05  # only without pidfd support: how often to look for the child's exit

_RESERVED_KEYS: Final = frozenset(
    {
        "command",
        "cwd",
        "timeout",
        "returncode",
        "signal",
        "stderr_tail",
        "stdout_tail",
        "output_cut",
        "executable",
        "path_searched",
        "duration",
    }
)


@dataclass(frozen=True, slots=True)
class RunResult:
    """What a finished command produced."""

    command: tuple[str, ...]
    cwd: str | None
    returncode: int
    stdout: str
    """Captured stdout ('' when `capture=False`), possibly cut in the middle (see stdout_cut)."""
    stderr: str
    """Captured stderr ('' when `capture=False`), possibly cut in the middle (see stderr_cut)."""
    stdout_cut: int
    """Bytes of stdout dropped by the output cap."""
    stderr_cut: int
    """Bytes of stderr dropped by the output cap."""
    duration: float
    """Wall-clock seconds from start to the child's exit."""

    @property
    def ok(self) -> bool:
        """Did the command exit with status 0?"""
        return self.returncode == 0


def run(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    timeout: float | None = 60.0,
    check: bool = True,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    input: bytes | str | None = None,
    capture: bool = True,
    context: Mapping[str, object] | None = None,
    max_output: int | None = DEFAULT_MAX_OUTPUT,
    kill_grace: float = _DEFAULT_GRACE,
) -> RunResult:
    """Run `cmd` (a list: no shell) and return its `RunResult` (see the module promise).

    `env` replaces the environment (as in `subprocess`); `check=False` returns a failed run's
    result instead of raising ERR_SUBPROCESS_FAILED; `capture=False` lets the child write to
    this process's stdout/stderr; `max_output=None` keeps all output (unbounded memory).
    """
    argv, cwd_s, data, extra = _check_args(
        cmd=cmd,
        timeout=timeout,
        cwd=cwd,
        env_=env,
        input_=input,
        context=context,
        max_output=max_output,
        kill_grace=kill_grace,
    )
    if not isinstance(check, bool) or not isinstance(capture, bool):
        raise usage("ERR_USAGE", "check and capture must be bools")
    runner = _Runner(
        argv=argv,
        cwd=cwd_s,
        env_=env,
        data=data,
        capture=capture,
        extra=extra,
        timeout=timeout,
        max_output=max_output,
        kill_grace=kill_grace,
    )
    return runner.go(check)


def run_result(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    timeout: float | None = 60.0,
    check: bool = True,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    input: bytes | str | None = None,
    capture: bool = True,
    context: Mapping[str, object] | None = None,
    max_output: int | None = DEFAULT_MAX_OUTPUT,
    kill_grace: float = _DEFAULT_GRACE,
) -> Result[RunResult, Error]:
    """`run(...)` returning `Ok(RunResult)` or `Err(error)`; a `UsageError` is still raised."""
    try:
        return Ok(
            run(
                cmd,
                timeout=timeout,
                check=check,
                cwd=cwd,
                env=env,
                input=input,
                capture=capture,
                context=context,
                max_output=max_output,
                kill_grace=kill_grace,
            )
        )
    except (EnvError, TargetError) as err:
        return Err(err)


# -- argument checks ---------------------------------------------------------------------------


def _check_args(
    *,
    cmd: object,
    timeout: object,
    cwd: object,
    env_: object,
    input_: object,
    context: object,
    max_output: object,
    kill_grace: object,
) -> tuple[tuple[str, ...], str | None, bytes | None, dict[str, object]]:
    if isinstance(cmd, (str, bytes)):
        raise usage(
            "ERR_USAGE",
            "cmd must be a list of arguments, not one string; for a shell use ['sh', '-c', ...]",
            cmd=repr(cmd),
        )
    if not isinstance(cmd, Sequence) or not cmd:
        raise usage("ERR_USAGE", "cmd must be a non-empty list of arguments", cmd=repr(cmd))
    argv: list[str] = []
    for part in cmd:
        value = os.fspath(part) if isinstance(part, os.PathLike) else part
        if not isinstance(value, str) or "\0" in value:
            raise usage("ERR_USAGE", "every argument must be a str without NUL", arg=repr(part))
        argv.append(value)
    if not argv[0]:
        raise usage("ERR_USAGE", "the executable (cmd[0]) must not be empty")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise usage(
            "ERR_USAGE",
            "timeout must be a finite number of seconds > 0 (pass timeout=None, explicitly, "
            "for no limit)",
            timeout=repr(timeout),
        )
    if (
        isinstance(kill_grace, bool)
        or not isinstance(kill_grace, (int, float))
        or not math.isfinite(kill_grace)
        or kill_grace < 0
    ):
        raise usage("ERR_USAGE", "kill_grace must be finite seconds >= 0", got=repr(kill_grace))
    if max_output is not None and (type(max_output) is not int or max_output < 2):
        raise usage("ERR_USAGE", "max_output must be None or an int >= 2", got=repr(max_output))
    cwd_s: str | None = None
    if cwd is not None:
        cwd_v = os.fspath(cwd) if isinstance(cwd, os.PathLike) else cwd
        if not isinstance(cwd_v, str) or not cwd_v:
            raise usage("ERR_USAGE", "cwd must be None or a non-empty path", got=repr(cwd))
        cwd_s = cwd_v
    if env_ is not None:
        if not isinstance(env_, Mapping):
            raise usage("ERR_USAGE", "env must be a mapping of str to str", got=type(env_))
        for key, val in env_.items():
            if not (isinstance(key, str) and isinstance(val, str)) or "=" in key or not key:
                raise usage("ERR_USAGE", "env must map names to str values", entry=repr(key))
    data: bytes | None
    if input_ is None:
        data = None
    elif isinstance(input_, str):
        data = input_.encode("utf-8")
    elif isinstance(input_, bytes):
        data = input_
    else:
        raise usage("ERR_USAGE", "input must be None, bytes or str", got=type(input_).__name__)
    extra: dict[str, object] = {}
    if context is not None:
        if not isinstance(context, Mapping):
            raise usage("ERR_USAGE", "context must be a mapping", got=type(context).__name__)
        for key in context:
            if not isinstance(key, str):
                raise usage("ERR_USAGE", "context keys must be str", key=repr(key))
            if key in _RESERVED_KEYS:
                raise usage("ERR_USAGE", f"context key {key!r} is reserved for run()'s own context")
        extra = dict(context)
    return tuple(argv), cwd_s, data, extra


# -- the run -----------------------------------------------------------------------------------


class _Runner:
    """One run of one command: start, pump the pipes until exit or deadline, report."""

    def __init__(
        self,
        *,
        argv: tuple[str, ...],
        cwd: str | None,
        env_: Mapping[str, str] | None,
        data: bytes | None,
        capture: bool,
        extra: dict[str, object],
        timeout: float | None,
        max_output: int | None,
        kill_grace: float,
    ) -> None:
        self.argv = argv
        self.cwd = cwd
        self.env = dict(env_) if env_ is not None else None
        self.data = data
        self.capture = capture
        self.extra = extra
        self.timeout = timeout
        self.kill_grace = kill_grace
        self.out = BoundedBuffer(max_output)
        self.err = BoundedBuffer(max_output)
        self.exited_before_deadline: int | None = None
        """The child's status when it had exited but descendants still held the pipes."""

    def go(self, check: bool) -> RunResult:
        started = time.monotonic()
        deadline = None if self.timeout is None else started + self.timeout
        proc = self._start()
        try:
            finished = self._pump(proc, deadline)
        except BaseException:
            # Interrupted (Ctrl-C, SystemExit) or broken: never leave the group running.
            self._kill_group(proc)
            raise
        finally:
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        duration = time.monotonic() - started
        if not finished:
            raise self._timeout_error(duration)
        result = RunResult(
            command=self.argv,
            cwd=self.cwd,
            returncode=proc.returncode,
            stdout=self.out.text(),
            stderr=self.err.text(),
            stdout_cut=self.out.cut,
            stderr_cut=self.err.cut,
            duration=duration,
        )
        if check and proc.returncode != 0:
            raise self._failed_error(result)
        return result

    def _start(self) -> subprocess.Popen[bytes]:
        pipe = subprocess.PIPE if self.capture else None
        try:
            return subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE if self.data is not None else subprocess.DEVNULL,
                stdout=pipe,
                stderr=pipe,
                cwd=self.cwd,
                env=self.env,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            raise self._start_error(exc) from exc

    def _pump(self, proc: subprocess.Popen[bytes], deadline: float | None) -> bool:
        """Feed stdin, drain the pipes, wait for the exit. False when the deadline passed."""
        sel = selectors.DefaultSelector()
        pidfd = _pidfd(proc.pid)
        try:
            if proc.stdin is not None:
                os.set_blocking(proc.stdin.fileno(), False)
                sel.register(proc.stdin.fileno(), selectors.EVENT_WRITE, "in")
            for stream, buf in ((proc.stdout, self.out), (proc.stderr, self.err)):
                if stream is not None:
                    sel.register(stream.fileno(), selectors.EVENT_READ, buf)
            if pidfd is not None:
                sel.register(pidfd, selectors.EVENT_READ, "exit")
            sent = 0
            exited = False
            while True:
                exited = exited or proc.poll() is not None
                readers = [k for k in sel.get_map().values() if isinstance(k.data, BoundedBuffer)]
                if exited and not readers:
                    return True
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return self._expire(proc, sel)
                wait = remaining
                if pidfd is None and not exited:
                    wait = _POLL_S if wait is None else min(wait, _POLL_S)
                for key, _events in sel.select(wait):
                    if key.data == "exit":
                        sel.unregister(key.fd)
                    elif key.data == "in":
                        sent = self._feed(proc, sel, key.fd, sent)
                    elif isinstance(key.data, BoundedBuffer):
                        chunk = os.read(key.fd, _READ_SIZE)
                        if chunk:
                            key.data.add(chunk)
                        else:
                            sel.unregister(key.fd)
        finally:
            sel.close()
            if pidfd is not None:
                os.close(pidfd)

    def _feed(
        self, proc: subprocess.Popen[bytes], sel: selectors.BaseSelector, fd: int, sent: int
    ) -> int:
        assert self.data is not None and proc.stdin is not None
        try:
            sent += os.write(fd, self.data[sent : sent + _READ_SIZE])
        except BrokenPipeError:
            sent = len(self.data)  # the child closed its stdin: it does not want the rest
        if sent >= len(self.data):
            sel.unregister(fd)
            proc.stdin.close()
        return sent

    def _expire(self, proc: subprocess.Popen[bytes], sel: selectors.BaseSelector) -> bool:
        """The deadline passed: kill the group, keep what output is already there."""
        self.exited_before_deadline = proc.poll()
        self._kill_group(proc)
        for key in list(sel.get_map().values()):
            if isinstance(key.data, BoundedBuffer):
                _drain(key.fd, key.data)
        return False

    def _kill_group(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGTERM the child's process group; SIGKILL what is left once the child has exited or
        the grace period is over; reap the child.

        Waiting for the whole group to vanish is not possible in general: dead grandchildren
        stay zombies (still group members) until whoever adopted them reaps them.
        """
        pgid = proc.pid  # start_new_session: the child leads its own group
        if _signal_group(pgid, signal.SIGTERM):
            try:
                proc.wait(self.kill_grace)
            except subprocess.TimeoutExpired:
                pass  # it ignored SIGTERM: the SIGKILL below settles it
            _signal_group(pgid, signal.SIGKILL)
        proc.wait()

    # -- errors ------------------------------------------------------------------------------

    def _base_context(self) -> dict[str, object]:
        return {"command": _display(self.argv), "cwd": self.cwd or os.getcwd()}

    def _start_error(self, exc: OSError) -> Error:
        context = self._base_context()
        err: Error
        if isinstance(exc, FileNotFoundError) and exc.filename == self.cwd and self.cwd:
            err = env_error(
                "ERR_NOT_FOUND",
                f"cannot run {self.argv[0]}: working directory {self.cwd} not found",
            ).add_hint(f"check that {self.cwd} exists")
        elif isinstance(exc, (FileNotFoundError, NotADirectoryError)):
            searched = (self.env if self.env is not None else os.environ).get("PATH", os.defpath)
            err = env_error(
                "ERR_COMMAND_NOT_FOUND",
                f"command not found: {self.argv[0]}",
                executable=self.argv[0],
                path_searched=searched if os.sep not in self.argv[0] else None,
            )
            if os.sep in self.argv[0]:
                err.add_hint(f"check that {self.argv[0]} exists")
            else:
                err.add_hint(
                    f"install {self.argv[0]} or add the directory holding it to PATH "
                    f"(searched: {searched})"
                )
        else:
            # A copy without the traceback: classify() must not read an exec failure from
            # _execute_child as "command not found" when the errno says otherwise.
            err = classify(OSError(exc.errno, exc.strerror, self.argv[0]))
            err.message = f"cannot run {self.argv[0]}: {err.message}"
            err.with_context(executable=self.argv[0])
        return err.with_context(**context, **self.extra)

    def _timeout_error(self, duration: float) -> Error:
        assert self.timeout is not None
        context = self._base_context()
        context.update(timeout=self.timeout, duration=round(duration, 3))
        if self.capture:
            context["stdout_tail"] = _tail(self.out.text())
            context["stderr_tail"] = _tail(self.err.text())
        if self.exited_before_deadline is None:
            what = "command timed out"
            hint = "raise the timeout if the command is slow, or find out why it hangs"
        else:
            context["returncode"] = self.exited_before_deadline
            what = (
                f"command exited (status {self.exited_before_deadline}) but processes it started "
                "kept its output pipes open past the timeout"
            )
            hint = "redirect the output of background processes the command starts"
        err = env_error(
            "ERR_TIMEOUT",
            f"{what} after {self.timeout:g} s (process group killed): {_display(self.argv)}",
            **context,
            **self.extra,
        )
        return err.add_hint(hint)

    def _failed_error(self, result: RunResult) -> Error:
        context = self._base_context()
        context["returncode"] = result.returncode
        if result.returncode < 0:
            try:
                name = signal.Signals(-result.returncode).name
            except ValueError:
                name = f"signal {-result.returncode}"
            context["signal"] = name
            how = f"was killed by {name}"
        else:
            how = f"exited with status {result.returncode}"
        if self.capture:
            context["stderr_tail"] = _tail(result.stderr)
            if result.stdout_cut or result.stderr_cut:
                context["output_cut"] = {"stdout": result.stdout_cut, "stderr": result.stderr_cut}
        return target(
            "ERR_SUBPROCESS_FAILED",
            f"command {how}: {_display(self.argv)}",
            **context,
            **self.extra,
        )


# -- helpers -----------------------------------------------------------------------------------


def _pidfd(pid: int) -> int | None:
    """A descriptor readable when `pid` exits (Linux >= 5.3), or None: then poll."""
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        fd: int = opener(pid)
    except OSError:
        return None  # kernel without pidfd (ENOSYS) or sandboxed (EPERM): poll instead
    return fd


def _signal_group(pgid: int, sig: signal.Signals) -> bool:
    """Signal a process group; False when the group no longer exists."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


def _drain(fd: int, buf: BoundedBuffer) -> None:
    """Read whatever is already in a pipe without blocking."""
    os.set_blocking(fd, False)
    while True:
        try:
            chunk = os.read(fd, _READ_SIZE)
        except BlockingIOError:
            return
        if not chunk:
            return
        buf.add(chunk)


def _tail(text: str) -> str:
    return "\n".join(text.splitlines()[-STDERR_TAIL_LINES:])


def _display(argv: tuple[str, ...]) -> str:
    return shlex.join(argv)
