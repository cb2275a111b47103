"""Exception-flow inference cost on the standard library of the running Python.

Measures, over every .py file of the stdlib (excluding test/, idlelib/, site-packages):
parse time (ast.parse), model build (FileModel.build), per-file summaries (summarize), and the
program-wide link + fixpoint (Program.solve), plus answering the hidden-errors query for every
except clause. Targets: per-file summaries <= 0.5x parse time (they run in the worker processes
next to parsing, so they parallelise), and the serial program-wide link + fixpoint <= 0.35x
parse time (it runs once, in the parent, and bounds the speed-up of more workers).

Usage: python bench/bench_infer.py [--quick] [--root DIR]
"""

from __future__ import annotations

import argparse
import ast
import pickle
import sys
import sysconfig
import time
import warnings
from pathlib import Path

from errwise.audit.infer import Program, default_kb, summarize
from errwise.audit.infer.facts import FileFacts
from errwise.audit.model import FileModel

TARGET_SUMMARIZE = 0.5
"""Per-file summaries / parse time."""
TARGET_LINK = 0.35
"""Program-wide link + fixpoint / parse time."""
_SKIP = {"test", "tests", "idlelib", "site-packages", "lib2to3"}


def stdlib_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if not _SKIP & set(p.relative_to(root).parts[:-1]))


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the first 150 files only")
    parser.add_argument("--root", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    args = parser.parse_args()
    files = stdlib_files(args.root)
    if args.quick:
        files = files[:150]
    t_kb0 = time.perf_counter()
    default_kb()  # once per process (each worker pays it once)
    t_kb = time.perf_counter() - t_kb0
    t_parse = t_model = t_sum = 0.0
    facts: list[FileFacts] = []
    lines = 0
    for path in files:
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"skipped {path}: {exc}", file=sys.stderr)
            continue
        lines += source.count("\n")
        rel = str(path.relative_to(args.root))
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(source, rel)
        except SyntaxError as exc:
            print(f"skipped {rel}: {exc}", file=sys.stderr)
            continue
        t1 = time.perf_counter()
        model = FileModel.build(tree, rel, source, module_name(args.root, path))
        t2 = time.perf_counter()
        facts.append(summarize(model))
        t3 = time.perf_counter()
        t_parse += t1 - t0
        t_model += t2 - t1
        t_sum += t3 - t2
    t3 = time.perf_counter()
    program = Program(facts)
    program.solve()
    t4 = time.perf_counter()
    handlers = 0
    complete = 0
    for f in facts:
        for line, col in program.handler_positions(f.path):
            result = program.handler(f.path, line, col)
            handlers += 1
            complete += bool(result and result.complete)
    t5 = time.perf_counter()
    t_link = t4 - t3
    t_query = t5 - t4
    size = len(pickle.dumps(facts))
    share = (t_sum + t_link) / t_parse if t_parse else 0.0
    functions = len(program.functions)
    fn_complete = sum(1 for q in program.functions if program.raise_set(q)[1])
    print(f"files {len(facts)}, lines {lines}, functions {functions}, except clauses {handlers}")
    print(f"load knowledge base {t_kb:5.2f} s  (once per process)")
    print(f"parse            {t_parse:8.2f} s")
    print(f"model build      {t_model:8.2f} s  ({t_model / t_parse:.2f}x parse)")
    print(f"summarize        {t_sum:8.2f} s  ({t_sum / t_parse:.2f}x parse)")
    print(f"link + fixpoint  {t_link:8.2f} s  ({t_link / t_parse:.2f}x parse)")
    print(f"handler queries  {t_query:8.2f} s  ({t_query / t_parse:.2f}x parse)")
    print(f"summaries pickled: {size / 1e6:.1f} MB")
    print(
        f"complete raise-sets: {fn_complete}/{functions} functions, {complete}/{handlers} clauses"
    )
    print(f"inference total {share:.2f}x parse")
    ok_sum = t_sum <= TARGET_SUMMARIZE * t_parse
    ok_link = t_link <= TARGET_LINK * t_parse
    print(
        f"summaries {t_sum / t_parse:.2f}x parse (target <= {TARGET_SUMMARIZE}x, "
        f"parallel): {'met' if ok_sum else 'MISSED'}"
    )
    print(
        f"link + fixpoint {t_link / t_parse:.2f}x parse (target <= {TARGET_LINK}x, "
        f"serial): {'met' if ok_link else 'MISSED'}"
    )
    return 0 if ok_sum and ok_link else 1


if __name__ == "__main__":
    sys.exit(main())
