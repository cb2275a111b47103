"""The state file that makes an interrupted sweep resumable.

Promise: the state lives outside the project — by default under the user cache directory
(`errwise.audit.cachehome.user_cache_root()/sweep/`), one file per (root, command, shard) — and
is rewritten atomically after every finished run, so a killed sweep loses at most the runs in
flight. It holds the baseline and every finished run; a sweep that finds an unfinished state for
the same root and command reuses both (completed runs are not run again). A finished sweep marks
its state complete, and the next sweep starts afresh. A state file that is not errwise's is
ERR_SWEEP_CORRUPT naming it (`--fresh` ignores it).
"""

from __future__ import annotations

import json
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

STATE_VERSION: Final = 1


def default_state_path(root: Path, command: Sequence[str], shard: str | None) -> Path:
    """`<user cache>/sweep/<digest of root, command and shard>.json`."""
    key = digest("errwise sweep state", str(root), json.dumps(list(command)), shard or "")
    return user_cache_root() / "sweep" / f"{key}.json"


class State:
    """The finished runs of one sweep (and its baseline), kept on disk as they come."""

    def __init__(
        self, path: Path, root: Path, command: Sequence[str], shard: str | None = None
    ) -> None:
        self.path = path
        self.shard = shard
        self.root = str(root)
        self.command = list(command)
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
        except OSError as exc:
            raise classify(exc).with_context(path=str(path), what="sweep state") from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise _corrupt(path, f"not JSON ({exc})") from exc
        if not isinstance(data, dict) or data.get("state") != STATE_VERSION:
            raise _corrupt(path, "not an errwise sweep state (version 1)")
        runs = data.get("runs")
        if not isinstance(runs, dict) or not all(isinstance(r, dict) for r in runs.values()):
            raise _corrupt(path, "its `runs` are malformed")
        if data.get("complete") or data.get("root") != state.root:
            return state
        if data.get("command") != state.command or data.get("shard") != shard:
            return state
        state.baseline = data.get("baseline") if isinstance(data.get("baseline"), dict) else None
        state.runs = runs
        state.resumed = True
        return state

    def add(self, record: dict[str, Any]) -> None:
        """Record a finished run and write the state."""
        with self._lock:
            self.runs[record["id"]] = record
            self._write(complete=False)

    def save(self, *, complete: bool) -> None:
        with self._lock:
            self._write(complete=complete)

    def _write(self, *, complete: bool) -> None:
        data = {
            "state": STATE_VERSION,
            "root": self.root,
            "command": self.command,
            "shard": self.shard,
            "complete": complete,
            "baseline": self.baseline,
            "runs": self.runs,
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, json.dumps(data, sort_keys=True), fsync=False)
        except OSError as exc:
            err = classify(exc).with_context(path=str(self.path), what="sweep state")
            raise err.add_hint("pass --state FILE somewhere writable") from exc


def _corrupt(path: Path, what: str) -> Exception:
    err = env("ERR_SWEEP_CORRUPT", f"the sweep state {path} is {what}", path=str(path))
    return err.add_hint("remove it, or pass --fresh to start the sweep again")
