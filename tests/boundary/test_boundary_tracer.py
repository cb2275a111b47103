"""A guard on a real host: settrace/setprofile callbacks that fail, under both policies.

The traced program (examples/guarded_tracer.py) runs in a child process; its own output is
`total=285` on stdout and its own exit status is 3.
"""

from __future__ import annotations

import pytest
from boundary_helpers import REPO, child_env, run_python

DEMO = str(REPO / "examples" / "guarded_tracer.py")


@pytest.mark.parametrize("hook", ["settrace", "setprofile"])
def test_disable_lets_the_traced_program_finish_intact(hook: str) -> None:
    proc = run_python([DEMO, "--hook", hook, "--on-error", "disable"])
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == "total=285\n"
    # The tracer is uninstalled, its body ran until the failure and never again (5 good events
    # then the failing one), and on_disable ran exactly once.
    assert f"{hook} after run: None; tracer body ran 6 times; on_disable called 1 times" in (
        proc.stderr
    )
    warnings = [line for line in proc.stderr.splitlines() if ": warning: guard" in line]
    assert len(warnings) == 1
    assert "[ERR_INTERNAL] unexpected KeyError" in warnings[0]


@pytest.mark.parametrize("hook", ["settrace", "setprofile"])
def test_disable_from_the_environment(hook: str) -> None:
    proc = run_python([DEMO, "--hook", hook], env=child_env(ERRWISE_ON_ERROR="disable"))
    assert (proc.returncode, proc.stdout) == (3, "total=285\n"), proc.stderr


@pytest.mark.parametrize("hook", ["settrace", "setprofile"])
def test_abort_makes_the_traced_program_see_the_classified_error(hook: str) -> None:
    proc = run_python([DEMO, "--hook", hook, "--on-error", "abort", "--json-errors"])
    assert proc.returncode == 70
    assert proc.stdout == ""
    assert "traced program saw ERR_INTERNAL (InternalError)" in proc.stderr
    assert f"{hook} after run: None; tracer body ran 6 times; on_disable called 0 times" in (
        proc.stderr
    )
    assert "internal error (a bug)" in proc.stderr
    last = proc.stderr.splitlines()[-1]
    assert '"code":"ERR_INTERNAL"' in last
    assert '"cause":{"type":"KeyError"' in last
