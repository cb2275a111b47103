"""`errwise rules`: the auditor's rule catalog — id, name, default severity, one line each.

Promise: text output is one rule per line, sorted by id; `--format json` is a list of objects
with `id`, `name`, `severity`, `summary`, and the documentation: `what`, `why`, `example`,
`fix` (Markdown / Python source, as `errwise explain` shows them).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from errwise.audit.rules import all_rules

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "rules",
        help="list the audit rules",
        description="List the rules of `errwise audit`: id, name, default severity, summary.",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    rules = all_rules()
    if args.format == "json":
        rows = [
            {
                "id": r.id,
                "name": r.name,
                "severity": r.severity.value,
                "summary": r.summary,
                "what": r.what.strip(),
                "why": r.why.strip(),
                "example": r.example.strip("\n"),
                "fix": r.fix.strip(),
            }
            for r in rules
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    width = max((len(r.name) for r in rules), default=0)
    for r in rules:
        sys.stdout.write(f"{r.id}  {r.name:<{width}}  {r.severity.value:<8}  {r.summary}\n")
    return 0
