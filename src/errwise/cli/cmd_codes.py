"""`errwise codes`: list every registered error code (name, kind, exit code, title).

Promise: the listing (text or JSON, sorted by name) goes to stdout and holds every built-in code
and every code registered by the modules named with `--module` (imported first, from `sys.path`
and the current directory), so an application's own codes are listed beside errwise's.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import Any

from errwise._jsonable import safe_str
from errwise.codes import all_codes
from errwise.error import target, usage


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "codes", help="list the error codes", description="List every registered error code."
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--module",
        "-m",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first, so that the codes it registers are listed too (repeatable)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    for name in args.module:
        _import(name)
    codes = list(all_codes())
    if args.format == "json":
        rows = [
            {
                "code": c.name,
                "kind": c.kind.value,
                "exit_code": c.kind.exit_code,
                "title": c.title,
                "recoverable": c.recoverable,
                "doc": c.doc,
            }
            for c in codes
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    width = max(len(c.name) for c in codes)
    for c in codes:
        sys.stdout.write(
            f"{c.name:<{width}}  {c.kind.value:<11}  {c.kind.exit_code:>3}  {c.title}\n"
        )
    return 0


def _import(name: str) -> None:
    """Import an application module that registers codes; its failures are classified."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if name == missing or name.startswith(missing + "."):
            error = usage("ERR_USAGE", f"no module named {name!r}", module=name)
            error.add_hint("run from the directory holding it, or install the package it is in")
            raise error from exc
        raise _import_failed(name, exc) from exc
    # errwise: ignore[broad-catch] -- importing runs the application's code: whatever it raises
    # is reported as the target's failure, with the original chained.
    except Exception as exc:
        raise _import_failed(name, exc) from exc


def _import_failed(name: str, exc: Exception) -> Exception:
    return target(
        "ERR_TARGET_RAISED",
        f"importing {name} raised {type(exc).__name__}: {safe_str(exc)}",
        module=name,
    )
