"""Where an intercepted call came from: the call site in the code under test.

Promise: `locate(site_filter)` walks the calling frames innermost first, skips errwise.faults'
own frames, and returns the first frame whose absolute file path passes `site_filter` as the
`Site` (it stops there: cheap); `stack(site_filter)` returns every passing frame, outermost ..
innermost (walked only when a fault is injected). `default_filter` passes
every file that is neither in the standard library nor in errwise itself; pseudo-files
("<frozen ...>", "<string>") never pass.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

__all__ = ["Site", "SiteFilter", "default_filter", "locate", "stack", "MAX_DEPTH"]

SiteFilter = Callable[[str], bool]

MAX_DEPTH = 200
"""Frames examined per call at most: a deeper stack is cut, its outermost frames dropped."""


@dataclass(frozen=True, slots=True)
class Site:
    """One frame of the code under test: absolute file path, line, function, module name."""

    path: str
    line: int
    function: str
    module: str | None = None


def _dir(path: str) -> str:
    return os.path.join(os.path.realpath(path), "")


_FAULTS_DIR = _dir(os.path.dirname(__file__))
_ERRWISE_DIR = _dir(os.path.dirname(os.path.dirname(__file__)))
_PATHS = sysconfig.get_paths()
_STDLIB_DIRS = tuple({_dir(_PATHS[key]) for key in ("stdlib", "platstdlib")})
_SITE_DIRS = tuple({_dir(_PATHS[key]) for key in ("purelib", "platlib")})


def default_filter(path: str) -> bool:
    """True for code under test: not the standard library (site-packages is not part of it),
    not errwise itself, not a pseudo-file."""
    if not path.startswith(os.sep):
        return False
    if path.startswith(_ERRWISE_DIR):
        return False
    if path.startswith(_STDLIB_DIRS):
        return path.startswith(_SITE_DIRS)
    return True


_abspaths: dict[str, str] = {}


def _abspath(filename: str) -> str:
    found = _abspaths.get(filename)
    if found is None:
        found = filename if filename.startswith("<") else os.path.realpath(filename)
        _abspaths[filename] = found
    return found


def _passes(filename: str, site_filter: SiteFilter, cache: dict[str, bool]) -> bool:
    verdict = cache.get(filename)
    if verdict is None:
        path = _abspath(filename)
        verdict = cache[filename] = not path.startswith(_FAULTS_DIR) and site_filter(path)
    return verdict


def locate(
    site_filter: SiteFilter,
    frame: FrameType | None = None,
    verdicts: dict[str, bool] | None = None,
) -> Site | None:
    """The call site: the innermost frame passing `site_filter`, or None.

    `verdicts` caches `site_filter` per file name (a filter is a function of the path).
    """
    current: FrameType | None = frame if frame is not None else sys._getframe(1)
    cache = verdicts if verdicts is not None else {}
    depth = 0
    while current is not None and depth < MAX_DEPTH:
        depth += 1
        if _passes(current.f_code.co_filename, site_filter, cache):
            return _site(current, current.f_lineno)
        current = current.f_back
    return None


def stack(
    site_filter: SiteFilter,
    frame: FrameType | None = None,
    verdicts: dict[str, bool] | None = None,
) -> tuple[Site, ...]:
    """Every frame passing `site_filter`, outermost first (the call site last)."""
    current: FrameType | None = frame if frame is not None else sys._getframe(1)
    cache = verdicts if verdicts is not None else {}
    found: list[Site] = []
    depth = 0
    while current is not None and depth < MAX_DEPTH:
        depth += 1
        if _passes(current.f_code.co_filename, site_filter, cache):
            found.append(_site(current, current.f_lineno))
        current = current.f_back
    found.reverse()
    return tuple(found)


def _site(frame: FrameType, line: int) -> Site:
    name = frame.f_globals.get("__name__")
    return Site(
        _abspath(frame.f_code.co_filename),
        line,
        frame.f_code.co_name,
        name if isinstance(name, str) else None,
    )
