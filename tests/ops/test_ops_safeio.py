"""read_regular: a bounded read of a file errwise depends on, that never follows a final
symlink, never blocks on a FIFO, never reads a device, and says why it refused."""

from __future__ import annotations

import errno
import os
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from errwise.error import EnvError, UsageError
from errwise.ops import safeio
from errwise.ops.safeio import read_regular


def _refusal(path: Path, **options: Any) -> EnvError:
    with pytest.raises(EnvError) as caught:
        read_regular(path, **{"limit": 1024, **options})
    assert caught.value.context["path"] == str(path)
    return caught.value


def test_reads_a_regular_file_up_to_its_limit(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    assert read_regular(path, limit=100) == b"x" * 100
    assert read_regular(str(path), limit=1 << 30) == b"x" * 100
    path.write_bytes(b"")
    assert read_regular(path, limit=0) == b""


def test_a_larger_file_is_refused_by_its_size(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 101)
    err = _refusal(path, limit=100)
    assert (err.code, err.context["reason"]) == ("ERR_IO", "too large")
    assert "larger than 100 bytes" in err.message


def test_a_file_that_grows_while_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fstat says 10 bytes; by the time it is read the file holds 5000: at most limit + 1
    bytes are read, then it is refused."""
    path = tmp_path / "f"
    path.write_bytes(b"x" * 5000)
    real_fstat, real_read = os.fstat, os.read
    asked: list[int] = []

    def small(fd: int) -> os.stat_result:
        fields = list(real_fstat(fd))
        fields[6] = 10  # st_size
        return os.stat_result(fields)

    def counting(fd: int, n: int) -> bytes:
        asked.append(n)
        return real_read(fd, n)

    monkeypatch.setattr(safeio.os, "fstat", small)
    monkeypatch.setattr(safeio.os, "read", counting)
    assert _refusal(path, limit=100).context["reason"] == "too large"
    assert sum(asked) <= 101


def test_a_symlink_is_refused_unless_asked(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.write_bytes(b"data")
    link = tmp_path / "link"
    link.symlink_to(real)
    err = _refusal(link)
    assert err.context["reason"] == "symlink" and "symbolic link" in err.message
    assert read_regular(link, limit=10, follow_symlinks=True) == b"data"


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    started = time.monotonic()
    err = _refusal(fifo)
    assert time.monotonic() - started < 5  # no writer ever comes: the open must not wait
    assert err.context["reason"] == "not a regular file" and "a FIFO" in err.message


@pytest.mark.parametrize("follow", [False, True])
def test_a_link_to_dev_zero_is_refused_before_any_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, follow: bool
) -> None:
    link = tmp_path / "zero"
    link.symlink_to("/dev/zero")

    def never(fd: int, n: int) -> bytes:
        raise AssertionError("a device must not be read")

    monkeypatch.setattr(safeio.os, "read", never)
    err = _refusal(link, follow_symlinks=follow)
    assert err.context["reason"] == ("not a regular file" if follow else "symlink")
    if follow:
        assert "a device" in err.message


def test_a_socket_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a short path: AF_UNIX names are limited to ~100 bytes
    with socket.socket(socket.AF_UNIX) as server:
        server.bind("sock")
        err = _refusal(Path("sock"))
    # Linux: open() fails with ENXIO; elsewhere fstat shows a socket
    assert err.context["reason"] in ("unreadable", "not a regular file")


def test_a_directory_and_a_missing_file(tmp_path: Path) -> None:
    err = _refusal(tmp_path)
    assert (err.code, err.context["reason"]) == ("ERR_IS_A_DIRECTORY", "not a regular file")
    err = _refusal(tmp_path / "missing")
    assert (err.code, err.context["reason"]) == ("ERR_NOT_FOUND", "missing")
    assert str(tmp_path / "missing") in err.message


def test_an_os_error_is_classified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x")

    def denied(*args: Any, **kwargs: Any) -> int:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(safeio.os, "open", denied)
    err = _refusal(path)
    assert (err.code, err.context["reason"]) == ("ERR_PERMISSION_DENIED", "unreadable")

    def failing_read(fd: int, n: int) -> bytes:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.undo()
    monkeypatch.setattr(safeio.os, "read", failing_read)
    assert _refusal(path).context["errno"] == errno.EIO


def test_private_files_must_be_ours_and_unshared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "key"
    path.write_bytes(b"k")
    os.chmod(path, 0o600)
    assert read_regular(path, limit=1, private=True) == b"k"
    os.chmod(path, 0o640)
    err = _refusal(path, private=True)
    assert err.context["reason"] == "not private" and "mode 640" in err.message
    os.chmod(path, 0o600)
    monkeypatch.setattr(safeio.os, "geteuid", lambda: os.getuid() + 1)
    assert "not to you" in _refusal(path, private=True).message


@pytest.mark.parametrize("limit", [-1, 1.5, None, True])
def test_the_limit_must_be_a_size(tmp_path: Path, limit: Any) -> None:
    with pytest.raises(UsageError, match="limit"):
        read_regular(tmp_path / "f", limit=limit)
