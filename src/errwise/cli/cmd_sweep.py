"""`errwise sweep [OPTIONS] -- COMMAND…` and `errwise sweep merge FILES…`: fail each I/O site the
tests reach, once, and prove what became of the error.

Promise: the report goes to stdout (or atomically to `--output FILE`) in the chosen format;
progress and diagnostics go to stderr (progress not with `-q`). Exit 0 when no error survived
silently (benign declarations excluded), 1 when one did, 2 for a usage error (bad flag, bad
benign declaration, shards that do not belong together), 10 for an environment error (command
not found, the agent never loaded, an unreadable file), 70 for a bug in errwise, 130 on Ctrl-C
— after the partial report and the state are written. `--run ID` makes exactly that one run
and prints its verdict and reason (exit 1 when it is silent). The project is never written to.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from errwise.audit.rule import PROFILES
from errwise.error import usage
from errwise.ops.atomic import atomic_write

__all__ = ["register", "run"]

_EPILOG = """\
examples:
  errwise sweep -- python -m pytest -q tests
  errwise sweep --jobs 4 --format json --output sweep.json -- python -m pytest -q
  errwise sweep --save-baseline base.json --shard 1/2 --format json -o s1.json -- python -m pytest
  errwise sweep --baseline base.json --shard 2/2 --format json -o s2.json -- python -m pytest
  errwise sweep merge s1.json s2.json
