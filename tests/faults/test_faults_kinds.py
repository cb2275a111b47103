"""The special faults and the interceptors' fidelity: short reads/writes, subprocess
not-found/nonzero/timeout, sqlite3 locked/disk-io, file objects that stay transparent."""

from __future__ import annotations

import io
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from errwise import faults

PY = [sys.executable, "-c", "print('hi')"]


# -- short reads and writes --------------------------------------------------------------------
def test_short_os_write_really_writes_less(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "f", os.O_CREAT | os.O_WRONLY)
    try:
        with faults.inject("os.write", "short"):
            written = os.write(fd, b"abcdef")
        assert written == 3
        assert os.write(fd, b"!") == 1
    finally:
        os.close(fd)
    assert (tmp_path / "f").read_bytes() == b"abc!"


def test_short_os_read_really_reads_less(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"abcdef")
    fd = os.open(tmp_path / "f", os.O_RDONLY)
    try:
        with faults.inject("os.read", "short"):
            assert os.read(fd, 6) == b"abc"
        assert os.read(fd, 6) == b"def"
    finally:
        os.close(fd)


def test_short_file_write_and_read(tmp_path: Path) -> None:
    path = tmp_path / "f"
    with faults.FaultPlan() as plan:
        plan.fail("file.write", "short")
        with open(path, "wb") as handle:
            assert handle.write(b"abcdef") == 3
            assert handle.write(b"gh") == 2
        plan.fail("file.read", "short")
        with open(path, "rb") as handle:
            assert handle.read(4) == b"ab"
            assert handle.read() == b"cgh"
    assert path.read_bytes() == b"abcgh"


def test_short_socket_send_and_recv() -> None:
    left, right = socket.socketpair()
    with left, right:
        with faults.inject("socket.send", "short"):
            assert left.send(b"abcd") == 2
        with faults.inject("socket.recv", "short"):
            assert right.recv(2) == b"a"
        assert right.recv(10) == b"b"


def test_socket_timeout_is_the_socket_one() -> None:
    left, right = socket.socketpair()
    left.settimeout(5)
    with (
        left,
        right,
        faults.inject("socket.recv", "timeout") as plan,
        pytest.raises(socket.timeout, match="timed out"),
    ):
        left.recv(1)
    assert plan.injections[0].fault == "timeout"


# -- subprocess -------------------------------------------------------------------------------
RUNNERS = ["subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output"]


def _call(operation: str, command: list[str]) -> object:
    func = getattr(subprocess, operation.split(".")[1])
    if operation == "subprocess.run":
        return func(command, timeout=30, check=False, capture_output=True, text=True)
    return func(command, timeout=30, stdout=subprocess.DEVNULL)


@pytest.mark.parametrize("operation", [*RUNNERS, "subprocess.Popen"])
def test_command_not_found(operation: str) -> None:
    with faults.inject(operation, "ENOENT"), pytest.raises(FileNotFoundError) as caught:
        if operation == "subprocess.Popen":
            subprocess.Popen(PY)
        else:
            _call(operation, PY)
    assert caught.value.filename == sys.executable
    assert str(caught.value) == f"[Errno 2] No such file or directory: {sys.executable!r}"


@pytest.mark.parametrize("operation", RUNNERS)
def test_nonzero_exit(operation: str) -> None:
    with faults.inject(operation, "nonzero") as plan:
        if operation in ("subprocess.check_call", "subprocess.check_output"):
            with pytest.raises(subprocess.CalledProcessError) as caught:
                _call(operation, PY)
            assert caught.value.returncode == 1 and caught.value.cmd == PY
            assert plan.injections[0].exception is caught.value
            return
        result = _call(operation, PY)
    if operation == "subprocess.run":
        assert isinstance(result, subprocess.CompletedProcess)
        assert (result.returncode, result.args, result.stdout) == (1, PY, "")
    else:
        assert result == 1
    assert plan.injections[0].exception is None  # nothing raised: the exit status says it


def test_run_check_true_nonzero_raises() -> None:
    with (
        faults.inject("subprocess.run", "nonzero"),
        pytest.raises(subprocess.CalledProcessError) as caught,
    ):
        subprocess.run(PY, check=True, timeout=30)
    assert caught.value.returncode == 1


def test_popen_nonzero_is_a_real_child_exiting_1() -> None:
    with faults.inject("subprocess.Popen", "nonzero"):
        child = subprocess.Popen(PY, stdout=subprocess.PIPE)
    out, _ = child.communicate(timeout=30)
    assert (child.returncode, child.args, out) == (1, PY, b"")


