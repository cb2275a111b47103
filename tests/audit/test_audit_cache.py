"""The audit cache: reuse only what is still true, survive corruption, races and full disks.

Every test compares a cached run with what a fresh run (`--no-cache`) of the same tree says: the
cache may change how fast an answer comes, never the answer.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from audit_samples import CALLER, STORE, SWALLOW, audit, cache_of, fresh, rules_found, write

import errwise
from errwise.audit import cache as cache_module
from errwise.audit.cache import RUNS_KEPT, Cache

Cli = Callable[..., Any]
CliRun = Any

# A broad clause that drops the error (it was `logging.exception(...)`: with the traceback
# logged, broad-catch no longer reports it since issue 16; this file only needs a finding).
BROAD_IN_HANDLER = """\
def handler(job):
    try:
        job.run()
    except Exception:
        job.failed = True
"""
STORE_RAISES_NOTHING = """\
def load(key):
    return [key]
"""


def reused(run: CliRun) -> int:
    """How many files the run took from the cache, as its summary line says (0: none)."""
    for line in run.err.splitlines():
        if "from the cache" in line:
            return int(line.rsplit("; ", 1)[1].split(" of ")[0])
    return 0


# -- reuse ---------------------------------------------------------------------------------------


def test_a_warm_run_reuses_everything_and_says_the_same(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, {"a.py": SWALLOW, "b.py": BROAD_IN_HANDLER, "c.py": "x = 1\n"})
    cold = audit(cli, tmp_path)
    assert reused(cold) == 0
    assert (cache_of(tmp_path) / "CACHEDIR.TAG").is_file()
    assert (cache_of(tmp_path) / ".gitignore").read_text().strip().endswith("*")
    warm = audit(cli, tmp_path)
    assert "3 of 3 from the cache" in warm.err
    assert warm.out == cold.out == fresh(cli, tmp_path)
    assert rules_found(warm) == [("a.py", "EW101"), ("b.py", "EW105")]


def test_no_cache_reads_and_writes_nothing(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, {"a.py": SWALLOW})
    fresh(cli, tmp_path)
    assert not (cache_of(tmp_path)).exists()


def test_cache_dir_flag_and_the_default_keyed_by_the_pyproject_directory(
    tmp_path: Path, cli: Cli
) -> None:
    """The default cache is outside the tree, one per project (the pyproject.toml's
    directory): nothing is written into the audited tree."""
    write(tmp_path, {"proj/pyproject.toml": "[project]\nname = 'p'\n", "proj/src/a.py": SWALLOW})
    audit(cli, tmp_path / "proj" / "src")
    assert (cache_of(tmp_path / "proj") / "v1").is_dir()
    assert not cache_of(tmp_path / "proj" / "src").exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.py", "proj", "pyproject.toml", "src"]
    elsewhere = tmp_path / "elsewhere"
    run = audit(cli, tmp_path / "proj", "--cache-dir", str(elsewhere))
    assert reused(run) == 0  # a new directory starts empty
    assert (elsewhere / "v1").is_dir()


# -- invalidation --------------------------------------------------------------------------------


def test_a_changed_file_is_the_only_one_scanned_again(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, {"a.py": SWALLOW, "b.py": "x = 1\n", "c.py": "y = 2\n"})
    audit(cli, tmp_path)
    write(tmp_path, {"b.py": BROAD_IN_HANDLER})
    run = audit(cli, tmp_path)
    assert "2 of 3 from the cache" in run.err
    assert rules_found(run) == [("a.py", "EW101"), ("b.py", "EW105")]
    assert run.out == fresh(cli, tmp_path)


def test_a_dependency_change_reaches_an_unchanged_caller(tmp_path: Path, cli: Cli) -> None:
    """pkg/caller.py does not change, but what it calls stops raising KeyError: its
    `except KeyError` becomes dead, though its own scan is reused."""
    files = {"pkg/__init__.py": "", "pkg/caller.py": CALLER, "pkg/store.py": STORE}
    write(tmp_path, files)
    assert rules_found(audit(cli, tmp_path)) == []
    write(tmp_path, {"pkg/store.py": STORE_RAISES_NOTHING})
    run = audit(cli, tmp_path)
    assert "2 of 3 from the cache" in run.err
    assert rules_found(run) == [("pkg/caller.py", "EW120")]
    assert run.out == fresh(cli, tmp_path)
    write(tmp_path, {"pkg/store.py": STORE})
    back = audit(cli, tmp_path)
    assert rules_found(back) == []
    assert "3 of 3 from the cache" in back.err  # both versions are remembered


def test_a_configuration_change_is_a_miss(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.errwise]\n", "b.py": BROAD_IN_HANDLER})
    assert rules_found(audit(cli, tmp_path)) == [("b.py", "EW105")]
    # the configuration changes what is reported (it made `handler` a boundary, where a clause
    # logging its traceback was fine; since issue 16 such a clause is fine everywhere, so the
    # fixture drops the error instead and the change is to ignore the rule)
    write(tmp_path, {"pyproject.toml": '[tool.errwise]\nignore = ["EW105"]\n'})
    run = audit(cli, tmp_path)
    assert reused(run) == 0
    assert ("b.py", "EW105") not in rules_found(run)
    assert run.out == fresh(cli, tmp_path)
    narrowed = audit(cli, tmp_path, "--select", "EW101")
    assert reused(narrowed) == 0
    assert narrowed.out == fresh(cli, tmp_path, "--select", "EW101")


def test_another_errwise_version_is_a_miss(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"a.py": SWALLOW})
    audit(cli, tmp_path)
    assert reused(audit(cli, tmp_path)) == 1
    monkeypatch.setattr(cache_module, "_stamp", None)
    monkeypatch.setattr(errwise, "__version__", "999.0")
    run = audit(cli, tmp_path)
    assert reused(run) == 0
    assert run.out == fresh(cli, tmp_path)


def test_an_edited_errwise_source_file_is_a_miss(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stamp covers every source file of the package, not just the version number."""
    write(tmp_path, {"a.py": SWALLOW})
    audit(cli, tmp_path)
    before = cache_module.code_stamp()
    real_stat = os.stat
    engine = os.path.join(os.path.dirname(cache_module.__file__), "engine.py")

    def newer(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        info = real_stat(path, *args, **kwargs)
        if os.fspath(path) == engine:
            fields = list(info)
            fields[8] += 1  # st_mtime: as if the file had just been edited
            return os.stat_result(fields)
        return info

    monkeypatch.setattr(cache_module, "_stamp", None)
    monkeypatch.setattr(cache_module.os, "stat", newer)
    assert cache_module.code_stamp() != before
    assert reused(audit(cli, tmp_path)) == 0


# -- damage --------------------------------------------------------------------------------------


def _entries(root: Path) -> list[Path]:
    return [p for p in (cache_of(root) / "v1").rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b""),
        lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
        lambda p: p.write_bytes(p.read_bytes()[:-1] + bytes([p.read_bytes()[-1] ^ 0xFF])),
        lambda p: p.write_bytes(b"\x80\x05garbage that is no pickle"),
    ],
    ids=["empty", "truncated", "flipped-bit", "garbage"],
)
def test_corrupt_entries_are_misses_then_rewritten(tmp_path: Path, cli: Cli, damage: Any) -> None:
    write(tmp_path, {"a.py": SWALLOW, "b.py": BROAD_IN_HANDLER})
    expected = audit(cli, tmp_path).out
    entries = _entries(tmp_path)
    assert len(entries) == 4  # two scans, the run and the ledger
    for entry in entries:
        damage(entry)
    run = audit(cli, tmp_path)
    assert run.out == expected
    assert reused(run) == 0
    healed = audit(cli, tmp_path)
    assert "2 of 2 from the cache" in healed.err
    assert healed.out == expected


