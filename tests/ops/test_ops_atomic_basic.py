"""atomic_write / atomic_writer: the normal paths, permissions, symlinks, and bad input."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import errwise
from errwise.ops.atomic import TEMP_MARKER, is_temp_name
from errwise.ops.leftovers import owner_tag


def _leftovers(directory: Path) -> list[str]:
    return [n for n in os.listdir(directory) if TEMP_MARKER in n]


def test_writes_bytes_and_str(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    errwise.atomic_write(target, b"\x00\x01binary")
    assert target.read_bytes() == b"\x00\x01binary"
    errwise.atomic_write(str(target), "text é")
    assert target.read_bytes() == "text é".encode()
    errwise.atomic_write(target, "latin é", encoding="latin-1")
    assert target.read_bytes() == b"latin \xe9"
    errwise.atomic_write(target, memoryview(b"view"), fsync=False)
    assert target.read_bytes() == b"view"
    assert _leftovers(tmp_path) == []


def test_new_file_gets_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        errwise.atomic_write(tmp_path / "new", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new").st_mode) == 0o640


def test_overwrite_keeps_permissions_and_owner(tmp_path: Path) -> None:
    target = tmp_path / "conf"
    target.write_bytes(b"old")
    os.chmod(target, 0o604)
    os.chown(target, 4321, 4322)  # tests run as root
    errwise.atomic_write(target, b"new")
    st = os.stat(target)
    assert stat.S_IMODE(st.st_mode) == 0o604
    assert (st.st_uid, st.st_gid) == (4321, 4322)
    assert target.read_bytes() == b"new"


def test_explicit_mode_wins(tmp_path: Path) -> None:
    target = tmp_path / "secret"
    target.write_bytes(b"old")
    os.chmod(target, 0o644)
    errwise.atomic_write(target, b"new", mode=0o600)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_symlinked_target_replaces_the_file_not_the_link(tmp_path: Path) -> None:
    real = tmp_path / "data" / "real.txt"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    errwise.atomic_write(link, "new")
    assert link.is_symlink()
    assert os.readlink(link) == str(real)
    assert real.read_text() == "new"
    # The temp file was made next to the real file, not next to the link.
    assert _leftovers(tmp_path) == [] and _leftovers(real.parent) == []


def test_relative_and_chained_symlinks(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    real = tmp_path / "a" / "real"
    real.write_text("old")
    (tmp_path / "a" / "hop").symlink_to("real")  # relative to its own directory
    link = tmp_path / "entry"
    link.symlink_to("a/hop")
    errwise.atomic_write(link, "new")
    assert real.read_text() == "new"
    assert (tmp_path / "a" / "hop").is_symlink() and link.is_symlink()


def test_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to("missing")
    errwise.atomic_write(link, "created")
    assert link.is_symlink()
    assert (tmp_path / "missing").read_text() == "created"


def test_symlink_loop_is_classified(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(errwise.EnvError) as info:
        errwise.atomic_write(tmp_path / "a", "x")
    assert info.value.context["path"] == str(tmp_path / "a")


def test_planted_symlink_at_temp_path_is_never_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    target = tmp_path / "target"
    target.write_bytes(b"old")
    randoms = iter([b"\x11" * 8, b"\x22" * 8])
    monkeypatch.setattr(os, "urandom", lambda n: next(randoms))
    planted = tmp_path / f".target{TEMP_MARKER}{owner_tag()}-{'11' * 8}"
    planted.symlink_to(victim)
    dangling = tmp_path / "dangling"
    errwise.atomic_write(target, b"new")
    assert victim.read_bytes() == b"precious"
    assert planted.is_symlink() and os.readlink(planted) == str(victim)
    assert target.read_bytes() == b"new"
    assert not dangling.exists()


def test_planted_dangling_symlink_does_not_create_its_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    randoms = iter([b"\x33" * 8, b"\x44" * 8])
    monkeypatch.setattr(os, "urandom", lambda n: next(randoms))
    planted = tmp_path / f".t{TEMP_MARKER}{owner_tag()}-{'33' * 8}"
    planted.symlink_to(tmp_path / "would-be-created")
    errwise.atomic_write(tmp_path / "t", b"new")
    assert not (tmp_path / "would-be-created").exists()
    assert (tmp_path / "t").read_bytes() == b"new"


def test_temp_names_are_recognisable_and_unpredictable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    real_open = os.open

    def spy(path: str, flags: int, mode: int = 0o777, **kw: object) -> int:
        if flags & os.O_DIRECTORY:
            return real_open(path, flags, mode, **kw)  # the leftover sweep lists the directory
        seen.append(os.path.basename(path))
        assert flags & os.O_EXCL and flags & os.O_CREAT and flags & os.O_NOFOLLOW
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", spy)
    for _ in range(5):
        errwise.atomic_write(tmp_path / "report.json", b"{}", fsync=False)
    assert len(set(seen)) == 5
    assert all(is_temp_name(n) and n.startswith(".report.json.") for n in seen)
    assert not is_temp_name("report.json")
    assert not is_temp_name(".report.json.errwise-tmp-xyz")


def test_long_names_fit(tmp_path: Path) -> None:
    target = tmp_path / ("n" * 250)
    errwise.atomic_write(target, b"x")
    assert target.read_bytes() == b"x"


def test_writer_text_and_binary(tmp_path: Path) -> None:
    target = tmp_path / "w.txt"
    with errwise.atomic_writer(target) as f:
        f.write("line 1\n")
        f.write("line 2\n")
        assert not target.exists()  # nothing published before the block ends
        assert len(_leftovers(tmp_path)) == 1
    assert target.read_text() == "line 1\nline 2\n"
    with errwise.atomic_writer(target, binary=True) as fb:
        fb.write(b"\xff\x00")
    assert target.read_bytes() == b"\xff\x00"
    with errwise.atomic_writer(target, newline="\r\n") as f:
        f.write("a\n")
    assert target.read_bytes() == b"a\r\n"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("exc_type", [ValueError, KeyboardInterrupt])
def test_writer_body_exception_leaves_target_and_no_temp(
    tmp_path: Path, exc_type: type[BaseException]
) -> None:
    target = tmp_path / "w.txt"
    target.write_text("old")
    raised = exc_type("boom")
    with pytest.raises(exc_type) as info, errwise.atomic_writer(target) as f:
        f.write("half of the new")
        raise raised
    assert info.value is raised
    assert target.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_writer_closed_inside_block_is_usage_error(tmp_path: Path) -> None:
    target = tmp_path / "w.txt"
    target.write_text("old")
    with pytest.raises(errwise.UsageError), errwise.atomic_writer(target) as f:
        f.write("x")
        f.close()
    assert target.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_directory_target_is_classified(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(errwise.EnvError) as info:
        errwise.atomic_write(tmp_path / "d", b"x")
    assert info.value.code == "ERR_IS_A_DIRECTORY"
    assert info.value.context["path"] == str(tmp_path / "d")


def test_device_target_is_refused() -> None:
    with pytest.raises(errwise.UsageError):
        errwise.atomic_write("/dev/null", b"x")
    assert os.path.exists("/dev/null") and stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_missing_directory_is_classified_with_path(tmp_path: Path) -> None:
    target = tmp_path / "nope" / "x"
    with pytest.raises(errwise.EnvError) as info:
        errwise.atomic_write(target, b"x")
    err = info.value
    assert err.code == "ERR_NOT_FOUND"
    assert err.context["path"] == str(target)
    assert isinstance(err.__cause__, FileNotFoundError)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("",), {}),
        ((b"bytes-path",), {}),
        ((None,), {}),
        (("dir/",), {}),
        (("x\0y",), {}),
        (("ok", 123), {}),
        (("ok", ["list"]), {}),
        (("ok", b"x"), {"mode": 0o10000}),
        (("ok", b"x"), {"mode": "644"}),
        (("ok", b"x"), {"fsync": 1}),
        (("ok", "é"), {"encoding": "ascii"}),
        (("ok", "x"), {"encoding": "no-such-codec"}),
    ],
)
def test_bad_input_is_usage_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[object, ...],
    kwargs: dict[str, object],
) -> None:
    monkeypatch.chdir(tmp_path)
    if len(args) == 1:
        args = (*args, b"data")
    with pytest.raises(errwise.UsageError):
        errwise.atomic_write(*args, **kwargs)  # type: ignore[arg-type]
    assert os.listdir(tmp_path) == []


def test_writer_bad_input_is_usage_error_at_the_call(tmp_path: Path) -> None:
    with pytest.raises(errwise.UsageError):
        errwise.atomic_writer(tmp_path / "x", encoding="no-such-codec")
    with pytest.raises(errwise.UsageError):
        errwise.atomic_writer(tmp_path / "x", newline="\t")
    with pytest.raises(errwise.UsageError):
        errwise.atomic_writer(tmp_path / "x", binary="yes")  # type: ignore[call-overload]
    assert os.listdir(tmp_path) == []


def test_long_multibyte_names_fit(tmp_path: Path) -> None:
    target = tmp_path / ("é" * 127)  # 254 bytes: the temp name must be cut in bytes
    errwise.atomic_write(target, b"x")
    assert target.read_bytes() == b"x"
    assert _leftovers(tmp_path) == []


def test_non_contiguous_memoryview_is_usage_error(tmp_path: Path) -> None:
    with pytest.raises(errwise.UsageError):
        errwise.atomic_write(tmp_path / "x", memoryview(b"abcdef")[::2])
    assert os.listdir(tmp_path) == []
