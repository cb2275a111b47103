"""`errwise explain RULE`: the full documentation of one audit rule, as Markdown.

Promise: RULE is an id or a name in any case (`EW104`, `best-effort-loop`); an unknown one is a
usage error (exit 2) that suggests the closest rule and points at `errwise rules`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from errwise.audit.pyconfig import resolve_rules, rule_by_key
from errwise.error import usage

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "explain",
        help="show the documentation of an audit rule",
        description="Show what a rule finds, why it hurts, an example and the fix.",
    )
    parser.add_argument("rule", metavar="RULE", help="a rule id or name (see `errwise rules`)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    ids = resolve_rules([args.rule], where="errwise explain")
    if not ids:
        raise usage("ERR_USAGE", "errwise explain needs a rule id or name; see `errwise rules`")
    rule = rule_by_key()[next(iter(ids)).lower()]
    sys.stdout.write(rule.doc_markdown())
    return 0
