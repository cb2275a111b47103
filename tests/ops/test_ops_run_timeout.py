"""run() time limits: the whole process group dies, grandchildren holding the pipes included,
and the call returns promptly with ERR_TIMEOUT (or the caller's KeyboardInterrupt)."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

import errwise

PY = sys.executable


def _running(pid: int) -> bool:
    """Is `pid` alive and not a zombie? (A killed orphan stays a zombie until init reaps it.)"""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def _wait_dead(pid: int, within: float = 2.0) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        if not _running(pid):
            return True
        time.sleep(0.01)
    return False


def _timed_out(cmd: list[str], **kwargs: object) -> tuple[errwise.Error, float]:
    started = time.monotonic()
    with pytest.raises(errwise.EnvError) as info:
        errwise.run(cmd, **kwargs)  # type: ignore[arg-type]
    return info.value, time.monotonic() - started


def test_sleep_times_out_fast(tmp_path: Path) -> None:
    err, elapsed = _timed_out(["sleep", "30"], timeout=0.5, cwd=tmp_path, context={"wo": 1})
    assert elapsed < 3.0
    assert err.code == "ERR_TIMEOUT" and err.recoverable
    assert err.context["command"] == "sleep 30"
    assert err.context["cwd"] == str(tmp_path)
    assert err.context["timeout"] == 0.5
    assert err.context["wo"] == 1


def test_grandchild_holding_the_pipes_is_killed_too() -> None:
    err, elapsed = _timed_out(["sh", "-c", "sleep 30 & echo $!; wait"], timeout=0.5)
    assert elapsed < 3.0
    assert err.code == "ERR_TIMEOUT"
    grandchild = int(str(err.context["stdout_tail"]))  # the output so far is in the error
    assert _wait_dead(grandchild)


def test_exited_child_whose_descendant_keeps_the_pipes() -> None:
    err, elapsed = _timed_out(["sh", "-c", "sleep 30 & echo $!; exit 0"], timeout=0.5)
    assert elapsed < 3.0
    assert err.code == "ERR_TIMEOUT"
    assert err.context["returncode"] == 0
    assert "kept its output pipes open" in err.message
    assert _wait_dead(int(str(err.context["stdout_tail"])))


def test_sigterm_ignored_gets_sigkill_after_grace() -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(30)"
    )
    err, elapsed = _timed_out([PY, "-c", code], timeout=1.0, kill_grace=0.3)
    assert err.code == "ERR_TIMEOUT"
    assert 1.3 <= elapsed < 2.5
    assert err.context["stdout_tail"] == "ready"


def test_sigterm_is_sent_first() -> None:
    code = (
        "import signal, sys, time\n"
        "def bye(*a):\n    print('got SIGTERM', file=sys.stderr, flush=True); sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, bye)\nprint('ready', flush=True)\ntime.sleep(30)\n"
    )
    err, elapsed = _timed_out([PY, "-c", code], timeout=1.0, kill_grace=5.0)
    assert elapsed < 3.0  # it left on SIGTERM: no waiting for the grace period
    assert err.code == "ERR_TIMEOUT"


@pytest.fixture
def interrupt_after() -> Iterator[None]:
    def raise_interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, raise_interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


def test_ctrl_c_kills_the_group_and_propagates(tmp_path: Path, interrupt_after: None) -> None:
    pidfile = tmp_path / "pid"
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        errwise.run(["sh", "-c", f"sleep 30 & echo $! > {pidfile}; wait"], timeout=20)
    assert time.monotonic() - started < 3.0
    assert _wait_dead(int(pidfile.read_text()))
