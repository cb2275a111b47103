"""Tie a sweep's verdicts to the auditor's findings: confirmed, miss, refuted.

Promise: `crosslink(root, runs, profile="strict")` audits, in this process and without importing
them, the files that hold the handlers of `runs` (the sweep JSON's run objects, paths relative to
`root`) with every rule of `profile`, and sorts each handler the sweep reached:

- **confirmed**: a run left the error *silent* at the handler and the auditor has a finding about
  that except clause (its rule id);
- **miss**: a run left the error silent there and the auditor says nothing about the clause;
- **refuted**: the auditor has a finding about the clause, and every run that reached the handler
  proved the error *reported* or *propagated* (never silent).

How a finding is matched to a handler, precisely: the lost-error rules (swallowed-exception,
error-as-sentinel, silent-fallback, best-effort-loop, broad-catch, lost-traceback) *claim* the
except clause they judge (`Finding.claim`: its line and column; the auditor keeps one finding
per claimed clause, the most specific, the others in `also`). Such a claim, on the handler's
file and `except` line, belongs to the handler: those rules say "this clause loses the error",
which a run proves (silent: confirmed) or disproves (reported/propagated: refuted). One more
rule reports at the except line and can be proved by a run: conflated-errno ("this clause
treats a real failure like the expected errno") is confirmed by a silent run whose fault is a
real failure (`HARD_FAULTS`: ENOSPC, EACCES, EIO ...); it is never refuted (passing an error on
does not undo the conflation). The rules left also report at the except line but judge what a
fault at a call site does not test (swallows-interrupt, interrupt-skips-cleanup, dead-handler,
shadowed-handler), or report inside the clause (raise-without-cause at its `raise`): they never
confirm nor get refuted, and are listed under `other` of a miss, so a reader sees the auditor
did look at that clause. A `with contextlib.suppress(...)` handler is judged by no rule, so a
silent run there is always a miss. Paths are compared absolute, so `link` also serves an audit
run from another directory (`errwise audit --sweep FILE`).

Only the project's handlers are linked: a handler outside `root` (the standard library's
`Path.exists()` answering ENOENT with False, an installed package) is not the auditor's to judge
and is neither audited nor counted. For each handler one entry, naming the first of its runs in
a stable order (transient before persistent, then by run id) and how many runs showed it
(`runs`). A file the auditor could not analyse is listed in `unaudited` (its handlers then are
neither confirmed nor refuted, but a silent one is still a miss, with `unaudited: true`).
`read_sweep(path)` reads a sweep JSON for `errwise audit --sweep`; a missing, unreadable or
malformed file is a `UsageError` naming it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from errwise.audit.finding import Finding
from errwise.audit.report.model import AuditReport
from errwise.audit.runner import AuditOptions, run_audit
from errwise.error import Error, UsageError, usage
from errwise.ops.safeio import read_regular

__all__ = [
    "CrossLink",
    "HARD_FAULTS",
    "HandlerKey",
    "Mark",
    "SweepFile",
    "SWEEP_LIMIT",
    "crosslink",
    "link",
    "mark_findings",
    "read_sweep",
]

HandlerKey = tuple[str, int]
"""A handler: (path relative to the sweep's root, `/`-separated; except or `with` line)."""

SWEEP_LIMIT = 256 << 20
"""The largest sweep JSON read (256 MiB)."""

_CLEARING = frozenset({"reported", "propagated"})

HARD_FAULTS = frozenset(
    {"ENOSPC", "EDQUOT", "EACCES", "EPERM", "EROFS", "EIO", "EMFILE", "ENFILE", "disk-io", "locked"}
)
"""Faults no handler means when it checks for an expected errno (EEXIST, ENOENT, ESRCH ...),
sqlite3's disk I/O error and "database is locked" included: a silent one at a conflated-errno
clause proves the conflation."""
_CONFLATED = "conflated-errno"


@dataclass(frozen=True, slots=True)
class Mark:
    """What a sweep proved about one finding (JSON field `sweep` of an audit finding)."""

    status: Literal["confirmed", "refuted"]
    fault: str
    operation: str
    replay: str
    verdict: str
    test: str | None
    runs: int
    """How many runs showed the same (silent runs for confirmed, clearing runs for refuted)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "fault": self.fault,
            "operation": self.operation,
            "replay": self.replay,
            "verdict": self.verdict,
            "test": self.test,
            "runs": self.runs,
        }


@dataclass(slots=True)
class CrossLink:
    """The outcome of `crosslink` (see the module promise); lists of plain JSON-ready dicts."""

    confirmed: list[dict[str, Any]] = field(default_factory=list)
    miss: list[dict[str, Any]] = field(default_factory=list)
    refuted: list[dict[str, Any]] = field(default_factory=list)
    rules: dict[HandlerKey, str] = field(default_factory=dict)
    """Handler -> the rule id of the auditor's finding about it (reached handlers only)."""
    unaudited: list[dict[str, str]] = field(default_factory=list)
    """Files holding handlers the auditor could not analyse: `path`, `code`, `message`."""

    def to_dict(self) -> dict[str, Any]:
        """The sweep JSON's `crosslink` object."""
        return {
            "confirmed": self.confirmed,
            "miss": self.miss,
            "refuted": self.refuted,
            "unaudited": self.unaudited,
        }

    def counts(self) -> dict[str, int]:
        return {
            "confirmed": len(self.confirmed),
            "miss": len(self.miss),
            "refuted": len(self.refuted),
        }


@dataclass(frozen=True, slots=True)
class SweepFile:
    """What `errwise audit --sweep` needs of a sweep JSON."""

    root: Path
    runs: list[dict[str, Any]]


@dataclass(slots=True)
class _Evidence:
    silent: list[Mapping[str, Any]] = field(default_factory=list)
    clearing: list[Mapping[str, Any]] = field(default_factory=list)
    function: str | None = None


def crosslink(
    root: Path, runs: Sequence[Mapping[str, object]], *, profile: str = "strict"
) -> CrossLink:
    """Audit the handlers' files and sort the reached handlers (see the module promise)."""
    root = Path(os.path.abspath(root))
    evidence = {k: v for k, v in _evidence(runs).items() if _within(root, k[0])}
    result = CrossLink()
    files = sorted({path for path, _ in evidence})
    findings: list[Finding] = []
    unaudited: set[str] = set()
    if files:
        report = run_audit(
            AuditOptions(
                paths=tuple(str(root / path) for path in files),
                root=str(root),
                profile=profile,
                jobs=1,
            )
        )
        findings = report.findings
        for diag in report.diagnostics:
            result.unaudited.append({"path": diag.path, "code": diag.code, "message": diag.message})
            unaudited.add(_absolute(root, diag.path))
    claims, conflated, others = _index(findings, root)
    for key in sorted(evidence):
        seen = evidence[key]
        where = _absolute(root, key[0]), key[1]
        finding = claims.get(where)
        proof = seen.silent
        if finding is None and where in conflated and _hard(seen.silent):
            finding, proof = conflated[where], _hard(seen.silent)
        if finding is not None:
            result.rules[key] = finding.rule
        if seen.silent:
            entry = {"path": key[0], "line": key[1], "function": seen.function}
            if finding is not None:
                result.confirmed.append(
                    {
                        **entry,
                        **_about(_first(proof)),
                        "runs": len(proof),
                        "rule": finding.rule,
                        "name": finding.name,
                        "also": finding.also,
                    }
                )
            else:
                entry.update(_about(_first(seen.silent)), runs=len(seen.silent))
                entry["other"] = sorted(others.get(where, ()))
                if where[0] in unaudited:
                    entry["unaudited"] = True
                result.miss.append(entry)
        elif seen.clearing and finding is not None:
            run = _first(seen.clearing)
            result.refuted.append(
                {
                    "path": key[0],
                    "line": key[1],
                    "function": seen.function,
                    "rule": finding.rule,
                    "name": finding.name,
                    **_about(run),
                    "runs": len(seen.clearing),
                }
            )
    return result


def link(
    findings: Iterable[Finding],
    findings_root: Path | str,
    runs: Sequence[Mapping[str, object]],
    sweep_root: Path | str,
) -> dict[int, Mark]:
    """`id(finding)` -> what the sweep proved about it, for the findings of an audit run whose
    paths are relative to `findings_root` (see the module promise for which findings get one)."""
    evidence = _evidence(runs)
    by_place = {(_absolute(Path(sweep_root), k[0]), k[1]): v for k, v in evidence.items()}
    marks: dict[int, Mark] = {}
    for finding in findings:
        path = _absolute(Path(findings_root), finding.path)
        if finding.claim is not None:
            seen = by_place.get((path, finding.claim[0]))
            if seen is not None and seen.silent:
                marks[id(finding)] = _mark("confirmed", seen.silent)
            elif seen is not None and seen.clearing:
                marks[id(finding)] = _mark("refuted", seen.clearing)
        elif finding.name == _CONFLATED:
            seen = by_place.get((path, finding.line))
            if seen is not None and _hard(seen.silent):
                marks[id(finding)] = _mark("confirmed", _hard(seen.silent))
    return marks


def mark_findings(report: AuditReport, swept: SweepFile) -> str:
    """Set `Finding.sweep` on the findings of `report` that `swept` confirmed or refuted; one
    line saying how many of each."""
    marks = link(report.findings, report.root or os.curdir, swept.runs, swept.root)
    counts = {"confirmed": 0, "refuted": 0}
    for finding in report.findings:
        mark = marks.get(id(finding))
        if mark is not None:
            finding.sweep = mark.to_dict()
            counts[mark.status] += 1
    return (
        f"{counts['confirmed']} finding(s) confirmed, {counts['refuted']} refuted "
        f"(of {len(swept.runs)} run(s) of the sweep of {swept.root})"
    )


def _mark(status: Literal["confirmed", "refuted"], runs: list[Mapping[str, Any]]) -> Mark:
    run = _first(runs)
    about = _about(run)
    return Mark(
        status,
        about["fault"],
        about["operation"],
        about["replay"],
        about["verdict"],
        about["test"],
        len(runs),
    )


def _about(run: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "fault": str(run.get("fault", "")),
        "operation": str(run.get("operation", "")),
        "persistent": bool(run.get("persistent", False)),
        "verdict": str(run.get("verdict", "")),
        "test": run.get("test") if isinstance(run.get("test"), str) else None,
        "run": str(run.get("id", "")),
        "replay": str(run.get("replay", "")),
    }


def _first(runs: list[Mapping[str, Any]]) -> Mapping[str, Any]:
    return min(runs, key=lambda r: (bool(r.get("persistent")), str(r.get("id", ""))))


def _evidence(runs: Sequence[Mapping[str, object]]) -> dict[HandlerKey, _Evidence]:
    """Per handler: the runs that left the error silent there, and the runs whose error it
    caught that ended reported or propagated."""
    out: dict[HandlerKey, _Evidence] = {}
    for run in runs:
        verdict = run.get("verdict")
        stopped = _place(run.get("handler"))
        if verdict == "silent" and stopped is not None:
            seen = out.setdefault(stopped[0], _Evidence())
            seen.silent.append(run)
            seen.function = seen.function or stopped[1]
        elif verdict in _CLEARING:
            caught = run.get("handlers")
            places = [_place(h) for h in (caught if isinstance(caught, list) else [])]
            places.append(stopped)
            for place in dict.fromkeys(p for p in places if p is not None):
                seen = out.setdefault(place[0], _Evidence())
                seen.clearing.append(run)
                seen.function = seen.function or place[1]
    return out


def _place(value: object) -> tuple[HandlerKey, str | None] | None:
    if not isinstance(value, Mapping):
        return None
    path, line, function = value.get("path"), value.get("line"), value.get("function")
    if not isinstance(path, str) or not path or type(line) is not int:
        return None
    return (path, line), function if isinstance(function, str) else None


def _hard(runs: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in runs if r.get("fault") in HARD_FAULTS]


_Place = tuple[str, int]


def _index(
    findings: Iterable[Finding], root: Path
) -> tuple[dict[_Place, Finding], dict[_Place, Finding], dict[_Place, set[str]]]:
    """Findings by the clause they claim; conflated-errno findings by their (except) line; the
    other rules' ids by their line."""
    claims: dict[_Place, Finding] = {}
    conflated: dict[_Place, Finding] = {}
    others: dict[_Place, set[str]] = {}
    for finding in findings:
        path = _absolute(root, finding.path)
        if finding.claim is not None:
            claims[(path, finding.claim[0])] = finding
        else:
            if finding.name == _CONFLATED:
                conflated[(path, finding.line)] = finding
            others.setdefault((path, finding.line), set()).add(finding.rule)
    return claims, conflated, others


def _absolute(root: Path, path: str) -> str:
    return os.path.normpath(os.path.join(root, path))


def _within(root: Path, path: str) -> bool:
    """Whether `path` (relative to `root`, or absolute) names a file inside `root` (a frozen
    module, `<frozen genericpath>`, never does)."""
    if path.startswith("<"):
        return False
    relative = os.path.relpath(_absolute(root, path), root)
    return relative != os.pardir and not relative.startswith(os.pardir + os.sep)


# -- reading a sweep JSON (errwise audit --sweep) --------------------------------------------------


def _bad(path: str, why: str) -> UsageError:
    return usage(
        "ERR_USAGE",
        f"sweep file {path}: {why}; write one with "
        f"`errwise sweep --format json --output {path} -- COMMAND...`",
        path=path,
    )


def read_sweep(path: str) -> SweepFile:
    """The root and runs of the sweep JSON at `path` (see the module promise)."""
    try:
        data = read_regular(path, limit=SWEEP_LIMIT, follow_symlinks=True)
    except Error as err:
        reason = err.context.get("reason")
        if reason == "missing":
            raise _bad(path, "does not exist") from None
        if err.code == "ERR_IS_A_DIRECTORY":
            raise _bad(path, "is a directory, not a sweep file") from None
        errno_value = err.context.get("errno")
        why = os.strerror(errno_value) if isinstance(errno_value, int) else err.message
        raise _bad(path, f"cannot be read ({why})") from err
    try:
        document: Any = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise _bad(path, f"is not valid JSON ({exc})") from None
    except RecursionError:
        raise _bad(path, "is nested too deeply to be a sweep report") from None
    if not isinstance(document, dict) or "runs" not in document:
        raise _bad(path, "is not a sweep report (expected a JSON object with `runs`)")
    if document.get("version") != 1:
        raise _bad(path, f"has version {document.get('version')!r}, this errwise reads version 1")
    root = document.get("root")
    if not isinstance(root, str) or not os.path.isabs(root):
        raise _bad(path, "has no absolute `root` (the swept project's directory)")
    runs = document["runs"]
    if not isinstance(runs, list):
        raise _bad(path, "has a `runs` that is not a list")
    for i, run in enumerate(runs):
        if not isinstance(run, dict) or not isinstance(run.get("verdict"), str):
            raise _bad(path, f"run {i} is not an object with a `verdict`")
        for key in ("handler", "handlers"):
            value = run.get(key)
            if key == "handler" and value is not None and _place(value) is None:
                raise _bad(path, f"run {i} has a malformed `handler` (expected path and line)")
            if key == "handlers" and value is not None and not isinstance(value, list):
                raise _bad(path, f"run {i} has a `handlers` that is not a list")
    return SweepFile(Path(root), runs)
