"""`errwise audit` throughput on code nobody here wrote: the standard library of this Python.

1. Discovery of the whole standard library (walk, skip list): target <= 2 s.
2. Analysis, one process: files/s and lines/s over the standard library without `test/`,
   `idlelib/` and `site-packages` (--quick: a few packages); target >= 100 files/s.
3. The same with one worker per CPU: the JSON output must be byte-identical to the one-process
   run (target); the speed-up is printed for information (it depends on the machine's load).

Usage: python bench/bench_audit.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import sysconfig
import time
from dataclasses import replace

from errwise.audit.discover import discover
from errwise.audit.report import render
from errwise.audit.runner import AuditOptions, run_audit

DISCOVERY_TARGET_S = 2.0
FILES_PER_S_TARGET = 100.0
QUICK_PACKAGES = ("email", "json", "http", "asyncio", "logging", "concurrent")
EXCLUDE = ("test", "tests", "idlelib", "site-packages", "lib2to3")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few packages instead of all")
    args = parser.parse_args()
    stdlib = sysconfig.get_paths()["stdlib"]
    ok = True

    start = time.perf_counter()
    found = discover([stdlib], root=stdlib)
    took = time.perf_counter() - start
    verdict = "ok" if took <= DISCOVERY_TARGET_S else "MISSED"
    ok &= verdict == "ok"
    print(
        f"discovery: {len(found.files)} files in {took:.2f} s "
        f"(target <= {DISCOVERY_TARGET_S:g} s): {verdict}"
    )

    paths = tuple(os.path.join(stdlib, p) for p in QUICK_PACKAGES) if args.quick else (stdlib,)
    options = AuditOptions(paths=paths, exclude=EXCLUDE, no_config=True, root=stdlib)
    outputs: dict[int, str] = {}
    seconds: dict[int, float] = {}
    files = 0
    for jobs in sorted({1, os.cpu_count() or 1}):
        start = time.perf_counter()
        report = run_audit(replace(options, jobs=jobs))
        seconds[jobs] = time.perf_counter() - start
        outputs[jobs] = render("json", report)
        files = report.files
        print(
            f"jobs={jobs}: {files} files, {len(report.findings)} findings, "
            f"{len(report.diagnostics)} diagnostics in {seconds[jobs]:.2f} s "
            f"= {files / seconds[jobs]:.0f} files/s"
        )
    rate = files / seconds[1]
    verdict = "ok" if rate >= FILES_PER_S_TARGET else "MISSED"
    ok &= verdict == "ok"
    print(f"one process: {rate:.0f} files/s (target >= {FILES_PER_S_TARGET:g}): {verdict}")
    many = max(outputs)
    same = outputs[1] == outputs[many]
    ok &= same
    print(
        f"jobs=1 vs jobs={many}: output identical: {'ok' if same else 'MISSED'}; "
        f"speed-up {seconds[1] / seconds[many]:.2f}x (information)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
