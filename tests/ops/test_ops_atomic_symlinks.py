"""atomic_write(follow_symlinks=False): a symlink at the target is replaced, never written
through; the default still follows it (the documented behaviour for paths the user names)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import errwise
from errwise.error import UsageError
from errwise.ops.atomic import TEMP_MARKER


def _leftovers(directory: Path) -> list[str]:
    return [n for n in os.listdir(directory) if TEMP_MARKER in n]


def test_a_symlink_is_replaced_and_what_it_names_is_untouched(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim"
    victim.write_text("precious")
    os.chmod(victim, 0o600)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / ".gitignore").symlink_to(victim)
    old = os.umask(0o022)
    try:
        errwise.atomic_write(cache / ".gitignore", "*\n", follow_symlinks=False)
    finally:
        os.umask(old)
    assert victim.read_text() == "precious"
    assert stat.S_IMODE(victim.stat().st_mode) == 0o600
    info = os.lstat(cache / ".gitignore")
    assert stat.S_ISREG(info.st_mode)
    assert stat.S_IMODE(info.st_mode) == 0o644  # a new file's mode, not the link target's
    assert (cache / ".gitignore").read_text() == "*\n"
    assert _leftovers(cache) == [] and sorted(os.listdir(outside)) == ["victim"]


@pytest.mark.parametrize("points_to", ["missing", "/dev/zero", "a directory"])
def test_dangling_device_and_directory_links_are_replaced(tmp_path: Path, points_to: str) -> None:
    target = {
        "missing": str(tmp_path / "nowhere" / "file"),
        "/dev/zero": "/dev/zero",
        "a directory": str(tmp_path),
    }[points_to]
    link = tmp_path / "entry"
    link.symlink_to(target)
    errwise.atomic_write(link, b"data", fsync=False, follow_symlinks=False)
    assert not link.is_symlink() and link.read_bytes() == b"data"
    assert not (tmp_path / "nowhere").exists()


def test_a_regular_file_is_replaced_as_usual_keeping_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("old")
    os.chmod(target, 0o640)
    errwise.atomic_write(target, "new", follow_symlinks=False)
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_fifo_is_still_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match="not a regular file"):
        errwise.atomic_write(fifo, b"x", follow_symlinks=False)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and _leftovers(tmp_path) == []


def test_the_default_still_follows_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.write_text("old")
    (tmp_path / "link").symlink_to(real)
    errwise.atomic_write(tmp_path / "link", "new")
    assert (tmp_path / "link").is_symlink() and real.read_text() == "new"


def test_follow_symlinks_must_be_a_bool(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="follow_symlinks must be a bool"):
        errwise.atomic_write(tmp_path / "x", b"x", follow_symlinks=0)  # type: ignore[arg-type]
    assert not (tmp_path / "x").exists()
