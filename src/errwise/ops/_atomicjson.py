"""A small private helper: replace a JSON file atomically (used for lock heartbeats and journals).

Promise: `atomic_json_write(path, obj)` leaves `path` holding either its old content or the
complete new JSON document, never a torn one. The temp file is created exclusively in the target's
directory under an unpredictable name (never following a planted symlink) and is removed on every
failure; the failure propagates as the raw `OSError` for the caller to classify with its own
context. (`errwise.atomic_write` is the public, general form; this one stays small on purpose.)
"""

from __future__ import annotations

import json
import os
import secrets

__all__ = ["atomic_bytes_write", "atomic_json_write", "write_all", "TEMP_MARK"]

TEMP_MARK = ".ewtmp"
"""Every temp file made here has a name ending in this mark: recognisable, never a target."""

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of `data` to `fd` (a short write is continued, an error raised)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def atomic_json_write(
    path: str, obj: object, *, fsync: bool = True, mode: int = 0o644, fsync_dir: bool = False
) -> os.stat_result:
    """Write `obj` as JSON to `path` atomically; return the stat of the file now at `path`."""
    data = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    return atomic_bytes_write(path, data, fsync=fsync, mode=mode, fsync_dir=fsync_dir)


def atomic_bytes_write(
    path: str, data: bytes, *, fsync: bool = True, mode: int = 0o644, fsync_dir: bool = False
) -> os.stat_result:
    """Write `data` to `path` atomically; return the stat of the file now at `path`."""
    directory, base = os.path.split(path)
    temp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}{TEMP_MARK}")
    fd = os.open(temp, _FLAGS, mode)
    try:
        try:
            write_all(fd, data)
            if fsync:
                os.fsync(fd)
            stat = os.fstat(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        _unlink_quietly(temp)
        raise
    if fsync_dir:
        dir_fd = os.open(directory or ".", os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return stat


def _unlink_quietly(temp: str) -> None:
    # The original failure is what the caller needs; a temp that vanished already is fine, and a
    # temp that cannot be removed keeps its recognisable name (TEMP_MARK) for a later sweep.
    try:
        os.unlink(temp)
    except FileNotFoundError:
        pass
    except OSError as exc:
        import logging

        logging.getLogger("errwise.ops").warning("cannot remove temp file %s: %s", temp, exc)
