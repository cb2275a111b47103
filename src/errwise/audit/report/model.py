"""The outcome of one audit run, independent of how it is rendered.

Promise: an `AuditReport` holds the findings and diagnostics of a run in a deterministic order
(sorted by path, then position) whatever the parallelism, and decides the exit code of
../shared/design.md: 70 when errwise itself failed on some file (a rule or the analysis raised:
a bug, reported after everything else), else 1 when some finding is at or above `fail_on`, else
10 when some file could not be analysed, else 0.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from errwise.audit.cache import CacheStats
from errwise.audit.finding import Diagnostic, Finding, Severity
from errwise.audit.strengths import Strength
from errwise.kind import EXIT_FINDINGS, EXIT_OK, Kind

__all__ = ["AuditReport", "INTERNAL_CODE"]

INTERNAL_CODE = "ERR_INTERNAL"
"""The diagnostic code of a failure inside errwise (a rule that raised): a bug."""


@dataclass(slots=True)
class AuditReport:
    findings: list[Finding] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: int = 0
    """Files the run tried to audit."""
    suppressed: int = 0
    """Findings silenced by suppression comments."""
    fail_on: Severity = Severity.LOW
    rules: tuple[str, ...] = ()
    """Ids of the rules the run selected."""
    paths: tuple[str, ...] = ()
    """The paths the run was given (as given)."""
    root: str = ""
    """The absolute directory reported paths are relative to ("" when unknown)."""
    lines: int = 0
    """Lines of the files that were analysed."""
    strengths: list[Strength] = field(default_factory=list)
    """What the audited code already does well, in path order."""
    baselined: int = 0
    """Findings left out because the baseline holds them (`--baseline`)."""
    outside_diff: int = 0
    """Findings left out because no line of theirs changed since `--diff REV`."""
    cache: CacheStats | None = None
    """How the cache served the run (None: no cache); not part of any output format, so a
    cached run renders byte for byte like a fresh one."""
    warnings: list[str] = field(default_factory=list)
    """Problems of the run itself that did not stop it (a cache that could not be written)."""

    def sort(self) -> None:
        """Put findings and diagnostics in their canonical order."""
        self.findings.sort(key=Finding.sort_key)
        self.diagnostics.sort(key=lambda d: (d.path, d.line or 0, d.code, d.message))
        self.strengths.sort(key=lambda s: (s.path, s.line, s.kind))

    @property
    def internal_errors(self) -> list[Diagnostic]:
        """Diagnostics that report a bug in errwise."""
        return [d for d in self.diagnostics if d.code == INTERNAL_CODE]

    @property
    def unanalysed(self) -> list[str]:
        """Paths of files that could not be analysed (undecodable, unparsable, unreadable...)."""
        return sorted({d.path for d in self.diagnostics if d.code != INTERNAL_CODE})

    @property
    def failing(self) -> list[Finding]:
        """Findings at or above the fail threshold."""
        return [f for f in self.findings if f.severity.at_least(self.fail_on)]

    def by_severity(self) -> dict[str, int]:
        counts = Counter(f.severity for f in self.findings)
        return {s.value: counts.get(s, 0) for s in Severity}

    def by_rule(self) -> dict[str, int]:
        counts = Counter(f.rule for f in self.findings)
        return dict(sorted(counts.items()))

    def exit_code(self) -> int:
        """The exit code of the run (see the module promise)."""
        if self.internal_errors:
            return Kind.INTERNAL.exit_code
        if self.failing:
            return EXIT_FINDINGS
        if self.unanalysed:
            return Kind.ENVIRONMENT.exit_code
        return EXIT_OK

    def summary(self) -> dict[str, Any]:
        """The `summary` object of the JSON output."""
        return {
            "files": self.files,
            "files_not_analysed": len(self.unanalysed),
            "findings": len(self.findings),
            "by_severity": self.by_severity(),
            "by_rule": self.by_rule(),
            "suppressed": self.suppressed,
            "diagnostics": len(self.diagnostics),
            "internal_errors": len(self.internal_errors),
            "fail_on": self.fail_on.value,
            "exit_code": self.exit_code(),
        }
