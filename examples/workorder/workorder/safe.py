"""The same jobs done right, with errwise: every failure is either handled for a named, expected
reason or surfaces as a classified `errwise.Error` with context; rollback never fails silently.

- git runs through `errwise.run` (a timeout, the command and context in every error);
- the work-order lock is an `errwise.FileLock` (O_EXCL lease lock with a heartbeat that reports
  a lost lock instead of returning False);
- state files are replaced with `errwise.atomic_write` (old or new, never half);
- `take` is an `errwise.Transaction`: each step has its undo, Ctrl-C included, and a failed undo
  raises ERR_ROLLBACK_FAILED with the manual recovery steps;
- a question with an expected "no" answers with a `Result`, so the caller must look.

`errwise audit` reports nothing here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import errwise
from errwise import Err, Ok, Result

log = logging.getLogger(__name__)

GIT_TIMEOUT = 60.0


def git(args: list[str], root: Path, **context: object) -> str:
    """Run git in `root`; a failure or a hang is a classified error naming command and context."""
    return errwise.run(["git", *args], cwd=root, timeout=GIT_TIMEOUT, context=context).stdout


def default_branch(root: Path) -> str:
    """origin/HEAD's branch; a repository without one is an error the user can fix."""
    ref = git(["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"], root).strip()
    name = ref.rpartition("/")[2]
    if not name:
        raise errwise.usage(
            "ERR_USAGE", "cannot tell the default branch: set origin/HEAD", repo=str(root)
        )
    return name


def list_worktrees(root: Path) -> list[dict[str, str]]:
    worktrees: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in git(["worktree", "list", "--porcelain"], root).splitlines():
        if not line:
            if current:
                worktrees.append(current)
                current = {}
            continue
        key, _, value = line.partition(" ")
        current[key] = value
    if current:
        worktrees.append(current)
    return worktrees


@contextmanager
def work_order_lock(root: Path, wo_id: str) -> Iterator[errwise.FileLock]:
    """Hold the work order's lock; ERR_LOCK_HELD (recoverable) names the holder."""
    with errwise.FileLock(root / "locks" / f"{wo_id}.lock", timeout=0) as lock:
        yield lock


@dataclass(frozen=True)
class NoState:
    wo_id: str
    folder: str


def read_state(root: Path, wo_id: str, folder: str) -> Result[dict[str, str], NoState]:
    """The work order's state in `folder`, or `Err(NoState)` when it is not there."""
    path = root / folder / f"{wo_id}.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Err(NoState(wo_id, folder))
    state: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise errwise.env(
                "ERR_IO", f"{path}:{number}: expected `key: value`, got {line!r}", wo_id=wo_id
            )
        state[key.strip()] = value.strip()
    return Ok(state)


def write_state(path: Path, state: dict[str, str]) -> None:
    errwise.atomic_write(path, "".join(f"{key}: {value}\n" for key, value in state.items()))


def move_state(root: Path, wo_id: str, src: str, dst: str, **changes: str) -> None:
    """Copy the state to `dst` (atomically), then remove it from `src`."""
    match read_state(root, wo_id, src):
        case Ok(state):
            state.update(changes)
        case Err(missing):
            raise errwise.env(
                "ERR_NOT_FOUND", f"work order {wo_id} is not in {missing.folder}/", wo_id=wo_id
            )
    write_state(root / dst / f"{wo_id}.yaml", state)
    (root / src / f"{wo_id}.yaml").unlink()


def remove_worktree(root: Path, worktree: Path, branch: str) -> None:
    git(["worktree", "remove", "--force", str(worktree)], root)
    git(["branch", "-D", branch], root)


def take(root: Path, wo_id: str, owner: str) -> None:
    """Lock the work order, give it a worktree and mark it running — all or nothing."""
    worktree = root / ".worktrees" / wo_id
    branch = f"wo/{wo_id}"
    with work_order_lock(root, wo_id), errwise.Transaction(f"take {wo_id}") as tx:
        tx.step(
            "create worktree",
            do=lambda: git(["worktree", "add", "-b", branch, str(worktree)], root, wo_id=wo_id),
            undo=lambda: remove_worktree(root, worktree, branch),
            recovery=f"git worktree remove --force {worktree} && git branch -D {branch}",
        )
        tx.step(
            "mark running",
            do=lambda: move_state(root, wo_id, "pending", "running", status="running", owner=owner),
            undo=lambda: move_state(root, wo_id, "running", "pending", status="pending", owner=""),
            critical=True,
            recovery=f"move running/{wo_id}.yaml back to pending/ and set status: pending",
        )
    log.info("work order %s taken by %s", wo_id, owner)
