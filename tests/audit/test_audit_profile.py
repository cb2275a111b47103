"""Profiles (`default` / `strict`), support code, one finding per handler with `also`, and each
rule's measured precision in `rules`, `explain` and the JSON output."""

from __future__ import annotations

import dataclasses
import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from errwise.audit.config import AuditConfig
from errwise.audit.engine import analyze_source
from errwise.audit.rules import all_rules, measured
from errwise.error import InternalError

Cli = Callable[..., object]

SWALLOW = textwrap.dedent(
    """
    import logging
    log = logging.getLogger(__name__)

    def save(path, data):
        try:
            with open(path, "w") as fh:
                fh.write(data)
        except Exception as exc:
            log.error("save failed: %s", exc)
    """
)
"""A handler with two problems: too broad and the traceback lost."""


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_a_strict_only_rule_runs_only_in_strict_or_when_selected() -> None:
    rule = next(r for r in all_rules() if r.id == "EW122")
    assert rule.profile == "default"
    strict_only = dataclasses.replace(rule, profile="strict")
    assert not AuditConfig().selects(strict_only)
    assert AuditConfig(profile="strict").selects(strict_only)
    assert AuditConfig(select=frozenset({"EW122"})).selects(strict_only)
    assert AuditConfig(select=frozenset({"network-call-without-timeout"})).selects(strict_only)
    assert not AuditConfig(profile="strict", ignore=frozenset({"EW122"})).selects(strict_only)
    assert AuditConfig().selects(rule)


def test_the_default_profile_holds_only_rules_measured_trustworthy() -> None:
    """A rule is in the default profile only when its measured precision is >= 85 % on at
    least three labelled findings (the figures `bench/precision.py --write-precision` stores)."""
    default = [r for r in all_rules() if r.profile == "default"]
    assert default, "the default profile runs no rule"
    for rule in default:
        figure = measured.measured(rule.id)
        assert figure is not None, rule.id
        assert figure.precision >= 0.85 and figure.labels >= 3, (rule.id, figure)


def test_one_finding_per_handler_names_the_other_rules_it_breaks() -> None:
    findings = analyze_source(SWALLOW, "m.py", AuditConfig(profile="strict")).findings
    on_handler = [f for f in findings if f.line == 9]
    assert len(on_handler) == 1, findings
    primary = on_handler[0]
    assert primary.name == "lost-traceback"
    assert primary.also == ["broad-catch"]
    assert primary.to_dict()["also"] == ["broad-catch"]


def test_the_handlers_severity_does_not_depend_on_which_rules_are_selected() -> None:
    strict = AuditConfig(profile="strict")
    full = next(f for f in analyze_source(SWALLOW, "m.py", strict).findings if f.line == 9)
    config = AuditConfig(profile="strict", ignore=frozenset({"EW113"}))
    without = [f for f in analyze_source(SWALLOW, "m.py", config).findings if f.line == 9]
    assert [f.name for f in without] == ["broad-catch"]
    assert without[0].severity == full.severity
    assert without[0].also == []


def test_a_judge_that_is_not_selected_reports_nothing() -> None:
    config = AuditConfig(select=frozenset({"EW105"}))
    findings = analyze_source(SWALLOW, "m.py", config).findings
    assert {f.rule for f in findings} == {"EW105"}


def test_default_profile_skips_support_code_below_the_named_directory(
    tmp_path: Path, cli: Cli
) -> None:
    _write(
        tmp_path,
        {
            "pkg/core.py": SWALLOW,
            "pkg/tests/test_core.py": SWALLOW,
            "tests/helpers.py": SWALLOW,
            "docs/conf.py": SWALLOW,
            "examples/demo.py": SWALLOW,
            "conftest.py": SWALLOW,
            "test_top.py": SWALLOW,
            "core_test.py": SWALLOW,
            "setup.py": SWALLOW,
            "noxfile.py": SWALLOW,
            "scripts/release.py": SWALLOW,
            "pkg/_vendor/lib.py": SWALLOW,
        },
    )
    picked = ("--select", "EW105,EW113")  # rules run whatever the profile: files are its choice
    run = cli("audit", "--no-cache", "--format", "json", *picked, ".", cwd=tmp_path)
    paths = {f["path"] for f in run.json()["findings"]}  # type: ignore[attr-defined]
    assert paths == {"pkg/core.py"}
    run = cli("audit", "--no-cache", "--format", "json", "--profile", "strict", ".", cwd=tmp_path)
    paths = {f["path"] for f in run.json()["findings"]}  # type: ignore[attr-defined]
    assert paths == {
        "pkg/core.py",
        "pkg/tests/test_core.py",
        "tests/helpers.py",
        "docs/conf.py",
        "examples/demo.py",
        "conftest.py",
        "test_top.py",
        "core_test.py",
        "setup.py",
        "noxfile.py",
        "scripts/release.py",
        "pkg/_vendor/lib.py",
    }


