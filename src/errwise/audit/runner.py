"""One audit run: settle the configuration, discover the files, analyse them (in parallel when
asked), collect one report.

Promise: `plan(options)` validates everything the user gave (flags and `[tool.errwise]`) before
any file is read — every problem is a `UsageError` — and `execute(plan)` never raises for a bad
file: an unreadable, vanished, non-regular, undecodable or unparsable file gets one diagnostic
and the run goes on; a failure inside errwise on one file (a rule or the analysis raising, a
worker process dying on it) becomes an ERR_INTERNAL diagnostic for that file, and code nested
too deeply to analyse in any phase the file's ERR_PARSE diagnostic (`engine.too_deep`). A file
whose scan runs over the per-file budget (`AuditPlan.budget`: wall-clock seconds; address space,
in a worker process and, on Linux, in this one: `budget.memory_cap`) gets an ERR_TIMEOUT or "out
of memory" diagnostic instead of hanging the run or exhausting the machine. The report is
identical whatever `jobs` is: files are analysed independently and collected in path order.

Each file is parsed once: the scan of every file (in this process and in worker processes that
cannot import the audited code: `errwise.audit.workers`) yields compact summaries,
linked once into the program-wide facts that finish every file in this process. With a cache
(`AuditPlan.cache_dir`), an unchanged file's scan is reused and a run whose inputs all match an
earlier one reuses its results whole. Otherwise the previous run over the same files (its
`Ledger`) tells which files' finished results no edit can have changed: only the others are
finished again. The report is byte for byte the one a fresh run makes.
"""

from __future__ import annotations

import errno
import functools
import gc
import logging
import math
import os
import pickle
import stat
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

from errwise.audit import rules as _rules
from errwise.audit.budget import OverBudget, TimeBudget, memory_cap, time_budget
from errwise.audit.cache import Cache, code_stamp, digest
from errwise.audit.cachehome import project_directory
from errwise.audit.config import AuditConfig
from errwise.audit.discover import ExcludePattern, SourceFile, discover
from errwise.audit.engine import (
    FileResult,
    FileScan,
    analyze_source,
    finish_scan,
    scan_source,
    too_deep,
)
from errwise.audit.fileindex import FileIndex
from errwise.audit.finding import Diagnostic, Severity
from errwise.audit.infer import Program, kb_for
from errwise.audit.ledger import Edited, Entry, Ledger
from errwise.audit.pyconfig import find_pyproject, load_pyproject, parse_profile, resolve_rules
from errwise.audit.report.model import INTERNAL_CODE, AuditReport
from errwise.audit.rule import Rule
from errwise.audit.workers import Done, Outcome, Pool, Returned
from errwise.classify import errno_code
from errwise.error import EnvError, Error, usage

__all__ = [
    "AuditOptions",
    "AuditPlan",
    "plan",
    "execute",
    "run_audit",
    "analyze_file",
    "MAX_FILE_BYTES",
]

_log = logging.getLogger("errwise.audit")

MAX_FILE_BYTES = 32 * 1024 * 1024
"""Larger files are reported, not read: no hand-written Python module is this big."""

_PARALLEL_MIN_FILES = 16
"""Below this many files starting worker processes costs more than it saves."""

DEFAULT_FILE_TIMEOUT = 60.0
"""Seconds one file's scan may take (`--file-timeout`): generous, a safety net."""
DEFAULT_FILE_MEMORY_MIB = 900
DEFAULT_FILE_MEMORY = DEFAULT_FILE_MEMORY_MIB * 1024**2
"""Bytes of address space a process scanning a file may use (`--file-memory`): 900 MiB keeps a
run's processes under 1 GB (10^9 bytes), and files of up to about 4 MB of dense code within."""
MIN_FILE_MEMORY_MIB = 256
"""The smallest `--file-memory` (MiB) accepted: below it, a worker may not even start."""


@dataclass(frozen=True, slots=True)
class Budget:
    """What one file's scan may take: wall-clock seconds and bytes of address space (None: no
    limit)."""

    seconds: float | None = DEFAULT_FILE_TIMEOUT
    memory: int | None = DEFAULT_FILE_MEMORY


