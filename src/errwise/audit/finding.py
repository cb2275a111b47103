"""What the auditor reports: findings (a defect at a place) and diagnostics (a file it could not
analyse), with the severity scale of ../shared/design.md.

Promise: `Finding.to_dict()` and `Diagnostic.to_dict()` produce exactly the JSON field names of
design.md; these names are stable (`sweep` is additive: present only after `--sweep`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Severity", "Finding", "Diagnostic", "FindingDetails"]


class Severity(enum.Enum):
    """How bad a finding is; ordered: CRITICAL > HIGH > MEDIUM > LOW."""

    CRITICAL = "critical"
    """A failure silently leaves shared state wrong (locks, ownership, on-disk state, rollback)."""
    HIGH = "high"
    """The error's cause is lost or replaced by a plausible value."""
    MEDIUM = "medium"
    """Too broad or too late, but the failure still surfaces."""
    LOW = "low"
    """Robustness gaps (timeouts, parsing) and hygiene."""

    @property
    def rank(self) -> int:
        """3 for critical down to 0 for low."""
        return _RANK[self]

    def at_least(self, other: Severity) -> bool:
        return _RANK[self] >= _RANK[other]

    def raised(self, steps: int = 1) -> Severity:
        """This severity moved `steps` up (negative: down), clamped to the scale."""
        rank = max(0, min(3, _RANK[self] + steps))
        return _BY_RANK[rank]

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Parse a severity name; a usage error names the allowed values."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            from errwise.error import usage

            raise usage(
                "ERR_USAGE",
                f"unknown severity {text!r}; allowed: critical, high, medium, low",
            ) from None


_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}
_BY_RANK = {rank: sev for sev, rank in _RANK.items()}


@dataclass(frozen=True, slots=True)
class FindingDetails:
    """What reports need beyond the JSON fields: the code and what it does (not in `to_dict`)."""

    excerpt: tuple[str, ...] = ()
    """Source lines around the finding, bounded (see `errwise.audit.details`)."""
    excerpt_start: int = 1
    """The line number of `excerpt[0]`."""
    module: str | None = None
    """The dotted module name of the file, when it sits in a package."""
    effects: tuple[str, ...] = ()
    """What the code the finding judges does: "disk", "process", "network", "lock", "cleanup"."""
    calls: tuple[tuple[str, str], ...] = ()
    """Calls in that code a test can make fail, most state-changing first: (patch target, as
    written). The patch target is `module.attr` / `attr` (a name in the audited module)."""
    end_line_of_scope: int | None = None
    """The last line of the enclosing function (for `path:line-range`)."""
    scope_line: int | None = None
    """The `def` line of the enclosing function."""


@dataclass(slots=True)
class Finding:
    """One defect at one place. Field names are the JSON contract of design.md."""

    rule: str
    name: str
    severity: Severity
    path: str
    line: int
    col: int
    end_line: int
    end_col: int
    function: str | None
    message: str
    recommendation: str
    fingerprint: str
    hidden_errors: list[str] = field(default_factory=list)
    hidden_errors_complete: bool = False
    """False when some call in the guarded code could not be resolved (the list may be partial)."""
    suppress_lines: tuple[int, ...] = ()
    """Extra lines where a suppression comment silences this finding (e.g. the `except` line)."""
    claim: tuple[int, int] | None = None
    """The (line, col) of the except clause this finding judges; of several findings claiming
    one clause, only those of the most specific rule are kept (see `Rule.specificity`)."""
    specificity: int = 0
    also: list[str] = field(default_factory=list)
    """The names of the other rules the same except clause breaks (its own rule is the most
    specific); JSON field `also`."""
    details: FindingDetails | None = None
    """Excerpt and facts for rich reports (Markdown, SARIF); None when not computed."""
    sweep: dict[str, Any] | None = None
    """What a failure-path sweep proved about the handler (`errwise audit --sweep FILE`):
    `status` confirmed or refuted, `fault`, `operation`, `replay`...; JSON field `sweep`,
    present only when set."""

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.col, self.rule)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity.value,
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "end_line": self.end_line,
            "end_col": self.end_col,
            "function": self.function,
            "message": self.message,
            "hidden_errors": list(self.hidden_errors),
            "recommendation": self.recommendation,
            "fingerprint": self.fingerprint,
            "also": list(self.also),
            "precision": _precision(self.rule),
        } | ({} if self.sweep is None else {"sweep": dict(self.sweep)})


def _precision(rule_id: str) -> dict[str, float | int] | None:
    from errwise.audit.rules.measured import measured

    figure = measured(rule_id)
    return None if figure is None else figure.to_dict()


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A file the auditor could not analyse (or a rule that failed on it)."""

    path: str
    code: str
    message: str
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "code": self.code, "message": self.message}
        if self.line is not None:
            data["line"] = self.line
        return data