exit codes: 0 no silent survival; 1 some error survived silently; 2 usage error; 10 environment
error (command not found, agent not loaded); 70 a bug in errwise; 130 interrupted (the partial
report and the state are written; run the same command again to resume).
Benign declarations: [tool.errwise.sweep] benign = [{handler = "pkg/x.py:15", reason = "..."}]
in the project's pyproject.toml.
"""


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "sweep",
        help="fail each I/O site the tests reach and prove what became of the error",
        description="Run COMMAND (usually python -m pytest ...) once per reached I/O site with "
        "a fault injected there, and report every error that vanished silently, with its "
        "handler. `errwise sweep merge FILES...` combines sharded JSON reports.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "words",
        nargs="*",
        metavar="-- COMMAND",
        help="the command to sweep, after `--`; or `merge FILE...`",
    )
    parser.add_argument("--root", metavar="DIR", help="the project root (default: .)")
    parser.add_argument(
        "--faults",
        default="sweep",
        metavar="CHOICE",
        help="sweep (each operation's typical few, the default), all, or names: ENOSPC,EIO",
    )
    parser.add_argument(
        "-j", "--jobs", type=int, default=1, metavar="N", help="parallel runs (default 1)"
    )
    parser.add_argument("--max-runs", type=int, metavar="N", help="start at most N runs")
    parser.add_argument(
        "--time-budget", type=float, metavar="SECONDS", help="start no run after this long"
    )
    parser.add_argument(
        "--run-timeout",
        type=float,
        metavar="SECONDS",
        help="per-run limit (default: twice the baseline command's time plus ten times the test's, "
        "at least 30 s)",
    )
    parser.add_argument(
        "--baseline-timeout",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="limit of each baseline run (default 3600)",
    )
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="the resumable state file (default: in the user cache, keyed by root and command)",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="ignore an unfinished sweep's state: start again"
    )
    parser.add_argument("--shard", metavar="K/N", help="run only shard K of N of the plan")
    parser.add_argument("--baseline", metavar="FILE", help="use this saved baseline")
    parser.add_argument("--save-baseline", metavar="FILE", help="save the baseline to FILE")
    parser.add_argument("--run", metavar="ID", help="make exactly this one run (a replay)")
    parser.add_argument("--test", metavar="NODEID", help="with --run: the test to run it in")
    parser.add_argument(
        "--format",
        choices=("text", "json", "sarif", "markdown"),
        default="text",
        help="report format (default text)",
    )
    parser.add_argument(
        "--output", "-o", metavar="FILE", help="write the report to FILE (atomically)"
    )
    parser.add_argument(
        "--audit-profile",
        default="strict",
        choices=PROFILES,
        help="the auditor profile for the cross-link (default strict: every rule)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from errwise.sweep.report import exit_code

    words: list[str] = list(args.words)
    root = _root(args.root)
    if words and words[0] == "merge":
        from errwise.sweep.merge import merge_reports

        if args.run or args.shard:
            raise usage("ERR_USAGE", "errwise sweep merge takes report files only")
        report = merge_reports(
            [Path(w) for w in words[1:]],
            profile=args.audit_profile,
            root=root if args.root else None,
        )
        _emit(args, report)
        return exit_code(report)
    if not words:
        err = usage("ERR_USAGE", "errwise sweep needs the command to sweep, after `--`")
        raise err.add_hint("errwise sweep -- python -m pytest -q tests")
    if args.run is not None:
        return _replay(args, root, words)
    options = _options(args, root, words)
    from errwise.sweep.engine import sweep

    report = sweep(options)
    _emit(args, report)
    if not report["summary"]["swept_tests"]:
        _say(
            "warning: no test passed in both baseline runs, so nothing was swept "
            "(see `not_swept` in the report)"
        )
    return exit_code(report)


def _options(args: argparse.Namespace, root: Path, words: Sequence[str]) -> Any:
    from errwise.sweep.engine import SweepOptions
    from errwise.sweep.plan import check_faults, parse_shard

    if args.jobs < 1:
        raise usage("ERR_USAGE", f"--jobs must be >= 1, not {args.jobs}")
    if args.max_runs is not None and args.max_runs < 0:
        raise usage("ERR_USAGE", f"--max-runs must be >= 0, not {args.max_runs}")
    for flag, value in (
        ("--time-budget", args.time_budget),
        ("--run-timeout", args.run_timeout),
        ("--baseline-timeout", args.baseline_timeout),
    ):
        if value is not None and (not math.isfinite(value) or value <= 0):
            raise usage("ERR_USAGE", f"{flag} must be a number of seconds > 0, not {value}")
    check_faults(args.faults)
    say = _quiet if args.quiet else _say
    return SweepOptions(
        command=tuple(words),
        root=root,
        faults=args.faults,
        jobs=args.jobs,
        max_runs=args.max_runs,
        time_budget=args.time_budget,
        run_timeout=args.run_timeout,
        baseline_timeout=args.baseline_timeout,
        shard=parse_shard(args.shard) if args.shard else None,
        state_path=Path(os.path.abspath(args.state)) if args.state else None,
        fresh=args.fresh,
        baseline_file=Path(args.baseline) if args.baseline else None,
        save_baseline=Path(args.save_baseline) if args.save_baseline else None,
        audit_profile=args.audit_profile,
        say=say,
        on_interrupt=lambda partial: _interrupted(args, partial),
    )


def _replay(args: argparse.Namespace, root: Path, words: Sequence[str]) -> int:
    from errwise.sweep.agent.launch import is_pytest
    from errwise.sweep.child import Children
    from errwise.sweep.engine import run_one
    from errwise.sweep.model import parse_run_id

    spec = parse_run_id(args.run, test=args.test)
    options = _options(args, root, words)
    children = Children()
    with tempfile.TemporaryDirectory(prefix="errwise-sweep-") as scratch:
        workdir = Path(scratch)
        timeout = options.run_timeout or 600.0
        if args.test is None and is_pytest(words):  # a plain command runs whole: no test
            spec, timeout = _pick_test(options, spec, workdir, children)
        record = run_one(
            spec,
            command=words,
            root=root,
            workdir=workdir,
            children=children,
            timeout=timeout,
        )
    if args.format == "json":
        _write(args, json.dumps(record, indent=2) + "\n")
    else:
        handler = record["handler"]
        where = f"{handler['path']}:{handler['line']}" if handler else "-"
        _write(
            args,
            f"{record['id']} in {record['test'] or '(the command)'}: {record['verdict']}\n"
            f"  reason:  {record['reason']}\n  handler: {where}\n",
        )
    return 1 if record["verdict"] == "silent" else 0


def _pick_test(options: Any, spec: Any, workdir: Path, children: Any) -> tuple[Any, float]:
    """The cheapest swept test reaching the run's site, from a baseline (given or recorded)."""
    from errwise.sweep.baseline import load_baseline, record_baseline
    from errwise.sweep.engine import default_timeout
    from errwise.sweep.model import RunSpec

    if options.baseline_file is not None:
        baseline = load_baseline(options.baseline_file)
    else:
        baseline = record_baseline(
            options.command,
            root=options.root,
            workdir=workdir,
            children=children,
            timeout=options.baseline_timeout,
            say=options.say,
        )
    test = baseline.sites().get(spec.site)
    if test is None:
        err = usage(
            "ERR_USAGE",
            f"no swept test reaches {spec.path}:{spec.line} ({spec.operation})",
            run=spec.id,
        )
        raise err.add_hint("pass --test NODEID, or check the run id against the sweep report")
    chosen = RunSpec(
        spec.path, spec.line, spec.operation, spec.fault, spec.persistent, test["nodeid"]
    )
    return chosen, options.run_timeout or default_timeout(baseline, chosen.test)


def _root(given: str | None) -> Path:
    root = Path(os.path.abspath(given or os.curdir))
    if not root.is_dir():
        raise usage("ERR_USAGE", f"--root {root} is not a directory", root=str(root))
    return root


def _emit(args: argparse.Namespace, report: dict[str, Any]) -> None:
    from errwise.sweep.render import render

    _write(args, render(args.format, report))
    if args.output and not args.quiet and args.format != "text":
        summary = report["summary"]
        _say(
            f"{summary['runs']} runs, {summary['silent']} silent survival(s); "
            f"report written to {args.output}"
        )


def _interrupted(args: argparse.Namespace, partial: dict[str, Any]) -> None:
    _say("interrupted: writing the partial report; run the same command again to resume")
    _emit(args, partial)


def _write(args: argparse.Namespace, text: str) -> None:
    if args.output:
        atomic_write(args.output, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def _say(text: str) -> None:
    sys.stderr.write(f"errwise sweep: {text}\n")
    sys.stderr.flush()


def _quiet(text: str) -> None:
    del text