@dataclass(frozen=True, slots=True)
class AuditOptions:
    """What the user asked for, as given (command-line strings, unvalidated)."""

    paths: tuple[str, ...] = (".",)
    profile: str | None = None
    """`default` or `strict`; replaces the configuration's `profile`."""
    select: str | None = None
    """Comma-separated rule ids or names; replaces the configuration's `select`."""
    ignore: str | None = None
    """Comma-separated rule ids or names; added to the configuration's `ignore`."""
    fail_on: str | None = None
    """A severity name; replaces the configuration's `fail-on`."""
    exclude: tuple[str, ...] = ()
    """Globs relative to `root`; added to the configuration's `exclude`."""
    jobs: int = 1
    """Worker processes; 0 means one per CPU."""
    no_config: bool = False
    """Ignore `pyproject.toml`."""
    root: str | None = None
    """The directory reported paths are relative to (default: the current directory)."""
    cache: bool = False
    """Reuse the results of unchanged inputs and store this run's (`errwise.audit.cache`)."""
    cache_dir: str | None = None
    """Where the cache lives (relative paths: to the directory of the configuration file, else
    to `root`). Default: that directory's cache in the user's cache home
    (`errwise.audit.cachehome.project_directory`), never inside the audited tree."""
    file_timeout: float | None = None
    """Seconds one file's analysis may take before it is given up with an ERR_TIMEOUT
    diagnostic (None: `DEFAULT_FILE_TIMEOUT`; 0: no limit)."""
    file_memory: int | None = None
    """Mebibytes of address space a process scanning a file may use: a file needing more gets
    the "out of memory" diagnostic (None: `DEFAULT_FILE_MEMORY`; 0: no limit; in this process,
    at least what it holds already plus 256 MiB, and only where `/proc` tells its use)."""


@dataclass(frozen=True, slots=True)
class AuditPlan:
    paths: tuple[str, ...]
    root: str
    config: AuditConfig
    config_dir: str
    """Where the configuration's globs (exclude, per-file-ignores) are anchored."""
    exclude: tuple[ExcludePattern, ...]
    rules: tuple[Rule, ...]
    jobs: int
    cache_dir: str | None = None
    """The cache directory (absolute), or None for no cache."""
    cache_problem: str | None = None
    """Why the cache is off although it was asked for (a warning of the report)."""
    budget: Budget = Budget()
    """What one file's scan may take."""


def plan(options: AuditOptions) -> AuditPlan:
    """Validate the options and settle the configuration (see the module promise)."""
    if not isinstance(options, AuditOptions):
        raise usage("ERR_USAGE", "plan() takes an AuditOptions", got=type(options).__name__)
    _check_paths(options.paths)
    if not isinstance(options.jobs, int) or isinstance(options.jobs, bool):
        raise usage("ERR_USAGE", "jobs must be an int", got=type(options.jobs).__name__)
    if options.jobs < 0:
        raise usage("ERR_USAGE", f"--jobs must be 0 (one per CPU) or more, not {options.jobs}")
    if options.cache_dir is not None and (
        not isinstance(options.cache_dir, str) or not options.cache_dir
    ):
        raise usage(
            "ERR_USAGE", "the cache directory must be a non-empty path", got=repr(options.cache_dir)
        )
    root = os.path.abspath(options.root or os.curdir)
    paths = options.paths or (".",)
    config, config_dir = AuditConfig(), root
    if not options.no_config:
        found = find_pyproject(_config_start(paths))
        if found is not None:
            config, config_dir = load_pyproject(found), os.path.dirname(found)
    if options.profile is not None:
        config = replace(config, profile=parse_profile(options.profile))
    if options.select is not None:
        config = replace(config, select=_rule_flag("--select", options.select))
    if options.ignore is not None:
        config = replace(config, ignore=config.ignore | _rule_flag("--ignore", options.ignore))
    if options.fail_on is not None:
        config = replace(config, fail_on=Severity.parse(options.fail_on))
    exclude = tuple(ExcludePattern(p, config_dir) for p in config.exclude) + tuple(
        ExcludePattern(p, root) for p in options.exclude
    )
    everywhere = replace(config, per_file_ignores=())
    selected = tuple(r for r in _rules.all_rules() if everywhere.selects(r))
    jobs = options.jobs or os.cpu_count() or 1
    cache_dir, cache_problem = None, None
    if options.cache and options.cache_dir:
        cache_dir = os.path.join(config_dir, options.cache_dir)
    elif options.cache:
        try:
            cache_dir = str(project_directory(config_dir))
        except Error as err:
            cache_problem = f"cache turned off for this run: {err.message}"
    return AuditPlan(
        tuple(paths),
        root,
        config,
        config_dir,
        exclude,
        selected,
        jobs,
        cache_dir,
        cache_problem,
        budget=_budget(options, config),
    )


