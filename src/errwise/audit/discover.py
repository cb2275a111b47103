"""Find the Python files an audit covers.

Promise: `discover(paths, root=..., exclude=...)` returns every `.py` file under the given paths
once, sorted by reported path, plus a `Diagnostic` for each path it could not search (missing,
unreadable, a symlink loop) — it never raises for a bad path. An explicitly named file is always
audited, whatever its name, exclusions or `.gitignore` say. Inside a git work tree a directory
is listed with `git ls-files -co --exclude-standard` (so `.gitignore` is honoured; bounded by a
timeout; hardened by `errwise.audit.gitsafe`, so the repository's own configuration runs
nothing); elsewhere the walk skips `.git`, virtualenvs (any directory holding `pyvenv.cfg`),
`build`, `dist`, `node_modules`, `__pycache__`, `.tox`, `.nox` and tool caches. With
`skip_support`, the files below a named directory that support a project rather than ship in it
(`SUPPORT_DIRS`: tests, demos, examples, benchmarks, docs, scripts, tools, vendored copies;
`SUPPORT_FILES`: `conftest.py`, `setup.py`, `noxfile.py`; `test_*.py`, `*_test.py`) are skipped
too; a file or directory named on the command line is searched whatever its name. Directory
symlinks are followed once; one that leads back to a directory being walked is reported, not
followed forever. Reported paths are relative to `root` and `/`-separated (absolute when a file
lies outside `root`).
"""

from __future__ import annotations

import errno
import fnmatch
import logging
import os
import stat
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from errwise.audit.finding import Diagnostic
from errwise.audit.gitsafe import git_argv, git_env
from errwise.classify import errno_code
from errwise.error import usage
from errwise.result import Err, Ok, Result

__all__ = [
    "SourceFile",
    "Discovery",
    "ExcludePattern",
    "discover",
    "display_path",
    "module_name_for",
    "SKIP_DIRS",
    "SUPPORT_DIRS",
    "SUPPORT_FILES",
    "GIT_TIMEOUT",
]

_log = logging.getLogger("errwise.audit")

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        "build",
        "dist",
        "node_modules",
        ".tox",
        ".nox",
        ".eggs",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        ".errwise_cache",
        ".venv",
        "venv",
    }
)
"""Directory names the fallback walk never enters (git work trees use `.gitignore` instead)."""

SUPPORT_DIRS = frozenset(
    {
        "test",
        "tests",
        "testing",
        "demo",
        "demos",
        "example",
        "examples",
        "bench",
        "benchmark",
        "benchmarks",
        "doc",
        "docs",
        "scripts",
        "tools",
        "_vendor",
        "vendor",
        "third_party",
    }
)
"""Directory names of code that supports a project rather than ships in it (tests, demos,
examples, benchmarks, docs, maintainers' scripts and tools) or that it ships but did not write
(vendored copies, whose defects are fixed upstream): skipped below a named directory by the
default profile (`discover(..., skip_support=True)`)."""

SUPPORT_FILES = frozenset({"conftest.py", "setup.py", "noxfile.py"})
"""File names of such code (besides `test_*.py` and `*_test.py`): test fixtures, packaging and
task scripts."""

GIT_TIMEOUT = 30.0
"""Seconds `git ls-files` may take before discovery gives up on git and walks the tree."""


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file to audit."""

    path: str
    """Absolute, normalised file-system path."""
    display: str
    """The reported path: relative to the run's root, `/`-separated."""
    module: str | None = None
    """Dotted module name when the file sits in a package (for relative imports)."""


