"""Which of many line spans (functions, try bodies) holds a line, answered in constant time.

Promise: `Innermost(spans)` takes `(first, last, value)` spans in any order and answers
`at(line)` with the value of the span holding `line` (first <= line <= last) that starts last;
of spans starting on the same line, the one given last. None when no span holds the line. Built
in one sweep, O(spans log spans + lines covered): no query scans the spans.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

__all__ = ["Innermost"]

V = TypeVar("V")


class Innermost(Generic[V]):
    """The innermost span at each line (see the module promise)."""

    __slots__ = ("_base", "_table")

    def __init__(self, spans: Iterable[tuple[int, int, V]]) -> None:
        ordered = sorted(
            ((first, n, last, value) for n, (first, last, value) in enumerate(spans)),
            key=lambda span: (span[0], span[1]),
        )
        self._base = ordered[0][0] if ordered else 0
        end = max((span[2] for span in ordered), default=self._base - 1)
        table: list[V | None] = []
        open_spans: list[tuple[int, V]] = []  # (last, value), by first ascending
        following = 0
        for line in range(self._base, end + 1):
            while following < len(ordered) and ordered[following][0] <= line:
                _, _, last, value = ordered[following]
                open_spans.append((last, value))
                following += 1
            # A span popped here ends before `line`, so it holds no later line either.
            while open_spans and open_spans[-1][0] < line:
                open_spans.pop()
            table.append(open_spans[-1][1] if open_spans else None)
        self._table = table

    def at(self, line: int) -> V | None:
        index = line - self._base
        if 0 <= index < len(self._table):
            return self._table[index]
        return None
