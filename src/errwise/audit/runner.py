"""One audit run: settle the configuration, discover the files, analyse them (in parallel when
asked), collect one report.

Promise: `plan(options)` validates everything the user gave (flags and `[tool.errwise]`) before
any file is read — every problem is a `UsageError` — and `execute(plan)` never raises for a bad
file: an unreadable, vanished, non-regular, undecodable or unparsable file gets one diagnostic
and the run goes on; a failure inside errwise on one file (a rule or the analysis raising, a
worker process dying) becomes an ERR_INTERNAL diagnostic for that file. The report is identical
whatever `jobs` is: files are analysed independently and collected in path order.
"""

from __future__ import annotations

import errno
import logging
import multiprocessing
import os
import stat
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from typing import Any

from errwise.audit import rules as _rules
from errwise.audit.config import AuditConfig
from errwise.audit.discover import ExcludePattern, SourceFile, discover
from errwise.audit.engine import FileResult, analyze_source, summarize_source
from errwise.audit.finding import Diagnostic, Severity
from errwise.audit.infer import FileFacts, Program, kb_for
from errwise.audit.pyconfig import find_pyproject, load_pyproject, resolve_rules
from errwise.audit.report.model import INTERNAL_CODE, AuditReport
from errwise.audit.rule import Rule
from errwise.classify import errno_code
from errwise.error import usage

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


@dataclass(frozen=True, slots=True)
class AuditOptions:
    """What the user asked for, as given (command-line strings, unvalidated)."""

    paths: tuple[str, ...] = (".",)
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


def plan(options: AuditOptions) -> AuditPlan:
    """Validate the options and settle the configuration (see the module promise)."""
    if not isinstance(options, AuditOptions):
        raise usage("ERR_USAGE", "plan() takes an AuditOptions", got=type(options).__name__)
    _check_paths(options.paths)
    if not isinstance(options.jobs, int) or isinstance(options.jobs, bool):
        raise usage("ERR_USAGE", "jobs must be an int", got=type(options.jobs).__name__)
    if options.jobs < 0:
        raise usage("ERR_USAGE", f"--jobs must be 0 (one per CPU) or more, not {options.jobs}")
    root = os.path.abspath(options.root or os.curdir)
    paths = options.paths or (".",)
    config, config_dir = AuditConfig(), root
    if not options.no_config:
        found = find_pyproject(_config_start(paths))
        if found is not None:
            config, config_dir = load_pyproject(found), os.path.dirname(found)
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
    return AuditPlan(tuple(paths), root, config, config_dir, exclude, selected, jobs)


Progress = Callable[[int, int], None]
"""Called with (files done, files in total) as the analysis goes on."""


def execute(audit: AuditPlan, progress: Progress | None = None) -> AuditReport:
    """Discover and analyse the files of a plan (see the module promise); `progress`, when
    given, hears how many files are done."""
    found = discover(audit.paths, root=audit.root, exclude=audit.exclude)
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
    tasks = [(file, _rule_ids_for(audit, file.path)) for file in found.files]
    for result in _analyse_all(tasks, engine_config, audit.jobs, progress):
        report.findings.extend(result.findings)
        report.diagnostics.extend(result.diagnostics)
        report.suppressed += result.suppressed
        report.lines += result.lines
        report.strengths.extend(result.strengths)
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
    except MemoryError:
        return FileResult(
            file.display,
            diagnostics=[Diagnostic(file.display, "ERR_IO", "out of memory analysing this file")],
        )
    # errwise: ignore[broad-catch] -- containment: one file's failure is reported, the run goes on
    except Exception as exc:
        return FileResult(file.display, diagnostics=[_internal(file.display, exc)])


def summarize_file(file: SourceFile, config: AuditConfig) -> FileFacts | None:
    """The inference facts of one file; None when it cannot be read or parsed, or when
    summarising fails (the analysis of the file reports why)."""
    data = _read(file)
    if isinstance(data, Diagnostic):
        return None
    try:
        return summarize_source(data, file.display, config, file.module)
    # errwise: ignore[broad-catch] -- containment: the file's facts count as unknown; the
    # analysis that follows reports the failure on this file
    except Exception:
        _log.debug("cannot summarise %s", file.display, exc_info=True)
        return None


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
    rel = os.path.relpath(path, audit.config_dir).replace(os.sep, "/")
    return tuple(r.id for r in audit.rules if audit.config.selects(r, rel))


