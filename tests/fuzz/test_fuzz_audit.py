"""Generated programs end as findings or per-file diagnostics, never as a failure of errwise.

A small, seeded, deterministic slice of what `make fuzz` does at length: programs from
pysource-codegen (fixed seeds; each as generated and dressed with the names the rules know, see
`fuzz_programs`), from hypothesmith and from `fuzz_programs.error_handling` (composed try
statements, handlers and the calls around them; derandomized), each audited through
`scan_source` + `finish_scan` and rendered in every report format by `fuzz_check.check`.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterator
from dataclasses import replace

import hypothesmith
import pytest
from fuzz_check import Outcome, check, signature_of_diagnostic
from fuzz_programs import dressed, error_handling, generated
from hypothesis import HealthCheck, given, settings

from errwise.audit import engine
from errwise.audit import report as report_formats
from errwise.audit.finding import Finding
from errwise.audit.model import FileModel
from errwise.audit.report import AuditReport
from errwise.audit.rules import all_rules

SEEDS = range(40)
NODE_LIMIT = 400
"""Programs of about 1 KB: the generator's cost grows with the node count, the suite's budget
is seconds (`make fuzz` goes bigger)."""

_HYPOTHESIS = settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


def _assert_coped(outcome: Outcome, source: str) -> None:
    assert not outcome.failures, "\n".join(
        [*outcome.failures, *outcome.details, "--- program ---", source]
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_codegen_program_is_audited_without_internal_error(seed: int) -> None:
    try:
        source = generated(seed, NODE_LIMIT)
    except ValueError as exc:  # the generator's own limits (an f-string it cannot unparse)
        pytest.skip(f"pysource-codegen cannot generate seed {seed}: {exc}")
    _assert_coped(check(source), source)
    dressed_source = dressed(source, seed)
    _assert_coped(check(dressed_source), dressed_source)


def test_dressing_renames_deterministically_and_still_parses() -> None:
    source = "try:\n    name_0(name_1.name_2)\nexcept name_3 as name_4:\n    name_5 = name_4\n"
    once = dressed(source, 7)
    assert once == dressed(source, 7)
    assert "name_" not in once
    tree = ast.parse(once)
    handler = next(n for n in ast.walk(tree) if isinstance(n, ast.ExceptHandler))
    assert handler.name is not None
    assert handler.name.isidentifier()
    assert {dressed(source, seed) for seed in range(20)} != {once}


@_HYPOTHESIS
@given(hypothesmith.from_grammar())
def test_grammar_program_is_audited_without_internal_error(source: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        _assert_coped(check(source), source)


@settings(_HYPOTHESIS, max_examples=8)
@given(hypothesmith.from_node())
def test_cst_program_is_audited_without_internal_error(source: str) -> None:
    _assert_coped(check(source), source)


@settings(_HYPOTHESIS, max_examples=60)
@given(error_handling())
def test_error_handling_program_is_audited_without_internal_error(source: str) -> None:
    outcome = check(source)
    _assert_coped(outcome, source)


# The harness itself: a failure it is meant to catch, injected, is caught.

_SAMPLE = """
def save(path, data):
    try:
        open(path, "w").write(data)
    except Exception:
        pass
"""


def test_error_handling_programs_give_the_rules_something_to_find() -> None:
    @settings(_HYPOTHESIS, max_examples=20)
    @given(error_handling())
    def count(source: str) -> None:
        counts.append(check(source).findings)

    counts: list[int] = []
    count()
    assert sum(counts) >= len(counts)


def test_check_counts_findings_of_a_program_errwise_copes_with() -> None:
    outcome = check(_SAMPLE)
    assert outcome.findings >= 1
    assert outcome.failures == []


def test_check_names_a_rule_that_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(model: FileModel) -> Iterator[Finding]:
        raise KeyError("injected")

    first, *others = all_rules()
    monkeypatch.setattr(engine, "all_rules", lambda: (replace(first, check=broken), *others))
    outcome = check(_SAMPLE)
    assert outcome.diagnostics["ERR_INTERNAL"] == 1
    assert outcome.failures == [
        f"ERR_INTERNAL: rule {first.id} {first.name} failed on this file: KeyError"
    ]


def test_check_names_a_renderer_that_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(report: object) -> str:
        raise TypeError("injected")

    patched = tuple(
        replace(f, render=broken) if f.name == "sarif" else f for f in report_formats.formats()
    )
    monkeypatch.setattr(report_formats, "formats", lambda: patched)
    outcome = check(_SAMPLE)
    assert outcome.failures == ["TypeError at __init__.py:render"]
    assert "injected" in outcome.details[0]


def test_check_names_a_format_whose_output_loses_a_record(monkeypatch: pytest.MonkeyPatch) -> None:
    def two_lines_a_finding(report: AuditReport) -> str:
        return "".join(f"::error::{f.message}\n\n" for f in report.findings)

    patched = tuple(
        replace(f, render=two_lines_a_finding) if f.name == "github" else f
        for f in report_formats.formats()
    )
    monkeypatch.setattr(report_formats, "formats", lambda: patched)
    assert check(_SAMPLE).failures == ["malformed github output: not one line per record"] * 2


def test_diagnostic_signature_keeps_what_failed_and_the_exception_type() -> None:
    message = (
        "rule EW104 broad-catch failed on this file: IndexError: list index out of range "
        "(a bug in errwise; please report it)"
    )
    assert signature_of_diagnostic(message) == (
        "ERR_INTERNAL: rule EW104 broad-catch failed on this file: IndexError"
    )
