"""`errwise explain RULE`: the full documentation of one audit rule, as Markdown.

Promise: RULE is an id or a name in any case (`EW104`, `best-effort-loop`); an unknown one is a
usage error (exit 2) that suggests the closest rule and points at `errwise rules`. The text is
the rule's documentation (its profiles and measured precision, what it finds, why it hurts, an
example, the fix) followed by the
production impact a report gives its findings: what users and operators see, and what it adds
when the code involved takes locks, rolls back, changes files, runs processes or talks to the
network.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from errwise.audit.pyconfig import resolve_rules, rule_by_key
from errwise.audit.report.impact import effect_impacts, effects_matter, rule_impact
from errwise.audit.rule import Rule
from errwise.audit.rules.measured import measured
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
    figure = measured(rule.id)
    sentence = "" if figure is None else figure.sentence()
    sys.stdout.write(rule.doc_markdown(sentence) + impact_markdown(rule))
    return 0


def impact_markdown(rule: Rule) -> str:
    """The "Production impact" section for `rule`."""
    lines = ["", "## Production impact", ""]
    own = rule_impact(rule.id)
    if own:
        lines += [own, ""]
    if not effects_matter(rule.id):
        return "\n".join(lines).rstrip("\n") + "\n"
    lines += ["What else happens depends on what the code involved does; when it...", ""]
    labels = {
        "lock": "takes or releases a lock",
        "cleanup": "rolls back or cleans up",
        "disk": "changes files",
        "process": "runs or signals processes",
        "network": "talks to another host",
    }
    lines += [f"- **{labels[effect]}**: {text}" for effect, text in effect_impacts().items()]
    lines += [
        "",
        "A finding's severity is judged from what its code does: critical when state (locks, "
        "files, rollback) is silently left wrong, high when the cause is lost or replaced by a "
        "plausible value.",
    ]
    return "\n".join(lines) + "\n"