def test_a_valid_entry_under_the_wrong_key_is_not_believed(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    cache.put("scan", "a" * 40, ["the value for a"])
    blob = (tmp_path / "c" / "v1" / "scan" / "aa" / ("a" * 40)).read_bytes()
    target = tmp_path / "c" / "v1" / "scan" / "bb" / ("b" * 40)
    target.parent.mkdir(parents=True)
    target.write_bytes(blob)
    assert cache.get("scan", "a" * 40) == ["the value for a"]
    assert cache.get("scan", "b" * 40) is None
    assert cache.stats.corrupt == 1


def test_an_unwritable_cache_warns_once_and_the_audit_goes_on(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"a.py": SWALLOW, "b.py": BROAD_IN_HANDLER})
    expected = fresh(cli, tmp_path)
    real_mkdir = Path.mkdir

    def denied(self: Path, *args: Any, **kwargs: Any) -> None:
        if "projects" in self.parts:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", denied)
    run = cli("audit", "--profile", "strict", "--format", "json", ".", cwd=tmp_path)
    assert run.code == 1, run
    assert run.out == expected
    warnings = [line for line in run.err.splitlines() if "warning:" in line]
    assert len(warnings) == 1
    assert "cache turned off for this run" in warnings[0]
    assert "Permission denied" in warnings[0]


