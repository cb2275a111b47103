from __future__ import annotations

from pathlib import Path

from notebox.lock import release, try_lock


def test_only_one_holder(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    assert try_lock(lock)
    assert not try_lock(lock)
    release(lock)
    assert try_lock(lock)


def test_releasing_twice_is_fine(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    assert try_lock(lock)
    release(lock)
    release(lock)
