"""staged_output: publish, replace, rollback when the rename-in fails, and explicit partials."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import errwise
from errwise import policy
from errwise.ops.staged import PARTIAL_MARKER


def _entries(parent: Path) -> list[str]:
    return sorted(os.listdir(parent))


def _fill(directory: Path, tag: str) -> None:
    (directory / "a.txt").write_text(f"{tag}-a")
    (directory / "sub").mkdir()
    (directory / "sub" / "b.txt").write_text(f"{tag}-b")


def _tag(directory: Path) -> str:
    a = (directory / "a.txt").read_text()
    assert (directory / "sub" / "b.txt").read_text() == a[:-1] + "b"
    return a[:-2]


@pytest.fixture
def keep_partial_policy() -> Iterator[None]:
    previous = policy.set_current(policy.Policy(keep_partial=True))
    yield
    policy.set_current(previous)


def test_publishes_a_new_directory(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    with errwise.staged_output(dest) as staging:
        assert staging.parent == tmp_path
        assert staging.name.startswith(".out.errwise-staging-")
        assert staging.is_dir() and not any(staging.iterdir())
        _fill(staging, "new")
        assert not dest.exists()  # nothing visible before the block ends
    assert _tag(dest) == "new"
    assert _entries(tmp_path) == ["out"]


def test_replaces_an_existing_directory_as_one_step(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    _fill(dest, "old")
    (dest / "only-in-old").write_text("stale")
    with errwise.staged_output(dest) as staging:
        _fill(staging, "new")
        assert _tag(dest) == "old"
    assert _tag(dest) == "new"
    assert not (dest / "only-in-old").exists()
    assert _entries(tmp_path) == ["out"]  # the old tree moved aside is gone too


def test_a_symlink_at_dest_is_replaced_not_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _fill(elsewhere, "kept")
    dest = tmp_path / "out"
    dest.symlink_to(elsewhere)
    with errwise.staged_output(dest) as staging:
        _fill(staging, "new")
    assert not dest.is_symlink() and _tag(dest) == "new"
    assert _tag(elsewhere) == "kept"


@pytest.mark.parametrize("exc_type", [ValueError, KeyboardInterrupt])
def test_failure_removes_staging_and_leaves_dest(
    tmp_path: Path, exc_type: type[BaseException]
) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    _fill(dest, "old")
    raised = exc_type("boom")
    with pytest.raises(exc_type) as info, errwise.staged_output(dest, keep_partial=False) as st:
        _fill(st, "new")
        raise raised
    assert info.value is raised
    assert _tag(dest) == "old"
    assert _entries(tmp_path) == ["out"]


def test_keep_partial_marks_the_output(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    error = errwise.env("ERR_DISK_FULL", "cannot write the report", path="x")
    with (
        pytest.raises(errwise.EnvError) as info,
        errwise.staged_output(dest, keep_partial=True) as st,
    ):
        (st / "half.txt").write_text("half")
        raise error
    assert info.value is error
    partial = tmp_path / "out.partial"
    assert not dest.exists()
    assert (partial / "half.txt").read_text() == "half"
    marker = json.loads((partial / PARTIAL_MARKER).read_text())
    assert marker["error"]["code"] == "ERR_DISK_FULL"
    assert marker["error"]["message"] == "cannot write the report"
    assert marker["error"]["kind"] == "environment"
    assert marker["dest"] == str(dest)
    assert marker["timestamp"].endswith("+00:00")
    assert error.context["partial"] == str(partial)
    assert any("partial output kept" in n for n in error.__notes__)
    assert _entries(tmp_path) == ["out.partial"]


def test_keep_partial_defaults_to_the_policy(tmp_path: Path, keep_partial_policy: None) -> None:
    dest = tmp_path / "out"
    with pytest.raises(KeyError), errwise.staged_output(dest) as st:
        (st / "x").write_text("x")
        raise KeyError("foreign")
    marker = json.loads((tmp_path / "out.partial" / PARTIAL_MARKER).read_text())
    assert marker["error"]["code"] == "ERR_INTERNAL"  # a foreign exception, classified
    assert marker["error"]["cause"]["type"] == "KeyError"


def test_policy_default_off_removes(tmp_path: Path) -> None:
    assert policy.current().keep_partial is False
    with pytest.raises(ValueError), errwise.staged_output(tmp_path / "out") as st:
        (st / "x").write_text("x")
        raise ValueError
    assert _entries(tmp_path) == []


def test_interrupt_keeps_partial_with_interrupted_code(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt), errwise.staged_output(dest, keep_partial=True):
        raise KeyboardInterrupt
    marker = json.loads((tmp_path / "out.partial" / PARTIAL_MARKER).read_text())
    assert marker["error"]["code"] == "ERR_INTERRUPTED"


def test_an_earlier_partial_is_replaced(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    for attempt in ("first", "second"):
        with pytest.raises(ValueError), errwise.staged_output(dest, keep_partial=True) as st:
            (st / "attempt").write_text(attempt)
            raise ValueError(attempt)
    assert (tmp_path / "out.partial" / "attempt").read_text() == "second"
    assert _entries(tmp_path) == ["out.partial"]


def test_a_foreign_partial_path_is_never_clobbered(tmp_path: Path) -> None:
    foreign = tmp_path / "out.partial"
    foreign.mkdir()
    (foreign / "precious").write_text("mine")
    with (
        pytest.raises(ValueError) as info,
        errwise.staged_output(tmp_path / "out", keep_partial=True) as st,
    ):
        (st / "x").write_text("x")
        raise ValueError("boom")
    assert (foreign / "precious").read_text() == "mine"
    kept = [n for n in _entries(tmp_path) if ".errwise-staging-" in n]
    assert len(kept) == 1 and (tmp_path / kept[0] / PARTIAL_MARKER).is_file()
    assert any("could not be kept" in n for n in info.value.__notes__)


def _failing_rename(monkeypatch: pytest.MonkeyPatch, fail: set[tuple[str, str]]) -> list[str]:
    """Make os.rename fail with EIO for the (src-kind, dst-kind) pairs in `fail`."""
    real = os.rename
    calls: list[str] = []

    def kind(path: Any) -> str:
        name = os.path.basename(os.fspath(path))
        for marker in ("staging", "old"):
            if f".errwise-{marker}-" in name:
                return marker
        return "dest"

    def rename(src: Any, dst: Any, **kw: Any) -> None:
        pair = (kind(src), kind(dst))
        calls.append("->".join(pair))
        if pair in fail:
            raise OSError(errno.EIO, "I/O error", os.fspath(src))
        real(src, dst, **kw)

    monkeypatch.setattr(os, "rename", rename)
    return calls


def test_second_rename_failure_rolls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    _fill(dest, "old")
    calls = _failing_rename(monkeypatch, {("staging", "dest")})
    with (
        pytest.raises(errwise.EnvError) as info,
        errwise.staged_output(dest, keep_partial=False) as st,
    ):
        _fill(st, "new")
    err = info.value
    assert err.code == "ERR_IO"
    assert err.context["rolled_back"] is True
    assert err.context["path"] == str(dest)
    assert calls == ["dest->old", "staging->dest", "old->dest"]
    assert _tag(dest) == "old"
    assert _entries(tmp_path) == ["out"]


def test_failed_rollback_says_where_the_old_tree_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    _fill(dest, "old")
    _failing_rename(monkeypatch, {("staging", "dest"), ("old", "dest")})
    with (
        pytest.raises(errwise.EnvError) as info,
        errwise.staged_output(dest, keep_partial=False) as st,
    ):
        _fill(st, "new")
    err = info.value
    assert err.code == "ERR_ROLLBACK_FAILED"
    old = Path(str(err.context["old_directory"]))
    assert _tag(old) == "old"  # nothing lost: the old tree is intact where the error says
    assert err.context["publish_error"]["code"] == "ERR_IO"  # type: ignore[index]
    assert any(str(old) in hint for hint in err.hints)
    assert isinstance(err.__cause__, errwise.EnvError)
    assert not dest.exists()


def test_first_rename_failure_leaves_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    _fill(dest, "old")
    _failing_rename(monkeypatch, {("dest", "old")})
    with (
        pytest.raises(errwise.EnvError) as info,
        errwise.staged_output(dest, keep_partial=True) as st,
    ):
        _fill(st, "new")
    assert info.value.code == "ERR_IO"
    assert _tag(dest) == "old"
    assert _tag(tmp_path / "out.partial") == "new"  # the finished output is not thrown away


def test_fsync_failure_before_publish_is_classified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    dest = tmp_path / "out"
    with pytest.raises(errwise.EnvError) as info, errwise.staged_output(dest) as st:
        (st / "x").write_text("x")
        monkeypatch.setattr(os, "fsync", fsync)
    assert info.value.code == "ERR_DISK_FULL"
    assert info.value.context["path"] == str(dest)
    monkeypatch.undo()
    assert _entries(tmp_path) == []


def test_removal_failure_is_reported_not_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    def rmtree(path: Any, *a: Any, **kw: Any) -> None:
        raise OSError(errno.EBUSY, "Device or resource busy", os.fspath(path))

    with pytest.raises(ValueError) as info, errwise.staged_output(tmp_path / "out") as st:
        monkeypatch.setattr(shutil, "rmtree", rmtree)
        raise ValueError(st)
    assert any("could not be removed" in n for n in info.value.__notes__)


def test_a_file_at_dest_is_refused_before_work(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("a file")
    with pytest.raises(errwise.EnvError) as info, errwise.staged_output(tmp_path / "out"):
        pytest.fail("the body must not run")
    assert info.value.code == "ERR_NOT_A_DIRECTORY"
    assert _entries(tmp_path) == ["out"]


def test_missing_parent_is_classified(tmp_path: Path) -> None:
    with pytest.raises(errwise.EnvError) as info, errwise.staged_output(tmp_path / "no" / "out"):
        pytest.fail("the body must not run")
    assert info.value.code == "ERR_NOT_FOUND"


@pytest.mark.parametrize(
    "kwargs",
    [{"dest_dir": ""}, {"dest_dir": 3}, {"dest_dir": "/"}, {"dest_dir": "x", "keep_partial": 1}],
)
def test_bad_input_is_usage_error(kwargs: dict[str, Any]) -> None:
    with pytest.raises(errwise.UsageError), errwise.staged_output(**kwargs):
        pytest.fail("the body must not run")
