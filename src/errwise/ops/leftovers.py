"""Leftovers of killed writers: the owner tag in errwise's scratch names, and the sweep.

Promise:
- `owner_tag()` is `<pid>-<start>` for this process (`start`: its start time in clock ticks after
  boot, from `/proc`; 0 where the system has none). `atomic_write` temp files
  (`.<name>.errwise-tmp-<tag>-<16 hex>`), `staged_output` staging directories
  (`.<name>.errwise-staging-<tag>-<16 hex>`) and the trees it moves aside while replacing
  (`.<name>.errwise-old-<tag>-<16 hex>`) carry it, so a leftover names the process that made it.
- `find_leftovers(directory)` lists, from one scan of `directory` bounded to `MAX_SCAN` entries,
  the entries that are provably abandoned — all of: the name matches one of the three forms
  exactly; the entry is a regular file (temp) or a real directory (the others), never a symlink;
  its owner is dead (no process has that pid, or the process with that pid started at another
  time — a reused pid); it was last modified more than `min_age` seconds ago (default
  `SAFE_AGE_S`); and, for a tree moved aside, the directory that replaced it
  exists (otherwise the tree may be the only copy of the user's output, and stays). An entry of
  a live process — or one whose liveness cannot be decided (EPERM, no `/proc`) — is never listed.
- `is_scratch_name(name)` tells whether a name has one of the three forms.
- `remove(directory, leftover)` deletes one listed entry, relative to the directory, never
  following a symlink.
- `sweep(directory)`: what `atomic_write` and `staged_output` call before creating their own
  scratch entry: at most once per directory per `SWEEP_INTERVAL_S` in a process, it removes what
  `find_leftovers` lists. It never raises for what it finds on disk and never fails the caller's
  operation: an OS error is logged at debug level (logger `errwise.ops`) and the sweep stops.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from errwise.ops.lockinfo import process_start_time

__all__ = [
    "Leftover",
    "LeftoverKind",
    "MAX_SCAN",
    "SAFE_AGE_S",
    "SWEEP_INTERVAL_S",
    "find_leftovers",
    "is_scratch_name",
    "owner_tag",
    "remove",
    "sweep",
]

_log = logging.getLogger("errwise.ops")

SAFE_AGE_S = 3600.0
"""A leftover younger than this is kept even when its owner is dead: a margin for clocks, for
writers in another pid namespace sharing the directory, and for slow writers."""
SWEEP_INTERVAL_S = 600.0
"""A process sweeps one directory at most once per this many seconds."""
MAX_SCAN = 4096
"""Entries of one directory a sweep looks at, at most."""

LeftoverKind = Literal["tmp", "staging", "old"]

_NAME_RE = re.compile(
    r"^\.(?P<target>.+)\.errwise-(?P<kind>tmp|staging|old)-"
    r"(?P<pid>[1-9][0-9]{0,9})-(?P<start>0|[1-9][0-9]{0,19})-[0-9a-f]{16}$",
    re.DOTALL,
)
_PID_LIMIT = 1 << 31
_TARGET_KEEP = 120  # bytes of the target's name kept in scratch names (as atomic/staged do)
_DESCRIBE: dict[str, str] = {
    "tmp": "atomic_write temp file",
    "staging": "staged_output staging directory",
    "old": "replaced directory kept aside by staged_output",
}
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)

_tag: tuple[int, str] | None = None
_last_sweep: dict[str, float] = {}


@dataclass(frozen=True, slots=True)
class Leftover:
    """One abandoned scratch entry in a directory."""

    name: str
    kind: LeftoverKind
    pid: int
    age_s: float
    size: int
    """Bytes (a temp file), 0 for a directory."""

    def describe(self) -> str:
        return f"{_DESCRIBE[self.kind]} of dead pid {self.pid}, {_age(self.age_s)} old"


def owner_tag() -> str:
    """`<pid>-<start ticks>` of this process (recomputed after a fork)."""
    global _tag  # noqa: PLW0603 - a per-process cache, replaced whole
    pid = os.getpid()
    cached = _tag
    if cached is not None and cached[0] == pid:
        return cached[1]
    start = process_start_time(pid) or 0
    tag = f"{pid}-{start}"
    _tag = (pid, tag)
    return tag


def is_scratch_name(name: str) -> bool:
    """Is `name` exactly the name of an errwise scratch entry (temp, staging or aside) that
    carries an owner tag?"""
    return _NAME_RE.match(name) is not None


def find_leftovers(directory: str, *, min_age: float = SAFE_AGE_S) -> list[Leftover]:
    """The provably abandoned scratch entries of `directory` (see the module promise).

    An OS error opening or listing the directory is raised (classify it at the caller)."""
    fd = os.open(directory, _DIR_FLAGS)
    try:
        return sorted(_scan(fd, min_age, time.time()), key=lambda found: found.name)
    finally:
        os.close(fd)


def remove(directory: str, leftover: Leftover) -> None:
    """Delete `leftover` from `directory` (a file unlinked, a tree removed without following
    symlinks); one already gone counts as removed. OS errors are raised."""
    fd = os.open(directory, _DIR_FLAGS)
    try:
        if leftover.kind == "tmp":
            os.unlink(leftover.name, dir_fd=fd)
        else:
            shutil.rmtree(leftover.name, dir_fd=fd)
    except FileNotFoundError:
        return  # a concurrent sweep was first
    finally:
        os.close(fd)


def sweep(directory: str) -> None:
    """Remove the leftovers of `directory`, at most once per `SWEEP_INTERVAL_S` (never raises for
    what it finds; see the module promise)."""
    key = os.path.abspath(directory)
    now = time.monotonic()
    last = _last_sweep.get(key)
    if last is not None and now - last < SWEEP_INTERVAL_S:
        return
    if len(_last_sweep) >= 1024:
        _last_sweep.clear()
    _last_sweep[key] = now
    try:
        for leftover in find_leftovers(key):
            remove(key, leftover)
            _log.debug("removed %s %s (%s)", _DESCRIBE[leftover.kind], leftover.name, key)
    # errwise: ignore[swallowed-exception] -- housekeeping must not fail the caller's write; logged
    except OSError as exc:
        _log.debug("sweeping leftovers in %s stopped: %s", key, exc)


# -- judging one entry ---------------------------------------------------------------------------


def _scan(fd: int, min_age: float, now: float) -> Iterator[Leftover]:
    with os.scandir(fd) as entries:
        for seen, entry in enumerate(entries):
            if seen >= MAX_SCAN:
                return
            name = entry.name
            if ".errwise-" not in name:
                continue
            match = _NAME_RE.match(name)
            if match is None:
                continue
            found = _judge(fd, entry, match, min_age, now)
            if found is not None:
                yield found


def _judge(
    fd: int, entry: os.DirEntry[str], match: re.Match[str], min_age: float, now: float
) -> Leftover | None:
    kind: LeftoverKind = match["kind"]  # type: ignore[assignment]  # the regex allows no other
    pid, start = int(match["pid"]), int(match["start"])
    if pid >= _PID_LIMIT:
        return None
    try:
        info = entry.stat(follow_symlinks=False)
    except FileNotFoundError:
        return None
    expected = stat.S_ISREG if kind == "tmp" else stat.S_ISDIR
    if not expected(info.st_mode):
        return None  # a symlink or anything else planted under our name: not ours to delete
    age = now - info.st_mtime
    if age < min_age or not _owner_dead(pid, start):
        return None
    if kind == "old" and not _replacement_exists(fd, match["target"]):
        return None
    return Leftover(entry.name, kind, pid, age, info.st_size if kind == "tmp" else 0)


def _owner_dead(pid: int, start: int) -> bool:
    """Is the process that made the entry provably gone? Unknown counts as alive."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        visible = False  # another user's process: alive unless its start time proves reuse
    else:
        visible = True
    if start == 0:
        return False  # no start time recorded: a running pid may be the owner
    started = process_start_time(pid)
    if started is None:
        # Gone since the kill() above (when we may see it), or hidden from us: decide only the
        # first.
        return visible and os.path.isdir("/proc/self")
    return started != start


def _replacement_exists(fd: int, target: str) -> bool:
    if len(os.fsencode(target)) >= _TARGET_KEEP:
        return False  # the name may be truncated: the replacement cannot be told
    try:
        os.lstat(target, dir_fd=fd)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return False
        raise
    return True


def _age(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.1f} d"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"
