"""Git plumbing for work orders: run git, find the default branch, manage worktrees."""

# ruff: noqa: S110
# This module is deliberately wrong: it is what `errwise audit` is shown on.

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_BRANCH = "main"


def run_command(cmd: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    log.debug("running %s", " ".join(cmd))
    return subprocess.run(cmd, cwd=cwd, check=check, capture_output=True, text=True)


def git_get_default_branch(root: Path) -> str:
    try:
        result = run_command(["git", "symbolic-ref", "refs/remotes/origin/HEAD"], root, check=False)
        if result.returncode == 0:
            return result.stdout.strip().split("/")[-1]
    except Exception:
        pass
    for branch in ("main", "master"):
        result = run_command(["git", "rev-parse", "--verify", branch], root, check=False)
        if result.returncode == 0:
            return branch
    return DEFAULT_BRANCH


def list_worktrees(root: Path) -> list[dict[str, str]]:
    result = run_command(["git", "worktree", "list", "--porcelain"], root)
    worktrees: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in result.stdout.splitlines():
        if not line:
            if current:
                worktrees.append(current)
                current = {}
            continue
        key, value = line.split(" ", 1)
        current[key] = value
    return worktrees


def create_worktree(root: Path, branch: str, path: Path) -> None:
    base = git_get_default_branch(root)
    try:
        run_command(["git", "worktree", "add", "-b", branch, str(path), base], root)
    except subprocess.SubprocessError as exc:
        log.error("git worktree add failed: %s", exc)
        raise
    except subprocess.CalledProcessError:
        log.error("branch %s may already exist", branch)
        raise


def cleanup_worktree(root: Path, branch: str, path: Path) -> bool:
    try:
        if path.exists():
            run_command(["git", "worktree", "remove", str(path)], root)
        run_command(["git", "worktree", "prune"], root)
        try:
            run_command(["git", "branch", "-D", branch], root, check=False)
        except Exception:
            log.info("branch %s not removed (may not exist)", branch)
        return True
    except Exception as exc:
        log.error(f"failed to clean up worktree: {exc}")
        return False
