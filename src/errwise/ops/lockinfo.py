"""What a lock file says and whether its owner is alive: `inspect_lock`, `LockInfo`, `LockProblem`.

Promise: `inspect_lock(path)` never raises for anything it finds on disk. It returns `Ok(LockInfo)`
when the file is a valid lock whose owner is alive (and, for an owner on another host, whose lease
has not expired), and otherwise `Err(LockProblem)` with one distinct `reason`:

- `not_found`: no lock file (recoverable: the lock is free).
- `held`: the file is being created by an acquirer this very moment (empty and young); the
  `FileLock` reports `held` with the owner's `LockInfo` when acquiring times out (recoverable).
- `stale`: the owner is proven dead (this host: the pid is gone, is a zombie, or was reused — its
  process start time differs — or the host rebooted) or, for another host, its lease expired;
  `why` says which (recoverable: it may be broken).
- `corrupted`: the file cannot be read as an errwise lock (seed 004's old `PID: …` text format, bad
  JSON, missing fields, a directory or symlink at the path); `content` shows what was found (not
  recoverable: a human must look).
- `permission_denied`: the file cannot be read (not recoverable by retrying).
- `io_error`: any other OS error; `recoverable` follows the errno (EAGAIN, EINTR, EBUSY: yes).

Liveness on this host never guesses: EPERM from `kill(pid, 0)` means the owner is alive (another
user's process); only a missing pid, a zombie, a different process start time (from
`/proc/<pid>/stat`) or a different boot id proves death. An owner on another host is judged by its
lease alone (clocks of the two hosts are assumed to agree to well within one lease).
"""

from __future__ import annotations

import errno
import functools
import getpass
import json
import math
import os
import socket
import stat as stat_mod
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from errwise.classify import classify
from errwise.error import EnvError, Error, usage
from errwise.result import Err, Ok, Result

__all__ = [
    "LOCK_FORMAT",
    "LockInfo",
    "LockProblem",
    "LockReason",
    "inspect_lock",
    "owner_liveness",
    "process_start_time",
]

LOCK_FORMAT = "errwise.lock/1"
"""The `format` field of every lock file errwise writes."""

LockReason = Literal["not_found", "held", "stale", "corrupted", "permission_denied", "io_error"]

_MAX_LOCK_BYTES = 64 * 1024
_SHOWN_CONTENT_CHARS = 2000
CREATION_GRACE_S = 5.0
"""An empty lock file younger than this is an acquirer between create and write: `held`."""

_PROBLEM_CODES: dict[str, str] = {
    "not_found": "ERR_NOT_FOUND",
    "held": "ERR_LOCK_HELD",
    "stale": "ERR_LOCK_STALE",
    "corrupted": "ERR_LOCK_CORRUPT",
    "permission_denied": "ERR_PERMISSION_DENIED",
    "io_error": "ERR_IO",
}