@pytest.mark.parametrize("operation", RUNNERS)
def test_timeout(operation: str) -> None:
    started = time.monotonic()
    with faults.inject(operation, "timeout"), pytest.raises(subprocess.TimeoutExpired) as caught:
        _call(operation, PY)
    assert (caught.value.cmd, caught.value.timeout) == (PY, 30)
    assert time.monotonic() - started < 10


def test_popen_timeout_times_out_for_real_and_is_reaped() -> None:
    with faults.inject("subprocess.Popen", "timeout"):
        child = subprocess.Popen(PY)
        with pytest.raises(subprocess.TimeoutExpired):
            child.wait(timeout=0.2)
        assert child.args == PY
    assert child.poll() is not None  # killed when the plan ended


def test_unfaulted_subprocess_runs_for_real() -> None:
    with faults.inject("subprocess.run", "ENOENT", path="/nonexistent/*"):
        result = subprocess.run(PY, capture_output=True, text=True, timeout=30, check=True)
    assert result.stdout == "hi\n"


# -- sqlite3 ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fault", "message", "code"),
    [
        ("locked", "database is locked", 5),
        ("disk-io", "disk I/O error", 10),
    ],
)
def test_sqlite_execute_and_commit(fault: str, message: str, code: int, tmp_path: Path) -> None:
    with faults.FaultPlan() as plan:
        connection = sqlite3.connect(tmp_path / "db")
        try:
            assert isinstance(connection, sqlite3.Connection)
            connection.execute("create table t (x)")
            plan.fail("sqlite3.execute", fault)
            with pytest.raises(sqlite3.OperationalError, match=message) as caught:
                connection.cursor().execute("insert into t values (1)")
            assert caught.value.sqlite_errorcode == code
            connection.execute("insert into t values (2)")
            plan.fail("sqlite3.commit", fault, persistent=True)
            with pytest.raises(sqlite3.OperationalError, match=message):
                connection.commit()
            with pytest.raises(sqlite3.OperationalError, match=message), connection:
                connection.execute("insert into t values (3)")
        finally:
            connection.close()
    check = sqlite3.connect(tmp_path / "db")
    try:
        assert check.execute("select x from t").fetchall() == []
    finally:
        check.close()


def test_sqlite_connect_fails(tmp_path: Path) -> None:
    with (
        faults.inject("sqlite3.connect", path="*.db"),
        pytest.raises(sqlite3.OperationalError, match="unable to open database file"),
    ):
        sqlite3.connect(str(tmp_path / "x.db"))


