"""Write a command's output to a file atomically (a private stop-gap until `errwise.atomic_write`
lands; then this module should delegate to it).

Promise: `write_atomic(path, text)` leaves either the old file or the complete new one, never a
partial file: it writes a temporary file in the same directory, fsyncs it, `os.replace`s it over
`path` and fsyncs the directory. On failure the temporary file is removed and a classified
`errwise.Error` (e.g. ERR_DISK_FULL, ERR_NOT_FOUND) naming the path is raised. The new file gets
the permissions a plain `open(path, "w")` would give it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

from errwise.classify import classify

__all__ = ["write_atomic"]


def write_atomic(path: str, text: str) -> None:
    """Replace `path` with `text` (UTF-8) atomically (see the module promise)."""
    target = os.path.abspath(path)
    directory = os.path.dirname(target)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=directory
        )
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
        tmp = None
        _fsync_dir(directory)
    except OSError as exc:
        raise classify(exc).with_context(output=path) from exc
    finally:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def _mode_for(target: str) -> int:
    try:
        return os.stat(target).st_mode & 0o7777  # keep an existing file's permissions
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
