"""`errwise audit [PATH ...]`: find error-handling defects in Python code without running it.

Promise: findings go to stdout (or, with `--output FILE`, atomically to FILE) in the chosen
format; diagnostics and the summary go to stderr (the summary not with `--quiet`). The exit code
is 2 for a usage error (bad flag or `[tool.errwise]`), 70 when errwise failed on some file (a
bug; everything else is still reported), else 1 when some finding is at or above `--fail-on`,
else 10 when some file could not be analysed, else 0. With `--sweep FILE` (a JSON report of
`errwise sweep`; a missing or malformed one is a usage error, exit 2) each finding whose except
clause the sweep reached carries what it proved there (`errwise.sweep.crosslink.link`), and
stderr says how many findings were confirmed and refuted (not with `--quiet`).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from typing import Any

from errwise.audit.baseline import apply_baseline, read_baseline, write_baseline
from errwise.audit.gitdiff import apply_diff, changed_lines
from errwise.audit.progress import ProgressBar, progress_wanted
from errwise.audit.report import format_names, formats, render
from errwise.audit.report.colour import wants_colour
from errwise.audit.report.summary import summary_text
from errwise.audit.runner import AuditOptions, execute, plan
from errwise.ops.atomic import atomic_write

__all__ = ["register", "run"]

_EPILOG = """\
exit codes: 0 clean; 1 findings at or above --fail-on; 2 usage error; 10 some file could not be
analysed; 70 errwise failed on some file (a bug in errwise; the rest is still reported).
Configuration: [tool.errwise] in the nearest pyproject.toml (select, ignore, exclude,
per-file-ignores, fail-on, boundaries, extend-state-changing, file-timeout, file-memory).
--select, --fail-on, --file-timeout and --file-memory replace the configured values; --ignore
and --exclude add to them.
"""


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "audit",
        help="find error-handling defects in Python code",
        description="Audit Python files for error-handling defects (the code is read, never run).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or directories (default: .)"
    )
    parser.add_argument(
        "--format",
        "--output-format",
        dest="format",
        choices=format_names(),
        default="text",
        help="; ".join(f"{f.name}: {f.description}" for f in formats()) + " (default text)",
    )
    parser.add_argument(
        "--output", "-o", metavar="FILE", help="write the output to FILE (atomically)"
    )
    parser.add_argument(
        "--profile",
        choices=("default", "strict"),
        default=None,
        help="default: the rules measured trustworthy on real code, on the code a project ships "
        "(tests, demos, examples, benchmarks and docs below a named directory are skipped); "
        "strict: every rule on every file (default: the configuration's, else default)",
    )
    parser.add_argument(
        "--select",
        metavar="RULES",
        help="only these rules, whatever the profile (ids or names, comma-separated)",
    )
    parser.add_argument(
        "--ignore", metavar="RULES", help="skip these rules (ids or names, comma-separated)"
    )
    parser.add_argument(
        "--fail-on",
        metavar="SEVERITY",
        help="exit 1 when a finding is at or above: critical, high, medium, low (default low)",
    )
    parser.add_argument(
        "--exit-zero",
        action="store_true",
        help="exit 0 even when findings are reported (an error still exits 2, 10 or 70)",
    )
    parser.add_argument(
        "--exclude",
        metavar="GLOB",
        action="append",
        default=[],
        help="skip matching files or directories (repeatable)",
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        default=0,
        metavar="N",
        help="worker processes (default 0: one per CPU; 1: no worker processes)",
    )
    parser.add_argument(
        "--file-timeout",
        type=_budget(float),
        metavar="SECONDS",
        help="give up a file whose analysis takes longer, with an ERR_TIMEOUT diagnostic "
        "(default 60; 0: no limit)",
    )
    parser.add_argument(
        "--file-memory",
        type=_budget(int),
        metavar="MIB",
        help="memory (MiB of address space, at least 256) a process analysing a file may use; "
        "a file needing more gets an out-of-memory diagnostic (default 900; 0: no limit)",
    )
    parser.add_argument(
        "--baseline",
        metavar="FILE",
        help="report only findings not recorded in FILE (see --write-baseline)",
    )
    parser.add_argument(
        "--write-baseline",
        metavar="FILE",
        help="record every current finding in FILE (atomically); later runs with "
        "--baseline FILE report only new ones",
    )
    parser.add_argument(
        "--diff",
        metavar="REV",
        help="report only findings on lines changed since git revision REV (e.g. origin/main)",
    )
    parser.add_argument(
        "--sweep",
        metavar="FILE",
        help="a JSON report of `errwise sweep`: mark each finding the sweep confirmed (an error "
        "left silent at its handler) or refuted (the error was reported or propagated there)",
    )
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="no summary and no progress bar on stderr"
    )
    parser.add_argument("--no-config", action="store_true", help="ignore pyproject.toml")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="analyse every file afresh and store nothing (default: reuse the results of "
        "unchanged files)",
    )
    parser.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="where results are cached (default: the project's directory in the user cache, "
        "$ERRWISE_CACHE_DIR or ~/.cache/errwise; a relative DIR is taken from the directory "
        "of the pyproject.toml, else the current directory)",
    )
    parser.set_defaults(handler=run)


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (one per CPU) or more, got {value}")
    return value


def _budget(kind: type[float] | type[int]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or value < 0:
            raise argparse.ArgumentTypeError(f"must be 0 (no limit) or more, got {text}")
        return value

    return parse


def run(args: argparse.Namespace) -> int:
    options = AuditOptions(
        paths=tuple(args.paths) or (".",),
        profile=args.profile,
        select=args.select,
        ignore=args.ignore,
        fail_on=args.fail_on,
        exclude=tuple(args.exclude),
        jobs=args.jobs,
        no_config=args.no_config,
        cache=not args.no_cache,
        cache_dir=args.cache_dir,
        file_timeout=args.file_timeout,
        file_memory=args.file_memory,
    )
    audit = plan(options)
    known = read_baseline(args.baseline) if args.baseline else None  # usage errors first
    changes = changed_lines(audit.root, args.diff) if args.diff is not None else None
    swept = None
    if args.sweep:
        from errwise.sweep.crosslink import read_sweep

        swept = read_sweep(args.sweep)
    to_stdout = not args.output
    bar = None
    if progress_wanted(sys.stderr, quiet=args.quiet, fmt=args.format, to_stdout=to_stdout):
        bar = ProgressBar(sys.stderr)
    try:
        report = execute(audit, bar)
    finally:
        if bar is not None:
            bar.finish()
    written: int | None = None  # how many findings the baseline written holds
    if args.write_baseline:
        write_baseline(args.write_baseline, report.findings)
        written = len(report.findings)
    if known is not None:
        apply_baseline(report, known)
    if changes is not None:
        apply_diff(report, changes)
    marked = None
    if swept is not None:
        from errwise.sweep.crosslink import mark_findings

        marked = mark_findings(report, swept)
    colour = to_stdout and wants_colour(sys.stdout)
    output = render(args.format, report, colour=colour)
    if args.output:
        atomic_write(args.output, output)
    else:
        _emit(output)
    sys.stderr.write(summary_text(report, counts=not args.quiet, colour=wants_colour(sys.stderr)))
    if marked is not None and not args.quiet:
        sys.stderr.write(f"errwise: sweep {args.sweep}: {marked}\n")
    code = report.exit_code()
    if written is not None and not args.quiet:
        plural = "" if written == 1 else "s"
        sys.stderr.write(
            f"errwise: baseline {args.write_baseline} written: {written} finding{plural}\n"
        )
    # Writing a baseline records the findings as known: that is the run's success.
    return 0 if code == 1 and (args.exit_zero or written is not None) else code


def _emit(text: str) -> None:
    """Write to stdout; characters its encoding cannot carry (text format; JSON is ASCII)
    become backslash escapes instead of a crash after the whole run."""
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        encoding = sys.stdout.encoding or "utf-8"
        sys.stdout.write(text.encode(encoding, "backslashreplace").decode(encoding))
    sys.stdout.flush()