@dataclass(frozen=True, slots=True)
class ExcludePattern:
    """A glob for paths to skip. An absolute glob matches absolute paths; a relative one matches
    paths relative to `base` (the directory it was written for), or — for a file outside
    `base` — relative to the directory named on the command line; a glob without `/` also
    matches any single file or directory name (`test`, `*_pb2.py`)."""

    pattern: str
    base: str

    def matches(self, path: str, top: str | None = None) -> bool:
        """Does the glob match `path` (absolute) or one of its parent directories?"""
        if os.path.isabs(self.pattern):
            rel: str | None = Path(path).as_posix()
            pattern = self.pattern.rstrip("/")
        else:
            rel = _relative(path, self.base)
            if rel is None and top is not None:
                rel = _relative(path, top)
            pattern = self.pattern.strip("/")
        if not rel:
            return False
        parts = rel.split("/")
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if "/" not in pattern:
            candidates.extend(parts)
        return any(fnmatch.fnmatchcase(c, pattern) for c in candidates)


@dataclass(slots=True)
class Discovery:
    files: list[SourceFile] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def discover(
    paths: Sequence[str],
    *,
    root: str,
    exclude: Iterable[ExcludePattern] = (),
    use_git: bool = True,
    skip_support: bool = False,
) -> Discovery:
    """The files under `paths` (see the module promise)."""
    if isinstance(paths, (str, bytes)) or not all(isinstance(p, str) and p for p in paths):
        raise usage("ERR_USAGE", "paths must be a sequence of non-empty str", got=repr(paths))
    walker = _Walker(os.path.abspath(root), tuple(exclude), use_git, skip_support)
    for given in paths:
        walker.add(given)
    result = Discovery(diagnostics=walker.diagnostics)
    result.files = sorted(walker.files.values(), key=lambda f: f.display)
    result.diagnostics.sort(key=lambda d: (d.path, d.code))
    return result


def display_path(path: str, root: str) -> str:
    """`path` relative to `root`, `/`-separated; absolute when outside `root`. Bytes of a file
    name that are not valid UTF-8 are shown as `\\xNN`, so every output format can carry it."""
    rel = _relative(path, root)
    shown = rel if rel is not None else Path(path).as_posix()
    return shown.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def module_name_for(path: str, _cache: dict[str, str | None] | None = None) -> str | None:
    """The dotted module name of a file inside a package (None for a top-level script).

    Walks up while the directory holds an `__init__.py`.
    """
    directory, name = os.path.split(path)
    stem = name.removesuffix(".py")
    if not stem.isidentifier():
        return None
    parts = [] if stem == "__init__" else [stem]
    depth = 0
    while depth < 64 and os.path.isfile(os.path.join(directory, "__init__.py")):
        package = os.path.basename(directory)
        if not package.isidentifier():
            break
        parts.append(package)
        directory = os.path.dirname(directory)
        depth += 1
    return ".".join(reversed(parts)) or None


def _relative(path: str, base: str) -> str | None:
    if os.path.isabs(path) and os.path.isabs(base) and _normal(path) and _normal(base):
        # Both normalised and absolute (the common case): a string prefix decides, without
        # `os.path.relpath`, which normalises both paths on every call.
        if path == base:
            return ""
        prefix = base if base.endswith(os.sep) else base + os.sep
        if not path.startswith(prefix):
            return None
        rel = path[len(prefix) :]
        return rel if os.sep == "/" else rel.replace(os.sep, "/")
    try:
        rel = os.path.relpath(path, base)
    except ValueError:  # different drives (Windows)
        return None
    if rel == os.curdir:
        return ""
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return None
    return Path(rel).as_posix()


def _normal(path: str) -> bool:
    """Is `path` free of `.`/`..` segments and doubled separators (as `normpath` leaves it)?"""
    sep = os.sep
    return (
        f"{sep}..{sep}" not in path
        and f"{sep}.{sep}" not in path
        and f"{sep}{sep}" not in path
        and not path.endswith((f"{sep}..", f"{sep}."))
    )


