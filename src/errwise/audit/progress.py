"""A progress bar on stderr for long audits.

Promise: `ProgressBar(stream)` is a `(done, total)` callback that draws nothing until the run
is big (`total >= min_files`) or slow (`min_seconds` have passed), redraws at most ten times a
second on one line (carriage return, no scrolling), and `finish()` erases it, so the lines
written after it start clean. It never raises for a stream that fails (a closed or broken
terminal): the bar just stops. Whether to show one at all is `progress_wanted(...)`: only on a
terminal, never with `--quiet`, never while JSON or SARIF goes to stdout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["ProgressBar", "progress_wanted", "MIN_FILES", "MIN_SECONDS"]

MIN_FILES = 200
MIN_SECONDS = 2.0
_WIDTH = 30
_REDRAW = 0.1
_MACHINE_FORMATS = frozenset({"json", "sarif"})


def progress_wanted(stream: TextIO, *, quiet: bool, fmt: str, to_stdout: bool) -> bool:
    if quiet or (to_stdout and fmt in _MACHINE_FORMATS):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except ValueError:  # closed
        return False


class ProgressBar:
    def __init__(
        self,
        stream: TextIO,
        *,
        min_files: int = MIN_FILES,
        min_seconds: float = MIN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._min_files = min_files
        self._min_seconds = min_seconds
        self._clock = clock
        self._start = clock()
        self._last = -1.0
        self.shown = False
        self._broken = False

    def __call__(self, done: int, total: int) -> None:
        if self._broken or total <= 0:
            return
        now = self._clock()
        if not self.shown and total < self._min_files and now - self._start < self._min_seconds:
            return
        if self.shown and now - self._last < _REDRAW and done < total:
            return
        self._last = now
        filled = _WIDTH * done // total
        bar = "#" * filled + "-" * (_WIDTH - filled)
        self._write(f"\rerrwise: [{bar}] {done}/{total} files")
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            self._write("\r\x1b[K")
            self.shown = False

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):  # the terminal went away: stop drawing, keep auditing
            self._broken = True
