"""`errwise audit` on one big file: the cost per line must not grow with the file's size.

Generated files of 128 KB, 512 KB, 1 MB, 2 MB, 4 MB and 8 MB (--quick: 128 KB to 1 MB), in
several shapes:

- try-functions: many small functions, each a try/except whose clause varies (pass, a log call,
  `return None`, `raise X from e`, a bare `raise`, log-and-return) and catches OSError,
  Exception, BaseException, a tuple or an imported class; the functions call each other;
- classes: many classes with methods calling `self` and each other inside try/except;
- long-functions: functions of 40 statements each, tries, loops and if/elif chains among them;
- chains: statements with attribute and method chains of 30 to 60 links, in handlers too;
- literals-and-imports: big list and dict literals and many import statements.

Each file is audited by the installed command line in a fresh subprocess:
`errwise audit -j1 --no-cache --no-config --file-memory 0 --file-timeout 0 --format json FILE`
(the per-file budget lifted, so every size is analysed), one run per file (best of 3 up to 1 MB),
timed on the wall clock and in CPU time (user + system), its peak RSS read from
`resource.getrusage(RUSAGE_CHILDREN)` in a fresh intermediate process. The cost per line is CPU
time (the machine may be shared: wall time then measures the neighbours too), after the start-up
cost (the same command on an empty file, best of 3) is taken off. The largest file of each shape
is audited once more with the default budget: it is analysed or gets the out-of-memory
diagnostic, and its peak is what a user's run can reach.

Targets, per shape: the largest cost per line within 1.3x the smallest (flat), and the peak RSS
of the default-budget run below 1 GB (10^9 bytes). Exit status 1 when a target is missed or a
run fails.

Usage: python bench/bench_filesize.py [--quick] [--shape NAME ...] [--sizes KB,KB,...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

SIZES_KB = (128, 512, 1024, 2048, 4096, 8192)
QUICK_SIZES_KB = (128, 512, 1024)
FLAT_TARGET = 1.3
PEAK_MB_TARGET = 1000.0
MISSED: list[str] = []
"""Targets missed inside `rows` (the default-budget runs)."""
BEST_OF_UP_TO_KB = 1024
REPEAT = 3
RUN_TIMEOUT_S = 1800.0
CLI_SCRIPT = "import sys; from errwise.cli import main; sys.exit(main())"
MEASURE_SCRIPT = """\
import json, resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                      timeout=float(sys.argv[1]), check=False)
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime,
                  "peak_kb": usage.ru_maxrss, "code": proc.returncode,
                  "stderr": proc.stderr[-2000:].decode(errors="replace")}))
"""
"""Runs the audit as its child and reports the child's wall time, CPU time and peak RSS alone."""

HANDLERS = (
    "        pass\n",
    "        log.warning('could not drop %s: %s', path, exc)\n",
    "        return None\n",
    "        raise StoreError(f'cannot drop {path}') from exc\n",
    "        raise\n",
    "        log.exception('drop failed')\n        return -1\n",
)
CAUGHT = ("OSError", "Exception", "BaseException", "(KeyError, ValueError)", "CalledProcessError")
HEADER = (
    "import logging\n"
    "import os\n"
    "import subprocess\n"
    "from subprocess import CalledProcessError\n\n"
    "log = logging.getLogger(__name__)\n\n\n"
    "class StoreError(Exception):\n"
    "    pass\n\n\n"
)


