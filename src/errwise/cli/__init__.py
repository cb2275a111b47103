"""The `errwise` command line: one sub-command per module in this package.

Promise: diagnostics go to stderr, never stdout; the exit code follows the kind of the error
(../shared/design.md); each sub-command module exposes `register(subparsers)`, which adds its
parser and sets `handler` (a callable taking the parsed namespace and returning an exit code).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from errwise import __version__
from errwise.cli import cmd_audit, cmd_clean, cmd_codes, cmd_explain, cmd_rules, cmd_sweep
from errwise.entry import run_main
from errwise.policy import add_arguments as add_policy_arguments

__all__ = ["main", "console_main", "build_parser"]

# Each sub-command module registers itself here; keep one entry per line.
_COMMANDS = (
    cmd_codes,
    cmd_audit,
    cmd_rules,
    cmd_explain,
    cmd_clean,
    cmd_sweep,
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


def console_main() -> NoReturn:
    """The `errwise` console script: `main()`, then the process ends at once (`run_main`'s
    `hard_exit`), without freeing what the run built: an interrupted audit of a large file, or
    a large audit, does not spend seconds tearing down its syntax trees after its last line."""
    sys.exit(_run(None, hard_exit=True))  # hard_exit ends the process before this exit


def main(argv: Sequence[str] | None = None) -> int:
    """Run the errwise command line and return its exit code.

    The run goes through `errwise.run_main`: the policy flags (`--json-errors`, `--on-error`, …)
    are accepted before or after the sub-command, errors become the exit code of their kind with
    the message on stderr, Ctrl-C is 130, SIGTERM 143, and a closed stdout pipe exits quietly.
    """
    return _run(argv, hard_exit=False)


def _run(argv: Sequence[str] | None, *, hard_exit: bool) -> int:
    parser = build_parser()
    add_policy_arguments(parser)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in set(action.choices.values()):
                add_policy_arguments(subparser.add_argument_group("error policy"))
    return run_main(_dispatch, argv, parser=parser, hard_exit=hard_exit)


def _dispatch(args: argparse.Namespace) -> int:
    code: int = args.handler(args)
    return code
