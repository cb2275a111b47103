"""Ctrl-C and SIGTERM stop an audit at once even in the middle of one large file, analysed in
this process: the parse is served in pieces (`chunkparse`), the collector is not made to
traverse the half-built model on the way out, and the console script ends without freeing it
(`run_main(hard_exit=True)`)."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from errwise.audit import runner

ERRWISE = os.path.join(os.path.dirname(sys.executable), "errwise")

FUNCTION = """\
def step_{i}(path, key):
    try:
        with open(path) as handle:
            return handle.read()[key]
    except (OSError, KeyError):
        return None


"""


def _big_file(path: Path, size: int) -> Path:
    parts: list[str] = []
    total = i = 0
    while total < size:
        part = FUNCTION.format(i=i)
        parts.append(part)
        total += len(part)
        i += 1
    path.write_text("".join(parts))
    return path


@pytest.mark.skipif(not os.path.exists(ERRWISE), reason="needs the installed errwise command")
@pytest.mark.parametrize(
    ("sig", "code", "line"),
    [
        (signal.SIGINT, 130, "errwise: interrupted (Ctrl-C)"),
        (signal.SIGTERM, 143, "errwise: terminated (SIGTERM)"),
    ],
)
@pytest.mark.parametrize("after", [0.8, 2.5])
def test_a_signal_stops_a_large_file_within_a_second(
    tmp_path: Path, sig: signal.Signals, code: int, line: str, after: float
) -> None:
    big = _big_file(tmp_path / "big.py", 3 * 1024 * 1024)
    proc = subprocess.Popen(
        [
            ERRWISE,
            "audit",
            "--profile",
            "strict",
            "-j1",
            "--no-cache",
            "--no-config",
            "-q",
            str(big),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        time.sleep(after)  # parsing, then modelling: mid-file either way
        assert proc.poll() is None, "the file was analysed before the signal"
        sent = time.monotonic()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == code, err
    assert took < 1.0, took
    assert err.splitlines() == [line]
    assert out == ""


def test_the_collector_is_not_left_to_traverse_an_interrupted_scan() -> None:
    """Left by an interrupt, the paused block turns the collector back on with what it
    allocated set aside (so no collection walks it before the run stops); the next block
    returns it to the collector."""
    assert gc.get_freeze_count() == 0
    was_enabled = gc.isenabled()
    held: list[object] = []
    with pytest.raises(KeyboardInterrupt), runner._paused_collector():
        held.extend([i] for i in range(10_000))
        raise KeyboardInterrupt
    try:
        assert gc.isenabled() == was_enabled
        assert gc.get_freeze_count() >= 10_000
        with runner._paused_collector():
            pass
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()


def test_a_failure_inside_the_paused_block_returns_everything_to_the_collector() -> None:
    with pytest.raises(ValueError), runner._paused_collector():
        gc.freeze()
        raise ValueError("a bug")
    assert gc.get_freeze_count() == 0
