"""The cache against a repository built to attack it: nothing planted in the audited tree runs,
nothing outside the cache is written or deleted, nothing hangs, and the findings are a clean
run's.

Each attack is built as its author would: clone a repository whose committed `.errwise_cache/`
holds entries named as errwise would name them (learnt here from a real run elsewhere), with a
header that today's format accepts, or a well-formed entry authenticated with a key other than
the user's.
"""

from __future__ import annotations

import os
import pickle
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from audit_samples import SWALLOW, audit, cache_of, fresh, write

from errwise.audit.cache import RUNS_KEPT, Cache, digest

Cli = Callable[..., Any]
IN_TREE = ".errwise_cache"
OTHER = """\
def load(path):
    try:
        return open(path).read()
    except OSError:
        return None
"""


class _Plant:
    """Unpickled, it writes `marker`: what a committed entry does when errwise loads it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


def _todays_format(key: str, payload: bytes) -> bytes:
    """An entry as errwise wrote them before entries were authenticated: an unkeyed digest."""
    return b"".join(
        (b"errwise-cache 1\n", key.encode(), b"\n", digest(payload).encode(), b"\n", payload)
    )


def _learn_entries(cli: Cli, tree: Path, elsewhere: Path) -> list[Path]:
    """The entry paths (relative to a cache directory) a run over `tree` writes."""
    for path in tree.rglob("*.py"):  # old enough for the file index to record them
        os.utime(path, (1e9, 1e9))
    audit(cli, tree, "--cache-dir", str(elsewhere))
    return [p.relative_to(elsewhere) for p in (elsewhere / "v1").rglob("*") if p.is_file()]


def _plant(tree: Path, entries: list[Path], marker: Path, how: str) -> None:
    payload = pickle.dumps(_Plant(marker), protocol=pickle.HIGHEST_PROTOCOL)
    forger = Cache(tree / IN_TREE, key=b"guessed by the attacker, 32 b.!!")
    for rel in entries:
        kind, key = rel.parts[1], rel.name
        if how == "today's header":
            path = tree / IN_TREE / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_todays_format(key, payload))
        else:
            forger.put_payload(kind, key, payload)
    assert forger.problem is None


@pytest.mark.parametrize("how", ["today's header", "another key"])
@pytest.mark.parametrize(
    "flags",
    [(), ("--no-config",), ("--cache-dir", IN_TREE)],
    ids=["default", "no-config", "cache-dir-in-tree"],
)
def test_a_committed_cache_entry_never_runs(
    tmp_path: Path, cli: Cli, how: str, flags: tuple[str, ...]
) -> None:
    tree = tmp_path / "clone"
    write(tree, {"a.py": SWALLOW, "b.py": OTHER})
    expected = fresh(cli, tree)
    entries = _learn_entries(cli, tree, tmp_path / "learn")
    assert {e.parts[1] for e in entries} == {"scan", "run", "ledger", "files"}
    marker = tmp_path / "marker"
    _plant(tree, entries, marker, how)
    first = audit(cli, tree, *flags)
    assert not marker.exists()
    assert first.out == expected
    second = audit(cli, tree, *flags)  # the forged entries were rewritten or never looked at
    assert not marker.exists()
    assert second.out == expected
    assert "2 of 2 from the cache" in second.err


def test_the_default_cache_writes_nothing_into_the_tree(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, {"a.py": SWALLOW})
    audit(cli, tmp_path)
    assert "2 of 2" not in audit(cli, tmp_path).err  # one file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py"]
    assert (cache_of(tmp_path) / "CACHEDIR.TAG").is_file()


# -- symlinks errwise did not make ---------------------------------------------------------------


@pytest.mark.parametrize("name", [".gitignore", "CACHEDIR.TAG"])
def test_a_symlinked_marker_file_is_replaced_not_written_through(
    tmp_path: Path, cli: Cli, name: str
) -> None:
    tree = tmp_path / "clone"
    write(tree, {"a.py": SWALLOW})
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (tree / IN_TREE).mkdir()
    (tree / IN_TREE / name).symlink_to(victim)
    run = audit(cli, tree, "--cache-dir", IN_TREE)
    assert victim.read_text() == "precious\n"
    assert not (tree / IN_TREE / name).is_symlink()
    assert (tree / IN_TREE / name).is_file()
    assert run.out == fresh(cli, tree)


def _listing(root: Path) -> list[tuple[str, str | None]]:
    return sorted(
        (str(p.relative_to(root)), p.read_text() if p.is_file() else None) for p in root.rglob("*")
    )


@pytest.mark.parametrize("component", ["", "v1", "v1/run", "v1/ledger", "v1/scan"])
def test_a_symlinked_cache_directory_deletes_nothing(
    tmp_path: Path, cli: Cli, component: str
) -> None:
    """A committed `.errwise_cache/v1/run` -> $HOME (say) and `--cache-dir` in the tree: pruning
    would delete the oldest files there. The cache is turned off instead, with one warning,
    and nothing there changes."""
    tree = tmp_path / "clone"
    write(tree, {"a.py": SWALLOW})
    home = tmp_path / "home"
    for sub in ("", "run", "ledger", "ab", "v1/run", "v1/ledger", "v1/scan/ab"):
        (home / sub).mkdir(parents=True, exist_ok=True)
        for i in range(RUNS_KEPT + 8):
            (home / sub / f"file{i}").write_text(f"victim {i}\n")
    before = _listing(home)
    link = tree / IN_TREE / component if component else tree / IN_TREE
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(home, target_is_directory=True)
    expected = fresh(cli, tree)
    for _ in range(2):
        run = audit(cli, tree, "--cache-dir", IN_TREE)
        assert run.out == expected
        warnings = [line for line in run.err.splitlines() if "warning:" in line]
        assert len(warnings) == 1 and "is a symbolic link" in warnings[0], run
    assert _listing(home) == before


# -- files that hang or never end ----------------------------------------------------------------

_ERRWISE = (sys.executable, "-c", "import sys; from errwise.cli import main; sys.exit(main())")
_MEMORY = 2 << 30


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (_MEMORY, _MEMORY))


def _audit_process(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`errwise audit` in a process of its own, with 2 GB of memory and 60 s at most."""
    return subprocess.run(
        [*_ERRWISE, "audit", "--profile", "strict", "--format", "json", *args, "."],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limited,
        check=False,
    )


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


