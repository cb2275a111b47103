"""`errwise codes`: the listing, in text and JSON, with application codes, from a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from errwise import codes
from errwise.cli import main

RUN_CLI = "import sys; from errwise.cli import main; sys.exit(main())"
APP_MODULE = """
from errwise import Kind, codes

ERR_FACADE_APP_QUOTA = codes.register(
    "ERR_FACADE_APP_QUOTA",
    Kind.ENVIRONMENT,
    "quota exceeded",
    doc="The account's quota is used up; wait for the next period.",
    recoverable=True,
)
"""


def errwise_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the command line in a fresh interpreter (as the `errwise` console script does)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-c", RUN_CLI, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
        env=env,
    )


def test_codes_text_lists_every_code_with_kind_and_exit_code() -> None:
    proc = errwise_cli("codes")
    assert (proc.returncode, proc.stderr) == (0, "")
    lines = proc.stdout.splitlines()
    # The fresh process has the built-in codes only, not those other tests registered here.
    registered = [c for c in codes.all_codes() if not c.name.startswith("ERR_FACADE_")]
    assert len(lines) == len(registered)
    for line, code in zip(lines, registered, strict=True):
        name, kind, exit_code, title = line.split(maxsplit=3)
        assert (name, kind, int(exit_code), title) == (
            code.name,
            code.kind.value,
            code.kind.exit_code,
            code.title,
        )
    assert any(line.startswith("ERR_DISK_FULL ") and " environment " in line for line in lines)


def test_codes_json_is_the_registry() -> None:
    proc = errwise_cli("codes", "--format", "json")
    assert (proc.returncode, proc.stderr) == (0, "")
    rows = json.loads(proc.stdout)
    expected = [
        {
            "code": c.name,
            "kind": c.kind.value,
            "exit_code": c.kind.exit_code,
            "title": c.title,
            "recoverable": c.recoverable,
            "doc": c.doc,
        }
        for c in codes.all_codes()
        if not c.name.startswith("ERR_FACADE_")  # codes other tests registered in this process
    ]
    assert rows == expected
    assert {"ERR_DISK_FULL", "ERR_TIMEOUT", "ERR_DECODE"} <= {row["code"] for row in rows}


def test_codes_lists_an_applications_codes(tmp_path: Path) -> None:
    (tmp_path / "facade_app_codes.py").write_text(APP_MODULE, encoding="utf-8")
    proc = errwise_cli("codes", "--module", "facade_app_codes", "--format", "json", cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (0, "")
    rows = {row["code"]: row for row in json.loads(proc.stdout)}
    assert rows["ERR_FACADE_APP_QUOTA"] == {
        "code": "ERR_FACADE_APP_QUOTA",
        "kind": "environment",
        "exit_code": 10,
        "title": "quota exceeded",
        "recoverable": True,
        "doc": "The account's quota is used up; wait for the next period.",
    }
    assert "ERR_DISK_FULL" in rows
    text = errwise_cli("codes", "-m", "facade_app_codes", cwd=tmp_path)
    assert "ERR_FACADE_APP_QUOTA" in text.stdout


def test_codes_with_a_missing_module_is_a_usage_error(tmp_path: Path) -> None:
    proc = errwise_cli("codes", "--module", "facade_no_such_module", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith(
        "errwise: error: [ERR_USAGE] no module named 'facade_no_such_module'"
    )
    assert "hint: " in proc.stderr


def test_codes_with_a_module_that_fails_to_import_is_a_target_error(tmp_path: Path) -> None:
    (tmp_path / "facade_broken_codes.py").write_text("import facade_missing_dep\n", "utf-8")
    proc = errwise_cli("codes", "--module", "facade_broken_codes", cwd=tmp_path)
    assert proc.returncode == 20
    assert proc.stdout == ""
    assert "[ERR_TARGET_RAISED] importing facade_broken_codes raised ModuleNotFoundError" in (
        proc.stderr
    )


def test_codes_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["codes", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert [row["code"] for row in json.loads(out)] == [c.name for c in codes.all_codes()]


def test_codes_rejects_an_unknown_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["codes", "--format", "xml"]) == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err