def _budget(options: AuditOptions, config: AuditConfig) -> Budget:
    """The flags' budget, else the configuration's, else the defaults. The configuration lives
    in the audited tree, so it may only tighten the defaults: lifting a limit (more, or 0) takes
    a flag (which replaces the configured value)."""
    if options.file_timeout is None:
        _tighter_only(config.source, "file-timeout", config.file_timeout, DEFAULT_FILE_TIMEOUT, "s")
    if options.file_memory is None:
        _tighter_only(
            config.source, "file-memory", config.file_memory, DEFAULT_FILE_MEMORY_MIB, "MiB"
        )
    seconds = options.file_timeout if options.file_timeout is not None else config.file_timeout
    mebibytes = options.file_memory if options.file_memory is not None else config.file_memory
    if seconds is not None and (
        isinstance(seconds, bool)
        or not isinstance(seconds, (int, float))
        or not math.isfinite(seconds)
        or seconds < 0
    ):
        raise usage(
            "ERR_USAGE", "--file-timeout must be 0 (no limit) or more seconds", got=repr(seconds)
        )
    if mebibytes is not None and (
        type(mebibytes) is not int or mebibytes < 0 or 0 < mebibytes < MIN_FILE_MEMORY_MIB
    ):
        raise usage(
            "ERR_USAGE",
            f"--file-memory must be 0 (no limit) or at least {MIN_FILE_MEMORY_MIB} (MiB): "
            "a worker process needs that much to start",
            got=repr(mebibytes),
        )
    return Budget(
        DEFAULT_FILE_TIMEOUT if seconds is None else float(seconds) or None,
        DEFAULT_FILE_MEMORY if mebibytes is None else mebibytes * 1024**2 or None,
    )


def _tighter_only(
    source: str | None, key: str, value: float | None, default: float, unit: str
) -> None:
    if value is not None and not 0 < value <= default:
        raise usage(
            "ERR_USAGE",
            f"{source}: [tool.errwise] {key} = {value:g} would lift a limit errwise keeps for "
            f"code it does not trust; the configuration may only lower it (0 < {key} <= "
            f"{default:g} {unit}); raise or remove it with --{key} on the command line",
            key=key,
            file=source,
        )


Progress = Callable[[int, int], None]
"""Called with (files done, files in total) as the analysis goes on."""


def execute(audit: AuditPlan, progress: Progress | None = None) -> AuditReport:
    """Discover and analyse the files of a plan (see the module promise); `progress`, when
    given, hears how many files are done."""
    found = discover(
        audit.paths,
        root=audit.root,
        exclude=audit.exclude,
        skip_support=audit.config.profile == "default",
    )
    report = AuditReport(
        diagnostics=list(found.diagnostics),
        files=len(found.files),
        fail_on=audit.config.fail_on,
        rules=tuple(r.id for r in audit.rules),
        paths=audit.paths,
        root=audit.root,
    )
    # Per-file ignores are resolved here, against paths relative to the configuration's
    # directory; the engine then sees a configuration without them.
    engine_config = replace(audit.config, per_file_ignores=())
    cache = Cache(audit.cache_dir) if audit.cache_dir is not None else None
    # A rule is named with its checker, so a rule replaced at run time is another rule.
    checkers = {r.id: f"{r.id}={r.check.__module__}.{r.check.__qualname__}" for r in audit.rules}
    settings = _config_text(engine_config)
    index = FileIndex.load(cache) if cache is not None else None
    jobs = [_job(f, _rule_ids_for(audit, f.path), settings, checkers, index) for f in found.files]
    for result in _analyse_all(
        jobs, engine_config, audit.jobs, cache, progress=progress, index=index, budget=audit.budget
    ):
        report.findings.extend(result.findings)
        report.diagnostics.extend(result.diagnostics)
        report.suppressed += result.suppressed
        report.lines += result.lines
        report.strengths.extend(result.strengths)
    if cache is not None:
        if index is not None:
            index.save(cache)
        if cache.stats.misses:
            cache.prune_scans(files=len(jobs))
        report.cache = cache.stats
        if cache.problem is not None:
            report.warnings.append(cache.problem)
    elif audit.cache_problem is not None:
        report.warnings.append(audit.cache_problem)
    report.sort()
    return report


