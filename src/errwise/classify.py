"""Wrap any exception into the façade, keeping the original as `__cause__`.

Promise: `classify(exc)` never raises (for any exception it is given) and returns an
`errwise.Error` whose `__cause__` is `exc`: the same object when `exc` already is one; an
environment error for OS failures (by errno, or by the OSError subclass when errno is unset, with
`errno`, `strerror` and `filename` (when known) in context and a hint a human can act on; of the
OS errors only EAGAIN, EBUSY, EINTR and ETIMEDOUT are `recoverable`); ERR_TIMEOUT,
ERR_COMMAND_NOT_FOUND (subprocess could not exec the program) or ERR_SUBPROCESS_FAILED (command,
return code, stderr tail) for the `subprocess` family; ERR_INTERRUPTED for `KeyboardInterrupt`;
an internal error (a bug) for anything else.
"""

from __future__ import annotations

import errno as E
import os
import signal
import subprocess
from types import TracebackType

from errwise._jsonable import safe_str
from errwise.codes import resolve
from errwise.error import EnvError, Error, InternalError, TargetError, usage

__all__ = ["classify", "errno_code"]

# errno -> (code name, recoverable, hint template or None). {path} is the filename, {where} its
# directory (or the path itself when it has none).
_ERRNO_TABLE: dict[int, tuple[str, bool, str | None]] = {
    E.ENOSPC: ("ERR_DISK_FULL", False, "free space on the device holding {where}"),
    E.EDQUOT: ("ERR_DISK_FULL", False, "free space or raise the disk quota for {where}"),
    E.EACCES: (
        "ERR_PERMISSION_DENIED",
        False,
        "check the permissions of {path} and its parent directories",
    ),
    E.EPERM: (
        "ERR_PERMISSION_DENIED",
        False,
        "the operation on {path} is not permitted for this user",
    ),
    E.ENOENT: ("ERR_NOT_FOUND", False, "check that {path} exists"),
    E.EEXIST: ("ERR_ALREADY_EXISTS", False, "remove {path} or choose another name"),
    E.EROFS: (
        "ERR_READ_ONLY_FS",
        False,
        "the file system holding {where} is read-only; write somewhere else",
    ),
    E.ENOTDIR: ("ERR_NOT_A_DIRECTORY", False, "a component of {path} is not a directory"),
    E.EISDIR: ("ERR_IS_A_DIRECTORY", False, "{path} is a directory; name a file"),
    E.ENOTEMPTY: ("ERR_DIRECTORY_NOT_EMPTY", False, "{path} is not empty"),
    E.ETIMEDOUT: ("ERR_TIMEOUT", True, "the operation timed out; retry or allow more time"),
    E.EAGAIN: ("ERR_IO", True, "the resource is temporarily unavailable; retry"),
    E.EBUSY: ("ERR_IO", True, "{path} is busy; retry when it is released"),
    E.EINTR: ("ERR_IO", True, "the call was interrupted; retry"),
}
_STDERR_TAIL_LINES = 50
_TAIL_CHARS = 4000


# An OSError built without an errno (`TimeoutError()`, `FileNotFoundError("x")`) still says by its
# type what happened.
_ERRNO_BY_TYPE: tuple[tuple[type[OSError], int], ...] = (
    (FileNotFoundError, E.ENOENT),
    (FileExistsError, E.EEXIST),
    (PermissionError, E.EACCES),
    (IsADirectoryError, E.EISDIR),
    (NotADirectoryError, E.ENOTDIR),
    (TimeoutError, E.ETIMEDOUT),
    (BlockingIOError, E.EAGAIN),
    (InterruptedError, E.EINTR),
)


def errno_code(errno_value: int | None) -> str:
    """The error code name an OS errno maps to (ERR_IO when it has no specific one)."""
    if errno_value is not None and not isinstance(errno_value, int):
        raise usage("ERR_USAGE", "errno_code() takes an int errno", got=type(errno_value).__name__)
    entry = _ERRNO_TABLE.get(errno_value) if errno_value is not None else None
    return entry[0] if entry else "ERR_IO"


def classify(exc: BaseException) -> Error:
    """Return `exc` as an `errwise.Error` (see the module promise)."""
    if isinstance(exc, Error):
        return exc
    if not isinstance(exc, BaseException):
        raise usage("ERR_USAGE", "classify() takes an exception", got=type(exc).__name__)
    try:
        err = _classify(exc)
    # errwise: ignore[broad-catch] -- classify() is called from error paths and must never raise
    except Exception as failure:
        err = InternalError(
            "ERR_INTERNAL", f"cannot classify {type(exc).__name__}: {safe_str(failure)}"
        )
    err.__cause__ = exc
    return err


def _classify(exc: BaseException) -> Error:
    if isinstance(exc, KeyboardInterrupt):
        return EnvError("ERR_INTERRUPTED", "interrupted by the user (Ctrl-C)")
    if isinstance(exc, subprocess.TimeoutExpired):
        return _timeout(exc)
    if isinstance(exc, subprocess.CalledProcessError):
        return _called_process(exc)
    if isinstance(exc, OSError):
        if isinstance(exc, FileNotFoundError) and _raised_by_exec(exc):
            return _command_not_found(exc)
        return _os_error(exc)
    return InternalError(
        "ERR_INTERNAL",
        f"unexpected {type(exc).__name__}: {safe_str(exc)}",
        hints=["this is a bug; the traceback of the cause shows where it happened"],
    )


