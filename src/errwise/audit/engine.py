"""Analyse one file: decode, parse, model, run the selected rules, apply suppressions.

The work comes in two halves, so a multi-file run parses each file once: `scan_source` does
everything that needs the syntax tree and returns a picklable `FileScan` (in a worker process, or
from the cache); `finish_scan` completes it with the whole program's facts (resolving the rules'
`Deferred` checks, claims, suppressions, hidden errors). `analyze_source` is the two in a row.

Promise: `analyze_source` never raises for any input text or bytes: undecodable, binary,
unparsable or pathologically nested input yields a `Diagnostic` (ERR_DECODE, ERR_PARSE), and a
rule that fails on a file yields an ERR_INTERNAL diagnostic naming the rule while the other rules
still run. Code nested too deeply for any phase (a `RecursionError` in parsing, modelling,
inference, a rule, the details, or the finishing with the program's facts) is the file's one
ERR_PARSE diagnostic (`too_deep`), never ERR_INTERNAL: nothing that phase half-made is kept.
Findings come back sorted, with fingerprints made unique within the file.
"""

from __future__ import annotations

import ast
import io
import tokenize
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from errwise.audit.budget import memory_capped
from errwise.audit.chunkparse import parse_module
from errwise.audit.config import AuditConfig
from errwise.audit.deferred import Deferred
from errwise.audit.details import attach_details
from errwise.audit.effects import StateChangeMatcher
from errwise.audit.finding import Diagnostic, Finding
from errwise.audit.infer import (
    FileFacts,
    Program,
    fill_hidden_errors,
    kb_for,
    summarize,
)
from errwise.audit.model import FileModel
from errwise.audit.rule import Rule
from errwise.audit.rules import all_rules
from errwise.audit.rules.ew108_ignored_error_result import failure_results
from errwise.audit.strengths import Strength, strengths
from errwise.audit.suppress import Suppressions

__all__ = [
    "FileResult",
    "FileScan",
    "analyze_source",
    "decode_source",
    "finish_scan",
    "scan_source",
    "summarize_source",
    "too_deep",
]


@dataclass(slots=True)
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    lines: int = 0
    suppressed: int = 0
    strengths: list[Strength] = field(default_factory=list)
    """What the file already does well (see `errwise.audit.strengths`)."""


def decode_source(data: bytes, path: str) -> str | Diagnostic:
    """Decode file bytes honouring a BOM and a PEP 263 coding cookie (default UTF-8)."""
    if b"\0" in data:
        return Diagnostic(path, "ERR_DECODE", "binary file (contains NUL bytes), not Python text")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError) as exc:
        return Diagnostic(path, "ERR_DECODE", f"bad encoding declaration: {exc}")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return Diagnostic(
            path, "ERR_DECODE", f"not valid {exc.encoding} text at byte {exc.start}", line
        )
    return text.removeprefix("\ufeff")


@dataclass(slots=True)
class FileScan:
    """Everything one file's analysis needs its syntax tree for, as picklable data: what
    `scan_source` makes (in a worker process, or from the cache) and `finish_scan` completes
    with the whole program's facts."""

    path: str
    lines: int = 0
    diagnostics: list[Diagnostic] = field(default_factory=list)
    facts: FileFacts | None = None
    """The file's inference summary; None when it could not be parsed or summarised."""
    findings: list[Finding] = field(default_factory=list)
    """The findings of every rule that needs only this file, details attached, nothing
    resolved, suppressed or sorted yet."""
    deferred: list[Deferred[Any]] = field(default_factory=list)
    suppressions: Suppressions = field(default_factory=lambda: Suppressions({}))
    strengths: list[Strength] = field(default_factory=list)
    selected: frozenset[str] = frozenset()
    """The ids of the rules asked for on this file. Rules that judge except clauses run on
    every file that asks for one of them (their findings decide a handler's severity and its
    `also`), but only the findings of selected rules are reported."""


def analyze_source(
    source: str | bytes,
    path: str = "<string>",
    config: AuditConfig | None = None,
    rules: Sequence[Rule] | None = None,
    module_name: str | None = None,
    *,
    program: Program | None = None,
) -> FileResult:
    """Audit one file's source (see the module promise). `path` is the reported path.

    `program` holds the program-wide inference facts of a multi-file run (built from every
    file's `summarize_source`); without it the file is reasoned about on its own, and calls into
    other files count as unknown.
    """
    config = config or AuditConfig()
    scan = scan_source(source, path, config, rules, module_name)
    if program is None:
        program = Program([] if scan.facts is None else [scan.facts], kb_for(config))
    return finish_scan(scan, program, config)


