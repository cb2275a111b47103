"""The proof that faults are real errors: every errno in every operation's table arrives from
that very operation as the right OSError subclass, with errno, strerror and filename(s)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from faults_calls import CALLS, TRUE

import errwise
from errwise import faults

ERRNO_CASES = [
    pytest.param(name, fault, id=f"{name}-{fault}")
    for name, info in faults.OPERATIONS.items()
    for fault in info.faults
    if isinstance(getattr(errno, fault, None), int)
]


def test_every_operation_has_a_real_call() -> None:
    assert set(CALLS) == set(faults.OPERATIONS)


@pytest.mark.parametrize(("operation", "fault"), ERRNO_CASES)
def test_errno_arrives_as_the_right_oserror(operation: str, fault: str, tmp_path: Path) -> None:
    number = getattr(errno, fault)
    expected_type = type(OSError(number, "x"))
    with faults.FaultPlan() as plan:
        rule = plan.fail(operation, fault)
        with pytest.raises(OSError) as caught:
            CALLS[operation](tmp_path)
    names = _names(operation, tmp_path)
    assert type(caught.value) is expected_type
    assert caught.value.errno == number
    assert caught.value.strerror == os.strerror(number)
    assert (caught.value.filename, caught.value.filename2) == names
    assert rule.fired and len(plan.injections) == 1
    injection = plan.injections[0]
    assert injection.operation == operation and injection.fault == fault
    assert injection.exception is caught.value
    assert injection.site is not None and injection.site.path.endswith("faults_calls.py")


_TWO = {"os.replace", "os.rename", "os.link", "os.symlink", "shutil.copy", "shutil.copy2"}
_TWO |= {"shutil.copyfile", "shutil.move"}
_NEW = {"open", "os.open", "os.mkdir", "os.makedirs"}
_FILE = {"os.unlink", "os.remove", "os.stat", "os.chmod"}
_DIR = {"os.rmdir", "os.listdir", "os.scandir", "shutil.rmtree"}


def _names(operation: str, tmp: Path) -> tuple[str | None, str | None]:
    """The filename(s) the real call's error names (None: a descriptor, a socket, a query)."""
    if operation in _TWO:
        return str(tmp / "f.txt"), str(tmp / "dst")
    if operation == "shutil.copytree":
        return str(tmp / "src"), str(tmp / "dst")
    if operation.startswith("subprocess."):
        return TRUE[0], None
    for names, leaf in ((_NEW, "new"), (_FILE, "f.txt"), (_DIR, "d")):
        if operation in names:
            return str(tmp / leaf), None
    return None, None


@pytest.mark.parametrize(
    ("fault", "cls"),
    [
        ("ENOENT", FileNotFoundError),
        ("EACCES", PermissionError),
        ("EPERM", PermissionError),
        ("EEXIST", FileExistsError),
        ("EINTR", InterruptedError),
        ("ECONNRESET", ConnectionResetError),
        ("ETIMEDOUT", TimeoutError),
        ("ECONNREFUSED", ConnectionRefusedError),
        ("EPIPE", BrokenPipeError),
        ("EISDIR", IsADirectoryError),
        ("ENOTDIR", NotADirectoryError),
        ("ESRCH", ProcessLookupError),
        ("EAGAIN", BlockingIOError),
    ],
)
def test_make_error_picks_the_subclass(fault: str, cls: type[OSError]) -> None:
    operation = next(name for name, info in faults.OPERATIONS.items() if fault in info.faults)
    error = faults.make_error(operation, fault, path="p")
    assert type(error) is cls
    assert (
        str(error) == f"[Errno {getattr(errno, fault)}] {os.strerror(getattr(errno, fault))}: 'p'"
    )


def test_tables_are_well_formed() -> None:
    for name, info in faults.OPERATIONS.items():
        assert info.name == name
        assert info.sweep, name
        assert 1 <= len(info.sweep) <= 3, name
        assert set(info.sweep) <= set(info.faults), name
        assert len(set(info.faults)) == len(info.faults), name
    assert faults.OPERATIONS["file.write"].sweep == ("ENOSPC", "EIO")
    assert faults.OPERATIONS["open"].sweep == ("ENOENT", "EACCES")
    assert faults.OPERATIONS["subprocess.run"].sweep == ("ENOENT", "nonzero", "timeout")
    # errnos a call cannot return are not offered
    assert "ENOSPC" not in faults.OPERATIONS["os.stat"].faults
    assert "EACCES" not in faults.OPERATIONS["file.write"].faults


def test_a_fault_that_does_not_fit_is_a_usage_error() -> None:
    with pytest.raises(errwise.UsageError) as caught:
        faults.FaultPlan().fail("os.stat", "ENOSPC")
    assert "does not fit" in str(caught.value)
    with pytest.raises(Exception, match="no fault operation"):
        faults.FaultPlan().fail("os.nothing*")
