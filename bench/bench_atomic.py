"""atomic_write benchmarks: its cost against the floor, and the SIGKILL torn-write trial.

1. 4 KiB atomic_write vs the floor (mkstemp + write + fsync + close + os.replace + directory
   fsync), interleaved in the same run; target: atomic_write <= 1.2x the floor (median of rounds).
   The same pair without fsync is printed for information (no target: there the fixed cost of
   the extra safety checks is visible).
2. A child writing 1 MiB versions in a loop, SIGKILLed at random moments (1,000 trials; --quick:
   100): target: the file is always one complete version and every leftover is a recognisable
   temp file.

Usage: python bench/bench_atomic.py [--quick] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import errwise
from errwise.ops.atomic import is_temp_name

RATIO_TARGET = 1.2
SIZE_SMALL = 4096
SIZE_KILL = 1 << 20


def floor_write(path: str, data: bytes, *, fsync: bool = True) -> None:
    """The least a correct atomic write must do."""
    directory = os.path.dirname(path)
    fd, temp = tempfile.mkstemp(dir=directory, prefix=".floor-")
    try:
        os.write(fd, data)
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)
    if fsync:
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def compare(directory: Path, *, rounds: int, per_round: int, fsync: bool) -> tuple[float, float]:
    """Median per-call seconds of (atomic_write, floor), measured in alternating rounds."""
    data = os.urandom(SIZE_SMALL)
    ours_path, floor_path = str(directory / "ours.bin"), str(directory / "floor.bin")
    ours: list[float] = []
    floor: list[float] = []
    for _ in range(per_round):  # warm-up
        errwise.atomic_write(ours_path, data, fsync=fsync)
        floor_write(floor_path, data, fsync=fsync)
    for index in range(rounds):
        order = (0, 1) if index % 2 == 0 else (1, 0)
        for which in order:
            start = time.perf_counter()
            if which == 0:
                for _ in range(per_round):
                    errwise.atomic_write(ours_path, data, fsync=fsync)
                ours.append((time.perf_counter() - start) / per_round)
            else:
                for _ in range(per_round):
                    floor_write(floor_path, data, fsync=fsync)
                floor.append((time.perf_counter() - start) / per_round)
    return statistics.median(ours), statistics.median(floor)


def _version(number: int) -> bytes:
    header = b"version %012d\n" % number
    return header + bytes([number % 251]) * (SIZE_KILL - len(header))


def _read_version(data: bytes) -> int | None:
    """The version number `data` holds, or None if it is not one complete version."""
    if len(data) != SIZE_KILL:
        return None
    try:
        number = int(data[8:20])
    except ValueError:
        return None
    return number if data == _version(number) else None


def kill_trials(directory: Path, trials: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    target = directory / "state.bin"
    errwise.atomic_write(target, _version(0))
    times = []
    for _ in range(7):
        start = time.perf_counter()
        errwise.atomic_write(target, _version(0))
        times.append(time.perf_counter() - start)
    one_write = statistics.median(times)
    latest = 0
    stats = {"trials": 0, "torn": 0, "went_back": 0, "changed": 0, "mid_write": 0, "foreign": 0}
    started = time.perf_counter()
    for _ in range(trials):
        pid = os.fork()
        if pid == 0:
            try:
                number = latest + 1
                while True:
                    errwise.atomic_write(target, _version(number))
                    number += 1
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0, 2 * one_write))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        stats["trials"] += 1
        number = _read_version(target.read_bytes())
        if number is None:
            stats["torn"] += 1
            errwise.atomic_write(target, _version(latest))
        else:
            stats["went_back"] += number < latest
            stats["changed"] += number > latest
            latest = max(latest, number)
        for name in os.listdir(directory):
            if name == target.name:
                continue
            if is_temp_name(name) and name.startswith(f".{target.name}."):
                stats["mid_write"] += 1
            else:
                stats["foreign"] += 1
            os.unlink(directory / name)
    stats["seconds"] = time.perf_counter() - started
    stats["one_write_ms"] = one_write * 1000
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and trials")
    parser.add_argument("--dir", help="directory to write in (default: a temp dir under /tmp)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-atomic-", dir=args.dir))
    missed = []
    try:
        rounds, per_round = (5, 20) if args.quick else (15, 40)
        ours, floor = compare(base, rounds=rounds, per_round=per_round, fsync=True)
        ratio = ours / floor
        verdict = "PASS" if ratio <= RATIO_TARGET else "MISS"
        print(
            f"atomic_write 4 KiB, fsync:    {ours * 1e6:9.1f} us   floor {floor * 1e6:9.1f} us   "
            f"ratio {ratio:.3f}  (target <= {RATIO_TARGET})  {verdict}"
        )
        if verdict == "MISS":
            missed.append("atomic_write/floor ratio")
        ours_n, floor_n = compare(base, rounds=rounds, per_round=per_round * 5, fsync=False)
        print(
            f"atomic_write 4 KiB, no fsync: {ours_n * 1e6:9.1f} us   floor {floor_n * 1e6:9.1f} us"
            f"   ratio {ours_n / floor_n:.3f}  (information only)"
        )
        trials = 100 if args.quick else 1000
        kill_dir = base / "kill"
        kill_dir.mkdir()
        stats = kill_trials(kill_dir, trials, seed=0xA70)
        ok = stats["torn"] == 0 and stats["went_back"] == 0 and stats["foreign"] == 0
        powered = stats["changed"] > 0 and stats["mid_write"] > 0
        verdict = "PASS" if ok and powered else "MISS"
        print(
            f"SIGKILL trials: {stats['trials']:.0f} in {stats['seconds']:.1f} s "
            f"(one 1 MiB write {stats['one_write_ms']:.1f} ms): torn {stats['torn']:.0f}, "
            f"went back {stats['went_back']:.0f}, new version seen {stats['changed']:.0f}, "
            f"killed mid-write (temp left, recognisable) {stats['mid_write']:.0f}, "
            f"unrecognisable leftovers {stats['foreign']:.0f}  {verdict}"
        )
        if verdict == "MISS":
            missed.append("SIGKILL torn-write trial")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if missed:
        print("missed: " + ", ".join(missed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
