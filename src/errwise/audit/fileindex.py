"""Which files are unchanged since an earlier run, told by `os.stat` alone.

Promise: `FileIndex.digest_of(path, info)` gives the content digest recorded for `path` only
when its device, inode, size, modification time and status-change time all match what was
recorded, and the recording was safe: a file is recorded only when its modification time was
at least `SETTLE_NS` older than the moment its stat was taken, so a write later in the same
clock tick cannot leave the stat unchanged beside new content (the "racy" case git guards
against). Any write changes the status-change time, which no user can set, so content edited
behind a restored modification time is read again. Anything doubtful is None: the caller reads
and hashes the file, which is always right; the index only saves the reading.

The index is one cache entry (`errwise.audit.cache`), loaded once and saved once per run when
it changed. Its key is a constant, which anyone can name: like every entry it is believed only
when it carries the MAC made with the user's key, so a planted index is a miss. Runs that
share a cache directory may overwrite each other's index: the loser's files are simply read
again next time. It keeps at most `MAX_ENTRIES` files, those of the latest run first.
"""

from __future__ import annotations

import os

from errwise.audit.cache import Cache, digest

__all__ = ["FileIndex", "MAX_ENTRIES", "SETTLE_NS"]

SETTLE_NS = 2_000_000_000
"""How much older than its stat a file's modification time must be for the file to be recorded
(2 s: coarser than any file system's timestamp granularity, FAT's included)."""
MAX_ENTRIES = 200_000
_KEY = digest("errwise file index", "1")

_Stamp = tuple[int, int, int, int, int]
"""(st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns)."""


def _stamp(info: os.stat_result) -> _Stamp:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


class FileIndex:
    """Stat stamps and content digests of files, by absolute path (see the module promise)."""

    def __init__(self, entries: dict[str, tuple[_Stamp, str]] | None = None) -> None:
        self._old = entries or {}
        self._new: dict[str, tuple[_Stamp, str]] = {}
        self._changed = False

    @classmethod
    def load(cls, cache: Cache) -> FileIndex:
        """The index stored in `cache` (empty when there is none or it is not valid)."""
        stored = cache.get("files", _KEY)
        if not isinstance(stored, dict):
            return cls()
        return cls(stored)

    def digest_of(self, path: str, info: os.stat_result) -> str | None:
        """The recorded content digest of `path` if its stat shows it unchanged, else None."""
        entry = self._old.get(path)
        if entry is None or entry[0] != _stamp(info):
            return None
        if path not in self._new:
            self._new[path] = entry
        return entry[1]

    def record(self, path: str, info: os.stat_result, content: str, taken_ns: int) -> None:
        """Remember `content` (the digest of the bytes read after `info` was taken at
        `taken_ns`, on `time.time_ns()`'s clock) unless the file changed too recently to be
        told apart from a later write by its stat."""
        if info.st_mtime_ns > taken_ns - SETTLE_NS:
            return
        entry = (_stamp(info), content)
        self._new[path] = entry
        if self._old.get(path) != entry:
            self._changed = True

    def forget(self, path: str) -> None:
        """Drop what is known of `path` (its content was not what the index said)."""
        self._old.pop(path, None)
        if self._new.pop(path, None) is not None:
            self._changed = True

    def save(self, cache: Cache) -> None:
        """Store the index when this run changed it: this run's files, then earlier ones up to
        `MAX_ENTRIES`."""
        if not self._changed:
            return
        merged = dict(self._new)
        for path, entry in self._old.items():
            if len(merged) >= MAX_ENTRIES:
                break
            merged.setdefault(path, entry)
        cache.put("files", _KEY, merged)
        self._changed = False
