"""`examples/sweepdemo`: its own test suite passes (a sweep only sweeps passing tests), and the
auditor sees some of its swallowing handlers but not all (so a sweep shows confirmed and miss)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from sweep_runs import SAMPLE

from errwise.audit.runner import AuditOptions, run_audit
from errwise.ops.run import run


def test_the_sample_suite_passes(tmp_path: Path) -> None:
    project = tmp_path / "sweepdemo"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "ERRWISE_SWEEP"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    result = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(tmp_path / "basetemp"),
        ],
        cwd=project,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "failed" not in result.stdout


def test_the_auditor_flags_some_swallowing_handlers_of_the_sample() -> None:
    report = run_audit(
        AuditOptions(paths=(str(SAMPLE),), root=str(SAMPLE), profile="strict", jobs=1)
    )
    found = {(f.path, f.rule) for f in report.findings}
    assert ("notebox/cache.py", "EW101") in found  # `except OSError: pass` in put
    assert not any(path == "notebox/export.py" for path, _ in found)  # the suppress: unseen
    assert report.diagnostics == []
