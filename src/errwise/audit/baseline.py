"""Baselines: record today's findings, then report only new ones.

Promise: `write_baseline(path, findings)` writes, atomically (`errwise.atomic_write`), a JSON
document `{"version": 1, "tool": "errwise", "findings": [...]}` whose entries (`fingerprint`,
`rule`, `path`, `function`) are sorted and one per line-group, so a changed baseline reads well
in a diff; line numbers are left out on purpose (they move with every edit above). The match is
the finding's fingerprint (see `FileModel.finding`): it survives lines inserted above and edits
elsewhere in the function, and changes when the judged code itself changes — which makes the
finding new again. `read_baseline(path)` returns the recorded fingerprints; a missing,
unreadable, corrupt or other-version file is a `UsageError` that names the file, says why and
how to regenerate it. It is read with `errwise.ops.safeio.read_regular` (a symlink the user
named is followed): a FIFO, a device (a link to `/dev/zero`), a file over `BASELINE_LIMIT`
bytes, undecodable or too deeply nested JSON are refused the same way — never a hang, never
an internal error.
`apply_baseline(report, fingerprints)` drops the recorded findings and counts them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from errwise.audit.finding import Finding
from errwise.audit.report.model import AuditReport
from errwise.error import Error, UsageError, usage
from errwise.ops.atomic import atomic_write
from errwise.ops.safeio import read_regular

__all__ = [
    "BASELINE_LIMIT",
    "BASELINE_VERSION",
    "write_baseline",
    "read_baseline",
    "apply_baseline",
    "render",
]

BASELINE_VERSION = 1
BASELINE_LIMIT = 256 << 20
"""The largest baseline read (256 MiB: about a million findings)."""


def render(findings: Iterable[Finding]) -> str:
    """The baseline document for `findings` (sorted, stable, diff-friendly JSON)."""
    entries = sorted(
        (
            {
                "fingerprint": f.fingerprint,
                "function": f.function,
                "path": f.path,
                "rule": f.rule,
            }
            for f in findings
        ),
        key=lambda e: (e["path"] or "", e["rule"] or "", e["fingerprint"] or ""),
    )
    document = {"version": BASELINE_VERSION, "tool": "errwise", "findings": entries}
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def write_baseline(path: str, findings: Iterable[Finding]) -> None:
    atomic_write(path, render(findings))


def _regenerate(path: str) -> str:
    return (
        f"regenerate it with `errwise audit --write-baseline {path} PATH...` "
        "(this records every current finding as known)"
    )


def _bad(path: str, why: str) -> UsageError:
    return usage("ERR_USAGE", f"baseline {path}: {why}; {_regenerate(path)}", path=path)


def read_baseline(path: str) -> frozenset[str]:
    """The fingerprints recorded in the baseline at `path` (see the module promise)."""
    try:
        data = read_regular(path, limit=BASELINE_LIMIT, follow_symlinks=True)
    except Error as err:
        reason = err.context.get("reason")
        if reason == "missing":
            raise usage(
                "ERR_USAGE",
                f"baseline {path} does not exist; create it with "
                f"`errwise audit --write-baseline {path} PATH...`",
                path=path,
            ) from None
        if err.code == "ERR_IS_A_DIRECTORY":
            raise _bad(path, "is a directory, not a baseline file") from None
        if reason == "unreadable":
            errno_value = err.context.get("errno")
            why = os.strerror(errno_value) if isinstance(errno_value, int) else err.message
            raise _bad(path, f"cannot be read ({why})") from err
        raise _bad(path, str(err.context.get("detail") or err.message)) from None
    try:
        document: Any = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise _bad(path, f"is not valid JSON ({exc})") from None
    except RecursionError:
        raise _bad(path, "is nested too deeply to be a baseline") from None
    if not isinstance(document, dict):
        raise _bad(path, "is not a baseline (expected a JSON object)")
    version = document.get("version")
    if version != BASELINE_VERSION:
        raise _bad(
            path,
            f"has version {version!r}, this errwise reads version {BASELINE_VERSION}",
        )
    entries = document.get("findings")
    if not isinstance(entries, list):
        raise _bad(path, "has no `findings` list")
    prints: set[str] = set()
    for i, entry in enumerate(entries):
        fingerprint = entry.get("fingerprint") if isinstance(entry, dict) else None
        if not isinstance(fingerprint, str) or not fingerprint:
            raise _bad(path, f"entry {i} has no fingerprint")
        prints.add(fingerprint)
    return frozenset(prints)


def apply_baseline(report: AuditReport, fingerprints: frozenset[str]) -> None:
    """Drop the findings the baseline holds (counted in `report.baselined`)."""
    kept = [f for f in report.findings if f.fingerprint not in fingerprints]
    report.baselined += len(report.findings) - len(kept)
    report.findings = kept
