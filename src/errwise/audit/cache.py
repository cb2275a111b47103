"""The audit cache: what one file's scan and one whole run produced, content-addressed on disk.

Promise: an entry's key hashes everything its value depends on — the file's bytes, its reported
path and module name, the rules selected for it, the analysis settings, errwise's own code (its
version and a stamp of every source file of the package) and the Python version — so an entry
is never stale: a changed input makes a new key, and the old entry is simply not looked up. An
entry is written atomically (a temporary file renamed into place) and checked when read (the key
it was written for and a digest of its payload): a missing, truncated, corrupt or foreign entry
is a miss, counted in `CacheStats.corrupt` and rewritten, never an error. Several runs may share
one directory: every entry is either complete or absent. A directory that cannot be created or
written turns the cache off for the rest of the run, and `Cache.problem` says why once (the
audit goes on without it).

Layout: `DIR/CACHEDIR.TAG` and `DIR/.gitignore` (so backups and git skip it), `DIR/v1/scan/`
(one entry per file version, two-character fan-out; a hit refreshes the entry's modification
time, and `prune_scans` keeps the most recently used), `DIR/v1/run/` (one entry per set of
inputs, the newest `RUNS_KEPT` kept), `DIR/v1/ledger/` (one per set of files and settings: the
last run's results and what each depended on, `errwise.audit.ledger`; the newest `RUNS_KEPT`
kept) and `DIR/v1/files/` (the file index,
`errwise.audit.fileindex`). Entries are pickles: the directory is trusted like
`__pycache__` — whoever can write it can run code as the user who audits.
"""

from __future__ import annotations

import errno
import hashlib
import os
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path

from errwise.error import Error, usage
from errwise.ops.atomic import atomic_write

__all__ = [
    "Cache",
    "CacheStats",
    "DEFAULT_DIR",
    "RUNS_KEPT",
    "SCANS_KEPT_MIN",
    "SCANS_KEPT_PER_FILE",
    "code_stamp",
    "digest",
]

DEFAULT_DIR = ".errwise_cache"
RUNS_KEPT = 16
"""Whole-run entries kept (one per recent set of inputs: branches, configurations)."""
SCANS_KEPT_PER_FILE = 4
SCANS_KEPT_MIN = 4096
"""`prune_scans` keeps the `max(SCANS_KEPT_MIN, SCANS_KEPT_PER_FILE * files)` most recently used
scan entries: a few versions of every file (branches, edits undone) and room for smaller
projects sharing the directory."""
_LAYOUT = "v1"
_MAGIC = b"errwise-cache 1\n"
_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This directory is a cache made by errwise (errwise audit); it can be deleted.\n"
)


def digest(*parts: bytes | str) -> str:
    """A hex digest of the parts (each length-prefixed, so ("ab", "c") != ("a", "bc"))."""
    h = hashlib.blake2b(digest_size=20)
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


_stamp: str | None = None


def code_stamp() -> str:
    """What identifies the analysing code: errwise's version, the path, size and mtime of
    every file of the package, and the Python implementation and version (computed once)."""
    global _stamp  # noqa: PLW0603 - computed once per process
    if _stamp is None:
        from errwise import __version__

        package = Path(__file__).resolve().parent.parent
        parts = [__version__, sys.implementation.cache_tag or "", sys.version]
        for directory, dirs, files in os.walk(package):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith((".py", ".toml")):
                    info = os.stat(os.path.join(directory, name))
                    rel = os.path.relpath(os.path.join(directory, name), package)
                    parts.append(f"{rel}\0{info.st_size}\0{info.st_mtime_ns}")
        _stamp = digest(*parts)
    return _stamp


@dataclass(slots=True)
class CacheStats:
    hits: int = 0
    """Files whose scan came from the cache."""
    misses: int = 0
    """Files scanned in this run."""
    corrupt: int = 0
    """Entries found unreadable or not matching their key (treated as misses)."""
    run_hit: bool = False
    """The whole run's results came from the cache (nothing changed)."""
    reused: int = 0
    """Files whose finished results came from the previous run over the same files, because
    no change reached what they depend on (`errwise.audit.ledger`)."""


