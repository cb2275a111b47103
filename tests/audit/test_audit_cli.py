"""`errwise audit`, `errwise rules`, `errwise explain`: formats, exit codes, --output, --jobs."""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from audit_samples import SWALLOW

from errwise.audit import rules as rules_pkg
from errwise.audit import runner
from errwise.audit.discover import discover
from errwise.audit.finding import Finding, Severity
from errwise.audit.model import FileModel
from errwise.audit.rule import Rule
from errwise.error import UsageError

Cli = Callable[..., Any]

FINALLY_RETURN = """\
def count(path):
    try:
        return int(open(path).read())
    finally:
        return 0
"""
CLEAN = """\
def add(a, b):
    return a + b
"""
FINDING_KEYS = {
    "rule",
    "name",
    "severity",
    "path",
    "line",
    "col",
    "end_line",
    "end_col",
    "function",
    "message",
    "hidden_errors",
    "recommendation",
    "fingerprint",
    # additive fields of design.md: the other rules the handler breaks, the measured precision
    "also",
    "precision",
}


def write(root: Path, files: Mapping[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
    return root


# -- text and JSON output -----------------------------------------------------------------------


def test_text_output_is_one_line_per_finding_and_summary_goes_to_stderr(
    tmp_path: Path, cli: Cli
) -> None:
    write(tmp_path, {"pkg/bad.py": SWALLOW, "pkg/ok.py": CLEAN})
    run = cli("audit", "--profile", "strict", "pkg", cwd=tmp_path)
    assert run.code == 1, run
    lines = run.out.splitlines()
    assert len(lines) == 1
    assert re.fullmatch(
        r"pkg/bad\.py:7:5: EW101 \[(critical|high)\] swallowed-exception: `except Exception` .*",
        lines[0],
    ), lines[0]
    assert "EW101" not in run.err
    severity = lines[0].split("[")[1].split("]")[0]
    counts = ", ".join(f"{int(s.value == severity)} {s.value}" for s in Severity)
    assert f"errwise: 1 finding ({counts}) in 2 files\n" in run.err


def test_json_output_has_exactly_the_design_fields(tmp_path: Path, cli: Cli) -> None:
    write(
        tmp_path,
        {"a/b/bad.py": SWALLOW, "fin.py": FINALLY_RETURN, "broken.py": "def f(:\n"},
    )
    run = cli("audit", "--profile", "strict", "--format", "json", ".", cwd=tmp_path)
    doc = run.json()
    assert set(doc) == {"findings", "diagnostics", "summary"}
    assert [f["rule"] for f in doc["findings"]] == ["EW101", "EW116"]
    for finding in doc["findings"]:
        assert set(finding) == FINDING_KEYS
        assert finding["severity"] in {s.value for s in Severity}
        assert isinstance(finding["hidden_errors"], list)
    first = doc["findings"][0]
    assert first["path"] == "a/b/bad.py"
    assert (first["line"], first["col"], first["function"]) == (7, 5, "drop")
    assert doc["diagnostics"] == [
        {
            "path": "broken.py",
            "code": "ERR_PARSE",
            "message": doc["diagnostics"][0]["message"],
            "line": 1,
        }
    ]
    summary = doc["summary"]
    assert summary["files"] == 3
    assert summary["findings"] == 2
    assert summary["by_severity"] == {
        s.value: sum(f["severity"] == s.value for f in doc["findings"]) for s in Severity
    }
    assert summary["by_rule"] == {"EW101": 1, "EW116": 1}
    assert summary["files_not_analysed"] == 1
    assert summary["exit_code"] == run.code == 1


def test_default_path_is_the_current_directory(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, {"bad.py": SWALLOW})
    run = cli("audit", "--profile", "strict", cwd=tmp_path)
    assert run.code == 1
    assert run.out.startswith("bad.py:7:5: EW101")


def test_quiet_drops_the_summary_but_keeps_diagnostics(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, {"bad.py": SWALLOW, "broken.py": "x = (\n"})
    run = cli("audit", "--profile", "strict", "--quiet", ".", cwd=tmp_path)
    assert run.code == 1
    assert "findings" not in run.err and "finding " not in run.err
    assert "broken.py:" in run.err and "ERR_PARSE" in run.err


# -- exit codes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "args", "expected"),
    [
        ({"ok.py": CLEAN}, (), 0),
        ({"bad.py": SWALLOW}, (), 1),
        ({"broken.py": "def f(:\n", "ok.py": CLEAN}, (), 10),
        ({"broken.py": "def f(:\n", "bad.py": SWALLOW}, (), 1),
        ({"fin.py": FINALLY_RETURN}, ("--fail-on", "critical"), 0),
        ({"fin.py": FINALLY_RETURN}, ("--fail-on", "high"), 1),
        ({"fin.py": FINALLY_RETURN, "broken.py": b"\xff\xfe\x00"}, ("--fail-on", "critical"), 10),
        ({"bad.py": SWALLOW}, ("--select", "EW101,EW116", "--ignore", "swallowed-exception"), 0),
        ({"bad.py": SWALLOW}, ("--select", "EW116"), 0),
        ({"bad.py": SWALLOW}, ("--select", "ew101,return-in-finally"), 1),
    ],
)
def test_exit_code_follows_the_table(
    tmp_path: Path, cli: Cli, files: dict[str, str | bytes], args: tuple[str, ...], expected: int
) -> None:
    write(tmp_path, files)
    run = cli("audit", "--profile", "strict", *args, ".", cwd=tmp_path)
    assert run.code == expected, run
    assert "Traceback" not in run.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--fail-on", "severe"), "allowed: critical, high, medium, low"),
        (("--select", "EW999"), "unknown rule 'EW999'"),
        (("--ignore", "swallowed-exceptions"), "did you mean 'swallowed-exception'"),
        (("--jobs", "-1"), "--jobs"),
        (("--jobs", "many"), "--jobs"),
        (("--format", "xml"), "--format"),
        (("--select", " , "), "--select names no rule"),
    ],
)
def test_usage_errors_exit_2_and_name_the_problem(
    tmp_path: Path, cli: Cli, args: tuple[str, ...], message: str
) -> None:
    write(tmp_path, {"bad.py": SWALLOW})
    run = cli("audit", "--profile", "strict", *args, ".", cwd=tmp_path)
    assert run.code == 2, run
    assert message in run.err
    assert run.out == ""


