"""Interceptors for files and the file system: open, os.*, shutil.*.

Promise: each `wrap_*` returns a function that behaves exactly as the original when no plan
is active or the thread is busy, and otherwise asks the dispatcher first, then applies the fault
the way the real call fails (raise before the call; a short os.read/os.write does a real, shorter
call; shutil.rmtree honours ignore_errors/onerror). The real call runs with the thread busy, so
the operations it performs inside are not intercepted separately.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from errwise.faults.dispatch import STATE, busy, dispatch, is_busy, wants_wrapper
from errwise.faults.filewrap import FaultFile

__all__ = [
    "pathname",
    "wrap_open",
    "wrap_path_call",
    "wrap_os_read",
    "wrap_os_write",
    "wrap_rmtree",
]

AnyFunc = Callable[..., Any]


def pathname(value: object) -> str | None:
    """The path an argument names, as text; None for a descriptor or anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return os.fsdecode(value)
    if isinstance(value, os.PathLike):
        name = value.__fspath__()
        return name if isinstance(name, str) else os.fsdecode(name)
    return None


def _raise_if(injection: Any) -> str | None:
    if injection is None:
        return None
    if injection.exception is not None:
        raise injection.exception
    fault: str = injection.fault
    return fault


_CREATE_ONLY = ("ENOSPC", "EDQUOT")
_WRITE_ONLY = ("EROFS", "ETXTBSY", "EFBIG")


def open_excludes(mode: str) -> tuple[str, ...]:
    """The open(2) errnos a call in this mode cannot get: no inode is allocated without
    creating, EROFS/ETXTBSY/EFBIG need write access, EEXIST needs exclusive creation."""
    excluded = ["short"]
    if "x" not in mode:
        excluded.append("EEXIST")
    if not any(flag in mode for flag in "wax"):
        excluded.extend(_CREATE_ONLY)
    if not any(flag in mode for flag in "wax+"):
        excluded.extend(_WRITE_ONLY)
    return tuple(excluded)


def os_open_excludes(flags: int) -> tuple[str, ...]:
    """`open_excludes` for os.open's flags."""
    mode = ""
    if flags & os.O_CREAT:
        mode += "x" if flags & os.O_EXCL else "w"
    if flags & (os.O_WRONLY | os.O_RDWR):
        mode += "+"
    return open_excludes(mode or "r")


def wrap_open(original: AnyFunc, operation: str) -> AnyFunc:
    """`open`: fail the open, else wrap the file when the caller is code under test."""

    def open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if not STATE.active or is_busy():
            return original(file, *args, **kwargs)
        name = pathname(file)
        mode = args[0] if args else kwargs.get("mode", "r")
        excluded = open_excludes(mode if isinstance(mode, str) else "r")
        _raise_if(dispatch(operation, name, exclude=excluded))
        with busy():
            result = original(file, *args, **kwargs)
        if wants_wrapper():
            return FaultFile(result, name)
        return result

    open.__wrapped__ = original  # type: ignore[attr-defined]
    return open


def wrap_path_call(original: AnyFunc, operation: str, two_paths: bool = False) -> AnyFunc:
    """An os/shutil call whose first argument (and second, for rename-like calls) is a path."""

    def call(*args: Any, **kwargs: Any) -> Any:
        if not STATE.active or is_busy():
            return original(*args, **kwargs)
        first = pathname(args[0] if args else _keyword(kwargs, _FIRST))
        second = None
        if two_paths:
            second = pathname(args[1] if len(args) > 1 else _keyword(kwargs, _SECOND))
        excluded = _EXIST_OK if kwargs.get("exist_ok") or kwargs.get("dirs_exist_ok") else _SHORT
        _raise_if(dispatch(operation, first, path2=second, exclude=excluded))
        with busy():
            return original(*args, **kwargs)

    call.__wrapped__ = original  # type: ignore[attr-defined]
    call.__name__ = getattr(original, "__name__", operation)
    call.__qualname__ = call.__name__
    call.__doc__ = getattr(original, "__doc__", None)
    return call


_SHORT = ("short",)
_EXIST_OK = ("short", "EEXIST")  # makedirs(exist_ok=True) / copytree(dirs_exist_ok=True)
_FIRST = ("path", "src", "name", "fd")
_SECOND = ("dst",)


