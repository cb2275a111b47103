"""`--diff REV`: keep only findings on lines changed since a git revision.

Promise: `changed_lines(root, rev)` asks git (`git diff --unified=0 REV`, run through
`errwise.run` with a timeout, paths relative to `root`, hardened by `errwise.audit.gitsafe`: no
fsmonitor hook, external diff, textconv, filter driver, pager or fetch that the repository's
configuration names is run) which lines of which files differ from REV
in the work tree — staged or not — and counts untracked, not-ignored files as changed throughout.
A revision git does not know, or a directory that is not in a git work tree, is a `UsageError`
quoting git; a revision that looks like an option is refused before git runs. `apply_diff(report,
changed)` keeps the findings whose line range touches a changed line and counts the others in
`report.outside_diff`.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence

from errwise.audit.gitsafe import (
    FILTER_DRIVERS_QUERY,
    filter_overrides,
    git_argv,
    git_diff_options,
    git_env,
    parse_filter_drivers,
)
from errwise.audit.report.model import AuditReport
from errwise.error import Error, usage
from errwise.ops.run import run_result
from errwise.result import Err

__all__ = ["Changes", "changed_lines", "apply_diff", "GIT_DIFF_TIMEOUT"]

GIT_DIFF_TIMEOUT = 60.0

Changes = dict[str, list[tuple[int, int]] | None]
"""Path → changed (first, last) line ranges of the new version; None: the whole file is new."""

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def _git(root: str, *args: str, check_only: bool = False, extra_config: Sequence[str] = ()) -> str:
    outcome = run_result(
        git_argv(*args, extra_config=extra_config),
        cwd=root,
        env=git_env(),
        timeout=GIT_DIFF_TIMEOUT,
        max_output=None,
        context={"purpose": "errwise audit --diff"},
    )
    if isinstance(outcome, Err):
        error: Error = outcome.error
        if error.code == "ERR_SUBPROCESS_FAILED" and check_only:
            return ""
        if error.code == "ERR_SUBPROCESS_FAILED":
            stderr = str(error.context.get("stderr_tail", "")).strip().splitlines()
            why = stderr[-1] if stderr else error.message
            raise usage("ERR_USAGE", f"--diff: git {args[0]} failed: {why}") from error
        raise error
    return outcome.value.stdout


def _path(text: str) -> str:
    text = text.strip()
    if text.startswith('"') and text.endswith('"'):  # C-quoted by git (tabs, newlines, quotes)
        raw = codecs.escape_decode(text[1:-1].encode("utf-8"))[0]
        return raw.decode("utf-8", "backslashreplace")
    return text


def parse_diff(text: str) -> Changes:
    changes: Changes = {}
    current: str | None = None
    for line in text.splitlines():
        if line.startswith("+++ "):
            target = line[4:]
            current = None if target == "/dev/null" else _path(target).removeprefix("b/")
            if current is not None:
                changes.setdefault(current, [])
            continue
        match = _HUNK.match(line)
        if match and current is not None:
            start, count = int(match.group(1)), int(match.group(2) or "1")
            ranges = changes[current]
            if ranges is not None and count > 0:
                ranges.append((start, start + count - 1))
    return changes


def changed_lines(root: str, rev: str) -> Changes:
    if not rev or rev.startswith("-"):
        raise usage(
            "ERR_USAGE", f"--diff needs a git revision (a branch, tag or commit), not {rev!r}"
        )
    inside = _git(root, "rev-parse", "--is-inside-work-tree", check_only=True)
    if inside.strip() != "true":
        raise usage("ERR_USAGE", f"--diff: {root} is not inside a git work tree")
    # `git diff` hashes modified work-tree files through the filter drivers the repository
    # configures: list them first (reading the configuration runs nothing), then neutralise each.
    drivers = parse_filter_drivers(_git(root, *FILTER_DRIVERS_QUERY, check_only=True))
    diff = _git(
        root,
        "diff",
        "--unified=0",
        "--inter-hunk-context=0",
        *git_diff_options(),
        "--relative",
        rev,
        "--",
        extra_config=filter_overrides(drivers),
    )
    changes = parse_diff(diff)
    for path in _git(root, "ls-files", "--others", "--exclude-standard").splitlines():
        if path:
            changes[_path(path)] = None
    return changes


def apply_diff(report: AuditReport, changes: Changes) -> None:
    kept = []
    for finding in report.findings:
        if finding.path not in changes:
            continue
        ranges = changes[finding.path]
        if ranges is None or any(
            first <= finding.end_line and finding.line <= last for first, last in ranges
        ):
            kept.append(finding)
    report.outside_diff += len(report.findings) - len(kept)
    report.findings = kept
