"""The state file that makes an interrupted sweep resumable.

Promise: the state lives outside the project — by default under the user cache directory
(`errwise.audit.cachehome.user_cache_root()/sweep/`), one file per (root, command, shard). It is
a JSON-lines journal: a header (root, command, shard, baseline) written atomically when the
sweep starts, then one line appended per finished run as it finishes (so a killed sweep loses
at most the runs in flight, and a long sweep never rewrites what it already wrote), and a last
line when the sweep completes. A sweep that finds an unfinished journal of the same root,
command and shard reuses its baseline and runs (completed runs are not run again); after a
completed sweep the next one starts afresh. A last line cut short by a kill is the run that was
being written: it is dropped (and that run made again). Anything else that is not errwise's
journal is ERR_SWEEP_CORRUPT naming the file (`--fresh` ignores it).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from errwise.audit.cache import digest
from errwise.audit.cachehome import user_cache_root
from errwise.classify import classify
from errwise.error import env
from errwise.ops.atomic import atomic_write

__all__ = ["State", "default_state_path", "STATE_VERSION"]

STATE_VERSION: Final = 2


def default_state_path(root: Path, command: Sequence[str], shard: str | None) -> Path:
    """`<user cache>/sweep/<digest of root, command and shard>.jsonl`."""
    key = digest("errwise sweep state", str(root), json.dumps(list(command)), shard or "")
    return user_cache_root() / "sweep" / f"{key}.jsonl"


class State:
    """The finished runs of one sweep (and its baseline), kept on disk as they come."""

    def __init__(
        self, path: Path, root: Path, command: Sequence[str], shard: str | None = None
    ) -> None:
        self.path = path
        self.root = str(root)
        self.command = list(command)
        self.shard = shard
        self.baseline: dict[str, Any] | None = None
        self.runs: dict[str, dict[str, Any]] = {}
        self.resumed = False
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls, path: Path, root: Path, command: Sequence[str], *, shard: str | None, fresh: bool
    ) -> State:
        """The state at `path`: resumed when it is an unfinished sweep of the same command
        (and shard)."""
        state = cls(path, root, command, shard)
        if fresh:
            return state
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return state
        except (OSError, UnicodeDecodeError) as exc:
            raise classify(exc).with_context(path=str(path), what="sweep state") from exc
        header, runs, complete = _parse(path, text)
        same = (header.get("root"), header.get("command"), header.get("shard")) == (
            state.root,
            state.command,
            shard,
        )
        if complete or not same:
            return state
        baseline = header.get("baseline")
        state.baseline = baseline if isinstance(baseline, dict) else None
        state.runs = runs
        state.resumed = True
        return state

    def start(self) -> None:
        """Write the journal anew: the header (with the baseline) and the runs known so far."""
        header = {
            "state": STATE_VERSION,
            "root": self.root,
            "command": self.command,
            "shard": self.shard,
            "baseline": self.baseline,
        }
        lines = [json.dumps(header, sort_keys=True)]
        lines += [json.dumps({"run": r}, sort_keys=True) for r in self.runs.values()]
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(self.path, "".join(line + "\n" for line in lines), fsync=False)
            except OSError as exc:
                raise _unwritable(self.path, exc) from exc

    def add(self, record: dict[str, Any]) -> None:
        """Record a finished run and append it to the journal."""
        with self._lock:
            self.runs[record["id"]] = record
            self._append({"run": record})

    def finish(self) -> None:
        """Mark the sweep complete: the next sweep starts afresh."""
        with self._lock:
            self._append({"complete": True})

    def _append(self, entry: dict[str, Any]) -> None:
        data = (json.dumps(entry, sort_keys=True) + "\n").encode("utf-8")
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_CLOEXEC", 0))
            try:
                written = os.write(fd, data)
                while written < len(data):
                    written += os.write(fd, data[written:])
            finally:
                os.close(fd)
        except OSError as exc:
            raise _unwritable(self.path, exc) from exc


def _parse(path: Path, text: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]], bool]:
    lines = text.split("\n")
    if lines and lines[-1]:
        lines = lines[:-1]  # cut short by a kill while being appended: that run is made again
    entries = []
    for number, line in enumerate(lines, 1):
        if not line:
            continue
        try:
            entries.append(json.loads(line))
        except ValueError as exc:
            raise _corrupt(path, f"not JSON at line {number} ({exc})") from exc
    if not entries or not isinstance(entries[0], dict):
        raise _corrupt(path, "empty or without a header")
    header = entries[0]
    if header.get("state") != STATE_VERSION:
        raise _corrupt(path, f"not an errwise sweep state (version {STATE_VERSION})")
    runs: dict[str, dict[str, Any]] = {}
    complete = False
    for entry in entries[1:]:
        run = entry.get("run") if isinstance(entry, dict) else None
        if isinstance(run, dict) and isinstance(run.get("id"), str):
            runs[run["id"]] = run
        elif isinstance(entry, dict) and entry.get("complete") is True:
            complete = True
        else:
            raise _corrupt(path, "a line is neither a run nor the completion mark")
    return header, runs, complete


def _unwritable(path: Path, exc: OSError) -> Exception:
    err = classify(exc).with_context(path=str(path), what="sweep state")
    return err.add_hint("pass --state FILE somewhere writable")


def _corrupt(path: Path, what: str) -> Exception:
    err = env("ERR_SWEEP_CORRUPT", f"the sweep state {path} is {what}", path=str(path))
    return err.add_hint("remove it, or pass --fresh to start the sweep again")
