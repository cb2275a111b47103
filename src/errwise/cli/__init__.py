"""The `errwise` command line: one sub-command per module in this package.

Promise: diagnostics go to stderr, never stdout; the exit code follows the kind of the error
(../shared/design.md); each sub-command module exposes `register(subparsers)`, which adds its
parser and sets `handler` (a callable taking the parsed namespace and returning an exit code).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from errwise import __version__
from errwise.cli import cmd_audit, cmd_codes, cmd_explain, cmd_rules
from errwise.error import Error

__all__ = ["main", "build_parser"]

# Each sub-command module registers itself here; keep one entry per line.
_COMMANDS = (
    cmd_codes,
    cmd_audit,
    cmd_rules,
    cmd_explain,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="errwise",
        description="Errors should never pass silently: audit and harden Python error handling.",
    )
    parser.add_argument("--version", action="version", version=f"errwise {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in _COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the errwise command line and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except Error as err:
        sys.stderr.write(f"errwise: error: {err}\n")
        for hint in err.hints:
            sys.stderr.write(f"hint: {hint}\n")
        return err.exit_code
    return code