@pytest.mark.parametrize("make", [_fifo, _dev_zero], ids=["fifo", "dev-zero"])
@pytest.mark.parametrize("kind", ["files", "run", "scan"])
def test_a_fifo_or_endless_cache_entry_is_a_miss_not_a_hang(
    tmp_path: Path, cli: Cli, make: Callable[[Path], None], kind: str
) -> None:
    tree = tmp_path / "clone"
    write(tree, {"a.py": SWALLOW})
    expected = fresh(cli, tree)
    entries = _learn_entries(cli, tree, tmp_path / "learn")
    for rel in entries:
        if rel.parts[1] == kind:
            (tree / IN_TREE / rel).parent.mkdir(parents=True, exist_ok=True)
            make(tree / IN_TREE / rel)
    done = _audit_process(tree, "--cache-dir", IN_TREE)
    assert done.returncode == 1, done.stderr
    assert done.stdout == expected
    assert "Traceback" not in done.stderr
    warnings = [line for line in done.stderr.splitlines() if "warning:" in line]
    assert len(warnings) <= 1  # a FIFO cannot be replaced atomically: the cache is turned off
    assert all("cache turned off" in w and "not a regular file" in w for w in warnings)


@pytest.mark.parametrize("make", [_fifo, _dev_zero], ids=["fifo", "dev-zero"])
def test_a_fifo_or_endless_baseline_is_a_usage_error_not_a_hang(
    tmp_path: Path, make: Callable[[Path], None]
) -> None:
    write(tmp_path, {"a.py": SWALLOW})
    make(tmp_path / "base.json")
    done = _audit_process(tmp_path, "--no-cache", "--baseline", "base.json")
    assert done.returncode == 2, done.stderr
    assert "baseline base.json: is not a regular file" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_huge_baseline_is_refused_before_it_is_read(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": SWALLOW})
    with open(tmp_path / "base.json", "wb") as handle:
        handle.truncate(300 << 20)  # sparse: 300 MB of zeros that take no disk
    done = _audit_process(tmp_path, "--no-cache", "--baseline", "base.json")
    assert done.returncode == 2, done.stderr
    assert "baseline base.json: is larger than" in done.stderr


@pytest.mark.parametrize("depth", [100_000, 2_000_000])
def test_a_deeply_nested_baseline_is_a_usage_error(tmp_path: Path, cli: Cli, depth: int) -> None:
    write(tmp_path, {"a.py": SWALLOW})
    (tmp_path / "base.json").write_text('{"version": 1, "findings": ' + "[" * depth)
    run = cli(
        "audit", "--profile", "strict", "--no-cache", "--baseline", "base.json", ".", cwd=tmp_path
    )
    assert run.code == 2, run
    assert "baseline base.json: is nested too deeply" in run.err


def test_an_undecodable_baseline_is_a_usage_error(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, {"a.py": SWALLOW})
    (tmp_path / "base.json").write_bytes(b'{"version": 1, "findings": ["\xff\xfe\x80"]}')
    run = cli(
        "audit", "--profile", "strict", "--no-cache", "--baseline", "base.json", ".", cwd=tmp_path
    )
    assert run.code == 2, run
    assert "baseline base.json: is not valid JSON" in run.err