def test_exit_zero_reports_the_findings_but_exits_0(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, {"bad.py": SWALLOW})
    run = cli("audit", "--profile", "strict", "--exit-zero", ".", cwd=tmp_path)
    assert run.code == 0, run
    assert "EW101" in run.out  # reported all the same
    missing = cli("audit", "--profile", "strict", "--exit-zero", "nowhere", cwd=tmp_path)
    assert missing.code == 10  # an error is still an error


def test_output_format_is_ruffs_spelling_of_format(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, {"bad.py": SWALLOW})
    run = cli("audit", "--profile", "strict", "--output-format", "json", ".", cwd=tmp_path)
    assert [f["rule"] for f in run.json()["findings"]] == ["EW101"]


def test_a_missing_path_is_a_diagnostic_and_exit_10(tmp_path: Path, cli: Cli) -> None:
    run = cli("audit", "--profile", "strict", "nowhere", cwd=tmp_path)
    assert run.code == 10
    assert "nowhere: ERR_NOT_FOUND" in run.err


def _boom(model: FileModel) -> list[Finding]:
    if "explode" in model.source:
        raise ZeroDivisionError("injected failure")
    return []


BOOM = Rule(
    id="EW999",
    name="always-explodes",
    severity=Severity.LOW,
    summary="test rule",
    what="",
    why="",
    example="",
    fix="",
    check=_boom,
)


