"""The user's cache home and the key that authenticates cache entries: where they live, how the
key is made (once, even by racing runs), and what a bad key does (the cache is off, one warning).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from audit_samples import SWALLOW, audit, fresh, write

from errwise.audit import cache as cache_module
from errwise.audit import cachehome
from errwise.audit.cache import Cache
from errwise.audit.cachehome import (
    ENV_VAR,
    KEY_BYTES,
    load_key,
    project_directory,
    user_cache_root,
)
from errwise.error import EnvError

Cli = Callable[..., Any]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh cache home for this test (and no key remembered from another)."""
    root = tmp_path / "cache-home"
    monkeypatch.setenv(ENV_VAR, str(root))
    monkeypatch.setattr(cachehome, "_keys", {})
    return root


# -- where ---------------------------------------------------------------------------------------


def test_the_cache_home_follows_the_usual_conventions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cachehome.sys, "platform", "linux")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "mine"))
    assert user_cache_root() == tmp_path / "mine"
    monkeypatch.delenv(ENV_VAR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache_root() == tmp_path / "xdg" / "errwise"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_cache_root() == tmp_path / "home" / ".cache" / "errwise"
    monkeypatch.setattr(cachehome.sys, "platform", "darwin")
    assert user_cache_root() == tmp_path / "home" / "Library" / "Caches" / "errwise"
    monkeypatch.setattr(cachehome.sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert user_cache_root() == tmp_path / "local" / "errwise" / "Cache"


def test_one_directory_per_project_by_its_absolute_path(home: Path, tmp_path: Path) -> None:
    one, other = project_directory(tmp_path / "a"), project_directory(tmp_path / "b")
    assert one != other and one.parent == other.parent == home / "projects"
    os.chdir(tmp_path)
    assert project_directory("a") == one


def test_no_home_directory_turns_the_cache_off_with_one_warning(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"a.py": SWALLOW})
    expected = fresh(cli, tmp_path)
    monkeypatch.delenv(ENV_VAR)
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setattr(cachehome.os.path, "expanduser", lambda path: path)
    run = audit(cli, tmp_path)
    assert run.out == expected
    warnings = [line for line in run.err.splitlines() if "warning:" in line]
    assert len(warnings) == 1 and "cache turned off" in warnings[0], run
    assert "user cache directory" in warnings[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py"]


# -- the key -------------------------------------------------------------------------------------


def test_the_key_is_made_once_private_and_kept(home: Path) -> None:
    key = load_key()
    assert len(key) == KEY_BYTES
    info = os.lstat(home / "key")
    assert stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600
    cachehome._keys.clear()  # as a new process would
    assert load_key() == key
    assert sorted(os.listdir(home)) == ["key"]  # no temp file left


def test_a_run_that_loses_the_race_uses_the_winners_key(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    winner = os.urandom(KEY_BYTES)
    real_link = os.link

    def another_run_first(src: Any, dst: Any) -> None:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, winner)
        os.close(fd)
        real_link(src, dst)  # now fails: FileExistsError

    monkeypatch.setattr(cachehome.os, "link", another_run_first)
    assert load_key() == winner
    assert sorted(os.listdir(home)) == ["key"]


def test_racing_first_runs_agree_on_one_key(tmp_path: Path) -> None:
    script = "from errwise.audit.cachehome import load_key; print(load_key().hex())"
    for round_ in range(3):
        env = {**os.environ, ENV_VAR: str(tmp_path / f"home{round_}")}
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True
            )
            for _ in range(6)
        ]
        keys = {p.communicate(timeout=60)[0].strip() for p in procs}
        assert [p.returncode for p in procs] == [0] * 6
        assert len(keys) == 1 and len(keys.pop()) == 2 * KEY_BYTES


def _symlinked(path: Path) -> None:
    (path.parent / "elsewhere").write_bytes(os.urandom(KEY_BYTES))
    path.symlink_to(path.parent / "elsewhere")


def _short(path: Path) -> None:
    path.write_bytes(b"short")
    path.chmod(0o600)


def _shared(path: Path) -> None:
    path.write_bytes(os.urandom(KEY_BYTES))
    path.chmod(0o644)


