"""`FileLock`: an inter-process lease lock held by a lock file, with a heartbeat.

Promise:
- Acquiring creates the lock file with `O_CREAT|O_EXCL` (never a rename over it) and writes its
  owner record (JSON: pid, hostname, user, process start time, boot id, acquired_at,
  heartbeat_at, lease, a random owner token) in one write. Two live owners never hold one lock.
- While held, one daemon thread per process renews `heartbeat_at` atomically every lease/3 for
  every held lock. A transient failure (EAGAIN, EINTR, EBUSY, EIO, a full disk for a moment) is
  retried and counted in `heartbeat_failures`; if the lease cannot be renewed before it expires,
  or the lock file stops being ours, the lock is *lost*: `on_lost(error)` is called once and
  `check()`, `release()` and leaving the `with` block raise ERR_LOCK_LOST. The owner is never left
  believing it holds a lock it does not.
- A stale lock (see `errwise.inspect_lock`) is broken safely: breaking, renewing and releasing all
  re-read the lock file under a short `flock` on a side file `<path>.guard` (the kernel drops it
  when its holder dies, so it cannot go stale) and act only if the file is still the one they
  judged. Of two processes breaking one stale lock exactly one becomes the owner; the other sees
  `held`. The side file stays after release (removing it would reopen the race it closes).
  Release removes the lock file only while its owner token is still ours.
- Failures are classified: ERR_LOCK_HELD on timeout (with the owner's record), ERR_LOCK_CORRUPT for
  a lock file that is not ours to judge (content shown), ERR_PERMISSION_DENIED, ERR_DISK_FULL and
  friends for OS errors (path in context), ERR_LOCK_LOST as above. Bad arguments: `UsageError`.

Not promised: the lock file is not fsynced (after a power loss the boot id proves its owner dead;
a file the crash left empty reads as `corrupted` and needs a human); owners on different hosts
must share a clock to well within one lease; a `FileLock` object is for one owner and is not
re-entrant.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import heapq
import itertools
import json
import logging
import math
import os
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Literal, Self

from errwise.classify import classify
from errwise.error import EnvError, Error, usage
from errwise.ops._atomicjson import atomic_bytes_write, write_all
from errwise.ops.lockinfo import (
    LOCK_FORMAT,
    LockInfo,
    LockProblem,
    boot_id,
    current_user,
    lock_path,
    owner_liveness,
    process_start_time,
    read_lock_file,
    this_host,
)

__all__ = ["FileLock"]

_log = logging.getLogger("errwise.ops.lock")

_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
_READ_FLAGS = os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
_GUARD_FLAGS = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
_TRANSIENT_ERRNOS = frozenset(
    {
        errno.EAGAIN,
        errno.EWOULDBLOCK,
        errno.EINTR,
        errno.EBUSY,
        errno.EIO,
        errno.ENOSPC,
        errno.EDQUOT,
        errno.ETIMEDOUT,
        errno.ENOLCK,
    }
)
_GUARD_TIMEOUT_S = 10.0
_POLL_MIN_S = 0.0005
_POLL_MAX_S = 0.05
_UNSET: Any = object()

State = Literal["released", "held", "lost"]
OnLost = Callable[[Error], object]


class FileLock:
    """An inter-process lease lock on `path` (see the module docstring).

    `FileLock(path, lease=30.0, heartbeat=True, timeout=30.0, on_lost=None)`: `lease` is how long
    the lock stays valid without renewal; `heartbeat=False` leaves renewal to the caller
    (`renew()`); `timeout` is the default for `acquire()` and the `with` statement (None: wait
    forever); `on_lost(error)` is called once, from the heartbeat thread or the caller's thread,
    when the lock is lost.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        lease: float = 30.0,
        heartbeat: bool = True,
        timeout: float | None = 30.0,
        on_lost: OnLost | None = None,
    ) -> None:
        self.path = lock_path(path)
        self.lease = _positive_seconds("lease", lease)
        if type(heartbeat) is not bool:
            raise usage("ERR_USAGE", "heartbeat must be a bool", got=type(heartbeat).__name__)
        self.heartbeat = heartbeat
        self.timeout = _timeout_arg(timeout)
        if on_lost is not None and not callable(on_lost):
            raise usage("ERR_USAGE", "on_lost must be callable or None", got=type(on_lost).__name__)
        self.on_lost = on_lost
        self.guard_path = self.path + ".guard"
        self.heartbeat_failures = 0
        """Transient heartbeat failures survived so far (over the life of this object)."""
        self._io = threading.Lock()
        """Serialises the file work of renew/beat/release (held during I/O)."""
        self._mutex = threading.Lock()
        """Guards the state fields (never held during I/O, so check() never waits on a disk)."""
        self._last_failure: Error | None = None
        self._state: State = "released"
        self._token = ""
        self._owner_pid = 0
        self._record: dict[str, Any] = {}
        self._record_bytes = b""
        self._renewed_mono = 0.0
        self._lost_message = ""
        self._lost_cause: BaseException | None = None

    # -- public API -------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"FileLock({self.path!r}, lease={self.lease:g}, state={self._state!r})"

    @property
    def state(self) -> State:
        """`released`, `held` or `lost` (as last observed; `check()` re-judges the lease)."""
        return self._state

    @property
    def info(self) -> LockInfo | None:
        """Our own owner record while held (or lost), else None."""
        if self._state == "released":
            return None
        return _info_from_record(self.path, self._record)

    def acquire(self, timeout: float | None = _UNSET) -> Self:
        """Take the lock, waiting up to `timeout` seconds (default: the lock's `timeout`).

        Raises ERR_LOCK_HELD (recoverable) when a live owner keeps it past the timeout,
        ERR_LOCK_CORRUPT for an unreadable lock file, or the classified OS error.
        """
        wait = self.timeout if timeout is _UNSET else _timeout_arg(timeout)
        deadline = math.inf if wait is None else time.monotonic() + wait
        with self._mutex:
            if self._state != "released":
                raise usage(
                    "ERR_USAGE",
                    f"this FileLock is {self._state} (it is not re-entrant); release it first",
                    lock=self.path,
                )
        token = secrets.token_hex(16)
        delay = _POLL_MIN_S
        last_owner: LockInfo | None = None
        quick_retries = 0
        while True:
            if self._create(token):
                return self
            outcome = self._judge(token, deadline)
            if outcome is True:
                return self
            if isinstance(outcome, LockInfo):
                last_owner = outcome
            now = time.monotonic()
            if now >= deadline:
                raise self._held_error(last_owner, wait)
            if outcome is None and quick_retries < 3:  # it vanished or was broken: retry at once
                quick_retries += 1
                continue
            quick_retries = 0
            time.sleep(min(delay * (0.5 + random.random()), deadline - now))
            delay = min(delay * 2, _POLL_MAX_S)

    def release(self) -> None:
        """Give the lock up: remove the lock file if it is still ours.

        Raises ERR_LOCK_LOST if the lock was lost while held (the file is removed only if it is
        still ours), `UsageError` if it is not held by this object, or the classified OS error if
        the file cannot be checked or removed: the lock is given up all the same (no more
        heartbeats), so another host can break it once the lease runs out, and this host once
        this process has exited.
        """
        self._require_owner_process()
        _heartbeater().remove(self)
        with self._io:
            with self._mutex:
                if self._state == "released":
                    raise usage("ERR_USAGE", "release() of a FileLock not held", lock=self.path)
                was_lost = self._state == "lost"
            try:
                ours = self._remove_if_ours()
            finally:
                with self._mutex:
                    self._state = "released"
            if not ours and not was_lost:
                self._lost_message = "the lock file was removed or taken over by another owner"
                self._lost_cause = None
                was_lost = True
            if was_lost:
                raise self._lost_error(removed=ours)

    def renew(self) -> None:
        """Renew the lease now (the heartbeat does this; call it yourself with heartbeat=False).

        Raises ERR_LOCK_LOST when the lease already ran out or the lock file is no longer ours,
        or the classified OS error when the renewal could not be written (the lock is still held
        until its lease runs out).
        """
        self._require_owner_process()
        callback = None
        try:
            with self._io:
                with self._mutex:
                    if self._state == "released":
                        raise usage("ERR_USAGE", "renew() of a FileLock not held", lock=self.path)
                    if self._state == "held":
                        callback = self._expire_if_due_locked()
                    held = self._state == "held"
                if held:
                    callback = self._renew_io()
                if self._state == "lost":
                    raise self._lost_error()
        finally:
            if callback is not None:
                self._fire_lost(callback)

    def check(self) -> None:
        """Raise ERR_LOCK_LOST if the lock was lost (or its lease ran out without renewal)."""
        self._require_owner_process()
        callback = None
        with self._mutex:
            if self._state == "released":
                raise usage("ERR_USAGE", "check() of a FileLock that is not held", lock=self.path)
            if self._state == "held":
                callback = self._expire_if_due_locked()
            lost = self._state == "lost"
        if callback is not None:
            self._fire_lost(callback)
        if lost:
            raise self._lost_error()

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.release()
            return
        try:
            self.release()
        except Error as release_error:
            # The body's exception is the one in flight; do not replace it, but never bury this.
            exc.add_note(f"while leaving the lock {self.path}: {release_error}")
            _log.error("releasing %s failed: %s", self.path, release_error)

    # -- acquiring ------------------------------------------------------------------------------

    def _create(self, token: str) -> bool:
        """Create the lock file exclusively; True if we now own it, False if it exists."""
        now = time.time()
        pid = os.getpid()
        record = {
            "format": LOCK_FORMAT,
            "pid": pid,
            "hostname": this_host(),
            "user": _own_user(),
            "start_time": _own_start_time(pid),
            "boot_id": boot_id(),
            "acquired_at": now,
            "heartbeat_at": now,
            "lease": self.lease,
            "token": token,
        }
        data = _encode(record)
        started = time.monotonic()
        try:
            fd = os.open(self.path, _CREATE_FLAGS, 0o644)
        except FileExistsError:
            return False
        except OSError as exc:
            raise classify(exc).with_context(lock=self.path) from exc
        try:
            write_all(fd, data)
        except BaseException as exc:
            os.close(fd)
            _remove_own_partial(self.path)
            if isinstance(exc, OSError):
                raise classify(exc).with_context(lock=self.path) from exc
            raise
        os.close(fd)
        with self._mutex:
            self._token = token
            self._owner_pid = pid
            self._record = record
            self._record_bytes = data
            self._renewed_mono = started
            self._lost_message = ""
            self._lost_cause = None
            self._last_failure = None
            self._state = "held"
        if self.heartbeat:
            _heartbeater().add(self, started + self.lease / 3)
        return True

    def _judge(self, token: str, deadline: float) -> LockInfo | bool | None:
        """After EEXIST: True if we took the lock (by breaking it), the live owner's record if it
        is held, None if it vanished or was broken (retry at once); raise for corrupt/IO errors."""
        found = read_lock_file(self.path)
        if isinstance(found, LockInfo):
            alive, why = owner_liveness(found)
            if alive:
                return found
            problem = LockProblem(
                "stale", self.path, f"stale lock {self.path}: {why}", True, info=found, why=why
            )
        else:
            problem = found
        if problem.reason == "not_found":
            return None
        if problem.reason == "held":
            return False  # being created by another acquirer this very moment
        if problem.reason == "stale" and problem.info is not None:
            return self._break(problem.info, token, deadline)
        if problem.reason == "io_error" and problem.recoverable:
            _log.warning("lock %s: %s; retrying", self.path, problem.message)
            return False
        raise problem.to_error()

    def _break(self, stale: LockInfo, token: str, deadline: float) -> bool | None:
        """Remove the stale lock `stale` if it is still that stale lock, then try to take it."""
        # The guard is held for microseconds; wait for it even when the acquire timeout is 0.
        with self._guard(max(deadline, time.monotonic() + _GUARD_TIMEOUT_S)):
            current = read_lock_file(self.path)
            if not isinstance(current, LockInfo) or current.token != stale.token:
                return None  # someone broke or released it first
            alive, why = owner_liveness(current)
            if alive:
                return None  # renewed in the meantime
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                return None
            except OSError as exc:
                raise classify(exc).with_context(lock=self.path, breaking=why) from exc
            _log.warning("broke stale lock %s: %s", self.path, why)
            return True if self._create(token) else None

    def _held_error(self, owner: LockInfo | None, wait: float | None) -> Error:
        who = (
            f"pid {owner.pid} on {owner.hostname} (user {owner.user})"
            if owner is not None
            else "another process"
        )
        problem = LockProblem(
            "held",
            self.path,
            f"lock {self.path} is held by {who}; gave up after {wait:g} s",
            recoverable=True,
            info=owner,
        )
        return problem.to_error().with_context(timeout=wait)

    # -- holding --------------------------------------------------------------------------------

    def _expire_if_due_locked(self) -> OnLost | None:
        elapsed = time.monotonic() - self._renewed_mono
        if elapsed < self.lease:
            return None
        return self._set_lost_locked(
            f"the lease ({self.lease:g} s) ran out {elapsed - self.lease:.3f} s ago without "
            f"renewal ({self.heartbeat_failures} heartbeat failures so far)",
            self._last_failure,
        )

    def _renew_io(self) -> OnLost | None:
        """(Under `_io`.) Rewrite our record with a fresh heartbeat_at if the lock file is still
        ours; return the on_lost callback to fire if it is not. The guard is waited for no longer
        than the lease lasts."""
        started = time.monotonic()
        with self._mutex:
            deadline = min(started + _GUARD_TIMEOUT_S, self._renewed_mono + self.lease)
            record = dict(self._record)
        with self._guard(deadline):
            current = self._read_unless_ours()
            if current is not True and (
                not isinstance(current, LockInfo) or current.token != self._token
            ):
                what = (
                    f"now belongs to pid {current.pid} on {current.hostname}"
                    if isinstance(current, LockInfo)
                    else f"is gone or unreadable ({current.reason}: {current.message})"
                )
                with self._mutex:
                    return self._set_lost_locked(f"the lock file {what}", None)
            record["heartbeat_at"] = time.time()
            data = _encode(record)
            try:
                atomic_bytes_write(self.path, data, fsync=False)
            except OSError as exc:
                raise classify(exc).with_context(lock=self.path, during="heartbeat") from exc
        with self._mutex:
            self._record = record
            self._record_bytes = data
            if self._state == "held":
                self._renewed_mono = started
                self._last_failure = None
        return None

    def _beat(self) -> float | None:
        """One heartbeat (called by the heartbeat thread): when to beat next, None to stop."""
        callback = None
        try:
            with self._io:
                with self._mutex:
                    if self._state != "held" or os.getpid() != self._owner_pid:
                        return None
                    callback = self._expire_if_due_locked()
                if callback is not None:
                    return None
                try:
                    callback = self._renew_io()
                except Error as err:
                    with self._mutex:
                        due, callback = self._heartbeat_failed_locked(err)
                    return due
                if callback is not None:
                    return None
                return time.monotonic() + self.lease / 3
        finally:
            if callback is not None:
                self._fire_lost(callback)

    def _heartbeat_failed_locked(self, err: Error) -> tuple[float | None, OnLost | None]:
        """A renewal failed: retry soon if transient and the lease lasts, else the lock is lost."""
        if self._state != "held":
            return None, None
        cause = err.__cause__
        transient = err.code == "ERR_TIMEOUT" or (
            isinstance(cause, OSError) and cause.errno in _TRANSIENT_ERRNOS
        )
        remaining = self._renewed_mono + self.lease - time.monotonic()
        self._last_failure = err
        if transient:
            self.heartbeat_failures += 1
            _log.warning(
                "heartbeat of %s failed (%s); retrying, %.3f s of lease left",
                self.path,
                err,
                remaining,
            )
            if remaining > 0:
                return time.monotonic() + max(0.005, min(self.lease / 3, remaining / 4)), None
        reason = "transient failures outlasted the lease" if transient else "a fatal failure"
        return None, self._set_lost_locked(
            f"the heartbeat could not renew the lease ({reason}): {err}", err
        )

    def _set_lost_locked(self, message: str, cause: BaseException | None) -> OnLost | None:
        """Mark the lock lost; return the on_lost callback to fire (outside the mutex)."""
        if self._state != "held":
            return None
        self._state = "lost"
        self._lost_message = message
        self._lost_cause = cause
        _log.error("lock %s lost: %s", self.path, message)
        return self.on_lost or _no_callback

    def _lose(self, message: str, cause: BaseException) -> None:
        """Mark the lock lost from outside the normal paths (an unexpected heartbeat failure)."""
        _log.error("lock %s: %s", self.path, message, exc_info=cause)
        with self._mutex:
            callback = self._set_lost_locked(message, cause)
        if callback is not None:
            self._fire_lost(callback)

    def _fire_lost(self, callback: OnLost) -> None:
        if callback is _no_callback:
            return
        try:
            callback(self._lost_error())
        # errwise: ignore[broad-catch] -- a failing on_lost must not kill the heartbeat thread
        except Exception:
            _log.exception("the on_lost callback of lock %s raised", self.path)

    def _lost_error(self, *, removed: bool | None = None) -> EnvError:
        err = EnvError(
            "ERR_LOCK_LOST",
            f"lock {self.path} was lost: {self._lost_message}",
            context={"lock": self.path, "lease": self.lease},
            hints=[
                "the work done under this lock was not protected from other owners: check it",
            ],
        )
        if removed is not None:
            err.context["lock_file_removed"] = removed
        if self._lost_cause is not None:
            err.__cause__ = self._lost_cause
        return err

    # -- releasing ------------------------------------------------------------------------------

    def _remove_if_ours(self) -> bool:
        """Under the guard: remove the lock file if it still carries our token."""
        with self._guard(time.monotonic() + _GUARD_TIMEOUT_S):
            current = self._read_unless_ours()
            if current is not True and (
                not isinstance(current, LockInfo) or current.token != self._token
            ):
                if isinstance(current, LockProblem) and current.reason in (
                    "permission_denied",
                    "io_error",
                ):
                    raise current.to_error()
                return False
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                return False
            except OSError as exc:
                raise classify(exc).with_context(lock=self.path, during="release") from exc
            return True

    def _read_unless_ours(self) -> LockInfo | LockProblem | Literal[True]:
        """True if the lock file holds exactly the record we last wrote (the fast path), else
        what the file holds (parsed)."""
        try:
            fd = os.open(self.path, _READ_FLAGS)
        except OSError:
            return read_lock_file(self.path)
        try:
            raw = os.read(fd, len(self._record_bytes) + 1)
        except OSError:
            raw = b""
        finally:
            os.close(fd)
        if raw and raw == self._record_bytes:
            return True
        return read_lock_file(self.path)

    def _require_owner_process(self) -> None:
        if self._state != "released" and os.getpid() != self._owner_pid:
            raise usage(
                "ERR_USAGE",
                "this FileLock was acquired by another process (a fork); only it may use it",
                lock=self.path,
                owner_pid=self._owner_pid,
            )

    @contextlib.contextmanager
    def _guard(self, deadline: float) -> Iterator[None]:
        """Hold an exclusive flock on the side file `<path>.guard` (released on close or death)."""
        try:
            fd = os.open(self.guard_path, _GUARD_FLAGS, 0o644)
        except OSError as exc:
            raise classify(exc).with_context(lock=self.path, guard=self.guard_path) from exc
        try:
            delay = _POLL_MIN_S
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    now = time.monotonic()
                    if now >= deadline:
                        raise EnvError(
                            "ERR_TIMEOUT",
                            f"the guard {self.guard_path} of lock {self.path} stayed busy",
                            context={"lock": self.path, "guard": self.guard_path},
                            recoverable=True,
                        ) from None
                    time.sleep(min(delay, deadline - now))
                    delay = min(delay * 2, _POLL_MAX_S)
                except OSError as exc:
                    raise (
                        classify(exc)
                        .with_context(lock=self.path, guard=self.guard_path)
                        .add_hint("the file system must support flock() for lock breaking")
                    ) from exc
            yield
        finally:
            os.close(fd)


