"""inspect_lock: every reason, each with the right `recoverable`, and owner liveness by pid AND
process start time (seed 004 CRITICAL-3)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import errwise
from errwise import Err, LockInfo, LockProblem, Ok, inspect_lock
from errwise.ops import lockinfo
from errwise.ops.lockinfo import process_start_time


def _record(**overrides: Any) -> dict[str, Any]:
    now = time.time()
    record: dict[str, Any] = {
        "format": "errwise.lock/1",
        "pid": os.getpid(),
        "hostname": lockinfo.this_host(),
        "user": "tester",
        "start_time": process_start_time(os.getpid()),
        "boot_id": lockinfo.boot_id(),
        "acquired_at": now,
        "heartbeat_at": now,
        "lease": 30.0,
        "token": "t" * 32,
    }
    record.update(overrides)
    return record


def _write(path: Path, record: dict[str, Any]) -> Path:
    path.write_text(json.dumps(record))
    return path


def _problem(path: Path) -> LockProblem:
    result = inspect_lock(path)
    assert isinstance(result, Err), result
    return result.error


def test_ops_lock_inspect_not_found_is_recoverable(tmp_path: Path) -> None:
    problem = _problem(tmp_path / "x.lock")
    assert problem.reason == "not_found"
    assert problem.recoverable is True
    assert problem.to_error().code == "ERR_NOT_FOUND"


def test_ops_lock_inspect_live_owner_is_ok_with_owner_info(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.lock", _record())
    result = inspect_lock(path)
    assert isinstance(result, Ok)
    info = result.value
    assert isinstance(info, LockInfo)
    assert info.pid == os.getpid()
    assert info.user == "tester"
    assert info.on_this_host
    assert info.expires_at == pytest.approx(info.heartbeat_at + 30.0)
    assert "token" not in info.to_dict()


def test_ops_lock_inspect_dead_pid_is_stale(tmp_path: Path) -> None:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    dead_pid = int(child.stdout)
    path = _write(tmp_path / "x.lock", _record(pid=dead_pid, start_time=12345))
    problem = _problem(path)
    assert problem.reason == "stale"
    assert problem.recoverable is True
    assert problem.why is not None and f"pid {dead_pid} is not running" in problem.why
    assert problem.info is not None and problem.info.pid == dead_pid
    assert problem.to_error().code == "ERR_LOCK_STALE"


def test_ops_lock_inspect_reused_pid_is_stale(tmp_path: Path) -> None:
    # Our own (live) pid, but the owner recorded another start time: the pid was reused.
    real = process_start_time(os.getpid())
    assert real is not None
    path = _write(tmp_path / "x.lock", _record(start_time=real + 1))
    problem = _problem(path)
    assert problem.reason == "stale"
    assert problem.why is not None and "reused" in problem.why


def test_ops_lock_inspect_zombie_owner_is_stale(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # wait until it has exited but is not reaped
            with open(f"/proc/{proc.pid}/stat", "rb") as fh:
                if fh.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                    break
            time.sleep(0.01)
        start = process_start_time(proc.pid)
        path = _write(tmp_path / "x.lock", _record(pid=proc.pid, start_time=start))
        problem = _problem(path)
        assert problem.reason == "stale"
        assert problem.why is not None and "zombie" in problem.why
    finally:
        proc.wait(timeout=20)


def test_ops_lock_inspect_eperm_from_kill_means_alive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def kill(pid: int, sig: int) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(lockinfo.os, "kill", kill)
    path = _write(tmp_path / "x.lock", _record())
    assert isinstance(inspect_lock(path), Ok)


def test_ops_lock_inspect_other_boot_is_stale(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.lock", _record(boot_id="not-this-boot"))
    problem = _problem(path)
    assert problem.reason == "stale"
    assert problem.why is not None and "rebooted" in problem.why


def test_ops_lock_inspect_other_host_judged_by_lease(tmp_path: Path) -> None:
    now = time.time()
    fresh = _write(tmp_path / "a.lock", _record(hostname="elsewhere", pid=1, heartbeat_at=now))
    assert isinstance(inspect_lock(fresh), Ok)
    expired = _write(
        tmp_path / "b.lock",
        _record(hostname="elsewhere", pid=1, heartbeat_at=now - 31.0, lease=30.0),
    )
    problem = _problem(expired)
    assert problem.reason == "stale"
    assert problem.why is not None and "lease expired" in problem.why


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (
            b"Locked by ctx_wo_take.py at 2025-01-01T00:00:00\nPID: 4242\nUser: dev\n",
            "old text-format",
        ),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b"\xff\xfe", "not valid UTF-8"),
        (json.dumps({"format": "other"}).encode(), "format is"),
        (json.dumps(_record(pid="12")).encode(), "'pid'"),
        (json.dumps(_record(pid=0)).encode(), "not a process id"),
        (json.dumps(_record(lease=float("-1"))).encode(), "not positive"),
        (json.dumps(_record(token="")).encode(), "token is empty"),
        (json.dumps(_record(heartbeat_at="soon")).encode(), "'heartbeat_at'"),
    ],
)
def test_ops_lock_inspect_corrupted_shows_content(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "x.lock"
    path.write_bytes(content)
    problem = _problem(path)
    assert problem.reason == "corrupted"
    assert problem.recoverable is False
    assert why in problem.message
    assert problem.content == content.decode("utf-8", "backslashreplace")
    err = problem.to_error()
    assert err.code == "ERR_LOCK_CORRUPT"
    assert err.context["content"] == problem.content


def test_ops_lock_inspect_old_format_is_corrupted_not_not_found(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    path.write_text("PID: 99\nUser: someone\nHostname: box\n")
    problem = _problem(path)
    assert problem.reason == "corrupted"
    assert problem.content is not None and "PID: 99" in problem.content


def test_ops_lock_inspect_directory_and_symlink_are_corrupted(tmp_path: Path) -> None:
    (tmp_path / "d.lock").mkdir()
    assert _problem(tmp_path / "d.lock").reason == "corrupted"
    (tmp_path / "s.lock").symlink_to(tmp_path / "elsewhere")
    problem = _problem(tmp_path / "s.lock")
    assert problem.reason == "corrupted"
    assert problem.content is not None and "symlink" in problem.content


def test_ops_lock_inspect_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    path.write_bytes(b"")
    young = _problem(path)
    assert young.reason == "held"  # an acquirer between create and write
    assert young.recoverable is True
    old = time.time() - lockinfo.CREATION_GRACE_S - 1
    os.utime(path, (old, old))
    assert _problem(path).reason == "corrupted"


@pytest.mark.parametrize(
    ("err_no", "reason", "recoverable", "code"),
    [
        (errno.EACCES, "permission_denied", False, "ERR_PERMISSION_DENIED"),
        (errno.EPERM, "permission_denied", False, "ERR_PERMISSION_DENIED"),
        (errno.EIO, "io_error", False, "ERR_IO"),
        (errno.EAGAIN, "io_error", True, "ERR_IO"),
    ],
)
def test_ops_lock_inspect_os_errors(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    err_no: int,
    reason: str,
    recoverable: bool,
    code: str,
) -> None:
    path = _write(tmp_path / "x.lock", _record())
    real_open = os.open

    def failing_open(p: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if os.fspath(p) == str(path):
            raise OSError(err_no, os.strerror(err_no), str(path))
        return real_open(p, flags, *args, **kwargs)

    monkeypatch.setattr(lockinfo.os, "open", failing_open)
    problem = _problem(path)
    assert problem.reason == reason
    assert problem.recoverable is recoverable
    assert problem.error is not None and isinstance(problem.error.__cause__, OSError)
    err = problem.to_error()
    assert err.code == code
    assert err.__cause__ is problem.error


def test_ops_lock_inspect_bad_arguments_are_usage_errors() -> None:
    with pytest.raises(errwise.UsageError):
        inspect_lock(42)  # type: ignore[arg-type]
    with pytest.raises(errwise.UsageError):
        inspect_lock("")
    with pytest.raises(errwise.UsageError):
        process_start_time(0)


def test_ops_lock_inspect_oversized_file_is_corrupted(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    path.write_bytes(b"x" * (64 * 1024 + 1))
    problem = _problem(path)
    assert problem.reason == "corrupted"
    assert problem.content is not None and problem.content.endswith("bytes in all)")


def test_ops_lock_inspect_another_users_live_owner_is_not_broken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def kill(pid: int, sig: int) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(lockinfo.os, "kill", kill)
    path = _write(tmp_path / "x.lock", _record(user="someone-else"))
    with pytest.raises(errwise.EnvError, match="ERR_LOCK_HELD"):
        errwise.FileLock(path).acquire(timeout=0.05)
    assert json.loads(path.read_text())["user"] == "someone-else"
