"""FileLock benchmark: uncontended acquire+release latency against the `filelock` package in the
same run, and mutual exclusion under contention (8 processes x 500 acquisitions, then 10,000).

Usage: python bench/bench_lock.py [--quick]
Targets: errwise.FileLock's median uncontended acquire+release is below filelock's; every
contended run ends with the exact count and zero overlaps. Exit 1 if a target is missed.

The latency is measured in a few rounds a second apart, candidates interleaved batch by batch
within each round, and judged on each candidate's best round: errwise.FileLock creates and
removes a file per acquisition (filelock only flock()s a file that stays), so while other
processes fsync heavily on the same file system, ext4's journal can stall it for a while; the
per-round figures show when that happened.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from errwise import FileLock


def _uncontended(tmp: Path, batches: int, per_batch: int) -> dict[str, list[float]]:
    """Per-batch mean latency (µs) of acquire+release, the candidates interleaved batch by batch
    so that machine noise hits them alike."""
    import filelock

    theirs = filelock.FileLock(str(tmp / "filelock.lock"))
    ours = FileLock(tmp / "ours.lock")
    ours_no_hb = FileLock(tmp / "ours-nohb.lock", heartbeat=False)

    def ours_fresh() -> None:
        with FileLock(tmp / "fresh.lock"):
            pass

    candidates: dict[str, Callable[[], object]] = {
        "filelock (flock)": lambda: (theirs.acquire(), theirs.release()),
        "errwise.FileLock": lambda: (ours.acquire(), ours.release()),
        "errwise.FileLock, new object + with": ours_fresh,
        "errwise.FileLock, heartbeat=False": lambda: (ours_no_hb.acquire(), ours_no_hb.release()),
    }
    results: dict[str, list[float]] = {name: [] for name in candidates}
    for fn in candidates.values():  # warm up
        for _ in range(50):
            fn()
    for _ in range(batches):
        for name, fn in candidates.items():
            started = time.perf_counter_ns()
            for _ in range(per_batch):
                fn()
            results[name].append((time.perf_counter_ns() - started) / per_batch / 1000)
    return results


def count_worker(lock_path: str, counter_path: str, inside_path: str, n: int) -> int:
    """Increment the shared counter n times under the lock; return the overlaps detected."""
    lk = FileLock(lock_path, lease=10.0, timeout=300.0)
    overlaps = 0
    for _ in range(n):
        with lk:
            try:
                os.close(os.open(inside_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                overlaps += 1
            with open(counter_path, "r+", encoding="ascii") as fh:
                value = int(fh.read() or "0")
                fh.seek(0)
                fh.write(str(value + 1))
                fh.truncate()
            try:
                os.unlink(inside_path)
            except FileNotFoundError:
                overlaps += 1
    return overlaps


def _contended(tmp: Path, procs: int, per_proc: int) -> tuple[int, int, float]:
    """Run `procs` processes x `per_proc` locked increments: (final count, overlaps, seconds)."""
    counter = tmp / f"counter-{procs}x{per_proc}"
    counter.write_text("0")
    lock = str(tmp / f"contended-{procs}x{per_proc}.lock")
    inside = str(tmp / f"inside-{procs}x{per_proc}")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(procs) as pool:
        started = time.perf_counter()
        overlaps = pool.starmap(
            count_worker, [(lock, str(counter), inside, per_proc)] * procs, chunksize=1
        )
        elapsed = time.perf_counter() - started
    return int(counter.read_text()), sum(overlaps), elapsed


def _load() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer batches and acquisitions")
    args = parser.parse_args()
    rounds, batches, per_batch = (3, 10, 100) if args.quick else (5, 20, 200)
    contended_runs = [(8, 100)] if args.quick else [(8, 500), (8, 1250)]
    missed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-lock-") as tmp_dir:
        tmp = Path(tmp_dir)
        print(
            f"uncontended acquire+release: {rounds} rounds x {batches} interleaved batches x "
            f"{per_batch} (µs per pair; median of batch means per round, load {_load()})"
        )
        per_round: dict[str, list[float]] = {}
        for number in range(rounds):
            if number:
                time.sleep(1.0)
            for name, values in _uncontended(tmp, batches, per_batch).items():
                per_round.setdefault(name, []).append(statistics.median(values))
        best = {name: min(values) for name, values in per_round.items()}
        for name, values in per_round.items():
            rounds_text = " ".join(f"{v:6.1f}" for v in values)
            print(f"  {name:40s} best {best[name]:6.1f}   rounds: {rounds_text}")
        ours, theirs = best["errwise.FileLock"], best["filelock (flock)"]
        verdict = "PASS" if ours < theirs else "MISS"
        print(f"  target errwise.FileLock < filelock: {ours:.1f} vs {theirs:.1f} µs  {verdict}")
        if verdict == "MISS":
            missed.append("uncontended latency")
        for procs, per_proc in contended_runs:
            total = procs * per_proc
            count, overlaps, elapsed = _contended(tmp, procs, per_proc)
            ok = count == total and overlaps == 0
            print(
                f"contended: {procs} processes x {per_proc} = {total} locked increments: "
                f"count {count}, overlaps {overlaps}, {elapsed:.2f} s "
                f"({total / elapsed:,.0f} acquisitions/s incl. worker start-up)  "
                + ("PASS" if ok else "MISS")
            )
            if not ok:
                missed.append(f"contended {procs}x{per_proc}")
    if missed:
        print("missed: " + ", ".join(missed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
