"""A foreign `.git/config` runs nothing: discovery (`ls-files`, `check-ignore`) and `--diff` run
git hardened against the repository's own configuration, and find what a clean checkout finds.

Each repository is built as an attacker would ship it: a `.git/config` (and `.gitattributes`)
naming a script that leaves a marker file when git runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from errwise.audit.gitsafe import filter_overrides, parse_filter_drivers

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

BODY = "    try:\n        os.remove(p)\n    except Exception:\n        pass\n"
SOURCE = "import os\n\n\ndef f(p):\n" + BODY
ADDED = "\n\ndef g(p):\n" + BODY


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=root,
        check=True,
        capture_output=True,
        timeout=30,
        text=True,
    )
    return done.stdout


def _repo(root: Path) -> Path:
    root.mkdir()
    git(root, "init", "-q")
    (root / "a.py").write_text(SOURCE)
    (root / "ignored.py").write_text(SOURCE)
    (root / ".gitignore").write_text("ignored.py\n")
    git(root, "add", "a.py", ".gitignore")
    git(root, "commit", "-q", "-m", "first")
    with (root / "a.py").open("a") as handle:
        handle.write(ADDED)
    return root


def _hook(tmp_path: Path) -> tuple[Path, Path]:
    """A script that records each run in a marker file (and passes stdin through, as a filter
    must)."""
    marker = tmp_path / "marker"
    script = tmp_path / "evil.sh"
    script.write_text(f'#!/bin/sh\necho "$0 $*" >> {marker}\ncat\n')
    script.chmod(0o755)
    return script, marker


def _poison(root: Path, script: Path) -> None:
    for key, value in [
        ("core.fsmonitor", str(script)),
        ("diff.external", str(script)),
        ("diff.evil.textconv", str(script)),
        ("diff.evil.command", str(script)),
        ("filter.evil.clean", str(script)),
        ("filter.evil.smudge", str(script)),
        ("filter.evil.required", "true"),
        ("core.pager", str(script)),
        ("pager.diff", str(script)),
        ("diff.noprefix", "true"),
        ("diff.context", "7"),
    ]:
        git(root, "config", key, value)
    (root / ".gitattributes").write_text("*.py diff=evil filter=evil\n")


def _findings(run: Any) -> list[tuple[str, int, str]]:
    return [(f["path"], f["line"], f["rule"]) for f in json.loads(run.out)["findings"]]


@pytest.mark.parametrize("extra", [[], ["--diff", "HEAD"]], ids=["discovery", "diff"])
def test_foreign_git_config_runs_nothing_and_changes_no_finding(
    tmp_path: Path, cli: Any, extra: list[str]
) -> None:
    clean = _repo(tmp_path / "clean")
    (clean / ".gitattributes").write_text("*.py text\n")
    expected = cli(
        "audit",
        "--profile",
        "strict",
        "--no-config",
        "--no-cache",
        "--format",
        "json",
        *extra,
        ".",
        cwd=clean,
    )
    hostile = _repo(tmp_path / "hostile")
    script, marker = _hook(tmp_path)
    _poison(hostile, script)
    run = cli(
        "audit",
        "--profile",
        "strict",
        "--no-config",
        "--no-cache",
        "--format",
        "json",
        *extra,
        ".",
        cwd=hostile,
    )
    assert not marker.exists(), marker.read_text()
    assert run.code == expected.code == 1, run
    assert _findings(run) == _findings(expected)
    paths = {path for path, _, _ in _findings(run)}
    assert paths == {"a.py"}  # .gitignore still honoured: git was asked, not bypassed
    if extra:
        # --diff: only the added function (line 11 on), not the committed one
        assert [line for _, line, _ in _findings(run)] == [14]


def test_a_partial_clone_cannot_fetch_through_a_configured_command(
    tmp_path: Path, cli: Any
) -> None:
    """A "promisor" remote whose URL is an `ext::` command: a diff needing a missing object
    would run it to fetch the object (a lazy fetch)."""
    repo = _repo(tmp_path / "partial")
    script, marker = _hook(tmp_path)
    blob = git(repo, "rev-parse", "HEAD:a.py").strip()
    os.unlink(repo / ".git" / "objects" / blob[:2] / blob[2:])
    for key, value in [
        ("core.repositoryformatversion", "1"),
        ("extensions.partialClone", "origin"),
        ("remote.origin.url", f"ext::sh {script}"),
        ("remote.origin.promisor", "true"),
        ("protocol.ext.allow", "always"),
    ]:
        git(repo, "config", key, value)
    run = cli(
        "audit", "--profile", "strict", "--no-config", "--no-cache", "--diff", "HEAD", ".", cwd=repo
    )
    assert not marker.exists(), marker.read_text()
    assert run.code == 2 and "git diff failed" in run.err, run


def test_filter_drivers_are_listed_and_emptied() -> None:
    listing = "filter.lfs.clean\ngit-lfs clean\0filter.a.b.process\nx\0filter.lfs.required\ntrue\0"
    drivers = parse_filter_drivers(listing)
    assert drivers == ["lfs", "a.b"]
    settings = filter_overrides(drivers)
    assert "filter.a.b.process=" in settings and "filter.lfs.required=false" in settings
    assert "filter.lfs.clean=" in settings and "filter.lfs.smudge=" in settings


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the repository to another user")
def test_a_repository_of_another_user_stays_refused_by_git(tmp_path: Path, cli: Any) -> None:
    """safe.directory is never overridden: git refuses the repository, discovery walks the tree
    (so `.gitignore` is not applied), and the configured hook never runs."""
    hostile = _repo(tmp_path / "foreign")
    script, marker = _hook(tmp_path)
    _poison(hostile, script)
    for path in [hostile, *hostile.rglob("*")]:
        os.lchown(path, 4242, 4242)
    run = cli(
        "audit",
        "--profile",
        "strict",
        "--no-config",
        "--no-cache",
        "--format",
        "json",
        ".",
        cwd=hostile,
    )
    assert not marker.exists(), marker.read_text()
    assert run.code == 1, run
    assert {path for path, _, _ in _findings(run)} == {"a.py", "ignored.py"}
