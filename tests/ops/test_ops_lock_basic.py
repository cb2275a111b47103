"""FileLock in one process: O_EXCL creation, owner record, timeouts, token-checked release,
classified failures (seed 004 HIGH-4), usage errors."""

from __future__ import annotations

import errno
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

import errwise
from errwise import FileLock, Ok, inspect_lock
from errwise.ops import lock as lock_mod
from errwise.ops.lockinfo import process_start_time


def test_ops_lock_basic_acquire_writes_owner_record_and_release_removes(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    lk = FileLock(path, lease=5.0)
    with lk:
        record = json.loads(path.read_text())
        assert record["format"] == "errwise.lock/1"
        assert record["pid"] == os.getpid()
        assert record["start_time"] == process_start_time(os.getpid())
        assert record["lease"] == 5.0
        assert len(record["token"]) == 32
        assert record["acquired_at"] <= record["heartbeat_at"] <= time.time()
        assert {"hostname", "user", "boot_id"} <= record.keys()
        assert lk.state == "held"
        assert lk.info is not None and lk.info.token == record["token"]
        assert isinstance(inspect_lock(path), Ok)
        lk.check()
    assert not path.exists()
    assert lk.state == "released"
    assert lk.info is None


def test_ops_lock_basic_tokens_differ_per_acquisition(tmp_path: Path) -> None:
    lk = FileLock(tmp_path / "x.lock")
    tokens = set()
    for _ in range(3):
        with lk:
            assert lk.info is not None
            tokens.add(lk.info.token)
    assert len(tokens) == 3


def test_ops_lock_basic_never_renames_over_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("acquire must not rename over a lock file")

    monkeypatch.setattr(lock_mod.os, "rename", forbidden)
    monkeypatch.setattr(lock_mod.os, "replace", forbidden)
    monkeypatch.setattr(lock_mod.os, "link", forbidden)
    lk = FileLock(tmp_path / "x.lock", heartbeat=False)
    lk.acquire()
    lk.release()


def test_ops_lock_basic_held_lock_times_out_with_owner_info(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    with FileLock(path):
        other = FileLock(path)
        started = time.monotonic()
        with pytest.raises(errwise.EnvError) as caught:
            other.acquire(timeout=0.2)
        assert 0.2 <= time.monotonic() - started < 2.0
        err = caught.value
        assert err.code == "ERR_LOCK_HELD"
        assert err.recoverable is True
        assert err.context["owner"]["pid"] == os.getpid()
        assert err.context["timeout"] == 0.2
        assert other.state == "released"
        assert path.exists()  # the failed acquirer did not touch the owner's file


def test_ops_lock_basic_waits_for_release(tmp_path: Path) -> None:
    import threading

    path = tmp_path / "x.lock"
    first = FileLock(path).acquire()
    timer = threading.Timer(0.2, first.release)
    timer.start()
    try:
        second = FileLock(path).acquire(timeout=10)
        assert second.state == "held"
        second.release()
    finally:
        timer.join()


def test_ops_lock_basic_release_only_with_matching_token(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    lk = FileLock(path, heartbeat=False).acquire()
    record = json.loads(path.read_text())
    record["token"] = "someone-else" + "0" * 20
    path.write_text(json.dumps(record))
    with pytest.raises(errwise.EnvError) as caught:
        lk.release()
    assert caught.value.code == "ERR_LOCK_LOST"
    assert caught.value.context["lock_file_removed"] is False
    assert json.loads(path.read_text())["token"] == record["token"]  # not removed
    assert lk.state == "released"


def test_ops_lock_basic_release_when_file_vanished_reports_lost(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    lk = FileLock(path, heartbeat=False).acquire()
    path.unlink()
    with pytest.raises(errwise.EnvError, match="ERR_LOCK_LOST"):
        lk.release()


def test_ops_lock_basic_exit_with_exception_keeps_it_and_notes_the_loss(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    with pytest.raises(ValueError, match="body") as caught, FileLock(path, heartbeat=False):
        path.unlink()
        raise ValueError("body")
    assert any("ERR_LOCK_LOST" in note for note in caught.value.__notes__)


def test_ops_lock_basic_not_reentrant_and_release_twice(tmp_path: Path) -> None:
    lk = FileLock(tmp_path / "x.lock").acquire()
    with pytest.raises(errwise.UsageError, match="re-entrant"):
        lk.acquire()
    lk.release()
    with pytest.raises(errwise.UsageError):
        lk.release()
    with pytest.raises(errwise.UsageError):
        lk.check()


@pytest.mark.parametrize(
    ("err_no", "code"),
    [
        (errno.EACCES, "ERR_PERMISSION_DENIED"),
        (errno.EROFS, "ERR_READ_ONLY_FS"),
        (errno.ENOSPC, "ERR_DISK_FULL"),
    ],
)
def test_ops_lock_basic_create_failures_are_classified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, err_no: int, code: str
) -> None:
    path = tmp_path / "x.lock"
    real_open = os.open

    def failing_open(p: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if os.fspath(p) == str(path) and flags & os.O_CREAT:
            raise OSError(err_no, os.strerror(err_no), str(path))
        return real_open(p, flags, *args, **kwargs)

    monkeypatch.setattr(lock_mod.os, "open", failing_open)
    with pytest.raises(errwise.EnvError) as caught:
        FileLock(path).acquire(timeout=5)
    assert caught.value.code == code
    assert caught.value.context["lock"] == str(path)
    assert isinstance(caught.value.__cause__, OSError)


def test_ops_lock_basic_write_failure_leaves_no_lock_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.lock"

    def full(fd: int, data: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(lock_mod, "write_all", full)
    lk = FileLock(path)
    with pytest.raises(errwise.EnvError) as caught:
        lk.acquire(timeout=5)
    assert caught.value.code == "ERR_DISK_FULL"
    assert not path.exists()
    assert lk.state == "released"


def test_ops_lock_basic_interrupt_during_write_leaves_no_lock_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.lock"

    def interrupted(fd: int, data: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(lock_mod, "write_all", interrupted)
    with pytest.raises(KeyboardInterrupt):
        FileLock(path).acquire(timeout=5)
    assert not path.exists()


def test_ops_lock_basic_corrupt_lock_is_reported_not_broken(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    path.write_text("PID: 123\nUser: old-tool\n")
    with pytest.raises(errwise.EnvError) as caught:
        FileLock(path).acquire(timeout=5)
    assert caught.value.code == "ERR_LOCK_CORRUPT"
    assert "PID: 123" in str(caught.value.context["content"])
    assert path.read_text() == "PID: 123\nUser: old-tool\n"


def test_ops_lock_basic_stale_lock_of_dead_pid_is_broken(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    real = process_start_time(os.getpid())
    assert real is not None
    stale = FileLock(path, heartbeat=False).acquire()
    record = json.loads(path.read_text())
    record["start_time"] = real + 7  # the recorded owner "started" at another time: dead
    path.write_text(json.dumps(record))
    lk = FileLock(path).acquire(timeout=0)
    assert lk.info is not None and lk.info.token != record["token"]
    lk.release()
    with pytest.raises(errwise.EnvError, match="ERR_LOCK_LOST"):
        stale.release()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lease": 0},
        {"lease": -1.0},
        {"lease": float("inf")},
        {"lease": True},
        {"lease": "30"},
        {"timeout": -1},
        {"timeout": float("nan")},
        {"heartbeat": 1},
        {"on_lost": "not callable"},
    ],
)
def test_ops_lock_basic_bad_arguments(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    with pytest.raises(errwise.UsageError):
        FileLock(tmp_path / "x.lock", **kwargs)


def test_ops_lock_basic_bad_path_and_timeout(tmp_path: Path) -> None:
    with pytest.raises(errwise.UsageError):
        FileLock(3)  # type: ignore[arg-type]
    with pytest.raises(errwise.UsageError):
        FileLock(tmp_path / "x.lock").acquire(timeout=-2)


def test_ops_lock_basic_guard_without_flock_support_is_classified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.lock"
    real = process_start_time(os.getpid())
    assert real is not None
    FileLock(path, heartbeat=False).acquire()
    record = json.loads(path.read_text())
    record["start_time"] = real + 3  # stale: breaking it needs the guard
    path.write_text(json.dumps(record))

    def no_flock(fd: int, op: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(lock_mod.fcntl, "flock", no_flock)
    with pytest.raises(errwise.EnvError) as caught:
        FileLock(path).acquire(timeout=1)
    assert caught.value.code == "ERR_IO"
    assert any("flock" in hint for hint in caught.value.hints)
    assert json.loads(path.read_text())["token"] == record["token"]  # not broken blindly


def test_ops_lock_basic_forked_child_cannot_release_the_parents_lock(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    lk = FileLock(path, heartbeat=False).acquire()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            lk.release()
        except errwise.UsageError:
            os._exit(0)
        os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert path.exists()
    lk.release()


def test_ops_lock_basic_no_descriptor_leaks_on_any_path(tmp_path: Path) -> None:
    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    path = tmp_path / "x.lock"
    corrupt = tmp_path / "c.lock"
    corrupt.write_text("PID: 1\n")
    before = open_fds()
    for _ in range(50):
        with FileLock(path) as lk:
            with pytest.raises(errwise.EnvError, match="ERR_LOCK_HELD"):
                FileLock(path).acquire(timeout=0)
            lk.renew()
            lk.check()
        with pytest.raises(errwise.EnvError, match="ERR_LOCK_CORRUPT"):
            FileLock(corrupt).acquire(timeout=0)
    assert open_fds() == before