def test_a_failing_rule_is_contained_reported_and_exits_70(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = rules_pkg.all_rules()
    monkeypatch.setattr(rules_pkg, "all_rules", lambda: (*real, BOOM))
    write(tmp_path, {"bad.py": SWALLOW + "# explode\n", "ok.py": CLEAN + "# explode\n"})
    run = cli("audit", "--profile", "strict", "--format", "json", ".", cwd=tmp_path)
    assert run.code == 70, run
    doc = run.json()
    # Everything else is still reported: the real rule's finding on the same file.
    assert [f["rule"] for f in doc["findings"]] == ["EW101"]
    internal = [d for d in doc["diagnostics"] if d["code"] == "ERR_INTERNAL"]
    assert [d["path"] for d in internal] == ["bad.py", "ok.py"]
    assert "EW999 always-explodes" in internal[0]["message"]
    assert "ZeroDivisionError: injected failure" in internal[0]["message"]
    assert "bug in errwise" in run.err
    assert "Traceback" not in run.err


def test_a_crash_outside_the_rules_is_contained_per_file(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise AttributeError("injected")

    monkeypatch.setattr(runner, "scan_source", broken)
    write(tmp_path, {"a.py": CLEAN, "b.py": CLEAN})
    run = cli("audit", "--profile", "strict", ".", cwd=tmp_path)
    assert run.code == 70
    assert run.err.count("ERR_INTERNAL") == 2
    assert "AttributeError: injected" in run.err


# -- --output -----------------------------------------------------------------------------------


def test_output_file_gets_exactly_what_stdout_would(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, {"bad.py": SWALLOW, "fin.py": FINALLY_RETURN})
    for fmt in ("text", "json"):
        plain = cli("audit", "--profile", "strict", "--format", fmt, ".", cwd=tmp_path)
        target = tmp_path / f"report.{fmt}"
        target.write_text("old contents")
        to_file = cli(
            "audit",
            "--profile",
            "strict",
            "--format",
            fmt,
            "--output",
            str(target),
            ".",
            cwd=tmp_path,
        )
        assert to_file.code == plain.code == 1
        assert to_file.out == ""
        assert target.read_text(encoding="utf-8") == plain.out
        assert "2 findings" in to_file.err


def test_output_failure_keeps_the_old_file_and_leaves_no_temp(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"src/bad.py": SWALLOW})
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "report.json"
    target.write_text("previous report")

    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    run = cli(
        "audit",
        "--profile",
        "strict",
        "--format",
        "json",
        "--output",
        str(target),
        "src",
        cwd=tmp_path,
    )
    assert run.code == 10, run
    assert "ERR_DISK_FULL" in run.err
    assert target.read_text() == "previous report"
    assert sorted(p.name for p in out_dir.iterdir()) == ["report.json"]


def test_output_into_a_missing_directory_is_an_environment_error(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, {"bad.py": SWALLOW})
    run = cli(
        "audit",
        "--profile",
        "strict",
        "--output",
        str(tmp_path / "no" / "such" / "r.txt"),
        "bad.py",
        cwd=tmp_path,
    )
    assert run.code == 10
    assert "ERR_NOT_FOUND" in run.err


def test_output_keeps_an_existing_files_permissions(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, {"ok.py": CLEAN})
    target = tmp_path / "r.txt"
    target.write_text("x")
    target.chmod(0o640)
    assert (
        cli("audit", "--profile", "strict", "--output", str(target), "ok.py", cwd=tmp_path).code
        == 0
    )
    assert target.stat().st_mode & 0o777 == 0o640


# -- --jobs -------------------------------------------------------------------------------------


def test_jobs_do_not_change_the_output(tmp_path: Path, cli: Cli) -> None:
    files: dict[str, str | bytes] = {}
    for i in range(24):
        files[f"pkg{i % 3}/mod{i:02}.py"] = (SWALLOW, FINALLY_RETURN, CLEAN)[i % 3]
    files["pkg0/broken.py"] = "class C(:\n"
    files["pkg1/latin.py"] = b"# -*- coding: latin-1 -*-\nname = '\xe9'\n"
    files["pkg2/binary.py"] = b"\x00\x01\x02"
    write(tmp_path, files)
    outputs = {
        jobs: cli(
            "audit", "--profile", "strict", "--format", "json", "--jobs", jobs, ".", cwd=tmp_path
        )
        for jobs in ("1", "2", "0")
    }
    assert {r.code for r in outputs.values()} == {1}
    assert outputs["1"].out == outputs["2"].out == outputs["0"].out
    doc = outputs["2"].json()
    assert doc["summary"]["files"] == 27
    assert len(doc["findings"]) == 16
    assert [d["path"] for d in doc["diagnostics"]] == ["pkg0/broken.py", "pkg2/binary.py"]


# -- rules and explain ----------------------------------------------------------------------------


def test_rules_lists_the_catalog(cli: Cli) -> None:
    catalog = rules_pkg.all_rules()
    text = cli("rules")
    assert text.code == 0
    assert len(text.out.splitlines()) == len(catalog)
    for rule, line in zip(catalog, text.out.splitlines(), strict=True):
        assert line.split()[:3] == [rule.id, rule.name, rule.severity.value]
        assert line.endswith(rule.summary)
    rows = cli("rules", "--format", "json").json()
    assert [{k: row[k] for k in ("id", "name", "severity", "summary")} for row in rows] == [
        {"id": r.id, "name": r.name, "severity": r.severity.value, "summary": r.summary}
        for r in catalog
    ]


@pytest.mark.parametrize("key", ["EW116", "ew116", "return-in-finally", "Return-In-Finally"])
def test_explain_prints_the_rule_documentation(cli: Cli, key: str) -> None:
    run = cli("explain", key)
    assert run.code == 0
    assert run.out.startswith("# EW116 return-in-finally\n")
    assert "## Why it hurts" in run.out and "## Fix" in run.out


def test_explain_unknown_rule_is_a_usage_error_with_a_suggestion(cli: Cli) -> None:
    run = cli("explain", "retrun-in-finally")
    assert run.code == 2
    assert "did you mean 'return-in-finally'" in run.err
    assert run.out == ""


# -- the installed console script ---------------------------------------------------------------


def test_console_script_separates_stdout_and_stderr(tmp_path: Path) -> None:
    write(tmp_path, {"bad.py": SWALLOW, "broken.py": "if x\n"})
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from errwise.cli import main; sys.exit(main())",
            "audit",
            "--profile",
            "strict",
            "--format",
            "json",
            ".",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert [f["path"] for f in doc["findings"]] == ["bad.py"]
    assert "broken.py:1: ERR_PARSE" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_ctrl_c_exits_130_without_a_traceback(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "scan_job", interrupted)
    write(tmp_path, {"a.py": CLEAN})
    run = cli("audit", "--profile", "strict", ".", cwd=tmp_path)
    assert run.code == 130
    assert run.out == ""
    assert "Traceback" not in run.err


def test_output_survives_a_terminal_that_cannot_encode_it(tmp_path: Path) -> None:
    write(tmp_path, {"caf\u00e9.py": SWALLOW})
    for fmt in ("text", "json"):
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from errwise.cli import main; sys.exit(main())",
                "audit",
                "--profile",
                "strict",
                "--format",
                fmt,
                ".",
            ],
            cwd=tmp_path,
            capture_output=True,
            timeout=60,
            check=False,
            env={**os.environ, "PYTHONIOENCODING": "ascii"},
        )
        assert proc.returncode == 1, proc.stderr
        out = proc.stdout.decode("ascii")
        if fmt == "json":
            assert json.loads(out)["findings"][0]["path"] == "caf\u00e9.py"
        else:
            assert out.startswith("caf\\xe9.py:7:5: EW101")