def test_a_full_disk_leaves_no_temp_files_in_the_cache(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"a.py": SWALLOW})
    (cache_of(tmp_path)).mkdir()
    real_write = os.write

    def full(fd: int, data: Any) -> int:
        if len(data) > 100:  # the entries; not the small tag files
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr("errwise.ops.atomic.os.write", full)
    run = cli("audit", "--profile", "strict", "--format", "json", ".", cwd=tmp_path)
    assert run.code == 1, run
    assert "ERR_DISK_FULL" in run.err and "cache turned off" in run.err
    assert not [p for p in (cache_of(tmp_path)).rglob("*") if p.is_file() and "tmp" in p.name]


def test_old_run_entries_are_pruned(tmp_path: Path, cli: Cli) -> None:
    for version in range(RUNS_KEPT + 3):
        write(tmp_path, {"a.py": f"x = {version}\n"})
        audit(cli, tmp_path)
    assert len(list((cache_of(tmp_path) / "v1" / "run").iterdir())) == RUNS_KEPT


def _age_scans(root: Path, seconds: float) -> None:
    for entry in (cache_of(root) / "v1" / "scan").rglob("*"):
        if entry.is_file():
            info = entry.stat()
            then = info.st_mtime - seconds
            os.utime(entry, (then, then))


def test_scan_entries_are_pruned_least_recently_used_first(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bound: max(SCANS_KEPT_MIN, SCANS_KEPT_PER_FILE * files) = 3 here. a.py never changes, so
    its entry is the oldest written but is used by every run: it stays; b.py's old versions go."""
    monkeypatch.setattr(cache_module, "SCANS_KEPT_MIN", 3)
    monkeypatch.setattr(cache_module, "SCANS_KEPT_PER_FILE", 1)
    write(tmp_path, {"a.py": SWALLOW})
    for version in range(6):
        write(tmp_path, {"b.py": f"x = {version}\n"})
        run = audit(cli, tmp_path)
        assert reused(run) == (1 if version else 0)  # a.py's entry, every time
        _age_scans(tmp_path, 3600)  # an hour passes between runs
    scans = [p for p in (cache_of(tmp_path) / "v1" / "scan").rglob("*") if p.is_file()]
    assert len(scans) == 3
    for entry in (cache_of(tmp_path) / "v1" / "run").iterdir():
        entry.unlink()
    run = audit(cli, tmp_path)
    assert "2 of 2 from the cache" in run.err  # a.py and the latest b.py survived
    assert run.out == fresh(cli, tmp_path)
    write(tmp_path, {"b.py": "x = 4\n"})  # the version before: kept as well (3 entries)
    assert "2 of 2 from the cache" in audit(cli, tmp_path).err
    write(tmp_path, {"b.py": "x = 1\n"})  # long gone
    assert "1 of 2 from the cache" in audit(cli, tmp_path).err


# -- concurrency and parallelism -----------------------------------------------------------------


def _stdlib_sample(root: Path) -> None:
    """Real code nobody here wrote: a few packages of this Python's standard library."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for package in ("json", "email", "http", "logging", "concurrent"):
        shutil.copytree(
            stdlib / package, root / package, ignore=shutil.ignore_patterns("__pycache__", "test*")
        )


_ERRWISE = (sys.executable, "-c", "import sys; from errwise.cli import main; sys.exit(main())")


def _cli_process(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*_ERRWISE, "audit", "--profile", "strict", "--format", "json", "--no-config", *args, "."],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode in (0, 1), err
    assert "Traceback" not in err
    return out


def test_two_concurrent_runs_share_one_cache_dir(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    _stdlib_sample(tree)
    expected = _finish(_cli_process(tree, "--no-cache", "--jobs", "1"))
    cache = tmp_path / "shared-cache"
    for _ in range(2):  # racing on an empty directory, then on a full one
        procs = [_cli_process(tree, "--cache-dir", str(cache), "--jobs", "1") for _ in range(2)]
        assert [_finish(p) for p in procs] == [expected, expected]
        leftovers = [p for p in cache.rglob("*") if p.is_file() and "tmp" in p.name]
        assert leftovers == []
    # what the racers wrote is whole: a third run takes everything from the cache
    third = _cli_process(tree, "--cache-dir", str(cache))
    out, err = third.communicate(timeout=300)
    assert out == expected
    assert "from the cache" in err


def test_jobs_1_and_jobs_4_give_byte_identical_json(tmp_path: Path) -> None:
    _stdlib_sample(tmp_path)
    one = _finish(_cli_process(tmp_path, "--no-cache", "--jobs", "1"))
    four = _finish(_cli_process(tmp_path, "--no-cache", "--jobs", "4"))
    assert json.loads(one)["summary"]["files"] >= 40  # enough files for worker processes
    assert four == one
    cold_four = _finish(_cli_process(tmp_path, "--jobs", "4"))
    warm_one = _finish(_cli_process(tmp_path, "--jobs", "1"))
    assert cold_four == warm_one == one


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "sarif", "github"])
def test_every_format_renders_the_same_from_the_cache(tmp_path: Path, cli: Cli, fmt: str) -> None:
    """Rich formats use more than the JSON fields (excerpts, effects, patchable calls): a
    finding restored from the cache carries them all."""
    example = Path(__file__).resolve().parents[2] / "examples" / "workorder"
    shutil.copytree(example, tmp_path / "workorder")
    runs = [
        cli("audit", "--profile", "strict", "--format", fmt, *flags, "workorder", cwd=tmp_path)
        for flags in (["--no-cache"], [], [])
    ]
    assert [r.code for r in runs] == [1, 1, 1]
    assert runs[0].out == runs[1].out == runs[2].out
    assert "from the cache" in runs[2].err


def test_errwise_failing_on_a_file_is_not_replayed_from_the_cache(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug is not an answer: once it is fixed, the next run must not serve it again."""
    from errwise.audit import runner

    write(tmp_path, {"a.py": SWALLOW, "b.py": BROAD_IN_HANDLER})
    expected = fresh(cli, tmp_path)
    real = runner.finish_scan

    def broken(scan: Any, *args: Any) -> Any:
        if scan.path == "b.py":
            raise AttributeError("injected")
        return real(scan, *args)

    monkeypatch.setattr(runner, "finish_scan", broken)
    for _ in range(2):
        run = cli("audit", "--profile", "strict", "--format", "json", ".", cwd=tmp_path)
        assert run.code == 70, run
        assert "b.py: ERR_INTERNAL" in run.err
    monkeypatch.setattr(runner, "finish_scan", real)
    fixed = audit(cli, tmp_path)
    assert fixed.out == expected
    assert "ERR_INTERNAL" not in fixed.err


def test_a_result_that_cannot_be_pickled_turns_the_cache_off(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    cache.put("scan", "a" * 40, lambda: None)  # not picklable
    assert cache.problem is not None and "cannot be stored" in cache.problem
    assert cache.get("scan", "a" * 40) is None
