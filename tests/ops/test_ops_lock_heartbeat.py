"""The lease heartbeat: it keeps a lock alive across leases, survives transient failures (counted),
and a failure outlasting the lease makes the lock *lost* (seed 004 CRITICAL-2)."""

from __future__ import annotations

import errno
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import errwise
from errwise import FileLock, Ok, inspect_lock
from errwise.ops import lock as lock_mod
from errwise.ops import lockinfo

LEASE = 0.3


def _other_host_view(monkeypatch: pytest.MonkeyPatch) -> None:
    """Judge lock files as a process on another host would: by the lease alone."""
    monkeypatch.setattr(lockinfo, "this_host", lambda: "another-host")


def test_ops_lock_heartbeat_keeps_lock_alive_across_three_leases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.lock"
    lost: list[errwise.Error] = []
    with FileLock(path, lease=LEASE, on_lost=lost.append) as lk:
        first = json.loads(path.read_text())["heartbeat_at"]
        _other_host_view(monkeypatch)
        deadline = time.monotonic() + 3 * LEASE + 0.1
        while time.monotonic() < deadline:
            assert isinstance(inspect_lock(path), Ok), "a remote observer saw the lease expire"
            lk.check()
            time.sleep(LEASE / 10)
        last = json.loads(path.read_text())["heartbeat_at"]
        assert last - first >= 2 * LEASE  # renewed again and again
    assert lost == []
    assert lk.heartbeat_failures == 0


def test_ops_lock_heartbeat_without_heartbeat_the_lease_runs_out(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    lost: list[errwise.Error] = []
    lk = FileLock(path, lease=LEASE, heartbeat=False, on_lost=lost.append).acquire()
    time.sleep(LEASE / 2)
    lk.renew()  # manual renewal keeps it
    time.sleep(LEASE / 2)
    lk.check()
    time.sleep(LEASE + 0.05)
    with pytest.raises(errwise.EnvError) as caught:
        lk.check()
    assert caught.value.code == "ERR_LOCK_LOST"
    assert len(lost) == 1 and lost[0].code == "ERR_LOCK_LOST"
    with pytest.raises(errwise.EnvError, match="ERR_LOCK_LOST"):
        lk.renew()
    with pytest.raises(errwise.EnvError) as released:
        lk.release()
    assert released.value.context["lock_file_removed"] is True  # still ours: cleaned up
    assert not path.exists()
    assert len(lost) == 1  # fired once


def _failing_writes(monkeypatch: pytest.MonkeyPatch, err_no: int, until: list[float]) -> None:
    """Make the heartbeat's atomic write fail with err_no while time.monotonic() < until[0]."""
    real = lock_mod.atomic_bytes_write

    def flaky(path: str, data: bytes, **kwargs: Any) -> Any:
        if time.monotonic() < until[0]:
            raise OSError(err_no, "injected", path)
        return real(path, data, **kwargs)

    monkeypatch.setattr(lock_mod, "atomic_bytes_write", flaky)


def test_ops_lock_heartbeat_transient_failure_is_retried_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.lock"
    lost: list[errwise.Error] = []
    until = [0.0]
    _failing_writes(monkeypatch, errno.ENOSPC, until)
    lease = 1.0
    with FileLock(path, lease=lease, on_lost=lost.append) as lk:
        until[0] = time.monotonic() + lease / 2  # shorter than the lease
        time.sleep(lease * 1.5)
        lk.check()
        assert lk.heartbeat_failures >= 1
    assert lost == []


@pytest.mark.parametrize("err_no", [errno.ENOSPC, errno.EAGAIN, errno.EINTR])
def test_ops_lock_heartbeat_failure_past_lease_fires_on_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, err_no: int
) -> None:
    path = tmp_path / "x.lock"
    fired = threading.Event()
    lost: list[errwise.Error] = []

    def on_lost(err: errwise.Error) -> None:
        lost.append(err)
        fired.set()

    _failing_writes(monkeypatch, err_no, [float("inf")])
    lk = FileLock(path, lease=LEASE, on_lost=on_lost).acquire()
    assert fired.wait(5 * LEASE), "on_lost never fired"
    assert lk.heartbeat_failures >= 2  # retried before giving up
    assert lost[0].code == "ERR_LOCK_LOST"
    assert isinstance(lost[0].__cause__, errwise.Error)
    assert lost[0].__cause__.__cause__.errno == err_no  # type: ignore[union-attr]
    assert lk.state == "lost"
    with pytest.raises(errwise.EnvError) as caught:
        lk.check()
    assert caught.value.code == "ERR_LOCK_LOST"
    with pytest.raises(errwise.EnvError, match="ERR_LOCK_LOST"):
        lk.release()
    assert len(lost) == 1