def _fifo(path: Path) -> None:
    os.mkfifo(path, 0o600)


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (_symlinked, "symbolic link"),
        (_short, "holds 5 bytes"),
        (_shared, "accessible to others"),
        (_fifo, "not a regular file"),
    ],
    ids=["symlink", "short", "shared", "fifo"],
)
def test_a_bad_key_turns_the_cache_off_and_is_left_alone(
    home: Path, tmp_path: Path, cli: Cli, damage: Callable[[Path], None], why: str
) -> None:
    write(tmp_path, {"a.py": SWALLOW})
    expected = fresh(cli, tmp_path)
    home.mkdir()
    damage(home / "key")
    before = os.lstat(home / "key")
    with pytest.raises(EnvError, match=why):
        load_key()
    run = audit(cli, tmp_path)
    assert run.out == expected
    warnings = [line for line in run.err.splitlines() if "warning:" in line]
    assert len(warnings) == 1 and "cache turned off" in warnings[0] and why in warnings[0]
    assert os.lstat(home / "key") == before
    assert not (home / "projects").exists()


def test_the_key_is_never_in_the_cache_directory(home: Path, tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, {"a.py": SWALLOW})
    audit(cli, tmp_path, "--cache-dir", "in-tree")
    assert "1 of 1 from the cache" in audit(cli, tmp_path, "--cache-dir", "in-tree").err
    assert (home / "key").is_file()
    names = {p.name for p in (tmp_path / "in-tree").rglob("*")}
    assert "key" not in names


# -- entries -------------------------------------------------------------------------------------


def test_an_entry_made_with_another_key_is_a_miss(tmp_path: Path) -> None:
    mine, theirs = Cache(tmp_path, key=b"m" * 32), Cache(tmp_path, key=b"t" * 32)
    theirs.put("scan", "a" * 40, ["theirs"])
    assert mine.get("scan", "a" * 40) is None
    assert mine.stats.corrupt == 1
    mine.put("scan", "a" * 40, ["mine"])
    assert Cache(tmp_path, key=b"m" * 32).get("scan", "a" * 40) == ["mine"]


def test_an_entry_is_bound_to_its_kind(tmp_path: Path) -> None:
    cache = Cache(tmp_path, key=b"k" * 32)
    cache.put("run", "a" * 40, ["a run"])
    moved = tmp_path / "v1" / "ledger" / ("a" * 40)
    moved.parent.mkdir(parents=True)
    moved.write_bytes((tmp_path / "v1" / "run" / ("a" * 40)).read_bytes())
    assert cache.get("ledger", "a" * 40) is None
    assert cache.get("run", "a" * 40) == ["a run"]


def test_worker_processes_write_entries_the_next_run_believes(tmp_path: Path) -> None:
    """Workers make their own Cache and find the key themselves (the environment the tests set
    reaches them): a cold run with workers, then a warm one takes every file from the cache."""
    files = {f"m{i}.py": SWALLOW.replace("drop", f"drop{i}") for i in range(40)}
    write(tmp_path, files)
    command = [sys.executable, "-c", "import sys; from errwise.cli import main; sys.exit(main())"]
    runs = []
    for jobs in ("4", "1"):
        runs.append(
            subprocess.run(
                [*command, "audit", "--profile", "strict", "--format", "json", "--jobs", jobs, "."],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        )
        for kind in ("run", "ledger"):  # the warm run must take the workers' scans
            for entry in (project_directory(tmp_path) / "v1" / kind).iterdir():
                entry.unlink()
    assert [r.returncode for r in runs] == [1, 1], runs[0].stderr
    assert runs[0].stdout == runs[1].stdout
    assert "40 of 40 from the cache" in runs[1].stderr
    assert "warning" not in runs[0].stderr + runs[1].stderr


def test_entries_over_the_limit_are_neither_read_nor_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = Cache(tmp_path, key=b"k" * 32)
    cache.put("run", "a" * 40, ["small"])
    monkeypatch.setattr(cache_module, "ENTRY_LIMIT", 200)
    assert cache.get("run", "a" * 40) == ["small"]
    cache.put("run", "b" * 40, ["x" * 300])
    assert not (tmp_path / "v1" / "run" / ("b" * 40)).exists() and cache.problem is None
    (tmp_path / "v1" / "run" / ("c" * 40)).write_bytes(b"x" * 201)
    assert cache.get("run", "c" * 40) is None and cache.stats.corrupt == 1