def run_audit(options: AuditOptions, progress: Progress | None = None) -> AuditReport:
    """`plan` then `execute`."""
    return execute(plan(options), progress)


def analyze_file(
    file: SourceFile,
    config: AuditConfig,
    rule_ids: Sequence[str],
    program: Program | None = None,
) -> FileResult:
    """Read and analyse one file; never raises (a failure of errwise is an ERR_INTERNAL
    diagnostic naming where it happened)."""
    try:
        data = _read(file)
        if isinstance(data, Diagnostic):
            return FileResult(file.display, diagnostics=[data])
        by_id = {r.id: r for r in _rules.all_rules()}
        rules = [by_id[i] for i in rule_ids if i in by_id]
        return analyze_source(data, file.display, config, rules, file.module, program=program)
    except RecursionError:  # the engine reports too-deep code itself; this is a safety net
        return FileResult(file.display, diagnostics=[too_deep(file.display)])
    except MemoryError:
        return FileResult(file.display, diagnostics=[_out_of_memory(file.display)])
    # errwise: ignore[broad-catch] -- containment: one file's failure is reported, the run goes on
    except Exception as exc:
        return FileResult(file.display, diagnostics=[_internal(file.display, exc)])


def _internal(path: str, exc: BaseException) -> Diagnostic:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""
    return Diagnostic(
        path,
        INTERNAL_CODE,
        f"errwise failed on this file: {type(exc).__name__}: {exc}{where} "
        "(a bug in errwise; please report it)",
    )