def try_functions(i: int) -> str:
    handler = HANDLERS[i % len(HANDLERS)]
    caught = CAUGHT[(i // len(HANDLERS)) % len(CAUGHT)]
    return (
        f"def drop_{i}(path, key):\n"
        "    try:\n"
        "        os.remove(path)\n"
        "        subprocess.run(['sync', key], check=True)\n"
        "        text = open(path).read()\n"
        "        name, value = text.split(':', 1)\n"
        f"    except {caught} as exc:\n"
        f"{handler}"
        "    if os.path.exists(path):\n"
        "        os.unlink(path)\n"
        f"    return drop_{max(i - 1, 0)}(path, key)\n\n\n"
    )


def classes(i: int) -> str:
    return (
        f"class Store{i}(Base{i % 7}):\n"
        "    def __init__(self, root):\n"
        "        self.root = root\n"
        "        self.items = {}\n\n"
        "    def load(self, key):\n"
        "        try:\n"
        "            return self.read(key)\n"
        "        except OSError:\n"
        "            return None\n\n"
        "    def read(self, key):\n"
        "        with open(os.path.join(self.root, key)) as f:\n"
        "            return f.read()\n\n"
        "    def save(self, key, value):\n"
        "        try:\n"
        "            self.items[key] = value\n"
        f"            Store{max(i - 1, 0)}(self.root).load(key)\n"
        "        except Exception as exc:\n"
        "            log.warning('save failed: %s', exc)\n\n\n"
    )


def long_functions(i: int) -> str:
    body = "".join(
        f"    try:\n        os.replace(src_{j}, dst)\n    except OSError:\n        pass\n"
        f"    for item in items_{j}:\n        if item.kind == 'a':\n"
        f"            total += item.size\n        elif item.kind == 'b':\n"
        f"            total -= helper_{j}(item)\n        else:\n            continue\n"
        for j in range(8)
    )
    return f"def step_{i}(src, dst, items):\n    total = 0\n{body}    return total\n\n\n"


def chains(i: int) -> str:
    links = 30 + i % 31
    attrs = "".join(f".a{k}" for k in range(links))
    calls = "".join(f".m{k}()" for k in range(links // 2))
    return (
        f"def chain_{i}(obj, path):\n"
        f"    value = obj{attrs}\n"
        "    try:\n"
        f"        result = os.path{attrs}(path){calls}\n"
        "    except OSError as exc:\n"
        f"        log.warning('failed: %s', obj{attrs})\n"
        f"        raise StoreError(obj{calls}) from exc\n"
        "    return value, result\n\n\n"
    )


def literals_and_imports(i: int) -> str:
    rows = "".join(
        f"    {{'id': {i * 10 + k}, 'name': 'item{k}', 'tags': [1, 2, 3], 'ok': True}},\n"
        for k in range(10)
    )
    return (
        f"import pkg{i}.mod as mod{i}\n"
        f"from pkg{i}.sub import name{i} as alias{i}\n"
        f"TABLE_{i} = [\n{rows}]\n"
        f"INDEX_{i} = {{row['id']: row for row in TABLE_{i}}}\n\n"
    )


SHAPES: dict[str, Callable[[int], str]] = {
    "try-functions": try_functions,
    "classes": classes,
    "long-functions": long_functions,
    "chains": chains,
    "literals-and-imports": literals_and_imports,
}


def generate(shape: str, size: int) -> str:
    """A file of the shape, of at least `size` bytes (units added until it is that big)."""
    unit = SHAPES[shape]
    parts = [HEADER]
    total = len(HEADER)
    i = 0
    while total < size:
        text = unit(i)
        parts.append(text)
        total += len(text)
        i += 1
    return "".join(parts)


def cli_command() -> list[str]:
    script = Path(sys.executable).with_name("errwise")
    return [str(script)] if script.exists() else [sys.executable, "-c", CLI_SCRIPT]


UNBOUNDED = ("--file-memory", "0", "--file-timeout", "0")
"""The per-file budget lifted: the cost per line is measured on every size."""


def measure(path: Path, budget: tuple[str, ...] = UNBOUNDED) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in MB of 10^6 bytes) of one audit of `path` in a
    fresh process (exit 10 accepted only with the default budget: the out-of-memory
    diagnostic)."""
    command = [
        *cli_command(),
        "audit",
        "-j1",
        "--no-cache",
        "--no-config",
        *budget,
        "--format",
        "json",
        str(path),
    ]
    out = subprocess.run(
        [sys.executable, "-c", MEASURE_SCRIPT, str(RUN_TIMEOUT_S), *command],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S + 60,
        check=False,
    )
    if out.returncode != 0:
        raise BenchError(f"measuring {path.name} failed: {out.stderr.strip()[-500:]}")
    result = json.loads(out.stdout)
    allowed = (0, 1) if budget else (0, 1, 10)
    if result["code"] not in allowed or (
        result["code"] == 10 and "out of memory analysing this file" not in result["stderr"]
    ):
        raise BenchError(f"errwise exited {result['code']} on {path.name}: {result['stderr']}")
    return result["seconds"], result["cpu"], result["peak_kb"] * 1024 / 1e6


class BenchError(Exception):
    """A run failed: the benchmark cannot go on."""


def best_of(path: Path, repeat: int) -> tuple[float, float, float]:
    runs = [measure(path) for _ in range(repeat)]
    return min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs)


def rows(
    shape: str, sizes: tuple[int, ...], directory: Path
) -> Iterator[tuple[int, int, float, float, float]]:
    for kb in sizes:
        text = generate(shape, kb * 1024)
        path = directory / f"{shape.replace('-', '_')}_{kb}k.py"
        path.write_text(text, encoding="utf-8")
        repeat = REPEAT if kb <= BEST_OF_UP_TO_KB else 1
        seconds, cpu, peak = best_of(path, repeat)
        if kb == sizes[-1]:
            # The default budget on the largest file: analysed, or the out-of-memory diagnostic,
            # and either way no process over the target.
            _, _, default_peak = measure(path, ())
            print(f"{shape:<22}{'':>7} default budget: peak {default_peak:.0f} MB", flush=True)
            if default_peak >= PEAK_MB_TARGET:
                MISSED.append(f"{shape}: peak {default_peak:.0f} MB with the default budget")
        path.unlink()
        yield kb, text.count("\n"), seconds, cpu, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="files up to 1 MB only")
    parser.add_argument("--shape", action="append", choices=sorted(SHAPES), help="repeatable")
    parser.add_argument("--sizes", help="comma-separated sizes in KB (default: the list above)")
    args = parser.parse_args()
    sizes = QUICK_SIZES_KB if args.quick else SIZES_KB
    if args.sizes:
        sizes = tuple(int(s) for s in args.sizes.split(","))
    shapes = args.shape or list(SHAPES)
    missed: list[str] = []
    directory = Path(tempfile.mkdtemp(prefix="errwise-bench-filesize-"))
    try:
        empty = directory / "empty.py"
        empty.write_text("", encoding="utf-8")
        _, start_cpu, start_mb = best_of(empty, REPEAT)
        print(f"start-up (empty file): {start_cpu:.3f} s CPU, {start_mb:.0f} MB; taken off below")
        print(
            f"{'shape':<22}{'size':>7}{'lines':>8}{'wall s':>8}{'CPU s':>8}"
            f"{'peak MB':>8}{'us/line':>8}"
        )
        for shape in shapes:
            costs: list[float] = []
            for kb, lines, seconds, cpu, peak in rows(shape, sizes, directory):
                per_line = max(cpu - start_cpu, 0.0) / max(lines, 1) * 1e6
                costs.append(per_line)
                size = f"{kb // 1024} MB" if kb >= 1024 else f"{kb} KB"
                print(
                    f"{shape:<22}{size:>7}{lines:>8}{seconds:>8.2f}{cpu:>8.2f}"
                    f"{peak:>8.0f}{per_line:>8.1f}",
                    flush=True,
                )
            ratio = max(costs) / min(costs) if costs and min(costs) > 0 else float("inf")
            verdict = "ok" if ratio <= FLAT_TARGET else "MISSED"
            print(
                f"{shape}: largest/smallest cost per line {ratio:.2f}x "
                f"(target <= {FLAT_TARGET}x) {verdict}"
            )
            if ratio > FLAT_TARGET:
                missed.append(f"{shape}: cost per line grows {ratio:.2f}x")
    except (BenchError, subprocess.TimeoutExpired) as exc:
        print(f"bench_filesize: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    missed.extend(MISSED)
    for line in missed:
        print(f"target missed: {line}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
