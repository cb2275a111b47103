"""The pre-commit hooks run what they say; the README's Actions snippet uploads SARIF; the
Markdown report (details included) is the same whatever --jobs is."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from report_helpers import REPO

from errwise.audit.report import render
from errwise.audit.runner import AuditOptions, run_audit

Cli = Callable[..., Any]

SWALLOW = (
    "import os\n\n\ndef f(p):\n    try:\n        os.remove(p)\n"
    "    except Exception:\n        pass\n"
)


def _hooks() -> dict[str, str]:
    text = (REPO / ".pre-commit-hooks.yaml").read_text()
    ids = re.findall(r"^- id: (\S+)$", text, re.M)
    entries = re.findall(r"^  entry: (.+)$", text, re.M)
    assert len(ids) == len(entries) == 2
    assert text.count("  types: [python]") == 2 and text.count("  language: python") == 2
    return dict(zip(ids, entries, strict=True))


NETWORK = "import requests\n\n\ndef fetch(url):\n    return requests.get(url).json()\n"


def test_the_audit_hook_runs_on_the_staged_files(tmp_path: Path, cli: Cli) -> None:
    entry = shlex.split(_hooks()["errwise-audit"])
    assert entry[:2] == ["errwise", "audit"]
    # The hook runs the default profile: what blocks a commit must be a trustworthy finding.
    (tmp_path / "bad.py").write_text(NETWORK)
    (tmp_path / "ok.py").write_text("x = 1\n")
    run = cli(*entry[1:], "ok.py", "bad.py", cwd=tmp_path)  # pre-commit appends file names
    assert run.code == 1 and run.out.startswith("bad.py:5:12: EW122")
    assert run.err == ""  # --quiet: the findings are the whole output
    assert cli(*entry[1:], "ok.py", cwd=tmp_path).code == 0


def test_the_baseline_hook_reports_only_new_findings(tmp_path: Path, cli: Cli) -> None:
    entry = shlex.split(_hooks()["errwise-audit-baseline"])
    (tmp_path / "bad.py").write_text(SWALLOW)
    missing = cli(*entry[1:], "bad.py", cwd=tmp_path)
    assert missing.code == 2 and "--write-baseline .errwise-baseline.json" in missing.err
    cli(
        "audit",
        "--profile",
        "strict",
        "--write-baseline",
        ".errwise-baseline.json",
        "bad.py",
        cwd=tmp_path,
    )
    assert cli(*entry[1:], "bad.py", cwd=tmp_path).code == 0


def test_readme_actions_snippet_uploads_sarif() -> None:
    readme = (REPO / "README.md").read_text()
    snippet = readme.split("**GitHub Actions**")[1].split("```yaml\n")[1].split("```")[0]
    assert "security-events: write" in snippet
    assert "errwise audit --format sarif -o errwise.sarif" in snippet
    assert (
        "github/codeql-action/upload-sarif@" in snippet and "sarif_file: errwise.sarif" in snippet
    )


def test_markdown_is_the_same_whatever_the_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(20):  # enough files for worker processes
        (tmp_path / f"m{i:02}.py").write_text(SWALLOW.replace("def f", f"def f{i}"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    one = run_audit(AuditOptions(paths=(".",), jobs=1, no_config=True, profile="strict"))
    many = run_audit(AuditOptions(paths=(".",), jobs=2, no_config=True, profile="strict"))
    assert all(f.details is not None and f.details.excerpt for f in many.findings)
    assert render("markdown", one) == render("markdown", many)
