"""Run every benchmark (`bench/bench_*.py`, `bench/precision.py`: the auditor's precision on
real code, and `bench/sweep.py`: `errwise sweep` on real test suites) in its own process, one
after the other.

Usage: python bench/run.py [--quick] [NAME ...]   (NAME: a benchmark module name without bench_)
Each benchmark prints its own measurements and targets; this runner reports which ones failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TIMEOUT_S = 3600.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller inputs, fewer repetitions")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    args = parser.parse_args()
    scripts = [*sorted(HERE.glob("bench_*.py")), HERE / "precision.py", HERE / "sweep.py"]
    if args.names:
        wanted = {f"bench_{n.removeprefix('bench_')}.py" for n in args.names} | {
            f"{n}.py" for n in args.names
        }
        scripts = [s for s in scripts if s.name in wanted]
    failed = []
    for script in scripts:
        print(f"== {script.stem}", flush=True)
        cmd = [sys.executable, str(script)] + (["--quick"] if args.quick else [])
        try:
            proc = subprocess.run(cmd, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            print(f"{script.stem}: timed out after {TIMEOUT_S:g} s", file=sys.stderr)
            failed.append(script.stem)
            continue
        if proc.returncode != 0:
            failed.append(script.stem)
    if failed:
        print("benchmarks that failed or missed a target: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
