"""Start the command under test as a child, bound it in time, and kill it (and all it started).

Promise: each child runs in its own session and process group, with stdin from /dev/null and
stdout+stderr into a log file outside the project. `Children.execute` returns when the child
exits or `timeout` passes; on timeout the whole group gets SIGTERM, then SIGKILL after a grace
period. `Children.kill_all()` (Ctrl-C) does the same to every child still running, from any
thread. A command that cannot be found is ERR_COMMAND_NOT_FOUND (exit 10); one that cannot be
started for another reason is the classified OS error.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from errwise.classify import classify
from errwise.error import env

__all__ = ["ChildOutcome", "Children", "log_tail"]

_GRACE_S: Final = 2.0
_TAIL_BYTES: Final = 4000


@dataclass(frozen=True, slots=True)
class ChildOutcome:
    """How a child ended."""

    returncode: int | None
    """The exit status; negative N: killed by signal N; None: timed out (group killed)."""
    duration: float
    log: Path

    @property
    def timed_out(self) -> bool:
        return self.returncode is None


class Children:
    """The live children of one sweep, so that Ctrl-C can end them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: dict[int, subprocess.Popen[bytes]] = {}
        self._stopping = False

    def execute(
        self,
        argv: Sequence[str],
        *,
        env_: Mapping[str, str],
        cwd: Path,
        timeout: float,
        log: Path,
    ) -> ChildOutcome:
        started = time.monotonic()
        with open(log, "wb") as sink, self._lock:
            if self._stopping:
                raise KeyboardInterrupt
            proc = _start(argv, env_=env_, cwd=cwd, sink=sink)
            self._live[proc.pid] = proc
        try:
            code = _wait(proc, timeout)
            if code is None:
                _kill_group(proc)
        finally:
            with self._lock:
                self._live.pop(proc.pid, None)
            if proc.returncode is None:  # interrupted while waiting: never leave it running
                _kill_group(proc)
        if self._stopping:
            raise KeyboardInterrupt  # killed by kill_all: not an outcome of the run
        return ChildOutcome(code, time.monotonic() - started, log)

    def kill_all(self) -> None:
        """Stop every running child (and refuse new ones): the sweep is being interrupted."""
        with self._lock:
            self._stopping = True
            live = list(self._live.values())
        for proc in live:
            _kill_group(proc)


def _start(
    argv: Sequence[str], *, env_: Mapping[str, str], cwd: Path, sink: IO[bytes]
) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=dict(env_),
            start_new_session=True,
            close_fds=True,
        )
    except (FileNotFoundError, NotADirectoryError) as exc:
        err = env(
            "ERR_COMMAND_NOT_FOUND",
            f"command not found: {argv[0]}",
            executable=argv[0],
            cwd=str(cwd),
        )
        raise err.add_hint(
            f"check the command after `--`; {argv[0]} must be on PATH or a path to a program"
        ) from exc
    except OSError as exc:
        raise classify(exc).with_context(executable=argv[0], cwd=str(cwd)) from exc


def _wait(proc: subprocess.Popen[bytes], timeout: float) -> int | None:
    """The child's exit status, or None when `timeout` passed first. Sleeps in the kernel on a
    pidfd where there is one (Popen.wait with a timeout polls, adding up to 50 ms a run)."""
    opener = getattr(os, "pidfd_open", None)
    fd = None
    if opener is not None:
        try:
            fd = opener(proc.pid)
        except OSError:
            fd = None  # no pidfd here (old kernel, sandbox): Popen's own polling wait below
    if fd is None:
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
    finally:
        os.close(fd)
    return proc.wait() if ready else None


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the child's group, SIGKILL what is left after the grace period, reap the child."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break  # the group is gone
        except PermissionError:
            break  # the pid was reused by someone else's process: not ours to signal
        try:
            proc.wait(_GRACE_S)
            if sig == signal.SIGTERM:
                continue  # the leader is gone; SIGKILL any member that ignored SIGTERM
        except subprocess.TimeoutExpired:
            continue
    proc.wait()


def log_tail(log: Path, limit: int = _TAIL_BYTES) -> str:
    """The last `limit` bytes of a child's output, as text ('' when there is no log)."""
    try:
        with open(log, "rb") as stream:
            size = stream.seek(0, os.SEEK_END)
            stream.seek(max(0, size - limit))
            data = stream.read()
    except FileNotFoundError:
        return ""
    return data.decode("utf-8", "replace")
