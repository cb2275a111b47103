"""Analyse one file: decode, parse, model, run the selected rules, apply suppressions.

Promise: `analyze_source` never raises for any input text or bytes: undecodable, binary,
unparsable or pathologically nested input yields a `Diagnostic` (ERR_DECODE, ERR_PARSE), and a
rule that fails on a file yields an ERR_INTERNAL diagnostic naming the rule while the other rules
still run. Findings come back sorted, with fingerprints made unique within the file.
"""

from __future__ import annotations

import ast
import io
import tokenize
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

from errwise.audit.config import AuditConfig
from errwise.audit.details import attach_details
from errwise.audit.effects import StateChangeMatcher
from errwise.audit.finding import Diagnostic, Finding
from errwise.audit.infer import (
    FileFacts,
    Program,
    fill_hidden_errors,
    kb_for,
    program_for,
    summarize,
)
from errwise.audit.model import FileModel
from errwise.audit.rule import Rule
from errwise.audit.rules import all_rules
from errwise.audit.strengths import Strength, strengths
from errwise.audit.suppress import Suppressions

__all__ = ["FileResult", "analyze_source", "decode_source", "summarize_source"]


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
    result = FileResult(path)
    model = _model(source, path, config, module_name, result)
    if model is None:
        return result
    if program is not None:
        model.program = program
    selected = [r for r in (rules if rules is not None else all_rules()) if config.selects(r, path)]
    findings: list[Finding] = []
    for rule in selected:
        try:
            findings.extend(rule.check(model))
        # errwise: ignore[broad-catch] -- a failing rule is contained: the file gets a diagnostic
        except Exception as exc:
            result.diagnostics.append(
                Diagnostic(
                    path,
                    "ERR_INTERNAL",
                    f"rule {rule.id} {rule.name} failed on this file: "
                    f"{type(exc).__name__}: {exc} (a bug in errwise; please report it)",
                )
            )
    findings = _resolve_claims(findings)
    suppressions = Suppressions.scan(model.source)
    kept = [f for f in findings if not suppressions.silences(f)]
    result.suppressed = len(findings) - len(kept)
    kept.sort(key=Finding.sort_key)
    _uniquify_fingerprints(kept)
    if kept:
        fill_hidden_errors(kept, program_for(model))
    attach_details(model, kept)
    result.strengths = strengths(model)
    result.findings = kept
    return result


def summarize_source(
    source: str | bytes,
    path: str,
    config: AuditConfig | None = None,
    module_name: str | None = None,
) -> FileFacts | None:
    """The inference summary of one file (None when it cannot be parsed: `analyze_source`
    reports why)."""
    config = config or AuditConfig()
    model = _model(source, path, config, module_name, FileResult(path))
    return None if model is None else summarize(model, kb_for(config))


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
    except (RecursionError, MemoryError):
        result.diagnostics.append(
            Diagnostic(path, "ERR_PARSE", "code nested too deeply to analyse")
        )
        return None
    model.config = config
    return model


def _parse(source: str, path: str, result: FileResult) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings of the audited code are not ours
            return ast.parse(source, filename=path)
    except SyntaxError as exc:
        where = f" at line {exc.lineno}" if exc.lineno else ""
        result.diagnostics.append(
            Diagnostic(path, "ERR_PARSE", f"syntax error{where}: {exc.msg}", exc.lineno)
        )
    except ValueError as exc:  # source with NUL characters
        result.diagnostics.append(Diagnostic(path, "ERR_DECODE", f"not Python text: {exc}"))
    except (RecursionError, MemoryError):
        result.diagnostics.append(
            Diagnostic(path, "ERR_PARSE", "code nested too deeply for the Python parser")
        )
    return None


def _resolve_claims(findings: list[Finding]) -> list[Finding]:
    """Of the findings claiming one except clause, keep the most specific rule's."""
    best: dict[tuple[int, int], int] = {}
    for f in findings:
        if f.claim is not None:
            best[f.claim] = max(best.get(f.claim, f.specificity), f.specificity)
    return [f for f in findings if f.claim is None or f.specificity == best[f.claim]]


def _uniquify_fingerprints(findings: list[Finding]) -> None:
    seen: dict[str, int] = {}
    for finding in findings:
        n = seen.get(finding.fingerprint, 0)
        seen[finding.fingerprint] = n + 1
        if n:
            finding.fingerprint = f"{finding.fingerprint}-{n}"
