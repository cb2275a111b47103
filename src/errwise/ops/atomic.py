"""Atomic file writes: readers see the old content or the new content, never a torn mix.

Promise:
- `atomic_write(path, data)` (bytes or str) and `with atomic_writer(path) as f:` write to a temp
  file in the target's directory, created exclusively (`O_CREAT|O_EXCL|O_NOFOLLOW`) under an
  unpredictable, recognisable name naming its writer (`.<name>.errwise-tmp-<pid>-<start>-<random>`,
  see `is_temp_name` and `errwise.ops.leftovers`), then flush, fsync, `os.replace` onto the
  target and fsync the directory.
- Before creating its temp file it sweeps the directory (`errwise.ops.leftovers.sweep`: at most
  once per directory every few minutes, one bounded scan, never failing the write): temp files
  and staging directories of dead writers, older than a safe age, are removed.
- On overwrite the target's permission bits are kept (unless `mode` is given) and its owner and
  group too when the process may set them (root, or the same owner); a new file gets `mode`, or
  the usual `0o666 & ~umask`.
- On any failure before the replace, the target is untouched and the temp file is removed; the
  error is classified (ENOSPC -> ERR_DISK_FULL, EACCES -> ERR_PERMISSION_DENIED, EROFS ->
  ERR_READ_ONLY_FS, ...) with `path` in its context. An exception raised inside the
  `atomic_writer` block is re-raised unchanged after the same clean-up. If the temp file itself
  cannot be removed, the error says so (`leftover_temp`): nothing is left behind silently.
- A symlink at `path` is followed: the file it (finally) points to is replaced and the link stays
  a link. With `atomic_write(..., follow_symlinks=False)` it is not: the link itself is replaced
  by the new regular file (with `mode`, or the usual `0o666 & ~umask`) and what it pointed to is
  never touched. A symlink planted at the temp path is never followed (`O_EXCL|O_NOFOLLOW`).
- Only a process killed mid-write (SIGKILL, power loss) can leave a temp file behind; its name
  always matches `is_temp_name` and never the target's, and the next write in that directory
  (or `errwise clean`) removes it once it is provably abandoned.
"""

from __future__ import annotations

import codecs
import errno
import io
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, BinaryIO, Generic, Literal, TextIO, TypeVar, overload

from errwise.classify import classify
from errwise.error import Error, env, usage
from errwise.ops import leftovers

__all__ = ["atomic_write", "atomic_writer", "fsync_directory", "is_temp_name", "TEMP_MARKER"]

TEMP_MARKER = ".errwise-tmp-"
"""Every temp file name contains this marker: `.<target name>.errwise-tmp-<pid>-<start>-<16 hex
digits>`. Names written by earlier errwise versions lack the `<pid>-<start>-` part: still
recognised by `is_temp_name`, never swept (nothing proves their writer dead)."""

_TEMP_RE = re.compile(r"^\..*\.errwise-tmp-(?:[1-9][0-9]*-[0-9]+-)?[0-9a-f]{16}$", re.DOTALL)
_NAME_KEEP = 120  # bytes of the target's name kept in the temp name (NAME_MAX is 255 bytes)
_CREATE_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_CREATE_ATTEMPTS = 16
_MAX_SYMLINK_HOPS = 40

PathArg = str | os.PathLike[str]


_F = TypeVar("_F", TextIO, BinaryIO)


class _WriterContext(Generic[_F]):
    """The context manager `atomic_writer` returns (a thin typed wrapper of a generator)."""

    __slots__ = ("_gen",)

    def __init__(self, gen: Iterator[IO[str]] | Iterator[IO[bytes]]) -> None:
        self._gen = contextmanager(lambda: gen)()

    def __enter__(self) -> _F:
        return self._gen.__enter__()  # type: ignore[return-value]

    def __exit__(self, *exc_info: object) -> bool | None:
        return self._gen.__exit__(*exc_info)  # type: ignore[arg-type]


def is_temp_name(name: str) -> bool:
    """Is `name` (a base name) the name of an `atomic_write` temp file?"""
    return bool(_TEMP_RE.match(name))