@dataclass(frozen=True, slots=True)
class LockInfo:
    """The owner record of a lock file (times are seconds since the epoch)."""

    path: str
    pid: int
    hostname: str
    user: str
    start_time: int | None
    """The owner's process start time in clock ticks after boot (`/proc/<pid>/stat` field 22)."""
    boot_id: str | None
    acquired_at: float
    heartbeat_at: float
    lease: float
    token: str = field(repr=False)
    """The owner's random token (left out of repr and `to_dict`: logs need not carry it)."""

    @property
    def expires_at(self) -> float:
        """When the lease runs out unless renewed."""
        return self.heartbeat_at + self.lease

    @property
    def on_this_host(self) -> bool:
        """Was the lock taken on this host?"""
        return self.hostname == this_host()

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe owner fields (the owner token is left out: it is the owner's secret)."""
        return {
            "path": self.path,
            "pid": self.pid,
            "hostname": self.hostname,
            "user": self.user,
            "start_time": self.start_time,
            "acquired_at": self.acquired_at,
            "heartbeat_at": self.heartbeat_at,
            "lease": self.lease,
        }


@dataclass(frozen=True, slots=True)
class LockProblem:
    """Why a path does not hold a valid, live lock; see the module docstring for the reasons."""

    reason: LockReason
    path: str
    message: str
    recoverable: bool
    info: LockInfo | None = None
    """The owner record, when one could be read (`held`, `stale`)."""
    why: str | None = None
    """For `stale`: the proof (dead pid, reused pid, reboot, expired lease)."""
    content: str | None = None
    """For `corrupted`: what was found (truncated to 2,000 characters)."""
    error: Error | None = field(default=None, compare=False)
    """For `permission_denied` / `io_error`: the classified OS error (its cause is the OSError)."""

    def to_error(self) -> Error:
        """This problem as a classified `errwise.Error` (chained to the OS error, if any)."""
        context: dict[str, object] = {"lock": self.path, "reason": self.reason}
        if self.info is not None:
            context["owner"] = self.info.to_dict()
        if self.why is not None:
            context["why"] = self.why
        if self.content is not None:
            context["content"] = self.content
        err = EnvError(
            _PROBLEM_CODES[self.reason],
            self.message,
            context=context,
            recoverable=self.recoverable,
        )
        for hint in _hints(self):
            err.add_hint(hint)
        if self.error is not None:
            err.__cause__ = self.error
        return err


def _hints(problem: LockProblem) -> list[str]:
    if problem.reason == "held":
        return ["wait for the owner to release the lock, or retry with a longer timeout"]
    if problem.reason == "stale":
        return ["acquiring the lock breaks a stale lock safely; no manual action is needed"]
    if problem.reason == "corrupted":
        return [
            f"look at {problem.path}; if no process still uses it, remove it by hand",
        ]
    if problem.reason == "permission_denied":
        return [f"check the permissions of {problem.path} and its directory"]
    return []


# -- this host and its processes ----------------------------------------------------------------


@functools.cache
def this_host() -> str:
    """This host's name, as written into lock files."""
    return socket.gethostname()


@functools.cache
def boot_id() -> str | None:
    """This boot's id (Linux), or None where the system does not expose one."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            return fh.read().strip() or None
    except OSError:
        return None  # not Linux: the pid and start time still prove death


def current_user() -> str:
    """The user name for lock records (`uid:N` when the name cannot be looked up)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


def _proc_stat_fields(pid: int) -> list[str] | None:
    """The fields of `/proc/<pid>/stat` after the command name (field 3 onwards)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        return None
    end = raw.rfind(b")")
    if end < 0:
        return None
    return raw[end + 2 :].decode("ascii", "replace").split()


def process_start_time(pid: int) -> int | None:
    """The start time of process `pid` in clock ticks after boot, or None when unknown.

    None means the process does not exist or the system has no `/proc` (then only the pid can be
    checked). The value is what makes a pid reused by another process distinguishable.
    """
    if type(pid) is not int or pid <= 0:
        raise usage("ERR_USAGE", "pid must be a positive int", got=repr(pid))
    try:
        fields = _proc_stat_fields(pid)
    except OSError:
        return None
    if fields is None or len(fields) < 20:
        return None
    try:
        return int(fields[19])
    except ValueError:
        return None


def owner_liveness(info: LockInfo, *, now: float | None = None) -> tuple[bool, str]:
    """Is the owner of `info` alive? Returns `(alive, why)`; `why` explains the verdict."""
    if not info.on_this_host:
        now = time.time() if now is None else now
        if now > info.expires_at:
            return False, (
                f"the lease expired {now - info.expires_at:.1f} s ago (owner pid {info.pid} on "
                f"host {info.hostname}, lease {info.lease:g} s)"
            )
        return True, f"the lease of the owner on host {info.hostname} is current"
    ours = boot_id()
    if ours is not None and info.boot_id is not None and info.boot_id != ours:
        return False, "this host rebooted since the lock was taken (boot id differs)"
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return False, f"owner pid {info.pid} is not running on this host"
    except PermissionError:
        pass  # EPERM: the process exists and belongs to another user: alive
    try:
        fields = _proc_stat_fields(info.pid)
    except OSError:
        fields = None
    if fields is None:
        if os.path.isdir("/proc/self"):
            return False, f"owner pid {info.pid} is not running on this host"
        return True, f"owner pid {info.pid} is running (no /proc: start time not checked)"
    if fields and fields[0] in ("Z", "X"):
        return False, f"owner pid {info.pid} has exited (zombie)"
    if info.start_time is not None and len(fields) >= 20:
        started = fields[19]
        if started != str(info.start_time):
            return False, (
                f"pid {info.pid} was reused: it started at tick {started}, the owner at "
                f"tick {info.start_time}"
            )
    return True, f"owner pid {info.pid} is running"


# -- reading lock files ---------------------------------------------------------------------------


def inspect_lock(path: str | os.PathLike[str]) -> Result[LockInfo, LockProblem]:
    """Read and judge the lock file at `path` (see the module docstring)."""
    p = lock_path(path)
    read = read_lock_file(p)
    if isinstance(read, LockProblem):
        return Err(read)
    info = read
    alive, why = owner_liveness(info)
    if alive:
        return Ok(info)
    return Err(
        LockProblem("stale", p, f"stale lock {p}: {why}", recoverable=True, info=info, why=why)
    )


def lock_path(path: object) -> str:
    """Validate a lock path argument and return it as a str."""
    if not isinstance(path, (str, os.PathLike)):
        raise usage("ERR_USAGE", "a lock path must be str or os.PathLike", got=type(path).__name__)
    p = os.fspath(path)
    if not isinstance(p, str) or not p:
        raise usage("ERR_USAGE", "a lock path must be a non-empty text path", got=repr(p))
    return p


def read_lock_file(p: str) -> LockInfo | LockProblem:
    """Read and parse the lock file at `p` (no liveness check)."""
    try:
        fd = os.open(p, os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        return _open_problem(p, exc)
    try:
        st = os.fstat(fd)
        if not stat_mod.S_ISREG(st.st_mode):
            kind = "a directory" if stat_mod.S_ISDIR(st.st_mode) else "not a regular file"
            return LockProblem(
                "corrupted", p, f"lock path {p} is {kind}", recoverable=False, content=f"<{kind}>"
            )
        raw = os.read(fd, _MAX_LOCK_BYTES + 1)
    except OSError as exc:
        return _open_problem(p, exc)
    finally:
        os.close(fd)
    if not raw and time.time() - st.st_mtime < CREATION_GRACE_S:
        return LockProblem(
            "held",
            p,
            f"lock {p} is being created by another process",
            recoverable=True,
            why="the lock file is empty and was created moments ago",
        )
    return parse_lock(p, raw)


def _open_problem(p: str, exc: OSError) -> LockProblem:
    if exc.errno == errno.ENOENT:
        return LockProblem("not_found", p, f"no lock file at {p}", recoverable=True)
    if exc.errno == errno.ELOOP:
        return LockProblem(
            "corrupted",
            p,
            f"lock path {p} is a symbolic link",
            recoverable=False,
            content=f"<symlink to {_readlink(p)}>",
        )
    err = classify(exc).with_context(lock=p)
    if exc.errno in (errno.EACCES, errno.EPERM):
        return LockProblem(
            "permission_denied",
            p,
            f"cannot read lock {p}: permission denied",
            recoverable=False,
            error=err,
        )
    message = f"cannot read lock {p}: {err.message}"
    return LockProblem("io_error", p, message, recoverable=err.recoverable, error=err)


def _readlink(p: str) -> str:
    try:
        return os.readlink(p)
    except OSError as exc:
        return f"? ({exc.strerror})"


def parse_lock(p: str, raw: bytes) -> LockInfo | LockProblem:
    """Parse lock file bytes; a `corrupted` problem (showing the content) if they are invalid."""
    shown = raw[:_SHOWN_CONTENT_CHARS].decode("utf-8", "backslashreplace")
    if len(raw) > _SHOWN_CONTENT_CHARS:
        shown += f"... ({len(raw)} bytes in all)"

    def corrupted(why: str) -> LockProblem:
        return LockProblem(
            "corrupted", p, f"corrupted lock file {p}: {why}", recoverable=False, content=shown
        )

    if len(raw) > _MAX_LOCK_BYTES:
        return corrupted(f"larger than {_MAX_LOCK_BYTES} bytes")
    if not raw:
        return corrupted("the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return corrupted("not valid UTF-8")
    try:
        data = json.loads(text)
    except ValueError:
        if any(line.startswith("PID:") for line in text.splitlines()):
            return corrupted("an old text-format lock ('PID: ...' lines), not errwise lock JSON")
        return corrupted("not valid JSON")
    if not isinstance(data, dict):
        return corrupted("not a JSON object")
    if data.get("format") != LOCK_FORMAT:
        return corrupted(f"format is {data.get('format')!r}, expected {LOCK_FORMAT!r}")
    try:
        info = LockInfo(
            path=p,
            pid=_field(data, "pid", int),
            hostname=_field(data, "hostname", str),
            user=_field(data, "user", str),
            start_time=_optional(data, "start_time", int),
            boot_id=_optional(data, "boot_id", str),
            acquired_at=_number(data, "acquired_at"),
            heartbeat_at=_number(data, "heartbeat_at"),
            lease=_number(data, "lease"),
            token=_field(data, "token", str),
        )
    except _BadField as bad:
        return corrupted(str(bad))
    if info.pid <= 0:
        return corrupted(f"pid {info.pid} is not a process id")
    if info.lease <= 0:
        return corrupted(f"lease {info.lease} is not positive")
    if not info.token:
        return corrupted("the owner token is empty")
    return info


class _BadField(ValueError):
    """A field of a lock file is missing or has the wrong type (internal to parse_lock)."""


def _field(data: dict[str, Any], name: str, typ: type[Any]) -> Any:
    value = data.get(name)
    if type(value) is not typ:
        raise _BadField(f"field {name!r} is missing or not {typ.__name__}: {value!r}")
    return value


def _optional(data: dict[str, Any], name: str, typ: type[Any]) -> Any:
    value = data.get(name)
    if value is None:
        return None
    return _field(data, name, typ)


def _number(data: dict[str, Any], name: str) -> float:
    value = data.get(name)
    if (type(value) is int or type(value) is float) and math.isfinite(value):
        return float(value)
    raise _BadField(f"field {name!r} is missing or not a finite number: {value!r}")
