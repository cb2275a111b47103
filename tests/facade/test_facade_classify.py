"""errwise.classify: every errno mapping, and every exception family, with real failures."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import errwise
from errwise import Kind

# errno -> (code, recoverable, a fragment of the hint, with {path}/{where} filled for /data/f.txt)
ERRNO_TABLE = {
    errno.ENOSPC: ("ERR_DISK_FULL", False, "free space on the device holding /data"),
    errno.EDQUOT: ("ERR_DISK_FULL", False, "raise the disk quota for /data"),
    errno.EACCES: ("ERR_PERMISSION_DENIED", False, "check the permissions of /data/f.txt"),
    errno.EPERM: ("ERR_PERMISSION_DENIED", False, "on /data/f.txt is not permitted"),
    errno.ENOENT: ("ERR_NOT_FOUND", False, "check that /data/f.txt exists"),
    errno.EEXIST: ("ERR_ALREADY_EXISTS", False, "remove /data/f.txt or choose another name"),
    errno.EROFS: ("ERR_READ_ONLY_FS", False, "the file system holding /data is read-only"),
    errno.ENOTDIR: ("ERR_NOT_A_DIRECTORY", False, "a component of /data/f.txt is not a dir"),
    errno.EISDIR: ("ERR_IS_A_DIRECTORY", False, "/data/f.txt is a directory"),
    errno.ENOTEMPTY: ("ERR_DIRECTORY_NOT_EMPTY", False, "/data/f.txt is not empty"),
    errno.ETIMEDOUT: ("ERR_TIMEOUT", True, "retry or allow more time"),
    errno.EAGAIN: ("ERR_IO", True, "temporarily unavailable; retry"),
    errno.EBUSY: ("ERR_IO", True, "/data/f.txt is busy; retry"),
    errno.EINTR: ("ERR_IO", True, "interrupted; retry"),
    errno.EIO: ("ERR_IO", False, None),
    errno.ENAMETOOLONG: ("ERR_IO", False, None),
    errno.ECONNREFUSED: ("ERR_IO", False, None),
}


def classified(action: Callable[[], object]) -> errwise.Error:
    """Run `action`, which must fail, and return its failure classified."""
    try:
        action()
    except BaseException as exc:
        err = errwise.classify(exc)
        assert err.__cause__ is exc
        return err
    raise AssertionError("the action did not fail")


# -- OS errors by errno ------------------------------------------------------------------------


@pytest.mark.parametrize("number", sorted(ERRNO_TABLE), ids=errno.errorcode.get)
def test_constructed_os_error_maps_by_errno(number: int) -> None:
    code, recoverable, hint = ERRNO_TABLE[number]
    exc = OSError(number, os.strerror(number), "/data/f.txt")
    err = errwise.classify(exc)
    assert type(err) is errwise.EnvError
    assert err.kind is Kind.ENVIRONMENT
    assert err.exit_code == 10
    assert err.code == code
    assert errwise.errno_code(number) == code
    assert err.recoverable is recoverable
    assert err.__cause__ is exc
    assert err.context == {
        "filename": "/data/f.txt",
        "errno": number,
        "strerror": os.strerror(number),
    }
    assert err.message == os.strerror(number)[:1].lower() + os.strerror(number)[1:]
    if hint is None:
        assert err.hints == []
    else:
        assert len(err.hints) == 1 and hint in err.hints[0], err.hints


def test_os_error_without_a_filename_still_has_a_hint() -> None:
    err = errwise.classify(OSError(errno.ENOSPC, "No space left on device"))
    assert err.code == "ERR_DISK_FULL"
    assert "filename" not in err.context
    assert err.hints == ["free space on the device holding the path"]


def test_errno_code_of_nothing_is_io() -> None:
    assert errwise.errno_code(None) == "ERR_IO"
    assert errwise.errno_code(999_999) == "ERR_IO"


@pytest.mark.parametrize(
    ("exc", "code", "recoverable"),
    [
        (TimeoutError(), "ERR_TIMEOUT", True),
        (TimeoutError("timed out"), "ERR_TIMEOUT", True),
        (FileNotFoundError("gone"), "ERR_NOT_FOUND", False),
        (FileExistsError(), "ERR_ALREADY_EXISTS", False),
        (PermissionError(), "ERR_PERMISSION_DENIED", False),
        (IsADirectoryError(), "ERR_IS_A_DIRECTORY", False),
        (NotADirectoryError(), "ERR_NOT_A_DIRECTORY", False),
        (BlockingIOError(), "ERR_IO", True),
        (InterruptedError(), "ERR_IO", True),
        (OSError("something"), "ERR_IO", False),
    ],
)
def test_os_error_without_errno_maps_by_its_type(
    exc: OSError, code: str, recoverable: bool
) -> None:
    err = errwise.classify(exc)
    assert (err.code, err.recoverable) == (code, recoverable)
    assert err.message  # never empty: the exception text or the code's title
    assert err.context["errno"] is None


def test_bytes_and_second_filenames_are_decoded() -> None:
    exc = OSError(errno.EXDEV, "Invalid cross-device link", b"/a\xff", None, b"/b")
    err = errwise.classify(exc)
    assert err.context["filename"] == "/a\udcff"
    assert err.context["filename2"] == "/b"
    err.to_json().encode("utf-8")  # still one encodable JSON line


# -- OS errors, for real -----------------------------------------------------------------------


def test_real_enoent(tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    err = classified(lambda: missing.open(encoding="utf-8"))
    assert err.code == "ERR_NOT_FOUND"
    assert err.context["filename"] == str(missing)
    assert err.hints == [f"check that {missing} exists"]


def test_real_eexist(tmp_path: Path) -> None:
    err = classified(lambda: os.mkdir(tmp_path))
    assert err.code == "ERR_ALREADY_EXISTS"
    assert err.context["errno"] == errno.EEXIST


def test_real_eisdir(tmp_path: Path) -> None:
    err = classified(lambda: open(tmp_path, "w", encoding="utf-8"))  # noqa: SIM115
    assert err.code == "ERR_IS_A_DIRECTORY"
    assert err.context["filename"] == str(tmp_path)


def test_real_enotdir(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_text("x", encoding="utf-8")
    err = classified(lambda: os.listdir(plain))
    assert err.code == "ERR_NOT_A_DIRECTORY"
    err = classified(lambda: (plain / "child").write_text("x", encoding="utf-8"))
    assert err.code == "ERR_NOT_A_DIRECTORY"


def test_real_enotempty(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("x", encoding="utf-8")
    err = classified(lambda: os.rmdir(tmp_path / "d"))
    assert err.code == "ERR_DIRECTORY_NOT_EMPTY"
    assert err.recoverable is False


def test_real_rename_failure_keeps_both_names(tmp_path: Path) -> None:
    err = classified(lambda: os.rename(tmp_path / "a", tmp_path / "b"))
    assert err.code == "ERR_NOT_FOUND"
    assert err.context["filename"] == str(tmp_path / "a")
    assert err.context["filename2"] == str(tmp_path / "b")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_real_enospc_writing_to_dev_full() -> None:
    def write() -> None:
        with open("/dev/full", "w", encoding="utf-8") as handle:
            handle.write("x" * 10)

    err = classified(write)
    assert err.code == "ERR_DISK_FULL"
    assert err.recoverable is False
    assert err.context == {"errno": errno.ENOSPC, "strerror": "No space left on device"}
    # A failed write or flush names no file: the hint stays generic, the caller adds the path.
    assert err.hints == ["free space on the device holding the path"]
    err.with_context(path="/dev/full")
    assert str(err) == (
        "[ERR_DISK_FULL] no space left on device "
        "(errno=28, strerror=No space left on device, path=/dev/full)"
    )


def test_injected_eacces(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Tests run as root, which chmod cannot stop: inject the failure the kernel would report.
    def deny(path: object, *args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))  # type: ignore[arg-type]

    monkeypatch.setattr(os, "mkdir", deny)
    err = classified(lambda: os.mkdir(tmp_path / "new"))
    assert (err.code, err.recoverable) == ("ERR_PERMISSION_DENIED", False)
    assert err.context["filename"] == str(tmp_path / "new")


# -- the subprocess family ---------------------------------------------------------------------


def test_real_timeout_expired() -> None:
    err = classified(lambda: subprocess.run(["sleep", "5"], timeout=0.2, check=False))
    assert type(err) is errwise.EnvError
    assert (err.code, err.recoverable) == ("ERR_TIMEOUT", True)
    assert err.context["command"] == "sleep 5"
    timeout = err.context["timeout"]
    assert isinstance(timeout, float) and 0 < timeout <= 0.2  # subprocess reports what was left
    assert err.message.startswith("sleep timed out after 0.")
    assert err.hints


def test_real_timeout_keeps_the_output_tail() -> None:
    script = "echo started; sleep 5"
    err = classified(
        lambda: subprocess.run(["sh", "-c", script], capture_output=True, timeout=0.5, check=False)
    )
    assert err.code == "ERR_TIMEOUT"
    assert err.context["output_tail"] == "started"  # what was read before the timeout


def test_real_called_process_error_keeps_the_stderr_tail() -> None:
    script = "for i in $(seq 1 80); do echo line$i >&2; done; exit 3"
    err = classified(
        lambda: subprocess.run(["sh", "-c", script], capture_output=True, check=True, timeout=10)
    )
    assert type(err) is errwise.TargetError
    assert (err.code, err.exit_code) == ("ERR_SUBPROCESS_FAILED", 20)
    assert err.message == "sh exited with status 3"
    assert err.context["command"] == f"sh -c {script}"
    assert err.context["returncode"] == 3
    tail = str(err.context["stderr_tail"]).splitlines()
    assert tail == [f"line{i}" for i in range(31, 81)]  # the last 50 lines


def test_real_called_process_error_killed_by_a_signal() -> None:
    err = classified(
        lambda: subprocess.run(
            ["sh", "-c", "kill -TERM $$"], capture_output=True, check=True, timeout=10
        )
    )
    assert err.context["returncode"] == -signal.SIGTERM
    assert err.message == "sh was killed by SIGTERM"


def test_the_stderr_tail_is_bounded() -> None:
    exc = subprocess.CalledProcessError(1, ["tool"], stderr=b"x" * 1_000_000 + b"\nlast line\n")
    tail = str(errwise.classify(exc).context["stderr_tail"])
    assert len(tail) == 4000
    assert tail.startswith("...") and tail.endswith("x\nlast line")


def test_called_process_error_with_merged_output() -> None:
    exc = subprocess.CalledProcessError(1, "make all", output=b"compiling\nerror: boom\n")
    err = errwise.classify(exc)
    assert err.message == "make exited with status 1"
    assert err.context == {
        "command": "make all",
        "returncode": 1,
        "output_tail": "compiling\nerror: boom",
    }


@pytest.mark.parametrize("program", ["errwise-no-such-program", "/nonexistent/bin/tool"])
def test_real_missing_executable(program: str) -> None:
    err = classified(lambda: subprocess.run([program, "--version"], timeout=10, check=False))
    assert type(err) is errwise.EnvError
    assert err.code == "ERR_COMMAND_NOT_FOUND"
    assert err.context == {"executable": program}
    assert err.message == f"command not found: {program}"
    assert err.hints == [f"install {program} or add the directory holding it to PATH"]


def test_real_missing_executable_with_posix_spawn() -> None:
    # close_fds=False with a path lets CPython use posix_spawn: a different raising frame.
    err = classified(
        lambda: subprocess.run(["/nonexistent/tool"], close_fds=False, timeout=10, check=False)
    )
    assert err.code == "ERR_COMMAND_NOT_FOUND"


def test_real_missing_working_directory_is_not_a_missing_command(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    err = classified(
        lambda: subprocess.run([sys.executable, "-c", "pass"], cwd=gone, timeout=10, check=False)
    )
    assert err.code == "ERR_NOT_FOUND"
    assert err.context["filename"] == str(gone)


def test_a_file_not_found_outside_subprocess_is_not_a_missing_command(tmp_path: Path) -> None:
    err = classified(lambda: (tmp_path / "x").read_text(encoding="utf-8"))
    assert err.code == "ERR_NOT_FOUND"


# -- interrupts, our own errors, and the unknown -----------------------------------------------


def test_real_keyboard_interrupt() -> None:
    def press_ctrl_c() -> None:
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1_000_000):  # bytecode boundaries for the pending signal to arrive at
            pass

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        err = classified(press_ctrl_c)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert isinstance(err.__cause__, KeyboardInterrupt)
    assert (err.code, err.kind, err.recoverable) == ("ERR_INTERRUPTED", Kind.ENVIRONMENT, True)
    assert err.message == "interrupted by the user (Ctrl-C)"


def test_an_errwise_error_passes_through_unchanged() -> None:
    original = errwise.env("ERR_DISK_FULL", "full", path="/x")
    cause = ValueError("kept")
    original.__cause__ = cause
    assert errwise.classify(original) is original
    assert original.__cause__ is cause


def test_unknown_exceptions_are_internal_errors() -> None:
    exc = ValueError("bad value")
    err = errwise.classify(exc)
    assert type(err) is errwise.InternalError
    assert (err.code, err.exit_code) == ("ERR_INTERNAL", 70)
    assert err.message == "unexpected ValueError: bad value"
    assert err.__cause__ is exc
    assert err.hints and "bug" in err.hints[0]
    assert errwise.classify(SystemExit(3)).code == "ERR_INTERNAL"


def test_classify_survives_an_exception_whose_str_raises() -> None:
    class Nasty(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    err = errwise.classify(Nasty())
    assert err.code == "ERR_INTERNAL"
    assert "whose str() failed" in err.message


def test_classify_never_raises_even_when_classifying_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    classify_module = sys.modules["errwise.classify"]  # the package attribute is the function

    def broken(exc: OSError) -> errwise.Error:
        raise RuntimeError("classifier bug")

    monkeypatch.setattr(classify_module, "_os_error", broken)
    exc = OSError(errno.EIO, "I/O error")
    err = errwise.classify(exc)
    assert type(err) is errwise.InternalError
    assert err.message == "cannot classify OSError: classifier bug"
    assert err.__cause__ is exc


def test_classify_then_add_context_then_chain() -> None:
    try:
        try:
            open("/nonexistent/errwise/x", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise errwise.classify(exc).with_context(step="load") from exc
    except errwise.EnvError as err:
        assert err.context["step"] == "load"
        assert isinstance(err.__cause__, FileNotFoundError)
        assert err.__context__ is err.__cause__


def test_classify_rejects_what_is_not_an_exception() -> None:
    with pytest.raises(errwise.UsageError, match="classify\\(\\) takes an exception"):
        errwise.classify("disk full")  # type: ignore[arg-type]
    with pytest.raises(errwise.UsageError, match="takes an int errno"):
        errwise.errno_code("28")  # type: ignore[arg-type]


def test_os_error_with_odd_arguments_is_still_classified() -> None:
    err = errwise.classify(OSError("not an errno", 3))
    assert (type(err), err.code) == (errwise.EnvError, "ERR_IO")
    assert err.context["errno"] == "not an errno"