def atomic_write(
    path: PathArg,
    data: bytes | bytearray | memoryview | str,
    *,
    mode: int | None = None,
    fsync: bool = True,
    encoding: str = "utf-8",
    follow_symlinks: bool = True,
) -> None:
    """Replace the file at `path` with `data`, atomically (see the module promise).

    `str` data is encoded with `encoding` before anything on disk is touched. `mode` sets the
    permission bits of the new file (default: the old file's, or `0o666 & ~umask` for a new
    one). `fsync=False` skips both fsyncs: still atomic for readers, but not durable across a
    power loss. `follow_symlinks=False` replaces a symlink at `path` instead of its target (for
    paths in a directory someone else may have filled, such as a cache in a cloned repository).
    """
    target = _check_path(path)
    _check_options(mode, fsync)
    if not isinstance(follow_symlinks, bool):
        raise usage(
            "ERR_USAGE", "follow_symlinks must be a bool", got=type(follow_symlinks).__name__
        )
    if isinstance(data, str):
        if not isinstance(encoding, str):
            raise usage("ERR_USAGE", "encoding must be a str", got=type(encoding).__name__)
        try:
            payload: bytes | bytearray | memoryview = data.encode(encoding)
        except (UnicodeEncodeError, LookupError) as exc:
            raise usage(
                "ERR_USAGE", f"cannot encode the data as {encoding}: {exc}", path=target
            ) from exc
    elif isinstance(data, (bytes, bytearray)):
        payload = data
    elif isinstance(data, memoryview):
        if not data.c_contiguous:
            raise usage("ERR_USAGE", "a memoryview must be C-contiguous", path=target)
        payload = data
    else:
        raise usage("ERR_USAGE", "data must be bytes or str", got=type(data).__name__, path=target)
    real = _resolve(target) if follow_symlinks else target
    fd, temp = _create_temp(target, real, mode, follow_symlinks=follow_symlinks)
    try:
        _write_all(fd, payload)
        if fsync:
            os.fsync(fd)
    except BaseException as exc:
        leftover = _abandon(fd, temp, exc)
        if isinstance(exc, OSError):
            raise _classified(exc, target, real, "write", leftover) from exc
        raise
    _close_and_publish(fd, temp, target, real, fsync)


@overload
def atomic_writer(
    path: PathArg,
    *,
    binary: Literal[False] = False,
    mode: int | None = None,
    fsync: bool = True,
    encoding: str = "utf-8",
    newline: str | None = None,
) -> _WriterContext[TextIO]: ...
@overload
def atomic_writer(
    path: PathArg,
    *,
    binary: Literal[True],
    mode: int | None = None,
    fsync: bool = True,
    encoding: str = "utf-8",
    newline: str | None = None,
) -> _WriterContext[BinaryIO]: ...
def atomic_writer(
    path: PathArg,
    *,
    binary: bool = False,
    mode: int | None = None,
    fsync: bool = True,
    encoding: str = "utf-8",
    newline: str | None = None,
) -> _WriterContext[TextIO] | _WriterContext[BinaryIO]:
    """`with atomic_writer(path) as f:` — write through a file object, publish on a clean exit.

    The file object writes to the temp file; leaving the block normally flushes, fsyncs and
    replaces the target (same guarantees as `atomic_write`); leaving it by an exception removes
    the temp file, leaves the target untouched and re-raises. Text mode unless `binary=True`.
    Arguments are checked here, at the call, not when the block is entered.
    """
    target = _check_path(path)
    _check_options(mode, fsync)
    if not isinstance(binary, bool):
        raise usage("ERR_USAGE", "binary must be a bool", got=type(binary).__name__)
    if not binary:
        if not isinstance(encoding, str):
            raise usage("ERR_USAGE", "encoding must be a str", got=type(encoding).__name__)
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise usage("ERR_USAGE", f"unknown encoding {encoding!r}") from exc
        if newline not in (None, "", "\n", "\r", "\r\n"):
            raise usage("ERR_USAGE", "newline must be None, '', '\\n', '\\r' or '\\r\\n'")
    return _WriterContext(
        _writer(target, binary=binary, mode=mode, fsync=fsync, encoding=encoding, newline=newline)
    )