def test_a_named_support_directory_or_file_is_audited(tmp_path: Path, cli: Cli) -> None:
    _write(tmp_path, {"examples/shop/orders.py": SWALLOW, "tests/test_x.py": SWALLOW})
    picked = ("--select", "EW105,EW113")
    run = cli("audit", "--no-cache", "--format", "json", *picked, "examples/shop", cwd=tmp_path)
    assert {f["path"] for f in run.json()["findings"]} == {"examples/shop/orders.py"}  # type: ignore[attr-defined]
    run = cli("audit", "--no-cache", "--format", "json", *picked, "tests/test_x.py", cwd=tmp_path)
    assert {f["path"] for f in run.json()["findings"]} == {"tests/test_x.py"}  # type: ignore[attr-defined]


def test_profile_from_pyproject_and_its_bad_value(tmp_path: Path, cli: Cli) -> None:
    _write(
        tmp_path,
        {"tests/test_x.py": SWALLOW, "pyproject.toml": '[tool.errwise]\nprofile = "strict"\n'},
    )
    run = cli("audit", "--no-cache", "--format", "json", ".", cwd=tmp_path)
    assert {f["path"] for f in run.json()["findings"]} == {"tests/test_x.py"}  # type: ignore[attr-defined]
    run = cli("audit", "--no-cache", "--profile", "default", "--format", "json", ".", cwd=tmp_path)
    assert run.json()["findings"] == []  # type: ignore[attr-defined]
    (tmp_path / "pyproject.toml").write_text('[tool.errwise]\nprofile = "lenient"\n')
    run = cli("audit", "--no-cache", ".", cwd=tmp_path)
    assert run.code == 2  # type: ignore[attr-defined]
    assert "profile" in run.err and "default or strict" in run.err  # type: ignore[attr-defined]


def test_rules_and_explain_show_profile_and_measured_precision(cli: Cli) -> None:
    run = cli("rules", "--format", "json")
    rows = {r["id"]: r for r in run.json()}  # type: ignore[attr-defined]
    for rule in all_rules():
        row = rows[rule.id]
        assert row["profile"] == rule.profile
        figure = measured.measured(rule.id)
        assert row["precision"] == (None if figure is None else figure.to_dict())
    labelled = [r for r in all_rules() if measured.measured(r.id) is not None]
    assert labelled, "precision.json holds no figure at all"
    rule = labelled[0]
    figure = measured.measured(rule.id)
    assert figure is not None
    text = cli("rules").out  # type: ignore[attr-defined]
    line = next(x for x in text.splitlines() if x.startswith(rule.id))
    assert f"{figure.precision:.0%} of {figure.labels}" in line
    assert rule.profile in line
    doc = cli("explain", rule.id).out  # type: ignore[attr-defined]
    assert figure.sentence() in doc


def test_the_json_precision_field_is_the_rules_measured_figure(tmp_path: Path, cli: Cli) -> None:
    _write(tmp_path, {"m.py": SWALLOW})
    run = cli("audit", "--no-cache", "--format", "json", "--profile", "strict", ".", cwd=tmp_path)
    findings = run.json()["findings"]  # type: ignore[attr-defined]
    assert findings
    for f in findings:
        figure = measured.measured(f["rule"])
        assert f["precision"] == (None if figure is None else figure.to_dict())


def test_an_unreadable_precision_table_is_an_internal_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(measured, "_DATA", "no-such-precision.json")
    measured._table.cache_clear()
    try:
        with pytest.raises(InternalError, match=r"no-such-precision\.json"):
            measured.measured("EW101")
    finally:
        monkeypatch.undo()
        measured._table.cache_clear()
    assert json.loads(
        (Path(measured.__file__).parent / "precision.json").read_text(encoding="utf-8")
    )["rules"]
