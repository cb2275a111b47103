"""Reading a file errwise itself depends on (a cache entry, its key, a baseline) without trusting
what sits at its path.

Promise: `read_regular(path, limit=N)` returns the whole content of a regular file of at most
`N` bytes, or raises a classified `errwise.Error` with `path` and a short `reason` in its
context; it never blocks and never reads more than `N + 1` bytes. The file is opened with
`O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC`: a symlink at `path` is refused (unless
`follow_symlinks=True`: then only what it names is checked), a FIFO's open does not wait for a
writer, and `fstat` of the open descriptor (not of the path, which may change meanwhile) must
show a regular file, so a FIFO, socket or device (`/dev/zero`) is refused before any read. A
file that grows past `N` while it is read is refused too. `private=True` also requires the file
to belong to the effective user and to be unreadable and unwritable by others (POSIX).

Reasons (`context["reason"]`): "missing" (ERR_NOT_FOUND), "symlink", "not a regular file"
(ERR_IS_A_DIRECTORY for a directory), "too large", "not private" (ERR_IO unless said), and
"unreadable" for any other OS error (classified by errno: ERR_PERMISSION_DENIED, ...); a
refusal also has `detail`, what was wrong in words ("is not a regular file (a FIFO)"; for an OS
error, the classified error's own message: "permission denied").
"""

from __future__ import annotations

import errno
import os
import stat

from errwise.classify import classify
from errwise.error import Error, env, usage

__all__ = ["read_regular"]

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_SYMLINK_ERRNOS = (errno.ELOOP, errno.EMLINK)  # O_NOFOLLOW on a link: ELOOP (Linux), EMLINK (BSD)
_CHUNK = 1 << 20


def read_regular(
    path: str | os.PathLike[str],
    *,
    limit: int,
    follow_symlinks: bool = False,
    private: bool = False,
) -> bytes:
    """The content of the regular file at `path`, at most `limit` bytes (see the module promise)."""
    name = os.fspath(path)
    if type(limit) is not int or limit < 0:
        raise usage("ERR_USAGE", "limit must be an int >= 0", got=repr(limit))
    if not follow_symlinks and not _NOFOLLOW and os.path.islink(name):
        # No O_NOFOLLOW (Windows): the best check there is, before the open.
        raise _refused(name, "symlink", "is a symbolic link (not followed)")
    try:
        fd = os.open(name, _FLAGS | (0 if follow_symlinks else _NOFOLLOW))
    except OSError as exc:
        if exc.errno in _SYMLINK_ERRNOS and not follow_symlinks and os.path.islink(name):
            raise _refused(name, "symlink", "is a symbolic link (not followed)") from None
        raise _os_error(exc, name) from exc
    try:
        info = os.fstat(fd)
        _check(name, info, limit, private)
        return _read_at_most(fd, name, limit, info.st_size)
    except OSError as exc:
        raise _os_error(exc, name) from exc
    finally:
        os.close(fd)


def _check(name: str, info: os.stat_result, limit: int, private: bool) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise env(
            "ERR_IS_A_DIRECTORY",
            f"{name} is a directory, not a file",
            path=name,
            reason="not a regular file",
        )
    if not stat.S_ISREG(info.st_mode):
        raise _refused(name, "not a regular file", f"is not a regular file ({_kind(info)})")
    if info.st_size > limit:
        raise _too_large(name, limit)
    if private and hasattr(os, "geteuid"):
        if info.st_uid != os.geteuid():
            raise _refused(name, "not private", f"belongs to user id {info.st_uid}, not to you")
        if info.st_mode & 0o077:
            raise _refused(
                name, "not private", f"is accessible to others (mode {info.st_mode & 0o777:o})"
            )


def _read_at_most(fd: int, name: str, limit: int, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = limit + 1  # one byte more than allowed tells a file that grew meanwhile
    want = min(remaining, size + 1)  # the whole file and its end in one read, usually
    while remaining > 0:
        chunk = os.read(fd, want)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        remaining -= len(chunk)
        want = min(remaining, _CHUNK)
    raise _too_large(name, limit)


def _kind(info: os.stat_result) -> str:
    mode = info.st_mode
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def _refused(name: str, reason: str, what: str) -> Error:
    return env("ERR_IO", f"{name} {what}", path=name, reason=reason, detail=what)


def _too_large(name: str, limit: int) -> Error:
    return _refused(name, "too large", f"is larger than {limit} bytes")


def _os_error(exc: OSError, name: str) -> Error:
    err = classify(exc).with_context(path=name)
    reason = "missing" if exc.errno == errno.ENOENT else "unreadable"
    err.with_context(reason=reason, detail=err.message)
    err.message = f"cannot read {name}: {err.message}"
    return err