def _writer(
    target: str,
    *,
    binary: bool,
    mode: int | None,
    fsync: bool,
    encoding: str,
    newline: str | None,
) -> Iterator[IO[str]] | Iterator[IO[bytes]]:
    real = _resolve(target)
    fd, temp = _create_temp(target, real, mode)
    try:
        raw = os.fdopen(fd, "wb", closefd=False)
        handle: IO[str] | IO[bytes] = (
            raw if binary else io.TextIOWrapper(raw, encoding=encoding, newline=newline)
        )
    except BaseException as exc:
        leftover = _abandon(fd, temp, exc)
        if isinstance(exc, OSError):
            raise _classified(exc, target, real, "write", leftover) from exc
        raise
    try:
        yield handle
        if handle.closed:
            raise usage(
                "ERR_USAGE", "the file was closed inside the atomic_writer block", path=target
            )
        handle.flush()
        if fsync:
            os.fsync(fd)
    except BaseException as exc:
        _detach(handle)
        leftover = _abandon(fd, temp, exc)
        if isinstance(exc, OSError):
            raise _classified(exc, target, real, "write", leftover) from exc
        raise
    _detach(handle)
    _close_and_publish(fd, temp, target, real, fsync)


def _detach(handle: IO[str] | IO[bytes]) -> None:
    """Drop the Python file object without touching the descriptor (closefd=False)."""
    try:
        handle.close()
    # errwise: ignore[swallowed-exception] -- the descriptor is closed and checked by the caller
    except (OSError, ValueError):
        # A flush on close failed: the error that matters was already raised (or the descriptor
        # is abandoned right after); the raw descriptor is closed by the caller either way.
        pass


# -- the steps ---------------------------------------------------------------------------------


def _check_path(path: object) -> str:
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str):
        raise usage("ERR_USAGE", "path must be a str or os.PathLike[str]", got=type(path).__name__)
    if not path or "\0" in path:
        raise usage("ERR_USAGE", "path must be a non-empty string without NUL", path=repr(path))
    if path.endswith(("/", os.sep)) or os.path.basename(path) in ("", ".", ".."):
        raise usage("ERR_USAGE", "path must name a file, not a directory", path=path)
    return path


def _check_options(mode: object, fsync: object) -> None:
    if mode is not None and (type(mode) is not int or not 0 <= mode <= 0o7777):
        raise usage("ERR_USAGE", "mode must be None or permission bits in 0..0o7777", mode=mode)
    if not isinstance(fsync, bool):
        raise usage("ERR_USAGE", "fsync must be a bool", got=type(fsync).__name__)


def _resolve(target: str) -> str:
    """The path of the file to replace: `target`, or what a symlink at `target` finally names."""
    current = target
    for _ in range(_MAX_SYMLINK_HOPS):
        try:
            link = os.readlink(current)
        except OSError as exc:
            if exc.errno in (errno.EINVAL, errno.ENOENT):
                return current  # not a symlink (EINVAL) or nothing there yet (ENOENT)
            raise _classified(exc, target, current, "resolve") from exc
        current = os.path.join(os.path.dirname(current), link)
    loop = OSError(errno.ELOOP, os.strerror(errno.ELOOP), target)
    raise _classified(loop, target, current, "resolve") from loop


def _create_temp(
    target: str, real: str, mode: int | None, *, follow_symlinks: bool = True
) -> tuple[int, str]:
    directory, name = os.path.split(real)
    try:
        old: os.stat_result | None = os.stat(real) if follow_symlinks else os.lstat(real)
    except FileNotFoundError:
        old = None
    except OSError as exc:
        raise _classified(exc, target, real, "stat") from exc
    if old is not None and stat.S_ISLNK(old.st_mode):
        old = None  # not followed: the link is replaced by a new file (only lstat shows a link)
    if old is not None and not stat.S_ISREG(old.st_mode):
        if stat.S_ISDIR(old.st_mode):
            raise env(
                "ERR_IS_A_DIRECTORY", f"cannot write {target}: it is a directory", path=target
            )
        raise usage(
            "ERR_USAGE",
            f"cannot atomically replace {target}: it is not a regular file (a device, FIFO...)",
            path=target,
        )
    # New file without `mode`: let the kernel apply the umask, exactly as open() would.
    create_mode = 0o666 if old is None and mode is None else 0o600
    short = os.fsdecode(os.fsencode(name)[:_NAME_KEEP])  # in bytes: NAME_MAX counts bytes
    leftovers.sweep(directory or os.curdir)
    owner = leftovers.owner_tag()
    for _ in range(_CREATE_ATTEMPTS):
        temp = os.path.join(directory, f".{short}{TEMP_MARKER}{owner}-{os.urandom(8).hex()}")
        try:
            fd = os.open(temp, _CREATE_FLAGS, create_mode)
        except FileExistsError:
            continue  # a name collision or a planted file/symlink: never touch it, pick another
        except OSError as exc:
            raise _classified(exc, target, real, "create temp file") from exc
        break
    else:
        taken = OSError(errno.EEXIST, "no free temp file name", directory)
        raise _classified(taken, target, real, "create temp file") from taken
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        elif old is not None:
            os.fchmod(fd, stat.S_IMODE(old.st_mode))
            _keep_owner(fd, old)
    except BaseException as exc:
        leftover = _abandon(fd, temp, exc)
        if isinstance(exc, OSError):
            raise _classified(exc, target, real, "set permissions", leftover) from exc
        raise
    return fd, temp


