"""Build the real exception a fault stands for.

Promise: `make_error` returns the very exception type the operation raises in real life:
`OSError(errno, os.strerror(errno), filename)` (so Python picks the subclass: ENOENT ->
FileNotFoundError, EACCES/EPERM -> PermissionError, ECONNRESET -> ConnectionResetError ...),
`KeyboardInterrupt`, `subprocess.CalledProcessError` / `TimeoutExpired`, `socket.timeout`,
`sqlite3.OperationalError` with its SQLite error code, `io.UnsupportedOperation`. A fault that
does not fit the operation is a `UsageError`. "short" raises nothing and has no error.
"""

from __future__ import annotations

import errno
import io
import os
import sqlite3
import subprocess

from errwise.error import usage
from errwise.faults.tables import OPERATIONS

__all__ = ["make_error", "check_fault"]

_SQLITE = {
    "locked": ("database is locked", 5, "SQLITE_BUSY"),
    "disk-io": ("disk I/O error", 10, "SQLITE_IOERR"),
    "cantopen": ("unable to open database file", 14, "SQLITE_CANTOPEN"),
}


def check_fault(operation: str, fault: str) -> None:
    """Raise `UsageError` unless `operation` is known and `fault` fits it."""
    info = OPERATIONS.get(operation)
    if info is None:
        raise usage(
            "ERR_USAGE", "unknown fault operation", operation=operation, known=sorted(OPERATIONS)
        )
    if fault not in info.faults:
        raise usage(
            "ERR_USAGE",
            "this fault does not fit the operation: it cannot return it",
            operation=operation,
            fault=fault,
            fits=list(info.faults),
        )


def make_error(
    operation: str,
    fault: str,
    *,
    path: str | None = None,
    path2: str | None = None,
    command: object = None,
    timeout: float | None = None,
) -> BaseException:
    """The exception `operation` raises when `fault` happens.

    `path` (and `path2`, the destination of a rename/link) become the error's filename(s);
    `command` and `timeout` fill in the subprocess errors (default: `path`, 0 seconds).
    Raises `UsageError` for "short" (a short read/write is not an exception) and for a fault
    that does not fit the operation.
    """
    check_fault(operation, fault)
    code = getattr(errno, fault, None)
    if isinstance(code, int):
        return OSError(code, os.strerror(code), path, None, path2)
    if fault == "interrupt":
        return KeyboardInterrupt()
    cmd = command if command is not None else (path or "")
    if fault == "nonzero":
        return subprocess.CalledProcessError(1, cmd)  # type: ignore[arg-type]
    if fault == "timeout":
        if operation.startswith("socket."):
            return TimeoutError("timed out")  # socket.timeout is TimeoutError
        return subprocess.TimeoutExpired(cmd, 0.0 if timeout is None else timeout)  # type: ignore[arg-type]
    if fault in _SQLITE:
        message, number, name = _SQLITE[fault]
        error = sqlite3.OperationalError(message)
        error.sqlite_errorcode = number
        error.sqlite_errorname = name
        return error
    if fault == "unsupported":
        return io.UnsupportedOperation("fileno")
    raise usage("ERR_USAGE", "this fault is not an exception", operation=operation, fault=fault)