def _read(file: SourceFile) -> bytes | Diagnostic:
    """The file's bytes, or a diagnostic saying why they cannot be had."""
    try:
        fd = os.open(file.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return _read_problem(file.display, exc)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return Diagnostic(file.display, "ERR_IO", "not a regular file; not audited")
        if info.st_size > MAX_FILE_BYTES:
            return Diagnostic(
                file.display,
                "ERR_IO",
                f"file too large to audit ({info.st_size} bytes; limit {MAX_FILE_BYTES})",
            )
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return _read_problem(file.display, exc)
    finally:
        os.close(fd)


def _read_problem(path: str, exc: OSError) -> Diagnostic:
    if exc.errno == errno.ENOENT:
        return Diagnostic(path, "ERR_NOT_FOUND", "the file vanished before it could be read")
    if exc.errno == errno.ELOOP:
        return Diagnostic(path, "ERR_IO", "symlink loop (too many levels of links)")
    reason = (exc.strerror or type(exc).__name__).lower()
    return Diagnostic(path, errno_code(exc.errno), f"cannot read: {reason}")


def _check_paths(paths: object) -> None:
    if isinstance(paths, (str, bytes)) or not isinstance(paths, (tuple, list)):
        raise usage("ERR_USAGE", "paths must be a tuple or list of str", got=type(paths).__name__)
    for path in paths:
        if not isinstance(path, str) or not path:
            raise usage("ERR_USAGE", "every path must be a non-empty str", got=repr(path))


def _rule_flag(flag: str, value: str) -> frozenset[str]:
    ids = resolve_rules(value.split(","), where=flag)
    if not ids:
        raise usage("ERR_USAGE", f"{flag} names no rule; give rule ids or names, e.g. EW101")
    return ids


def _config_start(paths: Sequence[str]) -> str:
    """Where the search for `pyproject.toml` starts: the deepest directory all paths share."""
    absolute = [os.path.abspath(p) for p in paths]
    try:
        return os.path.commonpath(absolute)
    except ValueError:  # paths on different drives
        return absolute[0]


def _rule_ids_for(audit: AuditPlan, path: str) -> tuple[str, ...]:
    if not audit.config.per_file_ignores:  # `plan` already applied select and ignore
        return tuple(r.id for r in audit.rules)
    rel = os.path.relpath(path, audit.config_dir).replace(os.sep, "/")
    return tuple(r.id for r in audit.rules if audit.config.selects(r, rel))


@dataclass(slots=True)
class _Job:
    """One file of the run: what it is, which rules it gets, its bytes (or why there are none)
    and the cache key of its scan."""

    file: SourceFile
    rule_ids: tuple[str, ...]
    data: bytes | Diagnostic | None
    """None: not read yet, because the file index vouched for its content (`_read_vouched`)."""
    key: str = ""
    """The cache key of the file's scan: `basis` and the digest of its content ("": unreadable)."""
    basis: str = ""
    """The digest of everything but the content that the scan depends on."""
    size: int = 0
    content: str = ""
    """The digest of the file's bytes (read, or as the file index vouched)."""


def _job(
    file: SourceFile,
    rule_ids: tuple[str, ...],
    settings: str,
    checkers: dict[str, str],
    index: FileIndex | None,
) -> _Job:
    """The file's job, its bytes read unless `index` shows the file unchanged since a run
    that read it."""
    selected = ",".join(checkers[i] for i in rule_ids)
    basis = digest(code_stamp(), settings, file.display, file.module or "", selected)
    taken = time.time_ns()
    info = _stat(file) if index is not None else None
    if index is not None and info is not None:
        content = index.digest_of(file.path, info)
        if content is not None:
            return _Job(file, rule_ids, None, digest(basis, content), basis, info.st_size, content)
    data = _read(file)
    if isinstance(data, Diagnostic):
        return _Job(file, rule_ids, data)
    content = digest(data)
    if index is not None and info is not None:
        index.record(file.path, info, content, taken)
    return _Job(file, rule_ids, data, digest(basis, content), basis, len(data), content)


def _stat(file: SourceFile) -> os.stat_result | None:
    """The file's stat, or None when it cannot be had (then `_read` says why)."""
    try:
        return os.stat(file.path)
    except OSError:
        return None


def _read_vouched(job: _Job, index: FileIndex | None) -> None:
    """Read a job the file index vouched for, now that it must be scanned. Its key follows
    what was read: a file that is not what the index said is scanned (and stored) as it is,
    and the index forgets it."""
    data = _read(job.file)
    job.data = data
    if isinstance(data, Diagnostic):
        job.key = ""
        return
    content = digest(data)
    if content != job.content:
        job.content, job.key = content, digest(job.basis, content)
        if index is not None:
            index.forget(job.file.path)


def _config_text(config: AuditConfig) -> str:
    """The settings that change what a file's analysis finds, canonically (sets sorted)."""
    select = "*" if config.select is None else ",".join(sorted(config.select))
    return "\0".join(
        (
            config.profile,
            select,
            ",".join(sorted(config.ignore)),
            ",".join(config.boundaries),
            ",".join(config.extend_state_changing),
            config.knowledge or "",
            ",".join(sorted(config.lint_ignores)),
        )
    )


def _analyse_all(
    jobs: list[_Job],
    config: AuditConfig,
    workers: int,
    cache: Cache | None,
    *,
    progress: Progress | None = None,
    index: FileIndex | None = None,
    budget: Budget | None = None,
) -> list[FileResult]:
    """Two phases: scan every file (parse, model, summarise, local rules: in worker processes,
    or taken from the cache), then link the summaries into one `Program` and finish every
    file with the whole program's facts (in this process: no syntax tree is needed)."""
    with _paused_collector():
        return _analyse_paused(
            jobs, config, workers, cache, progress=progress, index=index, budget=budget or Budget()
        )


def _analyse_paused(
    jobs: list[_Job],
    config: AuditConfig,
    workers: int,
    cache: Cache | None,
    *,
    progress: Progress | None,
    index: FileIndex | None,
    budget: Budget,
) -> list[FileResult]:
    readable = [job for job in jobs if job.key]
    run_key = _run_key(readable)
    if cache is not None and readable:
        stored = _stored_results(cache.get("run", run_key), readable)
        if stored is not None:
            cache.stats.run_hit = True
            cache.stats.hits = len(readable)
            if progress is not None:
                progress(len(jobs), len(jobs))
            return _in_file_order(jobs, {j.key: r for j, r in zip(readable, stored, strict=True)})
    scans: dict[str, FileScan] = {}
    todo: list[_Job] = []
    for job in readable:
        cached = cache.get("scan", job.key) if cache is not None else None
        if isinstance(cached, FileScan) and cached.path == job.file.display:
            scans[job.key] = cached
        else:
            todo.append(job)
    if any(job.data is None for job in todo):
        for job in todo:
            if job.data is None:
                _read_vouched(job, index)
        todo = [job for job in todo if job.key]
        readable = [job for job in jobs if job.key]
        run_key = _run_key(readable)
    if cache is not None:
        cache.stats.hits = len(scans)
        cache.stats.misses = len(todo)
    done = len(jobs) - len(todo)
    if progress is not None and done:
        progress(done, len(jobs))
    for job, scan in _scan_all(
        todo, config, workers, cache, done=done, total=len(jobs), progress=progress, budget=budget
    ):
        scans[job.key] = scan
    program = Program(
        [s.facts for s in (scans[j.key] for j in readable) if s.facts], kb_for(config)
    )
    if cache is None or cache.problem is not None:
        results = {job.key: _finish(job, scans[job.key], program, config) for job in readable}
    else:
        results = _finish_noted(readable, scans, program, config, cache)
    if cache is not None and readable and all(_cacheable(r) for r in results.values()):
        cache.put("run", run_key, [results[j.key] for j in readable])
    return _in_file_order(jobs, results)


def _finish_noted(
    readable: list[_Job],
    scans: dict[str, FileScan],
    program: Program,
    config: AuditConfig,
    cache: Cache,
) -> dict[str, FileResult]:
    """Finish the files, reusing the previous run's results that no change can reach (its
    `Ledger`), and store this run's ledger."""
    key = digest("ledger", *(job.basis for job in readable))
    stored = cache.get("ledger", key)
    kept: dict[str, Entry] = {}
    edited: Edited = None
    if not isinstance(stored, Ledger):
        stored = Ledger(program.linked, {}, {})
    else:
        current = {job.file.display: (job.key, scans[job.key].facts) for job in readable}
        kept, edited = stored.reusable(current, program, lambda k: cache.get("scan", k))
    cache.stats.reused = len(kept)
    results: dict[str, FileResult] = {}
    entries: dict[str, Entry] = {}
    for job in readable:
        path = job.file.display
        entry = kept.get(path)
        if entry is None:
            scan = scans[job.key]
            with program.reading() as reads:
                result = _finish(job, scan, program, config)
            entry = Entry.made(job.key, scan.facts, result, program, reads)
        entries[path] = entry
        results[job.key] = entry.result
    if readable and len(kept) < len(readable) and all(_cacheable(r) for r in results.values()):
        cache.put("ledger", key, stored.succeeded(program, entries, edited))
    return results


def _run_key(readable: list[_Job]) -> str:
    return digest(*(job.key for job in readable)) if readable else ""


def _stored_results(stored: object, readable: list[_Job]) -> list[FileResult] | None:
    """A cached run's results when they are what this run would make (one per file, in
    order); None otherwise."""
    if not isinstance(stored, list) or len(stored) != len(readable):
        return None
    results: list[FileResult] = []
    for result, job in zip(stored, readable, strict=True):
        if not isinstance(result, FileResult) or result.path != job.file.display:
            return None
        results.append(result)
    return results


def _in_file_order(jobs: list[_Job], results: dict[str, FileResult]) -> list[FileResult]:
    out: list[FileResult] = []
    for job in jobs:
        if isinstance(job.data, Diagnostic):
            out.append(FileResult(job.file.display, diagnostics=[job.data]))
        else:
            out.append(results[job.key])
    return out


def _cacheable(outcome: FileScan | FileResult) -> bool:
    """Only what the inputs decide is stored: not errwise's own failures (a bug, a dead
    worker) nor running out of memory or time, which another run may not meet."""
    return not any(d.code in (INTERNAL_CODE, "ERR_IO", "ERR_TIMEOUT") for d in outcome.diagnostics)


def _finish(job: _Job, scan: FileScan, program: Program, config: AuditConfig) -> FileResult:
    try:
        return finish_scan(scan, program, config)
    except RecursionError:  # the engine reports too-deep code itself; this is a safety net
        return FileResult(job.file.display, diagnostics=[too_deep(job.file.display)])
    except MemoryError:
        return FileResult(job.file.display, diagnostics=[_out_of_memory(job.file.display)])
    # errwise: ignore[broad-catch] -- containment: one file's failure is reported, the run goes on
    except Exception as exc:
        return FileResult(job.file.display, diagnostics=[_internal(job.file.display, exc)])


def scan_job(job: _Job, config: AuditConfig) -> FileScan:
    """Scan one readable file; never raises (a failure of errwise is an ERR_INTERNAL
    diagnostic naming where it happened)."""
    display = job.file.display
    try:
        assert isinstance(job.data, bytes)
        by_id = {r.id: r for r in _rules.all_rules()}
        rules = [by_id[i] for i in job.rule_ids if i in by_id]
        return scan_source(job.data, display, config, rules, job.file.module)
    except RecursionError:  # the engine reports too-deep code itself; this is a safety net
        return FileScan(display, diagnostics=[too_deep(display)])
    except MemoryError:
        return FileScan(display, diagnostics=[_out_of_memory(display)])
    # errwise: ignore[broad-catch] -- containment: one file's failure is reported, the run goes on
    except Exception as exc:
        return FileScan(display, diagnostics=[_internal(display, exc)])


def _out_of_memory(path: str) -> Diagnostic:
    return Diagnostic(
        path,
        "ERR_IO",
        "out of memory analysing this file (the per-file budget is --file-memory; 0: none)",
    )


def _scan_batch(
    batch: list[_Job], config: AuditConfig, cache_dir: str | None, memory: int | None = None
) -> Iterator[tuple[bytes, str | None]]:
    """In a worker process (whose address space the pool caps at `memory`): scan the files one
    by one, store each scan in the cache and give it back pickled (one pickling serves both),
    with why the cache failed, if it did."""
    cache = Cache(cache_dir) if cache_dir is not None else None
    for job, scan in _scans(batch, config, memory=memory):
        blob = pickle.dumps(scan, protocol=pickle.HIGHEST_PROTOCOL)
        if cache is not None and _cacheable(scan):
            cache.put_payload("scan", job.key, blob)
        yield blob, None if cache is None else cache.problem


def _scans(
    jobs: list[_Job],
    config: AuditConfig,
    budget: TimeBudget | None = None,
    *,
    memory: int | None = None,
) -> Iterator[tuple[_Job, FileScan]]:
    """Scan the files one after the other (each within `budget` and under a `memory_cap` of
    `memory` bytes, when given), collecting the youngest generation of garbage after each (the
    collector is paused: see `_paused_collector`)."""
    with _paused_collector():
        # Set aside what is already allocated (such as the scans taken from the cache), so
        # each collection looks at one scan's objects alone; `_paused_collector` returns them.
        gc.freeze()
        for job in jobs:
            with memory_cap(memory):
                if budget is None:
                    scan = scan_job(job, config)
                else:
                    try:
                        scan = budget.call(functools.partial(scan_job, job, config))
                    except OverBudget:
                        scan = _over_time(job.file.display, budget.seconds)
            gc.collect(0)
            yield job, scan


@contextmanager
def _paused_collector() -> Iterator[None]:
    """Automatic cyclic garbage collection off for the block. A scan allocates a syntax tree
    and a model full of containers, and linking allocates the program's facts: automatic
    collections would traverse all of it again and again as it grows (40% of the time on the
    standard library). What a scan leaves as cyclic garbage is its own model, younger than the
    previous file's collection, so `gc.collect(0)` after each file frees it.

    Left by an interrupt (Ctrl-C, SIGTERM), the block sets everything aside instead of returning
    it: the half-scanned file's objects, all young, would otherwise make the first collection
    after the collector is turned back on traverse them all, for a second or more on a large
    file, before the run can stop. The next audit's block returns them to the collector."""
    enabled = gc.isenabled()
    gc.disable()
    interrupted = False
    try:
        yield
    except BaseException as exc:
        interrupted = not isinstance(exc, Exception)
        raise
    finally:
        if interrupted:
            gc.freeze()
        else:
            gc.unfreeze()  # what `_scans` set aside (and an interrupted run before)
        if enabled:
            gc.enable()


def _scan_all(
    todo: list[_Job],
    config: AuditConfig,
    workers: int,
    cache: Cache | None,
    *,
    done: int,
    total: int,
    progress: Progress | None,
    budget: Budget,
) -> Iterator[tuple[_Job, FileScan]]:
    """Scan the files with `workers` processes in all: this one and `workers - 1` worker
    processes (when there are enough files; `errwise.audit.workers`). A file whose worker died
    or ran over the time budget gets a diagnostic; the files that worker had not started are
    handed out again. Workers are killed at once when this generator is left by an exception
    (Ctrl-C, SIGTERM) or closed early."""
    if workers <= 1 or len(todo) < _PARALLEL_MIN_FILES:
        with time_budget(budget.seconds) as limit:
            _say_unenforced(budget, limit)
            for job, scan in _scan_here(todo, config, cache, limit, budget.memory):
                yield job, scan
                done += 1
                if progress is not None:
                    progress(done, total)
        return
    size = max(1, min(32, len(todo) // (workers * 4)))
    # Largest files first: the workers take batches from the front, this process from the
    # back, so the last batches are small and everyone finishes together.
    by_size = sorted(todo, key=lambda job: -job.size)
    pending = deque(by_size[i : i + size] for i in range(0, len(by_size), size))
    try:
        pool = Pool(
            min(workers - 1, len(pending)),
            item_timeout=budget.seconds,
            memory_limit=budget.memory or 0,
        )
    except EnvError as exc:
        _log.warning("cannot start worker processes (%s); analysing in this process", exc)
        yield from _scan_all(
            todo, config, 1, cache, done=done, total=total, progress=progress, budget=budget
        )
        return
    directory = None if cache is None else str(cache.directory)
    with pool, time_budget(budget.seconds) as limit:
        _say_unenforced(budget, limit)
        warned = False
        while pending or pool.busy():
            finished: list[tuple[_Job, FileScan]] = []
            _hand_out(pool, pending, config, directory, budget.memory)
            if pending:
                for job, scan in _scan_here(pending.pop(), config, cache, limit, budget.memory):
                    finished.append((job, scan))
                    # Between this process's files: hear the workers, keep them busy.
                    finished.extend(_collect(pool.poll(0), pending, cache, budget))
                    _hand_out(pool, pending, config, directory, budget.memory)
            else:
                finished.extend(_collect(pool.poll(None), pending, cache, budget))
            if pool.broken is not None and not warned:
                warned = True
                _log.warning(
                    "cannot start worker processes (%s); analysing in this process", pool.broken
                )
            yield from finished
            done += len(finished)
            if progress is not None and finished:
                progress(done, total)


def _hand_out(
    pool: Pool,
    pending: deque[list[_Job]],
    config: AuditConfig,
    directory: str | None,
    memory: int | None,
) -> None:
    """Give the workers batches from the front of `pending` while they have room."""
    while pending and pool.wants():
        batch = pending.popleft()
        if not pool.submit(_scan_batch, batch, config, directory, memory):
            pending.appendleft(batch)  # no worker could take it: this process will


def _say_unenforced(budget: Budget, limit: TimeBudget) -> None:
    if budget.seconds is not None and not limit.enforced:
        _log.debug(
            "the per-file time budget holds only in worker processes here "
            "(not the main thread, or SIGALRM is in use)"
        )


def _scan_here(
    jobs: list[_Job],
    config: AuditConfig,
    cache: Cache | None,
    limit: TimeBudget,
    memory: int | None,
) -> Iterator[tuple[_Job, FileScan]]:
    for job, scan in _scans(jobs, config, limit, memory=memory):
        if cache is not None and _cacheable(scan):
            cache.put("scan", job.key, scan)
        yield job, scan


def _collect(
    outcomes: list[Outcome], pending: deque[list[_Job]], cache: Cache | None, budget: Budget
) -> list[tuple[_Job, FileScan]]:
    """The scans the workers gave back; a diagnostic for each file lost with its worker (or to
    a bug); the files a lost worker had not started go back to the front of `pending`."""
    finished: list[tuple[_Job, FileScan]] = []
    for outcome in outcomes:
        if isinstance(outcome, Returned):
            pending.appendleft(outcome.items)
            continue
        job: _Job = outcome.item
        display = job.file.display
        if isinstance(outcome, Done):
            blob, problem = outcome.result
            if cache is not None and problem is not None:
                cache.turn_off(problem)
            finished.append((job, pickle.loads(blob)))
        elif outcome.why == "timeout":
            finished.append((job, _over_time(display, budget.seconds)))
        elif outcome.why == "died":
            finished.append((job, _worker_died(display, outcome.detail)))
        else:  # "failed": a bug in errwise, with the worker's traceback
            last = outcome.detail.strip().splitlines()[-1] if outcome.detail.strip() else ""
            message = (
                f"errwise failed on this file in a worker: {last} "
                "(a bug in errwise; please report it)"
            )
            finished.append(
                (job, FileScan(display, diagnostics=[Diagnostic(display, INTERNAL_CODE, message)]))
            )
    return finished


def _over_time(path: str, seconds: float | None) -> FileScan:
    message = (
        f"analysing this file took longer than the per-file time budget ({seconds:g} s); "
        "not audited (raise it with --file-timeout)"
    )
    return FileScan(path, diagnostics=[Diagnostic(path, "ERR_TIMEOUT", message)])


def _worker_died(path: str, how: str) -> FileScan:
    message = (
        f"the worker process analysing this file died ({how}); "
        "rerun with --jobs 1 to see whether this file is the cause"
    )
    return FileScan(path, diagnostics=[Diagnostic(path, INTERNAL_CODE, message)])
