"""`run_main(hard_exit=True)`: the process ends with the exit code once the outcome is
reported, without tearing down what `main` built (the `errwise` console script runs so)."""

from __future__ import annotations

from pathlib import Path

import pytest
from boundary_helpers import run_python

import errwise

HOLDER = """
import pathlib, sys
import errwise

marker = pathlib.Path(sys.argv[1])
hard = sys.argv[2] == "hard"
how = sys.argv[3]

class Big:
    def __del__(self):
        marker.write_text("freed")

def main():
    held = Big()  # noqa: F841 - in main's frame when it stops
    print("output before the end", end="")  # buffered: must still be flushed
    if how == "interrupt":
        raise KeyboardInterrupt
    if how == "error":
        raise errwise.env("ERR_IO", "the disk went away")
    return 3

code = errwise.run_main(main, hard_exit=hard)
print(f" returned {code}")
sys.exit(code)
"""


@pytest.mark.parametrize(
    ("how", "code", "line"),
    [
        ("interrupt", 130, "interrupted (Ctrl-C)"),
        ("error", 10, "the disk went away"),
        ("ok", 3, ""),
    ],
)
def test_hard_exit_ends_the_process_with_the_code_and_everything_flushed(
    tmp_path: Path, how: str, code: int, line: str
) -> None:
    marker = tmp_path / "freed"
    run = run_python(["-c", HOLDER, str(marker), "hard", how])
    assert run.returncode == code, run.stderr
    assert run.stdout == "output before the end"  # flushed, and run_main never returned
    assert line in run.stderr
    assert "Traceback" not in run.stderr


def test_an_interrupted_main_is_not_torn_down_before_a_hard_exit(tmp_path: Path) -> None:
    """What an interrupted `main` held is still alive when the process ends: nothing is freed
    object by object (for a large structure, seconds) between Ctrl-C and the exit."""
    marker = tmp_path / "freed"
    run = run_python(["-c", HOLDER, str(marker), "hard", "interrupt"])
    assert run.returncode == 130, run.stderr
    assert not marker.exists()
    # Without hard_exit the same run frees it and returns (the comparison the test rests on).
    soft = run_python(["-c", HOLDER, str(marker), "soft", "interrupt"])
    assert soft.returncode == 130, soft.stderr
    assert soft.stdout == "output before the end returned 130\n"
    assert marker.read_text() == "freed"


def test_hard_exit_must_be_a_bool() -> None:
    with pytest.raises(errwise.UsageError):
        errwise.run_main(lambda: 0, hard_exit="yes")  # type: ignore[call-overload]


def test_the_console_script_ends_hard_and_main_returns(tmp_path: Path) -> None:
    """`errwise` (the console script) ends through `hard_exit`; `errwise.cli.main`, for
    callers in a process that goes on, returns its code."""
    code = """
import sys
from errwise import cli, entry
real = entry.run_main
def spy(*args, **kwargs):
    sys.stderr.write(f"hard_exit={kwargs.get('hard_exit')}\\n")
    return real(*args, **kwargs)
cli.run_main = spy
assert cli.main(["codes", "--format", "json"]) == 0
sys.argv = ["errwise", "codes"]
cli.console_main()
sys.stdout.write("not reached\\n")
"""
    run = run_python(["-c", code])
    assert run.returncode == 0, run.stderr
    assert run.stderr.splitlines() == ["hard_exit=False", "hard_exit=True"]
    assert "ERR_INTERNAL" in run.stdout  # both listed the codes
    assert "not reached" not in run.stdout