def scan_source(
    source: str | bytes,
    path: str,
    config: AuditConfig,
    rules: Sequence[Rule] | None = None,
    module_name: str | None = None,
) -> FileScan:
    """The first half of `analyze_source`: decode, parse, model and summarise the file, run
    every selected rule on it; what needs other files is left in `FileScan.deferred`."""
    partial = FileResult(path)
    try:
        return _scan(source, path, config, rules, module_name, partial=partial)
    except RecursionError:
        return FileScan(path, lines=partial.lines, diagnostics=[too_deep(path)])


def _scan(
    source: str | bytes,
    path: str,
    config: AuditConfig,
    rules: Sequence[Rule] | None,
    module_name: str | None,
    *,
    partial: FileResult,
) -> FileScan:
    model = _model(source, path, config, module_name, partial)
    scan = FileScan(path, lines=partial.lines, diagnostics=partial.diagnostics)
    if model is None:
        return scan
    try:
        _check(model, scan, path, config, rules)
    # errwise: ignore[interrupt-skips-cleanup] -- release() frees memory, it undoes no state;
    # on an interrupt the process is stopping, and freeing a large model would only delay it
    except Exception:
        # A file too deep, say: break the model's reference cycles all the same, so its objects
        # are freed at once, not left for a full collection to find.
        model.release()
        raise
    model.release()
    return scan


def _check(
    model: FileModel,
    scan: FileScan,
    path: str,
    config: AuditConfig,
    rules: Sequence[Rule] | None,
) -> None:
    """Summarise the modelled file and run the selected rules on it, into `scan`."""
    kb = kb_for(config)
    try:
        scan.facts = summarize(model, kb)
    except (RecursionError, MemoryError):
        raise  # the whole file is too deep or too big (`scan_source`), not a bug of the inference
    # errwise: ignore[broad-catch] -- containment: the file's facts count as unknown and the
    # file says why; the rules that need no facts still run
    except Exception as exc:
        scan.diagnostics.append(_failed(path, "the exception-flow inference", exc))
    if scan.facts is not None:
        scan.facts.results = failure_results(model)  # what other files' EW108 checks read
    model.program = Program([] if scan.facts is None else [scan.facts], kb)
    selected = [r for r in (rules if rules is not None else all_rules()) if config.selects(r, path)]
    scan.selected = frozenset(r.id for r in selected)
    if any(r.specificity for r in selected):
        # The other judges of except clauses, for the handler's severity and `also`.
        selected += [r for r in all_rules() if r.specificity and r.id not in scan.selected]
    for rule in selected:
        try:
            for item in rule.check(model):
                if isinstance(item, Deferred):
                    scan.deferred.append(item)
                else:
                    scan.findings.append(item)
        except (RecursionError, MemoryError):
            raise  # the whole file is too deep or too big (`scan_source`), not a bug of the rule
        # errwise: ignore[broad-catch] -- a failing rule is contained: the file gets a diagnostic
        except Exception as exc:
            scan.diagnostics.append(_failed(path, f"rule {rule.id} {rule.name}", exc))
    attach_details(model, [*scan.findings, *(s for d in scan.deferred for s in d.skeletons)])
    scan.suppressions = Suppressions.scan(model.source)
    scan.strengths = strengths(model)


def finish_scan(scan: FileScan, program: Program, config: AuditConfig) -> FileResult:
    """The second half of `analyze_source`: resolve the deferred checks with the program's
    facts, keep one finding per claimed clause, apply suppressions, sort, fill hidden errors."""
    try:
        return _finish(scan, program, config)
    except RecursionError:
        return FileResult(
            scan.path, lines=scan.lines, diagnostics=[*scan.diagnostics, too_deep(scan.path)]
        )


def _finish(scan: FileScan, program: Program, config: AuditConfig) -> FileResult:
    result = FileResult(
        scan.path, lines=scan.lines, diagnostics=list(scan.diagnostics), strengths=scan.strengths
    )
    findings = list(scan.findings)
    for deferred in scan.deferred:
        try:
            findings.extend(deferred.run(program, config))
        except RecursionError:
            raise  # the whole file is too deep (`finish_scan`), not a bug of the rule
        # errwise: ignore[broad-catch] -- a failing rule is contained: the file gets a diagnostic
        except Exception as exc:
            result.diagnostics.append(_failed(scan.path, f"rule {deferred.rule}", exc))
    findings = _resolve_claims(findings, scan.selected)
    kept = [f for f in findings if not scan.suppressions.silences(f)]
    result.suppressed = len(findings) - len(kept)
    kept.sort(key=Finding.sort_key)
    _uniquify_fingerprints(kept)
    if kept:
        fill_hidden_errors(kept, program)
    result.findings = kept
    return result


def too_deep(path: str) -> Diagnostic:
    """The diagnostic of a file whose code is nested too deeply to analyse."""
    return Diagnostic(path, "ERR_PARSE", "code nested too deeply to analyse")


