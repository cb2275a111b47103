"""`errwise clean [PATH ...]`: remove what killed errwise writers left behind.

Promise: in each named directory (default: the current one) — and, with `--recursive`, in every
directory below it, symlinks not followed — removes the entries `errwise.ops.leftovers` proves
abandoned: `atomic_write` temp files and `staged_output` staging directories (and trees moved
aside, once their replacement is in place) of a dead process, older than `--min-age` seconds
(default: one hour). Nothing else is ever touched: not a live process's entry, not a name that
merely looks similar, not a symlink. Each removal is one line on stdout (`removed PATH: what`);
`--dry-run` prints `would remove PATH: what` and removes nothing. A summary goes to stderr.
Exit 0 when every directory could be searched and every leftover removed; a directory that is
missing, not a directory or unreadable, or a leftover that cannot be removed, is reported on
stderr and the run ends with that environment error (exit 10) after the others are done; a bad
flag is a usage error (exit 2).
"""

from __future__ import annotations

import argparse
import math
import os
import stat
import sys
from collections.abc import Iterator
from typing import Any

from errwise.classify import classify
from errwise.error import Error, env, usage
from errwise.ops import leftovers

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "clean",
        help="remove leftovers of killed errwise writers (temp files, staging directories)",
        description="Remove atomic_write temp files and staged_output staging directories left "
        "by errwise processes that were killed, once provably abandoned (owner dead, older than "
        "--min-age).",
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="directories to clean (default: .)"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="list what would be removed; remove nothing"
    )
    parser.add_argument(
        "-r", "--recursive", action="store_true", help="also clean every directory below PATH"
    )
    parser.add_argument(
        "--min-age",
        type=float,
        default=leftovers.SAFE_AGE_S,
        metavar="SECONDS",
        help=f"only leftovers older than this (default: {leftovers.SAFE_AGE_S:g})",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    min_age: float = args.min_age
    if not math.isfinite(min_age) or min_age < 0:
        raise usage("ERR_USAGE", f"--min-age must be a number of seconds >= 0, not {min_age}")
    problems: list[Error] = []
    count, size, directories = 0, 0, 0
    verb = "would remove" if args.dry_run else "removed"
    for given in args.paths or [os.curdir]:
        for directory in _directories(given, recursive=args.recursive, problems=problems):
            directories += 1
            try:
                found = leftovers.find_leftovers(directory, min_age=min_age)
            except OSError as exc:
                _problem(problems, classify(exc).with_context(path=directory), "cannot search")
                continue
            for leftover in found:
                path = os.path.join(directory, leftover.name)
                if not args.dry_run:
                    try:
                        leftovers.remove(directory, leftover)
                    except OSError as exc:
                        _problem(problems, classify(exc).with_context(path=path), "cannot remove")
                        continue
                sys.stdout.write(f"{verb} {path}: {leftover.describe()}\n")
                count += 1
                size += leftover.size
    sys.stdout.flush()
    noun = "leftover" if count == 1 else "leftovers"
    sys.stderr.write(
        f"errwise clean: {verb} {count} {noun} ({size} bytes in temp files) "
        f"in {directories} director{'y' if directories == 1 else 'ies'}\n"
    )
    if problems:
        first = problems[0]
        raise env(
            first.code,
            f"{len(problems)} problem(s) while cleaning (listed above); the first: {first.message}",
            **first.context,
        ) from first
    return 0


def _directories(given: str, *, recursive: bool, problems: list[Error]) -> Iterator[str]:
    try:
        info = os.stat(given)
    except OSError as exc:
        _problem(problems, classify(exc).with_context(path=given), "cannot clean")
        return
    if not stat.S_ISDIR(info.st_mode):
        _problem(
            problems,
            env("ERR_NOT_A_DIRECTORY", f"{given} is not a directory", path=given),
            "cannot clean",
        )
        return
    if not recursive:
        yield given
        return

    def on_error(exc: OSError) -> None:
        path = exc.filename if isinstance(exc.filename, str) else given
        _problem(problems, classify(exc).with_context(path=path), "cannot search")

    for dirpath, dirnames, _files in os.walk(given, onerror=on_error, followlinks=False):
        # Never descend into a scratch tree itself: whatever it holds goes with it.
        dirnames[:] = sorted(d for d in dirnames if not leftovers.is_scratch_name(d))
        yield dirpath


def _problem(problems: list[Error], error: Error, what: str) -> None:
    sys.stderr.write(f"errwise clean: {what} {error.context.get('path')}: {error.message}\n")
    problems.append(error)
