"""`errwise rules`: the auditor's rule catalog — id, name, default severity, profile, measured
precision, one line each.

Promise: text output is one rule per line, sorted by id: id, name, default severity, the
narrowest profile that runs it (`default` or `strict`), the measured precision with the number of
labelled findings it rests on (`-` when none was labelled), the summary. `--format json` is a
list of objects with `id`, `name`, `severity`, `profile`, `precision` (`{"value", "labels"}` or
null), `summary`, and the documentation: `what`, `why`, `example`, `fix` (Markdown / Python
source, as `errwise explain` shows them).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from errwise.audit.rules import all_rules
from errwise.audit.rules.measured import measured

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "rules",
        help="list the audit rules",
        description="List the rules of `errwise audit`: id, name, default severity, profile, "
        "measured precision (of how many labelled findings on real code), summary.",
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
                "profile": r.profile,
                "precision": _figure(r.id),
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
        figure = measured(r.id)
        shown = "-" if figure is None else f"{figure.precision:.0%} of {figure.labels}"
        sys.stdout.write(
            f"{r.id}  {r.name:<{width}}  {r.severity.value:<8}  {r.profile:<7}  {shown:>10}  "
            f"{r.summary}\n"
        )
    return 0


def _figure(rule_id: str) -> dict[str, float | int] | None:
    figure = measured(rule_id)
    return None if figure is None else figure.to_dict()
