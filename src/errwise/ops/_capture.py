"""A bounded byte buffer for captured output: keeps the head and the tail, counts the middle cut.

Promise: memory stays within `limit` bytes (plus one read chunk while adding); `text()` is the
kept bytes decoded as UTF-8 (undecodable bytes replaced) with, when anything was cut, one line
`[errwise: N bytes cut from the middle]` where the cut happened; `cut` is N.
"""

from __future__ import annotations

__all__ = ["BoundedBuffer"]


class BoundedBuffer:
    """Collect bytes up to `limit` (None: unbounded), keeping the first and the last halves."""

    __slots__ = ("_head", "_head_limit", "_tail", "_tail_limit", "cut")

    def __init__(self, limit: int | None) -> None:
        self._head = bytearray()
        self._tail = bytearray()
        self._head_limit = None if limit is None else limit // 2
        self._tail_limit = None if limit is None else limit - limit // 2
        self.cut = 0
        """Bytes dropped so far."""

    def add(self, chunk: bytes) -> None:
        """Append `chunk`, dropping from the middle what exceeds the limit."""
        if self._head_limit is None:
            self._head += chunk
            return
        room = self._head_limit - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        assert self._tail_limit is not None
        self._tail += chunk
        excess = len(self._tail) - self._tail_limit
        if excess > 0:
            del self._tail[:excess]
            self.cut += excess

    def text(self) -> str:
        """The kept output, decoded, with a marker line where bytes were cut."""
        head = self._head.decode("utf-8", "replace")
        tail = self._tail.decode("utf-8", "replace")
        if not self.cut:
            return head + tail
        sep = "" if not head or head.endswith("\n") else "\n"
        return f"{head}{sep}[errwise: {self.cut} bytes cut from the middle]\n{tail}"