def _os_error(exc: OSError) -> Error:
    number = exc.errno
    if number is None:
        number = next((n for t, n in _ERRNO_BY_TYPE if isinstance(exc, t)), None)
    entry = _ERRNO_TABLE.get(number) if number is not None else None
    code_name, recoverable, hint = entry if entry else ("ERR_IO", False, None)
    context: dict[str, object] = {}
    if exc.filename is not None:
        context["filename"] = _fs(exc.filename)
    if exc.filename2 is not None:
        context["filename2"] = _fs(exc.filename2)
    context["errno"] = exc.errno
    context["strerror"] = exc.strerror
    if isinstance(exc.strerror, str) and exc.strerror:
        message = exc.strerror[:1].lower() + exc.strerror[1:]
    else:
        message = safe_str(exc) or resolve(code_name).title
    err = EnvError(code_name, message, context=context, recoverable=recoverable)
    if hint is not None:
        if exc.filename is not None:
            path = _fs(exc.filename)
            where = os.path.dirname(path) or path
        else:
            path = where = "the path"
        err.add_hint(hint.format(path=path, where=where))
    return err


def _timeout(exc: subprocess.TimeoutExpired) -> Error:
    context: dict[str, object] = {"command": _cmd(exc.cmd), "timeout": exc.timeout}
    output = exc.stderr or exc.output
    if output:
        context["output_tail"] = _tail(output)
    seconds = f"{exc.timeout:.3g}" if isinstance(exc.timeout, (int, float)) else str(exc.timeout)
    return EnvError(
        "ERR_TIMEOUT",
        f"{_program(exc.cmd)} timed out after {seconds} s",
        context=context,
        hints=["raise the timeout if the command is slow, or find out why it hangs"],
    )


def _called_process(exc: subprocess.CalledProcessError) -> Error:
    context: dict[str, object] = {"command": _cmd(exc.cmd), "returncode": exc.returncode}
    if exc.stderr:
        context["stderr_tail"] = _tail(exc.stderr)
    elif exc.output:  # stderr merged into stdout (stderr=STDOUT), or not captured at all
        context["output_tail"] = _tail(exc.output)
    if exc.returncode < 0:
        status = f"was killed by {_signal_name(-exc.returncode)}"
    else:
        status = f"exited with status {exc.returncode}"
    return TargetError("ERR_SUBPROCESS_FAILED", f"{_program(exc.cmd)} {status}", context=context)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _command_not_found(exc: FileNotFoundError) -> Error:
    name = _fs(exc.filename) if exc.filename is not None else "?"
    return EnvError(
        "ERR_COMMAND_NOT_FOUND",
        f"command not found: {name}",
        context={"executable": name},
        hints=[f"install {name} or add the directory holding it to PATH"],
    )


def _raised_by_exec(exc: FileNotFoundError) -> bool:
    """Did this FileNotFoundError come from subprocess failing to exec the program?

    subprocess raises it from `_execute_child` (or `_posix_spawn`) both for a missing program and
    for a missing working directory (`cwd=`); the latter is an ordinary ERR_NOT_FOUND.
    """
    tb: TracebackType | None = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return False
    frame = last.tb_frame
    code = frame.f_code
    if code.co_filename != subprocess.__file__ or code.co_name not in _EXEC_FRAMES:
        return False
    local = frame.f_locals
    if local.get("child_exec_never_called") is True:  # CPython's marker for a chdir(cwd) failure
        return False
    cwd = local.get("cwd")
    return cwd is None or exc.filename is None or _fs(os.fspath(cwd)) != _fs(exc.filename)


_EXEC_FRAMES = frozenset(("_execute_child", "_posix_spawn"))


def _tail(output: str | bytes) -> str:
    """The last lines of a command's output, at most a few KiB (errors end up in log lines)."""
    if isinstance(output, bytes):
        output = output[-4 * _TAIL_CHARS :].decode("utf-8", "replace")
    text = "\n".join(output[-4 * _TAIL_CHARS :].splitlines()[-_STDERR_TAIL_LINES:])
    return text if len(text) <= _TAIL_CHARS else "..." + text[-(_TAIL_CHARS - 3) :]


def _cmd(cmd: object) -> str:
    if isinstance(cmd, (list, tuple)):
        return " ".join(str(part) for part in cmd)
    return str(cmd)


def _program(cmd: object) -> str:
    """The program's name, for a message (the whole command is in the context)."""
    if isinstance(cmd, (list, tuple)):
        name = _fs(cmd[0]) if cmd else ""
    else:  # a shell command line, or a bare program
        words = _fs(cmd).split(maxsplit=1)
        name = words[0] if words else ""
    return os.path.basename(name) or "command"


def _fs(value: object) -> str:
    if isinstance(value, bytes):
        return os.fsdecode(value)
    return str(value)
