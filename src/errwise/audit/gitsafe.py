"""Run git on a repository errwise does not trust: the argv and environment of every git call.

Promise: `git_argv(*args)` and `git_env()` build a git command that a repository's own
configuration (`.git/config`, files it includes, `.gitattributes`) cannot turn into running a
program, a pager, a prompt or a network fetch, following git's advice for untrusted repositories:

- `core.fsmonitor=false` (`ls-files`, `diff`, `check-ignore` would otherwise run the hook it
  names), `core.hooksPath=/dev/null`;
- no pager (`--no-pager`, `GIT_PAGER=cat`, `PAGER=cat`) and no prompt (`GIT_TERMINAL_PROMPT=0`,
  `GIT_ASKPASS` / `SSH_ASKPASS` emptied);
- no transport at all (`protocol.allow=never`, `GIT_ALLOW_PROTOCOL` empty, `GIT_NO_LAZY_FETCH=1`):
  a "partial clone" cannot lazily fetch a missing object through a command the config names;
- no optional lock or index refresh written into the repository (`GIT_OPTIONAL_LOCKS=0`);
- `git_diff_options()`: `--no-ext-diff --no-textconv` and fixed prefixes, so `diff.external`,
  `diff.<driver>.command` / `.textconv` and `diff.noprefix` have no say;
- `filter_overrides(config)`: the `-c` options that empty every `filter.<driver>` the
  configuration defines (`clean`, `smudge`, `process`, `required=false`), for commands that hash
  work-tree files (`diff`); `parse_filter_drivers` reads their names from `git config -z
  --get-regexp`.

`safe.directory` is never overridden: a repository owned by another user stays refused by git.
The caller runs the command with a timeout (`GIT_TIMEOUT_S` by default).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from errwise.error import usage

__all__ = [
    "GIT_TIMEOUT_S",
    "MAX_FILTER_DRIVERS",
    "FILTER_DRIVERS_QUERY",
    "git_argv",
    "git_env",
    "git_diff_options",
    "filter_overrides",
    "parse_filter_drivers",
]

GIT_TIMEOUT_S = 30.0
"""Seconds a git call may take (callers may pass their own bound)."""

MAX_FILTER_DRIVERS = 256
"""More filter drivers than this in one configuration is refused (a usage error), not run."""

_HARDENING = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "protocol.allow=never",
    "core.quotePath=false",
)

FILTER_DRIVERS_QUERY = ("config", "-z", "--get-regexp", r"^filter\.")
"""The git arguments listing the configured filter drivers (for `parse_filter_drivers`)."""


def git_argv(*args: str, extra_config: Iterable[str] = ()) -> list[str]:
    """`git --no-pager -c <hardening>... [-c <extra_config>...] <args>`."""
    argv = ["git", "--no-pager"]
    for setting in (*_HARDENING, *extra_config):
        argv += ["-c", setting]
    argv += args
    return argv


def git_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of `base` (default `os.environ`) with the variables that keep git quiet and local."""
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "GIT_PAGER": "cat",
            "PAGER": "cat",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "",
            "SSH_ASKPASS": "",
            "GIT_OPTIONAL_LOCKS": "0",
            "GIT_ALLOW_PROTOCOL": "",
            "GIT_NO_LAZY_FETCH": "1",
        }
    )
    # A program named by the caller's environment is the caller's choice, but a diff run for the
    # auditor must parse as a plain diff: never an external one.
    env.pop("GIT_EXTERNAL_DIFF", None)
    return env


def git_diff_options() -> list[str]:
    """Options making `git diff` output a plain unified diff whatever the configuration says."""
    return [
        "--no-ext-diff",
        "--no-textconv",
        "--no-color",
        "--src-prefix=a/",
        "--dst-prefix=b/",
    ]


def parse_filter_drivers(output: str) -> list[str]:
    """Driver names from the output of `git <FILTER_DRIVERS_QUERY>` (`key\\nvalue\\0`...)."""
    names: list[str] = []
    for record in output.split("\0"):
        key = record.split("\n", 1)[0]
        if not key.startswith("filter.") or key.count(".") < 2:
            continue
        name = key[len("filter.") : key.rfind(".")]
        if name not in names:
            names.append(name)
    return names


def filter_overrides(drivers: Iterable[str]) -> list[str]:
    """The `-c` settings that turn each filter driver into a no-op git does not require."""
    names = list(drivers)
    if len(names) > MAX_FILTER_DRIVERS:
        raise usage(
            "ERR_USAGE",
            f"the git configuration defines {len(names)} filter drivers; errwise neutralises at "
            f"most {MAX_FILTER_DRIVERS} and does not run git with the others",
        )
    settings: list[str] = []
    for name in names:
        if "\n" in name or "\0" in name:
            raise usage("ERR_USAGE", f"a git filter driver has an unusable name: {name!r}")
        settings += [
            f"filter.{name}.clean=",
            f"filter.{name}.smudge=",
            f"filter.{name}.process=",
            f"filter.{name}.required=false",
        ]
    return settings