def _keep_owner(fd: int, old: os.stat_result) -> None:
    new = os.fstat(fd)
    if (new.st_uid, new.st_gid) == (old.st_uid, old.st_gid):
        return
    try:
        os.fchown(fd, old.st_uid, old.st_gid)
    except PermissionError:
        # Documented: only a process allowed to chown keeps a foreign owner; the new file then
        # belongs to the writer, like any file this process creates.
        return


def _write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    view = memoryview(data).cast("B")
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _close_and_publish(fd: int, temp: str, target: str, real: str, fsync: bool) -> None:
    for operation in ("close", "replace"):
        try:
            if operation == "close":
                os.close(fd)
            else:
                os.replace(temp, real)
        except BaseException as exc:
            leftover = _abandon(None, temp, exc)
            if isinstance(exc, OSError):
                raise _classified(exc, target, real, operation, leftover) from exc
            raise
    if fsync:
        fsync_directory(os.path.dirname(real) or ".", target=target)


def fsync_directory(directory: str, *, target: str | None = None) -> None:
    """fsync a directory so a rename in it survives a power loss.

    A file system that cannot fsync directories (EINVAL) is accepted: rename durability there
    is whatever the file system offers. Any other failure is raised: the content is already in
    place (the rename happened), but its durability is unknown, and the caller must know.
    """
    try:
        dir_fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        err = classify(exc).with_context(path=target or directory, operation="fsync directory")
        raise err from exc
    try:
        os.fsync(dir_fd)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            err = classify(exc).with_context(
                path=target or directory, operation="fsync directory", replaced=True
            )
            raise err from exc
    finally:
        os.close(dir_fd)


def _abandon(fd: int | None, temp: str, exc: BaseException) -> str | None:
    """Close `fd` and remove `temp` after a failure; return the temp path if it could not go.

    Whatever was left behind is also noted on `exc`, so that the exception that propagates
    (classified or not) says so.
    """
    if fd is not None:
        try:
            os.close(fd)
        # errwise: ignore[swallowed-exception] -- on an error path; the error in flight is `exc`
        except OSError:
            pass  # the descriptor is released either way; the failure being handled is `exc`
    try:
        os.unlink(temp)
    except FileNotFoundError:
        return None
    except OSError as unlink_exc:
        exc.add_note(f"errwise: the temp file {temp} could not be removed: {unlink_exc}")
        if isinstance(exc, Error):
            exc.with_context(leftover_temp=temp)
        return temp
    return None


def _classified(
    exc: OSError, target: str, real: str, operation: str, leftover: str | None = None
) -> Error:
    """`exc` classified, with the path, the failed step and any leftover temp file in context."""
    # Classify a copy naming the target, so message, context and hints speak of the caller's
    # path rather than the temp file; the original stays the cause (`raise ... from exc`).
    err = classify(OSError(exc.errno, exc.strerror, target))
    err.message = f"cannot write {target} ({operation}): {err.message}"
    err.with_context(path=target, operation=operation)
    if real != target:
        err.with_context(resolved_path=real)
    if leftover is not None:
        err.with_context(leftover_temp=leftover)
        err.add_note(f"errwise: the temp file {leftover} could not be removed")
    return err
