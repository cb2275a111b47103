"""The same jobs done right: every failure is either handled for a named, expected reason or
surfaces as a classified `errwise.Error` with context; undo never fails silently.

`errwise audit` reports nothing here.
"""

from __future__ import annotations

import errno
import logging
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import errwise
from errwise import Err, Ok, Result

log = logging.getLogger(__name__)

GIT_TIMEOUT = 60.0


def run_git(args: list[str], cwd: Path) -> str:
    """Run git; a failure, a hang or a missing git is a classified error naming the command."""
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            check=True,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise errwise.classify(exc).with_context(cwd=str(cwd)) from exc
    return proc.stdout


def default_branch(root: Path) -> str:
    """origin/HEAD's branch; a repository without one is an error the user can fix."""
    ref = run_git(["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"], root).strip()
    name = ref.rpartition("/")[2]
    if not name:
        raise errwise.usage(
            "ERR_USAGE", "cannot tell the default branch: set origin/HEAD", repo=str(root)
        )
    return name


def list_worktrees(root: Path) -> list[dict[str, str]]:
    worktrees: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in run_git(["worktree", "list", "--porcelain"], root).splitlines():
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


@dataclass(frozen=True)
class LockHeld:
    wo_id: str
    holder: str


def create_lock(lock_path: Path, wo_id: str) -> Result[None, LockHeld]:
    """Take the lock; another holder is an `Err` the caller must look at, anything else raises."""
    try:
        fd = os.open(lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return Err(LockHeld(wo_id, read_holder(lock_path)))
    with os.fdopen(fd, "w") as handle:
        handle.write(f"PID: {os.getpid()}\nWO: {wo_id}\n")
    return Ok(None)


def read_holder(lock_path: Path) -> str:
    try:
        text = lock_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return "(released meanwhile)"
    for line in text.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key == "PID":
            return value
    return "(unknown)"


def holder_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists; it belongs to another user
    return True


def remove_lock(lock_path: Path) -> None:
    try:
        lock_path.unlink()
    except FileNotFoundError:
        log.info("lock %s was already gone", lock_path)


def write_state(path: Path, state: dict[str, str]) -> None:
    """Write a state file atomically: a reader sees the old file or the new one, never half."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.writelines(f"{key}: {value}\n" for key, value in state.items())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise errwise.classify(exc).with_context(state_file=str(path)) from exc


def read_state(path: Path) -> dict[str, str]:
    state: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise errwise.env("ERR_IO", f"{path}:{number}: expected `key: value`, got {line!r}")
        state[key.strip()] = value.strip()
    return state


def move_state(root: Path, wo_id: str, src: str, dst: str, **changes: str) -> None:
    """Move a state file between folders; on failure the source is still the only copy."""
    source = root / src / f"{wo_id}.yaml"
    target = root / dst / f"{wo_id}.yaml"
    state = read_state(source)
    state.update(changes)
    write_state(target, state)
    try:
        source.unlink()
    except BaseException:
        target.unlink(missing_ok=True)  # undo the copy, then let the failure surface
        raise


def undo(root: Path, wo_id: str, kind: str, target: Path) -> None:
    match kind:
        case "remove_lock":
            remove_lock(target)
        case "move_wo_to_pending":
            move_state(root, wo_id, "running", "pending", status="pending", owner="")
        case "remove_worktree":
            run_git(["worktree", "remove", "--force", str(target)], root)
        case _:
            raise errwise.bug(f"unknown rollback step {kind!r}", wo_id=wo_id)


def rollback(root: Path, wo_id: str, steps: list[tuple[str, Path]]) -> None:
    """Undo steps newest first; the first failure stops and says what is left to do by hand."""
    for index, (kind, target) in enumerate(reversed(steps)):
        try:
            undo(root, wo_id, kind, target)
        except errwise.Error as exc:
            left = [k for k, _ in list(reversed(steps))[index:]]
            raise errwise.env(
                "ERR_ROLLBACK_FAILED",
                f"rollback of {wo_id} stopped at {kind}",
                wo_id=wo_id,
                left_to_undo=left,
            ) from exc


def take(root: Path, wo_id: str, owner: str) -> Result[None, LockHeld]:
    lock_path = root / "locks" / f"{wo_id}.lock"
    taken = create_lock(lock_path, wo_id)
    if isinstance(taken, Err):
        return taken
    steps: list[tuple[str, Path]] = [("remove_lock", lock_path)]
    try:
        worktree = root / ".worktrees" / wo_id
        run_git(["worktree", "add", "-b", f"wo/{wo_id}", str(worktree)], root)
        steps.append(("remove_worktree", worktree))
        move_state(root, wo_id, "pending", "running", status="running", owner=owner)
    except BaseException:
        rollback(root, wo_id, steps)  # Ctrl-C too: the work order is never left half-taken
        raise
    return Ok(None)


def errno_name(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, "unknown")