def test_ops_lock_heartbeat_fatal_failure_loses_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.lock"
    fired = threading.Event()
    _failing_writes(monkeypatch, errno.EACCES, [float("inf")])
    lease = 3.0
    lk = FileLock(path, lease=lease, on_lost=lambda err: fired.set()).acquire()
    assert fired.wait(lease), "EACCES should lose the lock at the first heartbeat"
    assert lk.heartbeat_failures == 0
    with pytest.raises(errwise.EnvError, match="ERR_LOCK_LOST"):
        lk.check()
    with pytest.raises(errwise.EnvError, match="ERR_LOCK_LOST"):
        lk.release()


def test_ops_lock_heartbeat_detects_a_stolen_lock(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    fired = threading.Event()
    lk = FileLock(path, lease=LEASE, on_lost=lambda err: fired.set()).acquire()
    record = json.loads(path.read_text())
    record["token"] = "f" * 32
    path.write_text(json.dumps(record))
    assert fired.wait(3 * LEASE)
    with pytest.raises(errwise.EnvError) as caught:
        lk.check()
    assert "now belongs to" in caught.value.message
    with pytest.raises(errwise.EnvError, match="ERR_LOCK_LOST"):
        lk.release()
    assert json.loads(path.read_text())["token"] == "f" * 32  # the other owner's file stays


def test_ops_lock_heartbeat_failing_on_lost_callback_is_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(err: errwise.Error) -> None:
        raise ValueError("callback bug")

    lk = FileLock(tmp_path / "x.lock", lease=LEASE, heartbeat=False, on_lost=broken).acquire()
    time.sleep(LEASE + 0.05)
    with pytest.raises(errwise.EnvError, match="ERR_LOCK_LOST"):
        lk.check()
    assert any("on_lost callback" in r.message for r in caplog.records)
    with pytest.raises(errwise.EnvError, match="ERR_LOCK_LOST"):
        lk.release()


def test_ops_lock_heartbeat_many_locks_one_thread(tmp_path: Path) -> None:
    locks = [FileLock(tmp_path / f"{i}.lock", lease=LEASE).acquire() for i in range(5)]
    try:
        time.sleep(2 * LEASE)
        for lk in locks:
            lk.check()
        beaters = [t for t in threading.enumerate() if t.name == "errwise-lock-heartbeat"]
        assert len(beaters) == 1
    finally:
        for lk in locks:
            lk.release()


def test_ops_lock_heartbeat_blocked_guard_outlasting_the_lease_loses_the_lock(
    tmp_path: Path,
) -> None:
    import fcntl
    import os

    path = tmp_path / "x.lock"
    fired = threading.Event()
    lk = FileLock(path, lease=LEASE, on_lost=lambda err: fired.set()).acquire()
    fd = os.open(lk.guard_path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a stalled breaker holds the guard
        assert fired.wait(5 * LEASE)
    finally:
        os.close(fd)
    with pytest.raises(errwise.EnvError) as caught:
        lk.check()
    assert isinstance(caught.value.__cause__, errwise.Error)
    assert caught.value.__cause__.code == "ERR_TIMEOUT"
    assert lk.heartbeat_failures >= 1
    with pytest.raises(errwise.EnvError, match="ERR_LOCK_LOST"):
        lk.release()
    assert not path.exists()


def test_ops_lock_heartbeat_unexpected_bug_loses_only_that_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fired = threading.Event()
    healthy = FileLock(tmp_path / "ok.lock", lease=LEASE).acquire()
    broken = FileLock(tmp_path / "bug.lock", lease=LEASE, on_lost=lambda err: fired.set())
    broken.acquire()

    def bug() -> None:
        raise TypeError("a bug in the heartbeat")

    monkeypatch.setattr(broken, "_renew_io", bug)
    assert fired.wait(3 * LEASE)
    with pytest.raises(errwise.EnvError) as caught:
        broken.check()
    assert isinstance(caught.value.__cause__, TypeError)
    time.sleep(LEASE)
    healthy.check()  # the heartbeat thread survived and still renews the other lock
    healthy.release()
    with pytest.raises(errwise.EnvError, match="ERR_LOCK_LOST"):
        broken.release()