class _Walker:
    def __init__(
        self,
        root: str,
        exclude: tuple[ExcludePattern, ...],
        use_git: bool,
        skip_support: bool = False,
    ) -> None:
        self.root = root
        self.exclude = exclude
        self.use_git = use_git
        self.skip_support = skip_support
        self.files: dict[str, SourceFile] = {}
        self.diagnostics: list[Diagnostic] = []
        self.top: str | None = None
        """The path named on the command line that is being searched."""

    # -- entry points ----------------------------------------------------------------------

    def _excluded(self, path: str) -> bool:
        return any(p.matches(path, self.top) for p in self.exclude)

    def add(self, given: str) -> None:
        path = os.path.abspath(given)
        self.top = path
        shown = display_path(path, self.root)
        try:
            info = os.stat(path)
        except OSError as exc:
            self._os_problem(shown, exc, "cannot audit")
            return
        if stat.S_ISDIR(info.st_mode):
            self._add_directory(path)
        else:
            self._add_file(path, explicit=True)

    def _add_file(self, path: str, *, explicit: bool = False) -> None:
        if not explicit and (self._excluded(path) or self._support(path)):
            return
        if path not in self.files:
            self.files[path] = SourceFile(
                path, display_path(path, self.root), module_name_for(path)
            )

    def _support(self, path: str) -> bool:
        """Is the file, below the named directory, code that supports the project (tests,
        demos, examples, benchmarks, docs) and is support code to be skipped?"""
        if not self.skip_support or self.top is None:
            return False
        rel = _relative(path, self.top)
        if not rel:
            return False
        *dirs, name = rel.split("/")
        return (
            any(d in SUPPORT_DIRS for d in dirs)
            or name in SUPPORT_FILES
            or name.startswith("test_")
            or name.endswith("_test.py")
        )

    def _add_directory(self, path: str) -> None:
        listed = _git_files(path) if self.use_git else Err(_NoGit("git not used", False))
        if isinstance(listed, Err):
            why: _NoGit = listed.error
            # The walk with the skip list still finds every file; say why it was needed.
            level = logging.WARNING if why.unexpected else logging.DEBUG
            _log.log(level, "walking %s instead of asking git: %s", path, why.reason)
            self._walk(path)
            return
        venvs: dict[str, bool] = {}
        for rel in listed.value:
            if not rel.endswith(".py"):
                continue
            full = os.path.normpath(os.path.join(path, rel))
            if self._in_virtualenv(full, path, venvs) or not os.path.lexists(full):
                continue  # a tracked file deleted from the work tree is not ours to report
            if self._excluded(full):
                continue
            self._add_file(full)

    def _in_virtualenv(self, file: str, top: str, cache: dict[str, bool]) -> bool:
        directory = os.path.dirname(file)
        seen: list[str] = []
        answer = False
        while len(directory) >= len(top):
            known = cache.get(directory)
            if known is not None:
                answer = known
                break
            seen.append(directory)
            if os.path.isfile(os.path.join(directory, "pyvenv.cfg")):
                answer = True
                break
            if directory == top:
                break
            directory = os.path.dirname(directory)
        for d in seen:
            cache[d] = answer
        return answer

    # -- the fallback walk -----------------------------------------------------------------

    def _walk(self, top: str) -> None:
        try:
            top_id = _dir_id(os.stat(top))
        except OSError as exc:
            self._os_problem(display_path(top, self.root), exc, "cannot search")
            return
        visited: set[tuple[int, int]] = {top_id}
        # (directory path, ids of the directories on the way down to it)
        stack: list[tuple[str, frozenset[tuple[int, int]]]] = [(top, frozenset({top_id}))]
        while stack:
            directory, ancestors = stack.pop()
            for entry in self._entries(directory):
                if entry.is_dir(follow_symlinks=False):
                    if self._skip_dir(entry):
                        continue
                    try:
                        child = _dir_id(entry.stat(follow_symlinks=False))
                    except OSError as exc:  # vanished or unreadable since the listing
                        self._os_problem(display_path(entry.path, self.root), exc, "cannot search")
                        continue
                    if child not in visited:
                        visited.add(child)
                        stack.append((entry.path, ancestors | {child}))
                elif entry.is_symlink():
                    self._symlink(entry, ancestors, visited, stack)
                elif entry.name.endswith(".py"):
                    self._add_file(entry.path)

    def _entries(self, directory: str) -> Iterator[os.DirEntry[str]]:
        try:
            with os.scandir(directory) as it:
                entries = list(it)
        except OSError as exc:
            self._os_problem(display_path(directory, self.root), exc, "cannot search")
            return
        yield from sorted(entries, key=lambda e: e.name)

    def _skip_dir(self, entry: os.DirEntry[str]) -> bool:
        if entry.name in SKIP_DIRS or entry.name.endswith(".egg-info"):
            return True
        if os.path.isfile(os.path.join(entry.path, "pyvenv.cfg")):
            return True
        return self._excluded(entry.path)

    def _symlink(
        self,
        entry: os.DirEntry[str],
        ancestors: frozenset[tuple[int, int]],
        visited: set[tuple[int, int]],
        stack: list[tuple[str, frozenset[tuple[int, int]]]],
    ) -> None:
        shown = display_path(entry.path, self.root)
        try:
            target = os.stat(entry.path)
        except OSError as exc:
            if entry.name.endswith(".py") or exc.errno == errno.ELOOP:
                self._os_problem(shown, exc, "cannot follow symlink")
            return  # a dangling link to something that is not Python: nothing to audit
        if not stat.S_ISDIR(target.st_mode):
            if entry.name.endswith(".py"):
                self._add_file(entry.path)
            return
        if self._skip_dir(entry):
            return
        target_id = _dir_id(target)
        if target_id in ancestors:
            self.diagnostics.append(
                Diagnostic(
                    shown,
                    "ERR_IO",
                    "symlink loop: the link points back to a directory that contains it; "
                    "not followed",
                )
            )
            return
        if target_id in visited:
            return  # the same directory reached twice: audited once
        visited.add(target_id)
        stack.append((entry.path, ancestors | {target_id}))

    def _os_problem(self, shown: str, exc: OSError, what: str) -> None:
        if exc.errno == errno.ELOOP:
            self.diagnostics.append(
                Diagnostic(shown, "ERR_IO", f"{what}: symlink loop (too many levels of links)")
            )
            return
        reason = (exc.strerror or type(exc).__name__).lower()
        self.diagnostics.append(Diagnostic(shown, errno_code(exc.errno), f"{what}: {reason}"))


