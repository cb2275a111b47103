"""The `faults` pytest fixture, through the installed `pytest11` entry point, in a separate
pytest process: active for the test, undone at teardown also when the test fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SAMPLE = """
import os
import builtins

ORIGINAL_OPEN = builtins.open

def save(path, text):
    tmp = str(path) + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)

def test_disk_full_propagates(faults, tmp_path):
    faults.fail("file.write", "ENOSPC")
    try:
        save(tmp_path / "out", "x")
    except OSError as error:
        assert error.errno == 28
    faults.assert_fired()
    assert faults.injections[0].site.function == "save"

def test_fails_with_an_active_plan(faults, tmp_path):
    faults.fail("os.replace", "EACCES")
    save(tmp_path / "out", "x")

def test_then_everything_is_undone(tmp_path):
    assert builtins.open is ORIGINAL_OPEN
    save(tmp_path / "out", "x")
    assert (tmp_path / "out").read_text() == "x"

def helper():
    return 1

def test_reporting_is_not_failed(faults):
    faults.fail("os.stat", persistent=True)
    faults.fail("open", persistent=True)
    faults.fail("os.listdir", persistent=True)
    faults.fail("file.*", "EIO", persistent=True)
    assert helper() == 2

def test_fixture_is_a_fault_plan(faults):
    from errwise.faults import FaultPlan
    assert isinstance(faults, FaultPlan) and faults.active
"""


def test_fixture_in_a_real_pytest_run(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_sample.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "2 failed, 3 passed" in out, out
    assert "assert helper() == 2" in out, out  # pytest could still read the source
    assert "PermissionError: [Errno 13] Permission denied" in out, out
    assert "test_fails_with_an_active_plan" in out, out