class Cache:
    """One cache directory (see the module promise)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.stats = CacheStats()
        self.problem: str | None = None
        """Why the cache was turned off in this run (None: it works)."""
        self._ready = False

    # -- reading -------------------------------------------------------------------------------

    def get(self, kind: str, key: str) -> object | None:
        """The value stored under `key`, or None for a miss (`put` never stores None); a bad
        entry is a miss, never an error."""
        if self.problem is not None:
            return None
        path = self._path(kind, key)
        try:
            with open(path, "rb") as handle:
                blob = handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno in (errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG):
                return None
            self._disable(f"cannot read {path}: {exc.strerror or exc}")
            return None
        try:
            value = _decode(blob, key)
        except _BadEntry:
            self.stats.corrupt += 1
            return None
        if kind == "scan":
            _touch(path)
        return value

    # -- writing -------------------------------------------------------------------------------

    def put(self, kind: str, key: str, value: object) -> None:
        """Store `value` under `key` atomically; a failure turns the cache off (`problem`)."""
        if value is None:
            raise usage("ERR_USAGE", "None cannot be cached: get() returns it for a miss")
        if self.problem is not None:
            return
        try:
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            self._disable(f"a result cannot be stored ({type(exc).__name__}: {exc})")
            return
        self.put_payload(kind, key, payload)

    def put_payload(self, kind: str, key: str, payload: bytes) -> None:
        """`put` for a value already pickled (with `pickle.HIGHEST_PROTOCOL`)."""
        if self.problem is not None or not self._prepare():
            return
        blob = b"".join((_MAGIC, key.encode(), b"\n", digest(payload).encode(), b"\n", payload))
        path = self._path(kind, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # No fsync: an entry lost in a power cut is a miss, and a torn one fails its digest.
            atomic_write(path, blob, fsync=False)
        except OSError as exc:
            self._disable(f"cannot create {path.parent}: {exc.strerror or exc}")
            return
        except Error as err:
            self._disable(str(err))
            return
        if kind in ("run", "ledger"):
            self._prune_runs(path.parent)

    def _prepare(self) -> bool:
        if self._ready:
            return True
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tag = self.directory / "CACHEDIR.TAG"
            if not tag.exists():
                atomic_write(tag, _TAG, fsync=False)
                atomic_write(self.directory / ".gitignore", "# made by errwise\n*\n", fsync=False)
        except OSError as exc:
            self._disable(f"cannot create {self.directory}: {exc.strerror or exc}")
            return False
        except Error as err:
            self._disable(str(err))
            return False
        self._ready = True
        return True

    def _prune_runs(self, directory: Path) -> None:
        """Keep the newest `RUNS_KEPT` entries of a run or ledger directory (another run may be
        pruning too)."""
        try:
            entries = [(e.stat().st_mtime_ns, e.path) for e in os.scandir(directory)]
        except OSError:
            return  # the entries stay; the next run prunes them
        entries.sort(reverse=True)
        for _, path in entries[RUNS_KEPT:]:
            try:
                os.unlink(path)
            except FileNotFoundError:
                continue  # another run pruned it first
            # errwise: ignore[swallowed-exception] -- housekeeping only: the entry stays valid
            # and a later run prunes it; the cache's answers do not depend on it
            except OSError:
                return

    def prune_scans(self, files: int) -> int:
        """Keep the most recently used scan entries (written or hit), as many as
        `SCANS_KEPT_MIN` or `SCANS_KEPT_PER_FILE` for each of the run's `files`, whichever is
        more; how many were deleted. Safe beside other runs: an entry another run deletes
        first, or uses meanwhile, is only a later miss."""
        if self.problem is not None:
            return 0
        keep = max(SCANS_KEPT_MIN, SCANS_KEPT_PER_FILE * files)
        base = self.directory / _LAYOUT / "scan"
        entries: list[tuple[int, str]] = []
        try:
            with os.scandir(base) as fan:
                for sub in fan:
                    if sub.is_dir(follow_symlinks=False):
                        with os.scandir(sub.path) as found:
                            entries.extend((f.stat().st_mtime_ns, f.path) for f in found)
        except FileNotFoundError:
            return 0  # nothing stored yet, or another run cleared the directory
        except OSError as exc:
            self._disable(f"cannot list {base}: {exc.strerror or exc}")
            return 0
        if len(entries) <= keep:
            return 0
        entries.sort(reverse=True)
        removed = 0
        for _, path in entries[keep:]:
            try:
                os.unlink(path)
            except FileNotFoundError:
                continue  # another run pruned it first
            except OSError as exc:
                self._disable(f"cannot prune {path}: {exc.strerror or exc}")
                break
            removed += 1
        return removed

    def turn_off(self, problem: str) -> None:
        """Stop using the cache for this run; the first problem is the one reported."""
        if self.problem is None:
            self.problem = problem

    def _disable(self, why: str) -> None:
        self.turn_off(f"cache turned off for this run: {why}")

    def _path(self, kind: str, key: str) -> Path:
        base = self.directory / _LAYOUT / kind
        return base / key[:2] / key if kind == "scan" else base / key


def _touch(path: Path) -> None:
    """Mark a scan entry as used now, for `prune_scans`."""
    try:
        os.utime(path)
    # errwise: ignore[swallowed-exception] -- housekeeping only: an entry whose time cannot be
    # refreshed (a read-only cache) is still valid; at worst it is pruned a little early
    except OSError:
        return


class _BadEntry(Exception):
    """An entry that is not what `put` wrote for its key."""


def _decode(blob: bytes, key: str) -> object:
    header_end = len(_MAGIC) + 2 * 40 + 2
    if not blob.startswith(_MAGIC) or len(blob) < header_end:
        raise _BadEntry("not an errwise cache entry, or truncated")
    head = blob[len(_MAGIC) : header_end].decode("ascii", "replace").split("\n")
    payload = blob[header_end:]
    if head[0] != key:
        raise _BadEntry("written for another key")
    if head[1] != digest(payload):
        raise _BadEntry("payload does not match its digest")
    try:
        return pickle.loads(payload)
    # errwise: ignore[broad-catch] -- a payload that matches its digest but will not load
    # (written by other code under the same key) is a bad entry: a miss, then rewritten
    except Exception as exc:
        raise _BadEntry(f"payload does not load: {exc}") from exc
