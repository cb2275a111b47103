"""Leftovers of killed writers are swept: by the next `atomic_write` / `staged_output` in the same
directory and by `errwise clean` — only when provably abandoned (owner dead, old enough), never a
live process's entry, never a name that merely looks like ours."""

from __future__ import annotations

import errno
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import errwise
from errwise.ops import leftovers
from errwise.ops.atomic import is_temp_name
from errwise.ops.lockinfo import process_start_time

HOURS = 3600.0
SIZE = 1 << 20


@pytest.fixture(autouse=True)
def _fresh_sweeps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts with no directory swept recently in this process."""
    monkeypatch.setattr(leftovers, "_last_sweep", {})


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=30)
    return child.pid


def _names(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


def _kill_child(body: Callable[[], None]) -> int:
    """Fork a child that signals when it is ready, runs `body` until killed; SIGKILL it."""
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        try:
            os.close(ready_r)
            os.environ["ERRWISE_TEST_READY_FD"] = str(ready_w)
            body()
        finally:
            os._exit(1)
    os.close(ready_w)
    try:
        assert os.read(ready_r, 1) == b"!"
    finally:
        os.close(ready_r)
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    return pid


def _ready() -> None:
    os.write(int(os.environ["ERRWISE_TEST_READY_FD"]), b"!")


# -- real kills -----------------------------------------------------------------------------------


def test_temp_file_of_a_sigkilled_writer_is_swept_by_the_next_write(tmp_path: Path) -> None:
    target = tmp_path / "state.bin"

    def write_forever() -> None:
        real_write = os.write
        signalled = False

        def write(fd: int, data: Any) -> int:
            nonlocal signalled
            written = real_write(fd, data)
            if not signalled and len(data) >= SIZE // 2:  # mid-way through the temp file
                signalled = True
                _ready()
                time.sleep(60)
            return written

        os.write = write  # the child only
        errwise.atomic_write(target, b"x" * SIZE)

    pid = _kill_child(write_forever)
    (left,) = _names(tmp_path)
    assert is_temp_name(left) and leftovers.is_scratch_name(left)
    assert f".errwise-tmp-{pid}-" in left
    errwise.atomic_write(target, b"new")
    assert _names(tmp_path) == [left, "state.bin"], "a young leftover is kept"
    _age(tmp_path / left, 2 * HOURS)
    leftovers._last_sweep.clear()
    errwise.atomic_write(target, b"newer")
    assert _names(tmp_path) == ["state.bin"]
    assert target.read_bytes() == b"newer"


def test_staging_directory_of_a_sigkilled_writer_is_swept_by_the_next_publish(
    tmp_path: Path,
) -> None:
    dest = tmp_path / "out"

    def stage_forever() -> None:
        with errwise.staged_output(dest) as staging:
            (staging / "half.txt").write_text("half")
            _ready()
            time.sleep(60)

    pid = _kill_child(stage_forever)
    (left,) = _names(tmp_path)
    assert left.startswith(f".out.errwise-staging-{pid}-")
    _age(tmp_path / left, 2 * HOURS)
    with errwise.staged_output(dest) as staging:
        (staging / "full.txt").write_text("full")
    assert _names(tmp_path) == ["out"]
    assert _names(dest) == ["full.txt"]


# -- what is never removed ----------------------------------------------------------------------


def test_a_live_process_entries_are_never_removed(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        start = process_start_time(sleeper.pid)
        assert start is not None
        kept = [
            f".a{leftovers_marker('tmp')}{sleeper.pid}-{start}-{'ab' * 8}",
            f".a{leftovers_marker('tmp')}{sleeper.pid}-0-{'cd' * 8}",  # start time unknown
            f".a{leftovers_marker('tmp')}{leftovers.owner_tag()}-{'ef' * 8}",  # this process
        ]
        for name in kept:
            (tmp_path / name).write_bytes(b"in progress")
        staging = tmp_path / f".d{leftovers_marker('staging')}{sleeper.pid}-{start}-{'01' * 8}"
        staging.mkdir()
        for path in tmp_path.iterdir():
            _age(path, 10 * HOURS)
        errwise.atomic_write(tmp_path / "a", b"x")
        assert _names(tmp_path) == sorted([*kept, staging.name, "a"])
    finally:
        sleeper.kill()
        sleeper.wait(timeout=30)


def test_a_reused_pid_does_not_keep_a_leftover_alive(tmp_path: Path) -> None:
    # This very process has the pid; a different start time proves the writer was another one.
    pid = os.getpid()
    start = process_start_time(pid)
    assert start is not None
    left = tmp_path / f".a{leftovers_marker('tmp')}{pid}-{start + 1}-{'ab' * 8}"
    left.write_bytes(b"orphan")
    _age(left, 2 * HOURS)
    errwise.atomic_write(tmp_path / "a", b"x")
    assert _names(tmp_path) == ["a"]


def test_names_that_merely_look_like_ours_are_never_removed(tmp_path: Path) -> None:
    dead = _dead_pid()
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    lookalikes = [
        f".a.errwise-tmp-{'ab' * 8}",  # an older errwise's name: no owner to prove dead
        f".a.errwise-tmp-{dead}-5-{'AB' * 8}",
        f"a.errwise-tmp-{dead}-5-{'ab' * 8}",
        f".a.errwise-tmp-{dead}-5-{'ab' * 8}.bak",
        f".a.errwise-tmp-0{dead}-5-{'ab' * 8}",
        f".a.errwise-tmp-{dead}-5-{'ab' * 7}",
        f".a.errwise-temp-{dead}-5-{'ab' * 8}",
        f".a.errwise-tmp-{dead}--{'ab' * 8}",
        f"..errwise-tmp-{dead}-5-{'ab' * 8}x",
        f".a.errwise-partial-{dead}-5-{'ab' * 8}",
    ]
    for name in lookalikes:
        (tmp_path / name).write_bytes(b"not ours")
    link = tmp_path / f".v.errwise-tmp-{dead}-5-{'cd' * 8}"
    link.symlink_to(victim)  # a symlink under our exact name: neither it nor its target goes
    wrong_type = tmp_path / f".w.errwise-tmp-{dead}-5-{'ef' * 8}"
    wrong_type.mkdir()  # a temp name on a directory
    (wrong_type / "inside").write_text("keep")
    file_as_staging = tmp_path / f".f.errwise-staging-{dead}-5-{'01' * 8}"
    file_as_staging.write_text("keep")
    young = tmp_path / f".y.errwise-tmp-{dead}-5-{'23' * 8}"
    young.write_text("dead but young")
    before = _names(tmp_path)
    for path in tmp_path.iterdir():
        if path != young:
            _age(path, 10 * HOURS)
    errwise.atomic_write(tmp_path / "a", b"x")
    assert _names(tmp_path) == sorted([*before, "a"])
    assert victim.read_bytes() == b"precious"
    assert (wrong_type / "inside").read_text() == "keep"


def test_a_tree_moved_aside_is_removed_only_once_replaced(tmp_path: Path) -> None:
    dead = _dead_pid()
    only_copy = tmp_path / f".gone{leftovers_marker('old')}{dead}-5-{'ab' * 8}"
    only_copy.mkdir()
    (only_copy / "data").write_text("the only copy")
    replaced = tmp_path / f".here{leftovers_marker('old')}{dead}-5-{'cd' * 8}"
    replaced.mkdir()
    (tmp_path / "here").mkdir()
    _age(only_copy, 10 * HOURS)
    _age(replaced, 10 * HOURS)
    errwise.atomic_write(tmp_path / "a", b"x")
    assert _names(tmp_path) == sorted([only_copy.name, "a", "here"])


# -- the sweep never hurts the write ---------------------------------------------------------------


def test_a_failing_sweep_is_logged_and_the_write_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def denied(*args: object) -> Any:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "scandir", denied)
    with caplog.at_level(logging.DEBUG, logger="errwise.ops"):
        errwise.atomic_write(tmp_path / "a", b"x")
    assert (tmp_path / "a").read_bytes() == b"x"
    assert any("sweeping leftovers in" in r.getMessage() for r in caplog.records)


def test_a_directory_is_scanned_at_most_once_per_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scans: list[object] = []
    real_scandir = os.scandir

    def counting(fd: Any) -> Any:
        scans.append(fd)
        return real_scandir(fd)

    monkeypatch.setattr(os, "scandir", counting)
    for _ in range(20):
        errwise.atomic_write(tmp_path / "a", b"x", fsync=False)
    assert len(scans) == 1


def test_a_scan_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dead = _dead_pid()
    monkeypatch.setattr(leftovers, "MAX_SCAN", 5)
    for i in range(30):
        path = tmp_path / f".f{i:02}{leftovers_marker('tmp')}{dead}-5-{'ab' * 8}"
        path.write_text("x")
        _age(path, 10 * HOURS)
    assert len(leftovers.find_leftovers(str(tmp_path))) <= 5


def leftovers_marker(kind: str) -> str:
    return f".errwise-{kind}-"


# -- errwise clean ------------------------------------------------------------------------------


def _plant(directory: Path, dead: int) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    temp = directory / f".r.json{leftovers_marker('tmp')}{dead}-7-{'ab' * 8}"
    temp.write_bytes(b"12345")
    staging = directory / f".out{leftovers_marker('staging')}{dead}-7-{'cd' * 8}"
    staging.mkdir()
    (staging / "f").write_text("x")
    for path in (temp, staging):
        _age(path, 2 * HOURS)
    return temp, staging


def test_clean_dry_run_lists_and_removes_nothing(tmp_path: Path, cli: Callable[..., Any]) -> None:
    temp, staging = _plant(tmp_path, _dead_pid())
    run = cli("clean", "--dry-run", str(tmp_path))
    assert run.code == 0, run
    assert run.out.splitlines() == [
        f"would remove {staging}: staged_output staging directory of dead pid "
        f"{staging.name.split('-')[2]}, 2.0 h old",
        f"would remove {temp}: atomic_write temp file of dead pid {temp.name.split('-')[2]}, "
        "2.0 h old",
    ]
    assert "would remove 2 leftovers (5 bytes" in run.err
    assert temp.exists() and staging.exists()


def test_clean_removes_named_and_with_recursive_nested_directories(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    dead = _dead_pid()
    top = _plant(tmp_path, dead)
    nested = _plant(tmp_path / "a" / "b", dead)
    run = cli("clean", str(tmp_path))
    assert run.code == 0, run
    assert not any(p.exists() for p in top) and all(p.exists() for p in nested)
    run = cli("clean", "--recursive", str(tmp_path))
    assert run.code == 0, run
    assert not any(p.exists() for p in nested)
    assert len(run.out.splitlines()) == 2


def test_clean_min_age_and_exit_codes(tmp_path: Path, cli: Callable[..., Any]) -> None:
    temp, _ = _plant(tmp_path, _dead_pid())
    assert cli("clean", "--min-age", str(3 * HOURS), str(tmp_path)).out == ""
    assert temp.exists()
    assert cli("clean", "--min-age", "-1", str(tmp_path)).code == 2
    missing = cli("clean", str(tmp_path / "missing"), str(tmp_path))
    assert missing.code == 10 and "ERR_NOT_FOUND" in missing.err
    assert not temp.exists(), "the other directory is still cleaned"
    (tmp_path / "file").write_text("x")
    assert cli("clean", str(tmp_path / "file")).code == 10