# -- file objects -----------------------------------------------------------------------------
def test_wrapped_file_is_transparent(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("one\ntwo\n")
    with faults.FaultPlan():
        with open(path) as handle:
            assert isinstance(handle, io.TextIOWrapper)
            assert handle.name == str(path) and handle.mode == "r"
            assert list(handle) == ["one\n", "two\n"]
        assert handle.closed
        with open(path, "rb") as raw:
            assert isinstance(raw, io.BufferedReader)
            assert raw.readline() == b"one\n"
            buffer = bytearray(3)
            assert raw.readinto(buffer) == 3 and bytes(buffer) == b"two"


def test_iteration_and_close_faults(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("one\ntwo\n")
    with faults.FaultPlan() as plan:
        plan.fail("file.read", "EIO", nth=2)
        with open(path) as handle, pytest.raises(OSError, match="Input/output"):
            list(handle)
        plan.fail("file.close", "ENOSPC")
        handle = open(path, "a")  # noqa: SIM115 - closing it is the point
        handle.write("three\n")
        with pytest.raises(OSError, match="No space left"):
            handle.close()
        assert handle.closed  # close(2) released the descriptor anyway


@pytest.mark.parametrize("operation", ["file.close", "file.flush"])
def test_a_file_opened_for_reading_never_gets_a_write_error_on_close(
    tmp_path: Path, operation: str
) -> None:
    """Nothing to write, so no ENOSPC; EIO is still possible."""
    path = tmp_path / "f"
    path.write_text("one\n")
    with faults.FaultPlan() as plan:
        full = plan.fail(operation, "ENOSPC", persistent=True)
        broken = plan.fail(operation, "EIO", nth=2)
        with open(path) as handle:
            handle.read()
            getattr(handle, operation.split(".")[1])()
        assert not full.fired and full.calls == 0
        with open(path) as handle, pytest.raises(OSError, match="Input/output"):
            getattr(handle, operation.split(".")[1])()
        assert broken.fired


def test_file_fileno_unsupported(tmp_path: Path) -> None:
    with (
        faults.inject("file.fileno"),
        open(tmp_path / "f", "w") as handle,
        pytest.raises(io.UnsupportedOperation),
    ):
        handle.fileno()


def test_files_opened_from_outside_the_filter_are_not_wrapped(tmp_path: Path) -> None:
    with (
        faults.FaultPlan(site_filter=lambda path: path.startswith("/elsewhere/")),
        open(tmp_path / "f", "w") as handle,
    ):
        assert type(handle) is io.TextIOWrapper


def test_pathlib_reaches_the_operations(tmp_path: Path) -> None:
    path = tmp_path / "f"
    with faults.FaultPlan() as plan:
        plan.fail("file.write", "ENOSPC")
        with pytest.raises(OSError, match="No space left"):
            path.write_text("x")
        plan.fail("os.mkdir", "EACCES")
        with pytest.raises(PermissionError):
            (tmp_path / "d").mkdir()
        plan.fail("os.unlink", "EBUSY")
        with pytest.raises(OSError, match="busy"):
            path.unlink()
        plan.fail("os.stat", "EACCES")
        with pytest.raises(PermissionError):
            path.stat()
    assert [i.operation for i in plan.injections] == [
        "file.write",
        "os.mkdir",
        "os.unlink",
        "os.stat",
    ]


def test_rmtree_sends_the_fault_where_rmtree_sends_errors(tmp_path: Path) -> None:
    tree = tmp_path / "t"
    tree.mkdir()
    seen: list[object] = []
    with faults.FaultPlan() as plan:
        plan.fail("shutil.rmtree", "EACCES", persistent=True)
        shutil.rmtree(tree, ignore_errors=True)
        shutil.rmtree(tree, onerror=lambda func, path, info: seen.append(info[1]))
        with pytest.raises(PermissionError):
            shutil.rmtree(tree)
    assert tree.exists()
    assert seen == [plan.injections[1].exception]


# -- only what the call can really return ------------------------------------------------------
def test_errnos_the_call_cannot_return_do_not_fire(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("x")
    with faults.FaultPlan() as plan:
        full = plan.fail("open", "ENOSPC")
        exists = plan.fail("open", "EEXIST", persistent=True)
        makedirs = plan.fail("os.makedirs", "EEXIST", persistent=True)
        raw = plan.fail("os.open", "EROFS", persistent=True)
        with open(path) as handle:  # reading allocates nothing and writes nothing
            assert handle.read() == "x"
        os.makedirs(tmp_path / "d", exist_ok=True)
        os.close(os.open(path, os.O_RDONLY))
        with pytest.raises(OSError, match="No space left"):
            open(tmp_path / "g", "w")  # noqa: SIM115 - it fails
        with pytest.raises(FileExistsError):
            open(tmp_path / "h", "x")  # noqa: SIM115 - it fails
        with pytest.raises(OSError, match="Read-only"):
            os.open(path, os.O_WRONLY)
    assert (full.calls, exists.calls, makedirs.calls, raw.calls) == (2, 1, 0, 1)


def test_no_exec_error_through_a_shell() -> None:
    with faults.FaultPlan() as plan:
        missing = plan.fail("subprocess.*", "ENOENT", persistent=True)
        assert subprocess.run("exit 0", shell=True, timeout=30, check=True).returncode == 0
        subprocess.Popen("exit 0", shell=True).wait(30)
        with pytest.raises(FileNotFoundError):
            subprocess.run(PY, timeout=30, check=False)
    assert missing.calls == 1


def test_timeouts_only_where_a_timeout_is_set() -> None:
    left, right = socket.socketpair()
    with left, right, faults.FaultPlan() as plan:
        blocking = plan.fail("socket.send", "timeout")
        waiting = plan.fail("subprocess.run", "timeout")
        left.send(b"x")
        assert subprocess.run(PY, stdout=subprocess.DEVNULL, check=True).returncode == 0
    assert not blocking.fired and not waiting.fired


# -- errwise's own operations under fault ------------------------------------------------------
@pytest.mark.parametrize(("operation", "fault"), [("os.replace", "ENOSPC"), ("os.fsync", "EIO")])
def test_atomic_write_under_fault(operation: str, fault: str, tmp_path: Path) -> None:
    import errwise

    target = tmp_path / "state.json"
    target.write_text("old")
    with faults.inject(operation, fault) as plan, pytest.raises(errwise.EnvError) as caught:
        errwise.atomic_write(target, b"new")
    assert caught.value.__cause__ is plan.injections[0].exception
    site = plan.injections[0].site
    assert site is not None and site.path == os.path.realpath(__file__)  # not errwise's own file
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]  # no temp file left