_Task = tuple[SourceFile, tuple[str, ...]]


def _start_method() -> str:
    """How worker processes start: never a plain `fork`, which can deadlock a child on a lock
    another thread of the parent held (a library caller's threads, a lock heartbeat)."""
    methods = multiprocessing.get_all_start_methods()
    return "forkserver" if "forkserver" in methods else "spawn"


def _summarize_batch(batch: list[_Task], config: AuditConfig) -> list[FileFacts | None]:
    return [summarize_file(file, config) for file, _ in batch]


def _analyse_batch(batch: list[_Task], config: AuditConfig) -> list[FileResult]:
    return [analyze_file(file, config, rule_ids, _worker_program) for file, rule_ids in batch]


_worker_program: Program | None = None
"""The program-wide facts of the current run, installed in each worker when it starts."""


def _install_program(program: Program | None) -> None:
    global _worker_program  # noqa: PLW0603 - one run's facts per worker process
    _worker_program = program


def _analyse_all(
    tasks: list[_Task], config: AuditConfig, jobs: int, progress: Progress | None = None
) -> list[FileResult]:
    """Two phases: summarise every file (inference facts), link them into one `Program`, then
    run the rules on every file with the whole program's facts at hand."""
    parallel = jobs > 1 and len(tasks) >= _PARALLEL_MIN_FILES
    summaries = _run_batches(_summarize_batch, tasks, config, jobs if parallel else 1, None)
    facts = [f for f in summaries if isinstance(f, FileFacts)]
    program = Program(facts, kb_for(config))
    results = _run_batches(
        _analyse_batch, tasks, config, jobs if parallel else 1, program, progress=progress
    )
    out: list[FileResult] = []
    for (file, _), result in zip(tasks, results, strict=True):
        out.append(result if isinstance(result, FileResult) else _worker_died(file, result))
    return out


_BatchFn = Callable[[list[_Task], AuditConfig], list[Any]]


def _run_batches(
    fn: _BatchFn,
    tasks: list[_Task],
    config: AuditConfig,
    jobs: int,
    program: Program | None,
    *,
    progress: Progress | None = None,
) -> list[Any]:
    """`fn` over batches of tasks, in worker processes when `jobs` > 1; one item per task, in
    task order (a `BrokenProcessPool` in place of the results of a batch whose worker died)."""
    if jobs <= 1:
        _install_program(program)
        try:
            done: list[Any] = []
            for task in tasks:
                done.extend(fn([task], config))
                if progress is not None:
                    progress(len(done), len(tasks))
            return done
        finally:
            _install_program(None)
    size = max(1, min(32, len(tasks) // (jobs * 4)))
    batches = [tasks[i : i + size] for i in range(0, len(tasks), size)]
    try:
        context = multiprocessing.get_context(_start_method())
        pool = ProcessPoolExecutor(
            max_workers=min(jobs, len(batches)),
            mp_context=context,
            initializer=_install_program,
            initargs=(program,),
        )
    except (OSError, ImportError, ValueError) as exc:  # no process support (no sem_open, ...)
        _log.warning("cannot start worker processes (%s); analysing in this process", exc)
        return _run_batches(fn, tasks, config, 1, program, progress=progress)
    results: list[Any] = []
    try:
        futures = [(batch, pool.submit(fn, batch, config)) for batch in batches]
        for batch, future in futures:
            try:
                results.extend(future.result())
            except BrokenProcessPool as exc:
                results.extend(exc for _ in batch)
            if progress is not None:
                progress(len(results), len(tasks))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return results


def _worker_died(file: SourceFile, exc: BrokenProcessPool) -> FileResult:
    message = (
        f"the worker process analysing this file died ({exc}); "
        "rerun with --jobs 1 to see whether this file is the cause"
    )
    return FileResult(file.display, diagnostics=[Diagnostic(file.display, INTERNAL_CODE, message)])
