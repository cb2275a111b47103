"""`--diff REV`: only findings on lines changed since a revision (and in untracked files)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from errwise.audit.gitdiff import parse_diff

Cli = Callable[..., Any]

HANDLER = (
    "\n\ndef {name}(p):\n    try:\n        os.remove(p)\n    except Exception:\n        pass\n"
)


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=root,
        check=True,
        capture_output=True,
        timeout=30,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    (tmp_path / "old.py").write_text("import os\n" + HANDLER.format(name="old"))
    git(tmp_path, "add", "old.py")
    git(tmp_path, "commit", "-q", "-m", "old")
    return tmp_path


def test_only_changed_lines_and_untracked_files_are_reported(repo: Path, cli: Cli) -> None:
    with (repo / "old.py").open("a") as handle:
        handle.write(HANDLER.format(name="added"))
    (repo / "new.py").write_text("import os\n" + HANDLER.format(name="fresh"))
    run = cli(
        "audit",
        "--profile",
        "strict",
        "--no-config",
        "--format",
        "json",
        "--diff",
        "HEAD",
        ".",
        cwd=repo,
    )
    functions = sorted(f["function"] for f in run.json()["findings"])
    assert functions == ["added", "fresh"], run
    assert "1 outside the diff" in run.err
    assert run.code == 1


def test_nothing_changed_means_nothing_reported(repo: Path, cli: Cli) -> None:
    run = cli("audit", "--profile", "strict", "--no-config", "--diff", "HEAD", ".", cwd=repo)
    assert run.out == "" and run.code == 0


@pytest.mark.parametrize(
    ("rev", "message"),
    [("no-such-rev", "bad revision 'no-such-rev'"), ("--output=x", "needs a git revision")],
)
def test_bad_revisions_are_usage_errors(repo: Path, cli: Cli, rev: str, message: str) -> None:
    run = cli("audit", "--profile", "strict", "--no-config", f"--diff={rev}", ".", cwd=repo)
    assert run.code == 2 and message in run.err, run


def test_outside_a_work_tree_is_a_usage_error(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    run = cli("audit", "--profile", "strict", "--no-config", "--diff", "HEAD", ".", cwd=tmp_path)
    assert run.code == 2 and "is not inside a git work tree" in run.err


def test_parse_diff_reads_hunks_and_quoted_names() -> None:
    text = (
        "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -3,0 +4,2 @@\n+a\n+b\n"
        "@@ -10 +12 @@\n-c\n+d\n@@ -20,3 +21,0 @@\n-e\n"
        '--- a/"q\\tname.py"\n+++ "b/q\\tname.py"\n@@ -1 +1 @@\n-x\n+y\n'
        "--- a/gone.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-z\n"
    )
    assert parse_diff(text) == {"x.py": [(4, 5), (12, 12)], "q\tname.py": [(1, 1)]}
