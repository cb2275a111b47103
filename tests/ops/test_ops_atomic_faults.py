"""atomic_write under injected failures: the target is untouched, the temp file is gone, and
the error is classified with the path in its context."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import errwise
from errwise.ops.atomic import TEMP_MARKER
from errwise.ops.leftovers import owner_tag


@pytest.fixture
def target(tmp_path: Path) -> Path:
    path = tmp_path / "state.json"
    path.write_bytes(b"OLD")
    return path


def _leftovers(directory: Path) -> list[str]:
    return [n for n in os.listdir(directory) if TEMP_MARKER in n]


def _assert_clean_failure(err: errwise.Error, target: Path, code: str) -> None:
    assert err.code == code, err
    assert err.context["path"] == str(target)
    assert str(target) in err.message
    assert isinstance(err.__cause__, OSError)
    assert target.read_bytes() == b"OLD"
    assert _leftovers(target.parent) == []


def _failing(errno_value: int, real: Callable[..., Any], when: Callable[..., bool]) -> Any:
    def fake(*args: Any, **kwargs: Any) -> Any:
        if when(*args):
            raise OSError(errno_value, os.strerror(errno_value))
        return real(*args, **kwargs)

    return fake


def _is_temp(path: object, *_: object) -> bool:
    return isinstance(path, str) and TEMP_MARKER in path


@pytest.fixture
def dev_full_fd() -> Iterator[int]:
    fd = os.open("/dev/full", os.O_WRONLY)
    yield fd
    os.close(fd)


def _redirect_temp_to_dev_full(monkeypatch: pytest.MonkeyPatch, full_fd: int) -> None:
    """Create the temp file for real, but make its descriptor /dev/full: a real kernel ENOSPC."""
    real_open = os.open

    def open_then_swap(path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
        fd = real_open(path, flags, mode, **kw)
        if _is_temp(path):
            os.dup2(full_fd, fd)
        return fd

    monkeypatch.setattr(os, "open", open_then_swap)


def test_enospc_from_dev_full(
    target: Path, monkeypatch: pytest.MonkeyPatch, dev_full_fd: int
) -> None:
    _redirect_temp_to_dev_full(monkeypatch, dev_full_fd)
    with pytest.raises(errwise.EnvError) as info:
        errwise.atomic_write(target, b"NEW" * 1000)
    _assert_clean_failure(info.value, target, "ERR_DISK_FULL")
    assert info.value.__cause__.errno == errno.ENOSPC  # type: ignore[union-attr]
    assert info.value.hints  # a human can act on it


def test_enospc_from_dev_full_in_writer(
    target: Path, monkeypatch: pytest.MonkeyPatch, dev_full_fd: int
) -> None:
    _redirect_temp_to_dev_full(monkeypatch, dev_full_fd)
    with pytest.raises(errwise.EnvError) as info, errwise.atomic_writer(target) as f:
        f.write("NEW" * 100_000)  # large enough to hit the disk inside the block
    _assert_clean_failure(info.value, target, "ERR_DISK_FULL")


@pytest.mark.parametrize(
    ("call", "errno_value", "code"),
    [
        ("write", errno.ENOSPC, "ERR_DISK_FULL"),
        ("write", errno.EDQUOT, "ERR_DISK_FULL"),
        ("write", errno.EIO, "ERR_IO"),
        ("fsync", errno.ENOSPC, "ERR_DISK_FULL"),
        ("fsync", errno.EIO, "ERR_IO"),
        ("fchmod", errno.EPERM, "ERR_PERMISSION_DENIED"),
        ("close", errno.EIO, "ERR_IO"),
        ("replace", errno.EACCES, "ERR_PERMISSION_DENIED"),
        ("replace", errno.EROFS, "ERR_READ_ONLY_FS"),
        ("replace", errno.EXDEV, "ERR_IO"),
    ],
)
def test_injected_failure_after_temp_created(
    target: Path, monkeypatch: pytest.MonkeyPatch, call: str, errno_value: int, code: str
) -> None:
    temp_fds: set[int] = set()
    real_open = os.open

    def open_spy(path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
        fd = real_open(path, flags, mode, **kw)
        if _is_temp(path):
            temp_fds.add(fd)
        return fd

    monkeypatch.setattr(os, "open", open_spy)
    real = getattr(os, call)

    def on_temp(first: object, *_: object) -> bool:
        return first in temp_fds or _is_temp(first)

    monkeypatch.setattr(os, call, _failing(errno_value, real, on_temp))
    with pytest.raises(errwise.EnvError) as info:
        errwise.atomic_write(target, b"NEW")
    _assert_clean_failure(info.value, target, code)
    assert info.value.context["operation"]


@pytest.mark.parametrize(
    ("errno_value", "code"),
    [
        (errno.EACCES, "ERR_PERMISSION_DENIED"),
        (errno.EROFS, "ERR_READ_ONLY_FS"),
        (errno.ENOSPC, "ERR_DISK_FULL"),
    ],
)
def test_cannot_create_temp(
    target: Path, monkeypatch: pytest.MonkeyPatch, errno_value: int, code: str
) -> None:
    monkeypatch.setattr(os, "open", _failing(errno_value, os.open, _is_temp))
    with pytest.raises(errwise.EnvError) as info:
        errwise.atomic_write(target, b"NEW")
    _assert_clean_failure(info.value, target, code)
    assert info.value.context["operation"] == "create temp file"


def test_writer_form_classifies_injected_fsync_failure(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "fsync", _failing(errno.EROFS, os.fsync, lambda fd: True))
    with pytest.raises(errwise.EnvError) as info, errwise.atomic_writer(target) as f:
        f.write("NEW")
    _assert_clean_failure(info.value, target, "ERR_READ_ONLY_FS")


def test_interrupt_mid_write_removes_temp_and_propagates(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(fd: int, data: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        errwise.atomic_write(target, b"NEW")
    assert target.read_bytes() == b"OLD"
    assert _leftovers(target.parent) == []


def test_partial_writes_are_completed(target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write

    def short_write(fd: int, data: Any) -> int:
        return real_write(fd, bytes(data[:7]))  # the kernel may write less than asked

    monkeypatch.setattr(os, "write", short_write)
    payload = bytes(range(256)) * 40
    errwise.atomic_write(target, payload)
    assert target.read_bytes() == payload


def test_temp_that_cannot_be_removed_is_reported(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "fsync", _failing(errno.EIO, os.fsync, lambda fd: True))
    monkeypatch.setattr(os, "unlink", _failing(errno.EBUSY, os.unlink, _is_temp))
    with pytest.raises(errwise.EnvError) as info:
        errwise.atomic_write(target, b"NEW")
    err = info.value
    leftover = err.context["leftover_temp"]
    assert isinstance(leftover, str) and os.path.exists(leftover)
    assert TEMP_MARKER in leftover
    assert target.read_bytes() == b"OLD"
    assert any("could not be removed" in note for note in err.__notes__)


def test_directory_fsync_failure_after_replace_is_not_silent(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fsync = os.fsync
    dir_fds: set[int] = set()
    real_open = os.open

    def open_spy(path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
        fd = real_open(path, flags, mode, **kw)
        if flags & os.O_DIRECTORY:
            dir_fds.add(fd)
        else:
            dir_fds.discard(fd)  # a number reused after a directory (the leftover sweep's) closed
        return fd

    def fsync(fd: int) -> None:
        if fd in dir_fds:
            raise OSError(errno.EIO, "I/O error")
        real_fsync(fd)

    monkeypatch.setattr(os, "open", open_spy)
    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(errwise.EnvError) as info:
        errwise.atomic_write(target, b"NEW")
    assert info.value.code == "ERR_IO"
    assert info.value.context["replaced"] is True  # the content is in place, durability unknown
    assert target.read_bytes() == b"NEW"
    assert _leftovers(target.parent) == []


def test_directory_fsync_einval_is_accepted(target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            raise OSError(errno.EINVAL, "Invalid argument")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    errwise.atomic_write(target, b"NEW")
    assert target.read_bytes() == b"NEW"


def test_name_collisions_are_retried_then_reported(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "urandom", lambda n: b"\x00" * n)
    (target.parent / f".{target.name}{TEMP_MARKER}{owner_tag()}-{'00' * 8}").write_bytes(
        b"someone else's"
    )
    with pytest.raises(errwise.EnvError) as info:
        errwise.atomic_write(target, b"NEW")
    assert info.value.code == "ERR_ALREADY_EXISTS"
    assert target.read_bytes() == b"OLD"
    assert (
        target.parent / f".{target.name}{TEMP_MARKER}{owner_tag()}-{'00' * 8}"
    ).read_bytes() == (b"someone else's")
