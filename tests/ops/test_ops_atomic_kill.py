"""The torn-write proof: a child writing 1 MiB versions in a loop is SIGKILLed at random
moments; the target is always one complete version, and leftovers are recognisable temp files.

200 trials here; `bench/bench_atomic.py` runs 1,000.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import errwise
from errwise.ops.atomic import is_temp_name

SIZE = 1 << 20
TRIALS = 200


def _version(number: int) -> bytes:
    header = b"version %012d\n" % number
    return header + bytes([number % 251]) * (SIZE - len(header))


def _read_version(data: bytes) -> int:
    """The version number `data` holds; fails the test if it is not one complete version."""
    assert len(data) == SIZE, f"torn write: {len(data)} bytes"
    number = int(data[8:20])
    assert data == _version(number), f"torn write: version {number} has foreign bytes"
    return number


def _writer(target: Path, first: int) -> int:
    pid = os.fork()
    if pid == 0:  # the child: write versions until killed, never return into pytest
        try:
            number = first
            while True:
                errwise.atomic_write(target, _version(number))
                number += 1
        finally:
            os._exit(1)
    return pid


def _median_write_time(target: Path) -> float:
    times = []
    for _ in range(7):
        started = time.monotonic()
        errwise.atomic_write(target, _version(0))
        times.append(time.monotonic() - started)
    return sorted(times)[len(times) // 2]


def test_sigkill_never_leaves_a_torn_target(tmp_path: Path) -> None:
    rng = random.Random(0xE77)
    target = tmp_path / "state.bin"
    one_write = _median_write_time(target)
    latest, changed, leftovers = 0, 0, 0
    for _ in range(TRIALS):
        pid = _writer(target, latest + 1)
        time.sleep(rng.uniform(0, 2 * one_write))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        number = _read_version(target.read_bytes())
        assert number >= latest
        changed += number > latest
        latest = number
        for name in os.listdir(tmp_path):
            if name != target.name:
                assert is_temp_name(name), f"unrecognisable leftover {name!r}"
                assert name.startswith(f".{target.name}.")
                leftovers += 1
                os.unlink(tmp_path / name)
    # The kills must have landed both between writes and in the middle of one, or this test
    # proves nothing.
    assert changed > 0, "no kill ever let a write finish"
    assert leftovers > 0, "no kill ever landed mid-write"
