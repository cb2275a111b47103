"""`errwise codes`: list every registered error code (name, kind, exit code, title)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from errwise.codes import all_codes


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "codes", help="list the error codes", description="List every registered error code."
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
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
