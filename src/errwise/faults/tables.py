"""The operations errwise.faults can fail, and the faults that fit each one.

Promise: `OPERATIONS` names every interceptable operation once; each `Operation.faults` holds only
errnos the underlying call can really return (from its Linux/POSIX manual page: write(2), open(2),
fsync(2), rename(2), unlink(2), mkdir(2), kill(2), connect(2), send(2), recv(2), stat(2) ...) plus
the special faults that fit it, most typical first; `Operation.sweep` is the small default set a
failure-path sweep tries (disk full / permission / I/O error for writes, not-found / permission
for opens, command-not-found / non-zero exit / timeout for subprocesses ...).
"""

from __future__ import annotations

import errno
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["Operation", "OPERATIONS", "SPECIAL_FAULTS"]

SPECIAL_FAULTS: Mapping[str, str] = MappingProxyType(
    {
        "short": "a short read or write: fewer bytes than asked for, no error",
        "interrupt": "KeyboardInterrupt raised at the operation (Ctrl-C arriving there)",
        "nonzero": "the subprocess exits with status 1",
        "timeout": "subprocess.TimeoutExpired, or socket.timeout for a socket operation",
        "locked": 'sqlite3.OperationalError("database is locked")',
        "disk-io": 'sqlite3.OperationalError("disk I/O error")',
        "cantopen": 'sqlite3.OperationalError("unable to open database file")',
        "unsupported": "io.UnsupportedOperation: the stream has no file descriptor",
    }
)
"""Fault names that are not errno names, and what each one does."""


@dataclass(frozen=True, slots=True)
class Operation:
    """One interceptable operation: its name, every fault that fits it, and the sweep's defaults."""

    name: str
    faults: tuple[str, ...]
    sweep: tuple[str, ...]
    doc: str = ""

    def __post_init__(self) -> None:
        for fault in self.faults:
            if fault not in SPECIAL_FAULTS and not isinstance(getattr(errno, fault, None), int):
                raise ValueError(f"{self.name}: {fault!r} is neither an errno name nor a special")
        missing = [fault for fault in self.sweep if fault not in self.faults]
        if missing:
            raise ValueError(f"{self.name}: sweep faults {missing} are not in its table")