# -- the one heartbeat thread of a process ------------------------------------------------------


class _Heartbeater:
    """One daemon thread renewing every held lock of this process when it is due."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, FileLock]] = []
        self._due: dict[int, float] = {}
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, lock: FileLock, due: float) -> None:
        with self._cond:
            self._due[id(lock)] = due
            wake = not self._heap or due < self._heap[0][0]
            heapq.heappush(self._heap, (due, next(self._seq), lock))
            if len(self._heap) > 64 + 2 * len(self._due):
                self._compact_locked()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="errwise-lock-heartbeat", daemon=True
                )
                self._thread.start()
            elif wake:  # the thread sleeps until the earliest entry at most: wake it if earlier
                self._cond.notify()

    def remove(self, lock: FileLock) -> None:
        """Stop beating `lock` (its heap entry becomes dead and is dropped when reached)."""
        with self._cond:
            self._due.pop(id(lock), None)

    def _compact_locked(self) -> None:
        self._heap = [e for e in self._heap if self._due.get(id(e[2])) == e[0]]
        heapq.heapify(self._heap)

    def _run(self) -> None:
        while True:
            with self._cond:
                lock = self._next_due_locked()
            try:
                due = lock._beat()
            # errwise: ignore[broad-catch] -- one lock's bug must not stop every lock's heartbeat
            except Exception as exc:
                lock._lose(f"its heartbeat failed unexpectedly: {exc!r}", exc)
                due = None
            if due is not None:
                self.add(lock, due)
            else:
                self.remove(lock)

    def _next_due_locked(self) -> FileLock:
        while True:
            if not self._heap:
                self._cond.wait()
                continue
            due, _, lock = self._heap[0]
            wait = due - time.monotonic()
            if wait > 0:
                # Dead entries (released locks) are waited for too: dropping them early would
                # make the next add() wake this thread, costing every acquire a context switch.
                self._cond.wait(wait)
                continue
            heapq.heappop(self._heap)
            if self._due.get(id(lock)) == due:
                return lock


_the_heartbeater: _Heartbeater | None = None
_heartbeater_lock = threading.Lock()


def _heartbeater() -> _Heartbeater:
    global _the_heartbeater  # noqa: PLW0603 - one heartbeat thread per process
    hb = _the_heartbeater
    if hb is None:
        with _heartbeater_lock:
            if _the_heartbeater is None:
                _the_heartbeater = _Heartbeater()
            hb = _the_heartbeater
    return hb


def _reset_after_fork() -> None:
    global _the_heartbeater, _heartbeater_lock, _own_cache  # noqa: PLW0603
    _the_heartbeater = None  # the thread does not exist in the child
    _heartbeater_lock = threading.Lock()
    _own_cache = {}


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


# -- helpers ----------------------------------------------------------------------------------


def _no_callback(_: Error) -> None:
    """Stands for 'lost, but no on_lost callback was given'."""


_own_cache: dict[str, Any] = {}


def _own_start_time(pid: int) -> int | None:
    key = f"start:{pid}"
    if key not in _own_cache:
        _own_cache[key] = process_start_time(pid)
    value: int | None = _own_cache[key]
    return value


def _own_user() -> str:
    if "user" not in _own_cache:
        _own_cache["user"] = current_user()
    value: str = _own_cache["user"]
    return value


def _encode(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":"), sort_keys=True).encode()


def _info_from_record(path: str, record: dict[str, Any]) -> LockInfo:
    return LockInfo(
        path=path,
        pid=record["pid"],
        hostname=record["hostname"],
        user=record["user"],
        start_time=record["start_time"],
        boot_id=record["boot_id"],
        acquired_at=record["acquired_at"],
        heartbeat_at=record["heartbeat_at"],
        lease=record["lease"],
        token=record["token"],
    )


def _remove_own_partial(path: str) -> None:
    """Remove the lock file we just created but could not fill (the write failed)."""
    try:
        os.unlink(path)
    except OSError as exc:
        _log.error("cannot remove the partial lock file %s: %s", path, exc)


def _seconds(value: object) -> float | None:
    """`value` as float seconds if it is a finite int/float (not bool), else None."""
    if type(value) is int or type(value) is float:
        seconds = float(value)
        if math.isfinite(seconds):
            return seconds
    return None


def _positive_seconds(name: str, value: object) -> float:
    seconds = _seconds(value)
    if seconds is None or seconds <= 0:
        raise usage("ERR_USAGE", f"{name} must be a finite number of seconds > 0", got=repr(value))
    return seconds


def _timeout_arg(value: object) -> float | None:
    if value is None:
        return None
    seconds = _seconds(value)
    if seconds is None or seconds < 0:
        raise usage(
            "ERR_USAGE", "timeout must be None or a finite number of seconds >= 0", got=repr(value)
        )
    return seconds
