"""FileLock across processes: mutual exclusion under contention, exactly one winner when two
processes break one stale lock, and a SIGKILLed owner's lock is recognised as stale and taken."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import errwise
from errwise import FileLock, inspect_lock
from errwise.ops import lockinfo
from errwise.ops.lockinfo import process_start_time

# The workers live in a plain module next to this file so that spawned processes can import it
# whatever pytest's import mode (spawn hands sys.path down to the children).
sys.path.insert(0, str(Path(__file__).resolve().parent))
import ops_lock_workers as workers

PROCS = 8
PER_PROC = 500  # bench/bench_lock.py runs the full 8 x 500 and 10,000
RACE_TRIALS = 200


def test_ops_lock_processes_counter_is_exact_and_never_overlaps(tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    counter.write_text("0")
    ctx = multiprocessing.get_context("spawn")
    args = [(str(tmp_path / "x.lock"), str(counter), str(tmp_path / "inside"), PER_PROC)] * PROCS
    with ctx.Pool(PROCS) as pool:
        overlaps = pool.starmap(workers.count_under_lock, args, chunksize=1)
    assert overlaps == [0] * PROCS
    assert int(counter.read_text()) == PROCS * PER_PROC
    assert not (tmp_path / "x.lock").exists()


def _stale_record(trial: int) -> dict[str, object]:
    now = time.time()
    start = process_start_time(os.getpid())
    assert start is not None
    if trial % 2:  # a remote owner whose lease ran out
        host, pid, start_time, heartbeat_at = "far-away-host", 4242, None, now - 60.0
    else:  # an owner on this host whose pid was reused (our live pid, another start time)
        host, pid, start_time, heartbeat_at = lockinfo.this_host(), os.getpid(), start + 1, now
    return {
        "format": "errwise.lock/1",
        "pid": pid,
        "hostname": host,
        "user": "ghost",
        "start_time": start_time,
        "boot_id": None,
        "acquired_at": heartbeat_at,
        "heartbeat_at": heartbeat_at,
        "lease": 5.0,
        "token": f"stale-{trial:04d}".ljust(32, "0"),
    }


def test_ops_lock_processes_two_breakers_exactly_one_wins(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(3, timeout=60)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=workers.race_to_break, args=(str(path), RACE_TRIALS, barrier, results))
        for _ in range(2)
    ]
    for proc in procs:
        proc.start()
    outcomes: Counter[str] = Counter()
    try:
        for trial in range(RACE_TRIALS):
            path.write_text(json.dumps(_stale_record(trial)))
            barrier.wait()  # go
            got = [results.get(timeout=60) for _ in range(2)]
            assert {g[0] for g in got} == {trial}
            codes = sorted(g[2] for g in got)
            outcomes[codes[0] + "/" + codes[1]] += 1
            assert codes == ["ERR_LOCK_HELD", "won"], f"trial {trial}: {got}"
            winner_token = next(g[3] for g in got if g[2] == "won")
            assert json.loads(path.read_text())["token"] == winner_token
            barrier.wait()  # verified: the winner releases
            barrier.wait()  # released
            assert not path.exists()
    finally:
        for proc in procs:
            proc.join(timeout=60)
            if proc.is_alive():
                proc.kill()
    assert outcomes == Counter({"ERR_LOCK_HELD/won": RACE_TRIALS})
    assert all(proc.exitcode == 0 for proc in procs)


_HOLDER = """
import sys, time
from errwise import FileLock
lk = FileLock(sys.argv[1], lease=30.0).acquire(timeout=10)
print("ready", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("reap", [True, False], ids=["reaped", "zombie"])
def test_ops_lock_processes_sigkilled_owner_is_stale_and_broken(tmp_path: Path, reap: bool) -> None:
    path = tmp_path / "x.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(errwise.EnvError, match="ERR_LOCK_HELD"):
            FileLock(path).acquire(timeout=0.1)
        os.kill(holder.pid, signal.SIGKILL)
        if reap:
            holder.wait(timeout=10)
        else:
            deadline = time.monotonic() + 10
            while (
                not Path(f"/proc/{holder.pid}/stat")
                .read_bytes()
                .rsplit(b")", 1)[1]
                .startswith(b" Z")
            ):
                assert time.monotonic() < deadline
                time.sleep(0.01)
        problem = inspect_lock(path)
        assert isinstance(problem, errwise.Err) and problem.error.reason == "stale"
        lk = FileLock(path).acquire(timeout=2)
        assert lk.info is not None and lk.info.pid == os.getpid()
        lk.release()
    finally:
        holder.kill()
        holder.wait(timeout=10)
        if holder.stdout is not None:
            holder.stdout.close()