def _keyword(kwargs: dict[str, Any], names: tuple[str, ...]) -> object:
    for name in names:
        if name in kwargs:
            return kwargs[name]
    return None


def wrap_os_read(original: AnyFunc, operation: str) -> AnyFunc:
    """os.read(fd, n): a short read asks the kernel for half as many bytes."""

    def read(fd: int, n: int, /) -> bytes:
        if not STATE.active or is_busy():
            result: bytes = original(fd, n)
            return result
        if _raise_if(dispatch(operation)) == "short" and n > 1:
            n //= 2
        with busy():
            result = original(fd, n)
        return result

    read.__wrapped__ = original  # type: ignore[attr-defined]
    return read


def wrap_os_write(original: AnyFunc, operation: str) -> AnyFunc:
    """os.write(fd, data): a short write really writes only the first half."""

    def write(fd: int, data: Any, /) -> int:
        if not STATE.active or is_busy():
            result: int = original(fd, data)
            return result
        if _raise_if(dispatch(operation)) == "short":
            view = memoryview(data).cast("B")
            data = view[: len(view) // 2]
        with busy():
            result = original(fd, data)
        return result

    write.__wrapped__ = original  # type: ignore[attr-defined]
    return write


def wrap_rmtree(original: AnyFunc, operation: str) -> AnyFunc:
    """shutil.rmtree: the fault goes where rmtree sends its errors (raise, onerror, ignore)."""

    def rmtree(path: Any, *args: Any, **kwargs: Any) -> None:
        if not STATE.active or is_busy():
            original(path, *args, **kwargs)
            return
        injection = dispatch(operation, pathname(path))
        if injection is not None and injection.exception is not None:
            error = injection.exception
            ignore = kwargs.get("ignore_errors", args[0] if args else False)
            onerror = kwargs.get("onerror", args[1] if len(args) > 1 else None)
            if not isinstance(error, OSError) or not (ignore or onerror):
                raise error
            if not ignore and onerror is not None:
                onerror(os.rmdir, path, (type(error), error, error.__traceback__))
            return
        with busy():
            original(path, *args, **kwargs)

    rmtree.__wrapped__ = original  # type: ignore[attr-defined]
    rmtree.avoids_symlink_attacks = getattr(original, "avoids_symlink_attacks", False)  # type: ignore[attr-defined]
    return rmtree


# Events whose audit hook maps 1:1 to an operation: event -> (operation, path arg, path2 arg).
AUDITED: dict[str, tuple[str, int | None, int | None]] = {
    "os.mkdir": ("os.mkdir", 0, None),
    "os.rmdir": ("os.rmdir", 0, None),
    "os.link": ("os.link", 0, 1),
    "os.symlink": ("os.symlink", 0, 1),
    "os.kill": ("os.kill", None, None),
    "os.listdir": ("os.listdir", 0, None),
    "os.scandir": ("os.scandir", 0, None),
    "os.chmod": ("os.chmod", 0, None),
}


def audit_hook(event: str, args: tuple[Any, ...]) -> None:
    """The process-wide audit hook (installed once; one test when no plan is active)."""
    if not STATE.active:
        return
    known: tuple[str, int | None, int | None] | None
    if event == "open":
        # io.open is intercepted by wrap_open; mode None means os.open
        known = ("os.open", 0, None) if len(args) >= 2 and args[1] is None else None
    else:
        known = AUDITED.get(event)
    if known is None or is_busy():
        return
    operation, first, second = known
    path = pathname(args[first]) if first is not None and len(args) > first else None
    path2 = pathname(args[second]) if second is not None and len(args) > second else None
    excluded: tuple[str, ...] = _SHORT
    if operation == "os.open" and len(args) > 2 and isinstance(args[2], int):
        excluded = os_open_excludes(args[2])
    _raise_if(dispatch(operation, path, path2=path2, exclude=excluded))


_hook_added: list[bool] = []


def ensure_audit_hook() -> None:
    """Install the audit hook once per process (audit hooks cannot be removed)."""
    if not _hook_added:
        sys.addaudithook(audit_hook)
        _hook_added.append(True)