def _t(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# open(2); EEXIST for mode "x", ENOSPC/EDQUOT when O_CREAT allocates an inode.
_OPEN = _t(
    "ENOENT EACCES EISDIR ENOTDIR EEXIST ENOSPC EDQUOT EROFS EMFILE ENFILE EPERM ELOOP"
    " ENAMETOOLONG ETXTBSY EINTR ENXIO EOVERFLOW EFBIG ENOMEM interrupt"
)
# read(2)
_READ = _t("EIO EINTR EAGAIN EISDIR EBADF EINVAL short interrupt")
# write(2)
_WRITE = _t("ENOSPC EDQUOT EIO EFBIG EPIPE EPERM EINTR EAGAIN EBADF EINVAL short interrupt")
# fsync(2)
_FSYNC = _t("EIO ENOSPC EDQUOT EROFS EINVAL EBADF EINTR interrupt")
# close(2) of a buffered file: the final flush's write(2) errors, and close's own.
_CLOSE = _t("EIO ENOSPC EDQUOT EINTR EBADF interrupt")
_FLUSH = _t("ENOSPC EDQUOT EIO EFBIG EPIPE EINTR EAGAIN EBADF interrupt")
# rename(2), POSIX rename() adds EIO.
_RENAME = _t(
    "EACCES EPERM ENOSPC EDQUOT EIO EXDEV ENOENT ENOTDIR EISDIR ENOTEMPTY EEXIST EBUSY EROFS"
    " EMLINK ELOOP ENAMETOOLONG EINVAL interrupt"
)
# unlink(2)
_UNLINK = _t("EACCES EPERM EIO ENOENT EBUSY EISDIR ENOTDIR EROFS ELOOP ENAMETOOLONG interrupt")
# mkdir(2)
_MKDIR = _t(
    "EACCES EPERM ENOSPC EDQUOT EEXIST ENOENT ENOTDIR EROFS EMLINK ELOOP ENAMETOOLONG interrupt"
)
# rmdir(2)
_RMDIR = _t("ENOTEMPTY EACCES EPERM EBUSY ENOENT ENOTDIR EROFS EINVAL ELOOP interrupt")
# link(2), symlink(2)
_LINK = _t(
    "EPERM EXDEV ENOSPC EEXIST EACCES EDQUOT EIO ENOENT ENOTDIR EMLINK EROFS ELOOP interrupt"
)
_SYMLINK = _t("EPERM EEXIST ENOSPC EACCES EDQUOT EIO ENOENT ENOTDIR EROFS ELOOP interrupt")
# kill(2)
_KILL = _t("ESRCH EPERM EINVAL interrupt")
# opendir(3) / getdents(2)
_LISTDIR = _t("ENOENT EACCES ENOTDIR EMFILE ENFILE ENOMEM EIO interrupt")
# stat(2), POSIX stat() adds EIO.
_STAT = _t("ENOENT EACCES ENOTDIR ELOOP ENAMETOOLONG EOVERFLOW EIO ENOMEM interrupt")
# chmod(2)
_CHMOD = _t("EPERM EROFS EACCES ENOENT ENOTDIR EIO ELOOP interrupt")
# shutil copies: open(2) + read(2) + write(2) of both ends.
_COPY = _t("ENOSPC EACCES EIO ENOENT EISDIR ENOTDIR EDQUOT EROFS EMFILE EPERM EFBIG interrupt")
_COPYTREE = _t("ENOSPC EACCES EIO ENOENT EEXIST ENOTDIR EDQUOT EROFS EPERM interrupt")
_MOVE = _t("ENOSPC EACCES EIO EPERM ENOENT EXDEV EEXIST ENOTDIR EDQUOT EROFS EBUSY interrupt")
_RMTREE = _t("EACCES EPERM EIO ENOENT ENOTEMPTY EBUSY ENOTDIR EROFS interrupt")
# fork(2) + execve(2); "nonzero" and "timeout" are the child's doing.
_SPAWN = _t("ENOENT EACCES ENOEXEC E2BIG EAGAIN ENOMEM EMFILE ENOTDIR nonzero timeout interrupt")
# connect(2), send(2), recv(2)
_CONNECT = _t(
    "ECONNREFUSED ETIMEDOUT ENETUNREACH EHOSTUNREACH EADDRNOTAVAIL ECONNRESET EACCES EPERM"
    " ENOENT EAGAIN EINTR timeout interrupt"
)
_SEND = _t(
    "ECONNRESET EPIPE ENOTCONN EAGAIN ENOBUFS EMSGSIZE EHOSTUNREACH EACCES EINTR timeout short"
    " interrupt"
)
_SENDALL = tuple(fault for fault in _SEND if fault != "short")
_RECV = _t("ECONNRESET ETIMEDOUT ECONNREFUSED ENOTCONN EAGAIN EINTR timeout short interrupt")

_SPECS: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    ("open", _OPEN, "ENOENT EACCES", "builtins.open / io.open / pathlib.Path.open and friends"),
    ("os.open", _OPEN, "ENOENT EACCES", "os.open"),
    ("file.read", _READ, "EIO", "read/readline/readlines/readinto/iteration of an open file"),
    ("file.write", _WRITE, "ENOSPC EIO", "write/writelines of an open file"),
    ("file.flush", _FLUSH, "ENOSPC EIO", "flush of an open file"),
    ("file.close", _CLOSE, "ENOSPC EIO", "close of an open file (also leaving `with`)"),
    ("file.fileno", ("unsupported", "EBADF", "interrupt"), "unsupported", "fileno of a file"),
    ("os.read", _READ, "EIO", "os.read"),
    ("os.write", _WRITE, "ENOSPC EIO", "os.write"),
    ("os.fsync", _FSYNC, "EIO ENOSPC", "os.fsync"),
    ("os.replace", _RENAME, "ENOSPC EACCES EIO", "os.replace"),
    ("os.rename", _RENAME, "ENOSPC EACCES EIO", "os.rename"),
    ("os.unlink", _UNLINK, "EACCES EIO", "os.unlink"),
    ("os.remove", _UNLINK, "EACCES EIO", "os.remove"),
    ("os.mkdir", _MKDIR, "EACCES ENOSPC", "os.mkdir, pathlib.Path.mkdir"),
    ("os.makedirs", _MKDIR, "EACCES ENOSPC", "os.makedirs"),
    ("os.rmdir", _RMDIR, "ENOTEMPTY EACCES", "os.rmdir, pathlib.Path.rmdir"),
    ("os.link", _LINK, "EPERM EXDEV ENOSPC", "os.link"),
    ("os.symlink", _SYMLINK, "EPERM EEXIST", "os.symlink"),
    ("os.kill", _KILL, "ESRCH EPERM", "os.kill"),
    ("os.listdir", _LISTDIR, "ENOENT EACCES", "os.listdir"),
    ("os.scandir", _LISTDIR, "ENOENT EACCES", "os.scandir, pathlib.Path.iterdir/glob"),
    ("os.stat", _STAT, "ENOENT EACCES", "os.stat, pathlib.Path.stat/exists/is_file"),
    ("os.chmod", _CHMOD, "EPERM EROFS", "os.chmod, pathlib.Path.chmod"),
    ("shutil.copy", _COPY, "ENOSPC EACCES EIO", "shutil.copy"),
    ("shutil.copy2", _COPY, "ENOSPC EACCES EIO", "shutil.copy2"),
    ("shutil.copyfile", _COPY, "ENOSPC EACCES EIO", "shutil.copyfile"),
    ("shutil.copytree", _COPYTREE, "ENOSPC EACCES", "shutil.copytree"),
    ("shutil.move", _MOVE, "ENOSPC EACCES EIO", "shutil.move"),
    ("shutil.rmtree", _RMTREE, "EACCES EBUSY", "shutil.rmtree (honours ignore_errors/onerror)"),
    ("subprocess.run", _SPAWN, "ENOENT nonzero timeout", "subprocess.run"),
    ("subprocess.Popen", _SPAWN, "ENOENT nonzero", "subprocess.Popen"),
    ("subprocess.call", _SPAWN, "ENOENT nonzero timeout", "subprocess.call"),
    ("subprocess.check_call", _SPAWN, "ENOENT nonzero timeout", "subprocess.check_call"),
    ("subprocess.check_output", _SPAWN, "ENOENT nonzero timeout", "subprocess.check_output"),
    ("socket.connect", _CONNECT, "ECONNREFUSED timeout", "socket.socket.connect"),
    ("socket.send", _SEND, "ECONNRESET timeout", "socket.socket.send"),
    ("socket.sendall", _SENDALL, "ECONNRESET timeout", "socket.socket.sendall"),
    ("socket.sendto", _SEND, "ECONNRESET timeout", "socket.socket.sendto"),
    ("socket.recv", _RECV, "ECONNRESET timeout", "socket.socket.recv"),
    ("socket.recv_into", _RECV, "ECONNRESET timeout", "socket.socket.recv_into"),
    ("sqlite3.connect", _t("cantopen disk-io interrupt"), "cantopen", "sqlite3.connect"),
    (
        "sqlite3.execute",
        _t("locked disk-io interrupt"),
        "locked disk-io",
        "execute* on a connection or cursor",
    ),
    (
        "sqlite3.commit",
        _t("locked disk-io interrupt"),
        "locked disk-io",
        "commit (also leaving `with conn`)",
    ),
)

OPERATIONS: Mapping[str, Operation] = MappingProxyType(
    {name: Operation(name, faults, _t(sweep), doc) for name, faults, sweep, doc in _SPECS}
)
"""Every operation name -> its `Operation`."""
