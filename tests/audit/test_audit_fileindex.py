"""The file index: a warm run tells unchanged files by their stat and does not read them; any
doubt (a recent write, a rewrite behind a restored mtime, a damaged index) means reading.

Every test compares with a fresh run (`--no-cache`): the index may save reading, never change
an answer.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from audit_samples import SWALLOW, cache_of

from errwise.audit import runner
from errwise.audit.cache import Cache, digest
from errwise.audit.fileindex import SETTLE_NS, FileIndex

Cli = Callable[..., Any]

# The same length as SWALLOW, so only the content (not the size) tells them apart.
RERAISE = SWALLOW.replace("pass", "raise").replace("def drop", "def drp")
assert len(SWALLOW) == len(RERAISE)


def settle(path: Path, age_s: float = 60.0) -> None:
    """Date the file's modification back, as for a file not touched for a while."""
    then = time.time() - age_s
    os.utime(path, (then, then))


def audit(cli: Cli, root: Path, *args: str) -> str:
    run = cli("audit", "--profile", "strict", "--format", "json", *args, ".", cwd=root)
    assert run.code in (0, 1), run
    out: str = run.out
    return out


def rules(out: str) -> list[tuple[str, str]]:
    return [(f["path"], f["rule"]) for f in json.loads(out)["findings"]]


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The reported paths of the files the runner reads, from now on."""
    seen: list[str] = []
    real = runner._read

    def counting(file: Any) -> Any:
        seen.append(file.display)
        return real(file)

    monkeypatch.setattr(runner, "_read", counting)
    yield seen


def project(root: Path) -> None:
    for name, text in {"a.py": SWALLOW, "b.py": "x = 1\n", "pkg/c.py": "y = 2\n"}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        settle(path)


def test_a_warm_run_reads_no_settled_file(tmp_path: Path, cli: Cli, reads: list[str]) -> None:
    project(tmp_path)
    cold = audit(cli, tmp_path)
    assert sorted(reads) == ["a.py", "b.py", "pkg/c.py"]
    reads.clear()
    warm = audit(cli, tmp_path)
    assert reads == []
    assert warm == cold == audit(cli, tmp_path, "--no-cache")
    assert rules(warm) == [("a.py", "EW101")]


def test_only_the_edited_file_is_read(tmp_path: Path, cli: Cli, reads: list[str]) -> None:
    project(tmp_path)
    audit(cli, tmp_path)
    (tmp_path / "b.py").write_text("import os\n\nos.remove('x')\n", encoding="utf-8")
    reads.clear()
    out = audit(cli, tmp_path)
    assert reads == ["b.py"]
    assert out == audit(cli, tmp_path, "--no-cache")


def test_a_rewrite_behind_a_restored_mtime_is_read(
    tmp_path: Path, cli: Cli, reads: list[str]
) -> None:
    """Same size, same modification time: only the status-change time (which no one can set
    back) gives the rewrite away."""
    project(tmp_path)
    assert rules(audit(cli, tmp_path)) == [("a.py", "EW101")]
    path = tmp_path / "a.py"
    before = path.stat()
    path.write_text(RERAISE, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    reads.clear()
    out = audit(cli, tmp_path)
    assert reads == ["a.py"]
    assert rules(out) == []
    assert out == audit(cli, tmp_path, "--no-cache")


def test_a_file_written_just_before_its_stat_is_not_vouched_for(
    tmp_path: Path, cli: Cli, reads: list[str]
) -> None:
    """A write in the same clock tick as the stat could leave the stat unchanged: a file
    modified less than SETTLE_NS before its stat is not recorded, so it is read again."""
    project(tmp_path)
    (tmp_path / "b.py").write_text("x = 3\n", encoding="utf-8")  # modified now
    assert time.time_ns() - (tmp_path / "b.py").stat().st_mtime_ns < SETTLE_NS
    audit(cli, tmp_path)
    reads.clear()
    out = audit(cli, tmp_path)
    assert reads == ["b.py"]
    assert out == audit(cli, tmp_path, "--no-cache")


def drop_entries(root: Path, *kinds: str) -> None:
    """Delete the cache's entries of these kinds (scan, run, files)."""
    for kind in kinds:
        for entry in (cache_of(root) / "v1" / kind).rglob("*"):
            if entry.is_file():
                entry.unlink()


def test_vouched_files_are_read_when_their_scans_are_gone(
    tmp_path: Path, cli: Cli, reads: list[str]
) -> None:
    project(tmp_path)
    cold = audit(cli, tmp_path)
    drop_entries(tmp_path, "scan", "run")
    reads.clear()
    out = audit(cli, tmp_path)
    assert sorted(reads) == ["a.py", "b.py", "pkg/c.py"]
    assert out == cold
    reads.clear()
    assert audit(cli, tmp_path) == cold
    assert reads == []


def test_a_vouched_file_that_vanished_is_reported(tmp_path: Path, cli: Cli) -> None:
    """The index vouches for a.py, its scan is gone, and it vanishes before it can be read:
    one diagnostic for it, the rest audited as usual."""
    project(tmp_path)
    audit(cli, tmp_path)
    drop_entries(tmp_path, "scan", "run")
    real = runner._read

    def vanishing(file: Any) -> Any:
        if file.display == "a.py":
            (tmp_path / "a.py").unlink()
        return real(file)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "_read", vanishing)
        run = cli("audit", "--profile", "strict", "--format", "json", ".", cwd=tmp_path)
    doc = json.loads(run.out)
    assert [(d["path"], d["code"]) for d in doc["diagnostics"]] == [("a.py", "ERR_NOT_FOUND")]
    assert rules(run.out) == []
    assert run.code == 10


def test_a_damaged_index_is_ignored_then_rewritten(
    tmp_path: Path, cli: Cli, reads: list[str]
) -> None:
    project(tmp_path)
    cold = audit(cli, tmp_path)
    (index,) = [p for p in (cache_of(tmp_path) / "v1" / "files").iterdir()]
    index.write_bytes(index.read_bytes()[:-3])
    reads.clear()
    assert audit(cli, tmp_path) == cold
    assert sorted(reads) == ["a.py", "b.py", "pkg/c.py"]
    reads.clear()
    assert audit(cli, tmp_path) == cold
    assert reads == []


def test_an_index_that_vouches_for_the_wrong_content_is_corrected(
    tmp_path: Path, cli: Cli, reads: list[str]
) -> None:
    """Should the index ever be wrong (a clock far off, a tampered cache) and the scan it points
    at be gone, the file is scanned as it is and forgotten by the index."""
    project(tmp_path)
    audit(cli, tmp_path)
    path = tmp_path / "a.py"
    path.write_text(RERAISE, encoding="utf-8")
    settle(path)
    cache = Cache(cache_of(tmp_path))
    index = FileIndex.load(cache)
    stale = digest(SWALLOW.encode())
    index.record(str(path), path.stat(), stale, taken_ns=time.time_ns())
    index.save(cache)
    drop_entries(tmp_path, "scan", "run")
    reads.clear()
    out = audit(cli, tmp_path)
    assert sorted(reads) == ["a.py", "b.py", "pkg/c.py"]
    assert rules(out) == [] == rules(audit(cli, tmp_path, "--no-cache"))
    assert FileIndex.load(cache).digest_of(str(path), path.stat()) is None
    reads.clear()
    assert audit(cli, tmp_path) == out
    assert reads == ["a.py"]  # read again, then recorded as it is
    reads.clear()
    assert audit(cli, tmp_path) == out
    assert reads == []
