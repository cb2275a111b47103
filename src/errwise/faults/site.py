"""Where an intercepted call came from: the call site in the code under test.

Promise: `locate(site_filter)` walks the calling frames innermost first, skips errwise.faults'
own frames, and returns the first frame whose absolute file path passes `site_filter` as the
`Site` (it stops there: cheap); `stack(site_filter)` returns every passing frame, outermost ..
innermost (walked only when a fault is injected). `default_filter` passes
every file that is neither in the standard library nor in errwise itself; pseudo-files
("<frozen ...>", "<string>") never pass.

A call made by the interpreter's own machinery acting for itself has no site: when a frame of
`MACHINERY` (a module, or some functions of one) lies between the operation and the first
passing frame, `locate` returns None and `stack` returns () — linecache reading source to format
a traceback is not the project's I/O even though the project's `log.warning(exc_info=True)`
caused it. Calls made through pathlib, shutil, os, io, json, sqlite3, subprocess, socket,
tempfile's public creators etc. on the project's behalf keep their site.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import FrameType, MappingProxyType

__all__ = ["Site", "SiteFilter", "default_filter", "locate", "stack", "MAX_DEPTH", "MACHINERY"]

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


MACHINERY: Mapping[str, tuple[frozenset[str] | None, str]] = MappingProxyType(
    {
        # module (and its submodules) -> (only these functions, or None: all; why)
        "linecache": (None, "reads source files to format tracebacks and warnings"),
        "traceback": (None, "formats tracebacks (through linecache)"),
        "inspect": (None, "reads source files for introspection"),
        "tokenize": (None, "reads source files to detect their encoding"),
        "warnings": (None, "shows warnings on stderr: warning about an error is reporting it"),
        "logging": (None, "a log handler's own I/O and its failures are logging's business"),
        "importlib._bootstrap": (None, "the import system reading modules"),
        "importlib._bootstrap_external": (None, "the import system reading modules"),
        "zipimport": (None, "the import system reading modules"),
        "asyncio.selector_events": (
            frozenset({"_write_to_self", "_read_from_self", "_make_self_pipe", "_close_self_pipe"}),
            "the event loop's self-pipe, used to wake itself",
        ),
        "asyncio.proactor_events": (
            frozenset(
                {"_write_to_self", "_make_self_pipe", "_close_self_pipe", "_loop_self_reading"}
            ),
            "the event loop's self-pipe, used to wake itself",
        ),
        "tempfile": (
            frozenset(
                {"_get_default_tempdir", "_candidate_tempdir_list", "gettempdir", "_gettempdir"}
            ),
            "probing candidate temporary directories (a failure there moves on to the next one)",
        ),
        "_pytest": (None, "the test runner's own work (capture, reports, tmp_path housekeeping)"),
        "pluggy": (None, "the test runner's plugin calls"),
    }
)
"""The interpreter's (and test runner's) own machinery: see the module promise."""

_NOT_MACHINERY: frozenset[str] | None = frozenset()  # marker: the file is not machinery


def _machinery_of(module: object) -> frozenset[str] | None:
    """The machinery functions of `module` (None: all of it), or _NOT_MACHINERY."""
    if not isinstance(module, str):
        return _NOT_MACHINERY
    name = module
    while True:
        entry = MACHINERY.get(name)
        if entry is not None:
            return entry[0]
        if "." not in name:
            return _NOT_MACHINERY
        name = name.rpartition(".")[0]


_machinery: dict[str, frozenset[str] | None] = {}


def _is_machinery(frame: FrameType) -> bool:
    code = frame.f_code
    functions = _machinery.get(code.co_filename, _NOT_MACHINERY)
    if code.co_filename not in _machinery:
        functions = _machinery[code.co_filename] = _machinery_of(frame.f_globals.get("__name__"))
    if functions is None:
        return True
    return functions is not _NOT_MACHINERY and code.co_name in functions


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
        if _is_machinery(current):
            return None
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
        if not found and _is_machinery(current):
            return ()
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