def _dir_id(info: os.stat_result) -> tuple[int, int]:
    return (info.st_dev, info.st_ino)


@dataclass(frozen=True, slots=True)
class _NoGit:
    """Why a directory is walked instead of listed by git."""

    reason: str
    unexpected: bool
    """git exists but failed or hung (worth a warning), as opposed to "not a git work tree"."""


def _git_files(directory: str) -> Result[list[str], _NoGit]:
    """Files git lists under `directory` (tracked and untracked-not-ignored), or why not. A
    directory git itself ignores (named explicitly, e.g. a vendored tree) is walked instead."""
    ignored = _git(directory, "check-ignore", "-q", ".")
    if isinstance(ignored, Err):
        return ignored
    if ignored.value.returncode == 0:
        return Err(_NoGit("the directory is ignored by git", unexpected=False))
    if ignored.value.returncode != 1:
        return Err(_NoGit("not in a git work tree", unexpected=False))
    listed = _git(directory, "ls-files", "-z", "-co", "--exclude-standard", "--", ".")
    if isinstance(listed, Err):
        return listed
    if listed.value.returncode != 0:
        stderr = os.fsdecode(listed.value.stderr).strip()
        return Err(_NoGit(f"git ls-files failed: {stderr}", unexpected=True))
    return Ok([os.fsdecode(p) for p in listed.value.stdout.split(b"\0") if p])


def _git(directory: str, *args: str) -> Result[subprocess.CompletedProcess[bytes], _NoGit]:
    try:
        return Ok(
            subprocess.run(
                git_argv("-C", directory, *args),
                capture_output=True,
                env=git_env(),
                timeout=GIT_TIMEOUT,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        )
    except FileNotFoundError:
        return Err(_NoGit("git is not installed", unexpected=False))
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Err(_NoGit(f"git {args[0]} failed: {exc}", unexpected=True))