@pytest.mark.parametrize(
    "options",
    [
        runner.AuditOptions(paths="src"),  # type: ignore[arg-type]
        runner.AuditOptions(paths=("src", 3)),  # type: ignore[arg-type]
        runner.AuditOptions(paths=("",)),
        runner.AuditOptions(jobs="2"),  # type: ignore[arg-type]
        runner.AuditOptions(jobs=-1),
    ],
)
def test_bad_options_are_usage_errors_at_the_call(options: runner.AuditOptions) -> None:
    with pytest.raises(UsageError):
        runner.plan(options)


def test_discover_rejects_one_str() -> None:
    with pytest.raises(UsageError):
        discover("src", root=".")


def test_an_empty_tree_says_so(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "README.md").write_text("no code here")
    run = cli("audit", "--profile", "strict", ".", cwd=tmp_path)
    assert run.code == 0
    assert "0 findings" in run.err and "no Python files found" in run.err


def test_the_format_registry() -> None:
    from errwise.audit.report import AuditReport, format_names, formats, render

    assert {"json", "text"} <= set(format_names())
    assert format_names() == sorted(format_names())
    for fmt in formats():
        assert fmt.description
        assert isinstance(render(fmt.name, AuditReport()), str)
    assert render("text", AuditReport()) == ""
    with pytest.raises(UsageError, match=r"unknown output format .xml.; allowed: .*json"):
        render("xml", AuditReport())