def _failed(path: str, what: str, exc: Exception) -> Diagnostic:
    return Diagnostic(
        path,
        "ERR_INTERNAL",
        f"{what} failed on this file: {type(exc).__name__}: {exc} "
        "(a bug in errwise; please report it)",
    )


def summarize_source(
    source: str | bytes,
    path: str,
    config: AuditConfig | None = None,
    module_name: str | None = None,
) -> FileFacts | None:
    """The inference summary of one file (None when it cannot be parsed: `analyze_source`
    reports why)."""
    config = config or AuditConfig()
    try:
        model = _model(source, path, config, module_name, FileResult(path))
        if model is None:
            return None
        facts = summarize(model, kb_for(config))
        facts.results = failure_results(model)
        return facts
    except RecursionError:
        return None  # too deep: `analyze_source` says so


def _model(
    source: str | bytes,
    path: str,
    config: AuditConfig,
    module_name: str | None,
    result: FileResult,
) -> FileModel | None:
    """Decode, parse and model one file; a diagnostic in `result` (and None) when it cannot."""
    if isinstance(source, bytes):
        decoded = decode_source(source, path)
        if isinstance(decoded, Diagnostic):
            result.diagnostics.append(decoded)
            return None
        source = decoded
    result.lines = source.count("\n") + (0 if source.endswith("\n") or not source else 1)
    tree = _parse(source, path, result)
    if tree is None:
        return None
    try:
        model = FileModel.build(
            tree, path, source, module_name, StateChangeMatcher(config.extend_state_changing)
        )
    except RecursionError:
        result.diagnostics.append(too_deep(path))
        return None
    model.config = config
    return model


_PARSE_FITS_ANY_CAP = 1 << 20
"""Characters of source whose parse fits in the smallest memory cap (about 170 bytes a character
at the peak, against at least 256 MiB of headroom)."""


def _parse(source: str, path: str, result: FileResult) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings of the audited code are not ours
            return parse_module(source, path)  # in pieces: Ctrl-C is served meanwhile
    except SyntaxError as exc:
        where = f" at line {exc.lineno}" if exc.lineno else ""
        result.diagnostics.append(
            Diagnostic(path, "ERR_PARSE", f"syntax error{where}: {exc.msg}", exc.lineno)
        )
    except ValueError as exc:  # source with NUL characters
        result.diagnostics.append(Diagnostic(path, "ERR_DECODE", f"not Python text: {exc}"))
    except MemoryError:
        # The parser says "out of memory" for a nesting its stack cannot follow too. Under a
        # memory cap (always 256 MiB over what the process holds) only a source of megabytes can
        # really exhaust it; a smaller one is that nesting.
        if not memory_capped() or len(source) < _PARSE_FITS_ANY_CAP:
            result.diagnostics.append(
                Diagnostic(path, "ERR_PARSE", "code nested too deeply for the Python parser")
            )
        else:
            result.diagnostics.append(
                Diagnostic(
                    path,
                    "ERR_IO",
                    "out of memory analysing this file: the Python parser needs more than the "
                    "per-file budget (--file-memory; 0: none): too large, or nested too deeply",
                )
            )
    except RecursionError:
        result.diagnostics.append(
            Diagnostic(path, "ERR_PARSE", "code nested too deeply for the Python parser")
        )
    return None


def _resolve_claims(findings: list[Finding], selected: frozenset[str]) -> list[Finding]:
    """One finding per except clause: the most specific selected rule's, with the handler's
    severity — the one the most specific rule judging the clause gave it, selected or not, so
    turning a rule off does not change how bad a handler is — and the other selected rules it
    breaks in `also` (most specific first). Findings of rules not selected are dropped."""
    claims: dict[tuple[int, int], list[Finding]] = {}
    kept: list[Finding] = []
    for f in findings:
        if f.claim is None:
            if f.rule in selected:
                kept.append(f)
        else:
            claims.setdefault(f.claim, []).append(f)
    for judged in claims.values():
        shown = sorted(
            (f for f in judged if f.rule in selected), key=lambda f: (-f.specificity, f.rule)
        )
        if not shown:
            continue
        primary = shown[0]
        judge = min(judged, key=lambda f: (-f.specificity, f.rule))
        primary.severity = judge.severity
        primary.also = list(dict.fromkeys(f.name for f in shown[1:] if f.name != primary.name))
        kept.append(primary)
    return kept


def _uniquify_fingerprints(findings: list[Finding]) -> None:
    seen: dict[str, int] = {}
    for finding in findings:
        n = seen.get(finding.fingerprint, 0)
        seen[finding.fingerprint] = n + 1
        if n:
            finding.fingerprint = f"{finding.fingerprint}-{n}"
