"""Audit one generated program the way a run does, and say whether errwise failed on it.

Promise: `check(source)` never raises (short of a hang or a KeyboardInterrupt): it scans the
program with `scan_source`, pickles the scan and reads it back (as a worker process sends it),
links its facts into a `Program`, finishes it with `finish_scan` (the two halves every
multi-file run goes through), then renders the one-file report in every format
`errwise.audit.report.formats()` lists, plain and coloured, and reads the JSON, SARIF and
GitHub outputs back: one record per finding and per diagnostic. The `Outcome` counts the
findings and the diagnostics by code and names each failure of errwise by a `signature`: the
exception type and the errwise frame it left from, the part of an ERR_INTERNAL diagnostic that
says which rule or phase failed with which exception type, or the format whose output is
malformed. Two programs with one signature are taken for one crash; the fuzz driver
(`fuzz_run.py`) minimises a program while its signature stays, and the suite's fuzz tests
assert that no program has any.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import traceback
from collections import Counter
from dataclasses import dataclass, field

from errwise.audit import report as _report
from errwise.audit.config import AuditConfig
from errwise.audit.engine import finish_scan, scan_source
from errwise.audit.infer import Program, kb_for
from errwise.audit.report import AuditReport
from errwise.audit.report.model import INTERNAL_CODE
from errwise.audit.rules import all_rules

__all__ = ["Outcome", "check", "signature_of_diagnostic", "signature_of_exception"]

PATH = "fuzzed.py"
"""The path the generated program is audited under."""

_FAILED = re.compile(r"^(?P<what>.*? failed on this file: [\w.]+)")


@dataclass(slots=True)
class Outcome:
    findings: int = 0
    diagnostics: Counter[str] = field(default_factory=Counter)
    """Diagnostics of the program, by code (ERR_INTERNAL included)."""
    failures: list[str] = field(default_factory=list)
    """The signature of each failure of errwise on the program (empty: errwise coped)."""
    details: list[str] = field(default_factory=list)
    """What each failure said (a diagnostic's message or a traceback), in the same order."""


def signature_of_exception(exc: BaseException) -> str:
    """`Type at module.py:function`: the exception and the innermost errwise frame it left."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f"{os.sep}errwise{os.sep}" in f.filename] or frames
    where = f" at {os.path.basename(ours[-1].filename)}:{ours[-1].name}" if ours else ""
    return f"{type(exc).__name__}{where}"


def signature_of_diagnostic(message: str) -> str:
    """The part of an ERR_INTERNAL message naming what failed and with which exception type."""
    matched = _FAILED.match(message)
    return f"ERR_INTERNAL: {matched['what'] if matched else message[:120]}"


def check(source: str, config: AuditConfig | None = None) -> Outcome:
    """Audit `source` and render its report in every format (see the module promise)."""
    outcome = Outcome()
    try:
        _audit_and_render(source, config or AuditConfig(profile="strict"), outcome)
    # errwise: ignore[broad-catch] -- what errwise raises is the finding here: it is recorded
    except Exception as exc:
        outcome.failures.append(signature_of_exception(exc))
        outcome.details.append("".join(traceback.format_exception(exc)))
    return outcome


def _audit_and_render(source: str, config: AuditConfig, outcome: Outcome) -> None:
    # a worker process sends its scan back pickled: the scan must survive the trip
    scan = pickle.loads(pickle.dumps(scan_source(source, PATH, config)))
    program = Program([] if scan.facts is None else [scan.facts], kb_for(config))
    result = finish_scan(scan, program, config)
    outcome.findings = len(result.findings)
    outcome.diagnostics.update(d.code for d in result.diagnostics)
    for diagnostic in result.diagnostics:
        if diagnostic.code == INTERNAL_CODE:
            outcome.failures.append(signature_of_diagnostic(diagnostic.message))
            outcome.details.append(diagnostic.message)
    report = AuditReport(
        findings=result.findings,
        diagnostics=result.diagnostics,
        files=1,
        suppressed=result.suppressed,
        rules=tuple(r.id for r in all_rules()),
        paths=(PATH,),
        root="/fuzz",
        lines=result.lines,
        strengths=result.strengths,
    )
    report.sort()
    for fmt in _report.formats():
        for colour in (False, True):
            text = _report.render(fmt.name, report, colour=colour)
            broken = _malformed(fmt.name, text, report)
            if broken is not None:
                outcome.failures.append(f"malformed {fmt.name} output: {broken}")
                outcome.details.append(text[:4000])


def _malformed(name: str, text: str, report: AuditReport) -> str | None:
    """What is wrong with the output `text` of format `name`, if something visibly is: one
    record per finding and per diagnostic, where the format promises it."""
    counts = (len(report.findings), len(report.diagnostics))
    if name == "json":
        document = json.loads(text)
        got = (len(document["findings"]), len(document["diagnostics"]))
    elif name == "sarif":
        run = json.loads(text)["runs"][0]
        notes = run["invocations"][0]["toolExecutionNotifications"]
        got = (len(run["results"]), len(notes))
    elif name == "github":
        return None if len(text.splitlines()) == sum(counts) else "not one line per record"
    else:
        return None
    return None if got == counts else f"{got} records for {counts}"
