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

Trust: the directory is not trusted. Entries are pickles, and only a payload whose keyed MAC
(BLAKE2b keyed with the secret key of the user's cache home, `errwise.audit.cachehome`, over the
entry's kind, key and payload) verifies is unpickled: a file nobody but this user's errwise
wrote — committed to a repository, copied from another machine, edited — is a miss, whatever
its header says. The key never lives in the cache directory. A key that cannot be read or made
turns the cache off. Entries are read with `errwise.ops.safeio.read_regular` (a symlink, FIFO,
device or a file over `ENTRY_LIMIT` bytes is a miss, never a hang; a value that large is not
stored) and written with
`atomic_write(follow_symlinks=False)`, so a planted symlink is replaced, never written through;
`CACHEDIR.TAG` and `.gitignore` likewise. The directory and its own sub-directories (`v1`,
`v1/<kind>`, the scan fan-out) must be real directories owned by the user: a symlink or a foreign
directory there turns the cache off before anything in it is read, written or pruned. They are
checked once per `Cache`: this guards against what was planted before the run; a directory
only its owner can change cannot be swapped during it by anyone else.

Layout: `DIR/CACHEDIR.TAG` and `DIR/.gitignore` (so backups and git skip it), `DIR/v1/scan/`
(one entry per file version, two-character fan-out; a hit refreshes the entry's modification
time, and `prune_scans` keeps the most recently used), `DIR/v1/run/` (one entry per set of
inputs, the newest `RUNS_KEPT` kept), `DIR/v1/ledger/` (one per set of files and settings: the
last run's results and what each depended on, `errwise.audit.ledger`; the newest `RUNS_KEPT`
kept) and `DIR/v1/files/` (the file index, `errwise.audit.fileindex`). By default `DIR` is the
project's directory in the user's cache home (`errwise.audit.cachehome.project_directory`).
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import os
import pickle
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from errwise.error import Error, usage
from errwise.ops.atomic import atomic_write
from errwise.ops.safeio import read_regular

__all__ = [
    "Cache",
    "CacheStats",
    "ENTRY_LIMIT",
    "RUNS_KEPT",
    "SCANS_KEPT_MIN",
    "SCANS_KEPT_PER_FILE",
    "code_stamp",
    "digest",
]

ENTRY_LIMIT = 256 << 20
"""The largest entry (256 MiB): a bigger file at an entry's path is a miss, and a bigger value
is not stored (it would be a miss every time)."""
RUNS_KEPT = 16
"""Whole-run entries kept (one per recent set of inputs: branches, configurations)."""
SCANS_KEPT_PER_FILE = 4
SCANS_KEPT_MIN = 4096
"""`prune_scans` keeps the `max(SCANS_KEPT_MIN, SCANS_KEPT_PER_FILE * files)` most recently used
scan entries: a few versions of every file (branches, edits undone) and room for smaller
projects sharing the directory."""
_LAYOUT = "v1"
_MAGIC = b"errwise-cache 2\n"
_KEY_LEN = 40  # hex digits of `digest`
_MAC_LEN = 64  # hex digits of a 32-byte MAC
_HEADER_END = len(_MAGIC) + _KEY_LEN + 1 + _MAC_LEN + 1
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
    """One cache directory (see the module promise). `key` is the MAC key; by default the
    user's (`errwise.audit.cachehome.load_key`), found on first use, so a worker process
    makes its own `Cache(directory)`."""

    def __init__(self, directory: str | os.PathLike[str], *, key: bytes | None = None) -> None:
        if key is not None and (not isinstance(key, bytes) or not 16 <= len(key) <= 64):
            raise usage("ERR_USAGE", "the cache key must be 16 to 64 bytes")
        self.directory = Path(directory)
        self.stats = CacheStats()
        self.problem: str | None = None
        """Why the cache was turned off in this run (None: it works)."""
        self._key = key
        self._ready = False
        self._real: set[Path] = set()
        """The directories checked to be real directories of this user's."""

    # -- reading -------------------------------------------------------------------------------

    def get(self, kind: str, key: str) -> object | None:
        """The value stored under `key`, or None for a miss (`put` never stores None); a bad
        entry is a miss, never an error."""
        if self.problem is not None:
            return None
        path = self._path(kind, key)
        secret = self._secret()
        if secret is None or not self._checked(path.parent, create=False):
            return None
        try:
            blob = read_regular(path, limit=ENTRY_LIMIT)
        except Error as err:
            reason = err.context.get("reason")
            if reason == "missing":
                return None
            if reason == "unreadable" and err.context.get("errno") not in _MISS_ERRNOS:
                self._disable(err.message)
                return None
            self.stats.corrupt += 1  # a symlink, FIFO, device or huge file: not ours
            return None
        try:
            value = _decode(blob, kind, key, secret)
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
        if self.problem is not None:
            return
        secret = self._secret()
        if secret is None or not self._prepare():
            return
        if len(payload) + _HEADER_END > ENTRY_LIMIT:
            return  # documented: a miss next time, as it would be if stored
        mac = _mac(secret, kind, key, payload).encode()
        blob = b"".join((_MAGIC, key.encode(), b"\n", mac, b"\n", payload))
        path = self._path(kind, key)
        if not self._checked(path.parent, create=True):
            return
        try:
            # No fsync: an entry lost in a power cut is a miss, and a torn one fails its MAC.
            atomic_write(path, blob, fsync=False, follow_symlinks=False)
        except Error as err:
            self._disable(str(err))
            return
        if kind in ("run", "ledger"):
            self._prune_runs(path.parent)

    def _secret(self) -> bytes | None:
        """The MAC key (None, and the cache off, when it cannot be had)."""
        if self._key is None:
            from errwise.audit.cachehome import load_key

            try:
                self._key = load_key()
            except Error as err:
                self._disable(err.message)
                return None
        return self._key

    def _prepare(self) -> bool:
        if self._ready:
            return True
        if not self._checked(self.directory, create=True):
            return False
        try:
            for name, text in (("CACHEDIR.TAG", _TAG), (".gitignore", "# made by errwise\n*\n")):
                marker = self.directory / name
                if not _is_regular(marker):  # missing, or planted (a symlink): written afresh
                    atomic_write(marker, text, fsync=False, follow_symlinks=False)
        except Error as err:
            self._disable(str(err))
            return False
        self._ready = True
        return True

    def _checked(self, directory: Path, *, create: bool) -> bool:
        """Is `directory` (the cache directory or one of its own below it) and every cache
        directory above it a real directory of this user's? `create` makes the missing ones;
        without it a missing one is False (nothing stored there yet). A symlink or a foreign
        directory turns the cache off."""
        if directory in self._real:
            return True
        chain = [directory]
        while chain[-1] != self.directory and chain[-1].parent != chain[-1]:
            chain.append(chain[-1].parent)
        for current in reversed(chain):
            if current in self._real:
                continue
            if create:
                try:
                    if current == self.directory:
                        current.mkdir(parents=True, exist_ok=True)
                    else:
                        current.mkdir(exist_ok=True)
                # errwise: ignore[conflated-errno] -- every failure to make a cache directory
                # is handled alike: the cache is turned off and the run goes on without it
                except OSError as exc:
                    self._disable(f"cannot create {current}: {exc.strerror or exc}")
                    return False
            try:
                info = os.lstat(current)
            except FileNotFoundError:
                return False
            except OSError as exc:
                self._disable(f"cannot use {current}: {exc.strerror or exc}")
                return False
            why = _not_own_directory(info)
            if why is not None:
                self._disable(f"{current} {why}; errwise will not use it")
                return False
            self._real.add(current)
        return True

    def _prune_runs(self, directory: Path) -> None:
        """Keep the newest `RUNS_KEPT` entries of a run or ledger directory (another run may be
        pruning too; `directory` was checked to be one of the cache's own)."""
        try:
            entries = [
                (e.stat(follow_symlinks=False).st_mtime_ns, e.path) for e in os.scandir(directory)
            ]
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
        first, or uses meanwhile, is only a later miss. Only the cache's own directories are
        looked into (a symlinked one turns the cache off)."""
        if self.problem is not None:
            return 0
        keep = max(SCANS_KEPT_MIN, SCANS_KEPT_PER_FILE * files)
        base = self.directory / _LAYOUT / "scan"
        if not self._checked(base, create=False):
            return 0  # nothing stored yet, or not the cache's own (then turned off)
        entries: list[tuple[int, str]] = []
        try:
            with os.scandir(base) as fan:
                for sub in fan:
                    if sub.is_dir(follow_symlinks=False):
                        with os.scandir(sub.path) as found:
                            entries.extend(
                                (f.stat(follow_symlinks=False).st_mtime_ns, f.path) for f in found
                            )
        except FileNotFoundError:
            return 0  # another run cleared the directory
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


_MISS_ERRNOS = (errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG, errno.ENXIO)
"""Read errors that only say the entry is not one (a socket gives ENXIO)."""


def _not_own_directory(info: os.stat_result) -> str | None:
    """Why a cache directory's lstat is not that of a real directory of this user's (or None)."""
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link"
    if not stat.S_ISDIR(info.st_mode):
        return "is not a directory"
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        return f"belongs to user id {info.st_uid}, not to you"
    return None


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False  # missing or unreadable: written afresh (which reports a real failure)


def _touch(path: Path) -> None:
    """Mark a scan entry as used now, for `prune_scans` (never through a symlink)."""
    try:
        os.utime(path, follow_symlinks=False)
    # errwise: ignore[swallowed-exception] -- housekeeping only: an entry whose time cannot be
    # refreshed (a read-only cache) is still valid; at worst it is pruned a little early
    except (OSError, NotImplementedError):
        return


class _BadEntry(Exception):
    """An entry that is not what `put` wrote for its key."""


def _mac(secret: bytes, kind: str, key: str, payload: bytes | memoryview) -> str:
    """The entry's MAC: BLAKE2b keyed with `secret` over the kind, key and payload (each
    length-prefixed)."""
    h = hashlib.blake2b(key=secret, digest_size=_MAC_LEN // 2, person=b"errwise-cache")
    for part in (kind.encode(), key.encode(), payload):
        h.update(len(part).to_bytes(8, "little"))  # a memoryview of bytes: len is in bytes
        h.update(part)
    return h.hexdigest()


def _decode(blob: bytes, kind: str, key: str, secret: bytes) -> object:
    if not blob.startswith(_MAGIC) or len(blob) < _HEADER_END:
        raise _BadEntry("not an errwise cache entry, or truncated")
    written_for = blob[len(_MAGIC) : len(_MAGIC) + _KEY_LEN]
    mac = blob[len(_MAGIC) + _KEY_LEN + 1 : _HEADER_END - 1]
    payload = memoryview(blob)[_HEADER_END:]
    if written_for != key.encode():
        raise _BadEntry("written for another key")
    if not hmac.compare_digest(mac, _mac(secret, kind, key, payload).encode()):
        raise _BadEntry("not written by this user's errwise, or damaged")
    try:
        return pickle.loads(payload)
    # errwise: ignore[broad-catch] -- a payload that matches its MAC but will not load
    # (written by another errwise version under the same key) is a bad entry: a miss
    except Exception as exc:
        raise _BadEntry(f"payload does not load: {exc}") from exc
