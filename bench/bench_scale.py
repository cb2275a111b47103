"""`errwise audit` at the scale of a real tree: this Python's standard library, on a copy.

The tree: every `*.py` of the standard library outside directories named `test`, `tests`,
`idle_test`, `site-packages` and `__pycache__` (--quick: a few packages), copied into a fresh
temporary directory that everything below audits and that is removed at the end. Every time is
the wall clock of a fresh subprocess, interpreter start included. Measured at --jobs N (default
one per CPU) and again at one process when N > 1:

1. Parse floor: read every file and `ast.parse` it (N forkserver processes when N > 1), best of 3.
2. errwise cold (best of 2, each on an empty cache directory):
   `errwise audit COPY --format json --no-config -q --jobs N --cache-dir EMPTY`;
   target <= 1.5x the parse floor. A `--no-cache` run must print the same stdout (target).
3. errwise warm: the same command again, nothing changed, best of 3: its stdout must be
   byte-identical to the cold run's (target), and it must take no longer than ruff's cold run
   with its default rules (target; "not measured" without ruff). ruff `--select E9` (syntax
   errors only) is compared for information.
4. One file changed, two edits with the warm cache, each undone afterwards: a function appended
   to a mid-sized file (the findings of every other file must be the same as in the warm run:
   target), and the body of a function many files call (`posixpath.join`; with --quick,
   `logging.getLogger`) made to raise KeyError.
   Each must print what a fresh `--no-cache` run of the edited tree prints (target); how many
   files were checked again across files is printed.
5. Memory: peak of the summed RSS of errwise and all its descendants (workers), sampled every
   ~10 ms, during the cold run: target <= 500 MB on the full tree (information with --quick).
   Growth: cold runs on the tree copied 1x, 2x and 4x side by side: target peak(4x) <= 4.4x
   peak(1x), i.e. not super-linear; time ratios are printed for information.
Timed for comparison when installed: ruff (default rules; E9 only), best of 3, and pylint with
only its exception-handling checks, once (not with --quick).

Usage: python bench/bench_scale.py [--quick] [--jobs N]
"""

from __future__ import annotations

import argparse
import functools
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from errwise.audit.discover import discover

QUICK_PACKAGES = ("email", "json", "http", "asyncio", "logging", "concurrent", "importlib", "xml")
EXCLUDE_DIRS = frozenset({"test", "tests", "idle_test", "site-packages", "__pycache__"})
COLD_VS_FLOOR_TARGET = 1.5
PEAK_MB_TARGET = 500.0
GROWTH_TARGET = 4.4
REPEAT = 3
COLD_REPEAT = 2
RUN_TIMEOUT_S = 900.0
PYLINT_TIMEOUT_S = 600.0
HELP_TIMEOUT_S = 60.0
SAMPLE_S = 0.01
RESCAN_EVERY = 5
"""Samples between two scans of /proc for new descendants (when /proc has no children files)."""
ADDED = (
    "\n\ndef _bench_added():\n"
    "    try:\n"
    '        return open("x")\n'
    "    except OSError:\n"
    "        pass\n"
)
PYLINT_CHECKS = "W0702,W0703,W0706,W0707,W0718,W0719,E0701,W0705"
CLI_SCRIPT = "import sys; from errwise.cli import main; sys.exit(main())"
CHILDREN_FILES = os.path.exists(f"/proc/self/task/{os.getpid()}/children")
MEMORY = os.path.isdir("/proc/self")

FLOOR_MODULE = "_bench_parse_floor"
FLOOR_SOURCE = '''\
"""The parse floor of bench_scale.py: read every listed file as bytes and ast.parse it."""
import ast
import multiprocessing
import warnings
from concurrent.futures import ProcessPoolExecutor


def parse_chunk(paths):
    warnings.simplefilter("ignore")
    parsed = 0
    for path in paths:
        with open(path, "rb") as f:
            source = f.read()
        try:
            ast.parse(source, filename=path)
        except (SyntaxError, ValueError):
            continue  # not Python 3 text: the floor only times the parser
        parsed += 1
    return parsed


def main(list_file, jobs):
    with open(list_file, encoding="utf-8") as f:
        paths = f.read().splitlines()  # largest first: the slices below are balanced
    if jobs <= 1:
        parsed = parse_chunk(paths)
    else:
        chunks = [paths[i :: jobs * 4] for i in range(jobs * 4)]
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(jobs, mp_context=context) as pool:
            parsed = sum(pool.map(parse_chunk, chunks))
    print(parsed, len(paths))
    return 0
'''
FLOOR_SCRIPT = (
    f"import sys; sys.path.insert(0, sys.argv[1]); import {FLOOR_MODULE}; "
    f"sys.exit({FLOOR_MODULE}.main(sys.argv[2], int(sys.argv[3])))"
)


class BenchError(Exception):
    """A tool failed: the benchmark cannot go on."""


@dataclass
class Run:
    seconds: float
    peak_mb: float
    returncode: int
    stdout: bytes
    stderr: bytes


@dataclass
class Table:
    jobs: int
    rows: list[tuple[str, float | None, float | None, str]] = field(default_factory=list)
    cold_stdout: bytes = b""

    def add(self, name: str, seconds: float | None, peak: float | None, note: str = "") -> None:
        self.rows.append((name, seconds, peak, note))

    def print(self) -> None:
        print(f"\njobs={self.jobs:<37} {'seconds':>8} {'peak MB':>8}   ratio")
        for name, seconds, peak, note in self.rows:
            secs = f"{seconds:8.2f}" if seconds is not None else f"{'-':>8}"
            mb = f"{peak:8.0f}" if peak is not None else f"{'-':>8}"
            print(f"{name:<42} {secs} {mb}   {note}".rstrip())


@dataclass
class Targets:
    verdicts: list[tuple[str, bool]] = field(default_factory=list)

    def check(self, name: str, passed: bool) -> str:
        self.verdicts.append((name, passed))
        return "ok" if passed else "MISSED"

    @property
    def missed(self) -> list[str]:
        return [name for name, passed in self.verdicts if not passed]


# ---------------------------------------------------------------------------------------------
# Processes: wall time and the peak RSS of a process tree


def _descendants(root: int) -> list[int]:
    """`root` and every process below it (its worker processes)."""
    found: list[int] = []
    if CHILDREN_FILES:
        todo = [root]
        while todo:
            pid = todo.pop()
            found.append(pid)
            for name in glob.glob(f"/proc/{pid}/task/*/children"):
                try:
                    with open(name, encoding="ascii") as f:
                        todo.extend(int(child) for child in f.read().split())
                except OSError:
                    continue  # the task ended between the glob and the read
        return found
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue  # the process ended between the listing and the read
        ppid = int(stat[stat.rindex(b")") + 2 :].split(maxsplit=2)[1])
        children.setdefault(ppid, []).append(int(entry.name))
    todo = [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return 0  # it ended since the last walk
    return 0  # a zombie has no VmRSS


def _exited(proc: subprocess.Popen[bytes]) -> bool:
    try:
        proc.wait(timeout=SAMPLE_S)
    except subprocess.TimeoutExpired:
        return False
    return True


def run(cmd: list[str], cwd: Path, timeout: float = RUN_TIMEOUT_S) -> Run:
    """Run `cmd`; wall seconds from start to exit, and the peak summed RSS of its tree."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd, start_new_session=True)
        try:
            peak_kb, pids, ticks = 0, [proc.pid], 0
            while not _exited(proc):
                if time.perf_counter() - start > timeout:
                    raise subprocess.TimeoutExpired(cmd, timeout)
                if MEMORY:
                    if CHILDREN_FILES or ticks % RESCAN_EVERY == 0:
                        pids = _descendants(proc.pid)
                    ticks += 1
                    peak_kb = max(peak_kb, sum(_rss_kb(pid) for pid in pids))
            seconds = time.perf_counter() - start
        finally:
            if proc.poll() is None:  # timed out or interrupted: end its whole session
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        out.seek(0)
        err.seek(0)
        return Run(seconds, peak_kb / 1024, proc.returncode, out.read(), err.read())


def best_of(times: int, once: Callable[[], Run]) -> tuple[Run, list[Run]]:
    runs = [once() for _ in range(times)]
    return min(runs, key=lambda r: r.seconds), runs


def _tail(data: bytes, lines: int = 40) -> str:
    return "\n".join(data.decode(errors="replace").splitlines()[-lines:])


# ---------------------------------------------------------------------------------------------
# The tree


def select_files(stdlib: Path, quick: bool) -> list[Path]:
    """The relative paths of the benchmark tree, sorted."""
    tops = [stdlib / p for p in QUICK_PACKAGES if (stdlib / p).is_dir()] if quick else [stdlib]
    found: list[Path] = []
    for top in tops:
        for directory, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d not in EXCLUDE_DIRS)
            found.extend(Path(directory, f).relative_to(stdlib) for f in files if f.endswith(".py"))
    return sorted(found)


def copy_tree(stdlib: Path, files: list[Path], dest: Path) -> int:
    """Copy `files` (relative to `stdlib`) under `dest`; the number of lines copied."""
    lines = 0
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        data = (stdlib / rel).read_bytes()
        target.write_bytes(data)
        lines += data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    return lines


# ---------------------------------------------------------------------------------------------
# Tools


def find_tool(name: str) -> str | None:
    """`name` next to the running interpreter, else on PATH."""
    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)


@dataclass
class Errwise:
    base: list[str]
    cache_dir_flag: bool
    no_cache_flag: bool
    work: Path

    @classmethod
    def locate(cls, work: Path) -> Errwise:
        beside = shutil.which("errwise", path=str(Path(sys.executable).parent))
        base = [beside] if beside else [sys.executable, "-c", CLI_SCRIPT]
        proc = subprocess.run(
            [*base, "audit", "--help"],
            capture_output=True,
            cwd=work,
            timeout=HELP_TIMEOUT_S,
            check=False,
        )
        if proc.returncode != 0:
            raise BenchError(f"`errwise audit --help` failed:\n{_tail(proc.stderr)}")
        text = proc.stdout.decode(errors="replace")
        return cls(base, "--cache-dir" in text, "--no-cache" in text, work)

    def fresh_cache(self) -> Path:
        return Path(tempfile.mkdtemp(prefix="cache-", dir=self.work))

    def audit(
        self,
        tree: Path,
        jobs: int,
        cache: Path | None,
        no_cache: bool = False,
        quiet: bool = True,
    ) -> Run:
        cmd = [*self.base, "audit", str(tree), "--format", "json", "--no-config"]
        if quiet:
            cmd.append("-q")
        cmd += ["--jobs", str(jobs)]
        if no_cache:
            cmd.append("--no-cache")
        elif cache is not None and self.cache_dir_flag:
            cmd += ["--cache-dir", str(cache)]
        try:
            result = run(cmd, self.work)
        except subprocess.TimeoutExpired as exc:
            raise BenchError(f"errwise timed out after {exc.timeout:g} s: {cmd}") from exc
        if result.returncode not in (0, 1):  # 1: findings
            raise BenchError(
                f"errwise exited with {result.returncode}: {' '.join(cmd)}\n{_tail(result.stderr)}"
            )
        return result


def report_of(result: Run) -> dict[str, object]:
    try:
        doc = json.loads(result.stdout)
    except ValueError as exc:
        raise BenchError(f"errwise --format json printed no JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        raise BenchError("errwise --format json printed no `findings` list")
    return doc


def describe(label: str, result: Run) -> None:
    summary = report_of(result).get("summary")
    summary = summary if isinstance(summary, dict) else {}
    print(
        f"{label}: {result.seconds:.2f} s, peak {result.peak_mb:.0f} MB, exit "
        f"{result.returncode}; {summary.get('files')} files, {summary.get('findings')} "
        f"findings, {summary.get('diagnostics')} diagnostics"
    )
    if "cache" in summary:
        print(f"  cache: {json.dumps(summary['cache'], sort_keys=True)}")


def compare(a: bytes, b: bytes) -> str:
    """'' when identical, else how the two JSON outputs differ."""
    if a == b:
        return ""
    try:
        da, db = json.loads(a), json.loads(b)
    except ValueError:
        return "differs (not JSON)"
    for doc in (da, db):
        if isinstance(doc.get("summary"), dict):
            doc["summary"].pop("cache", None)
    if da == db:
        return "differs only in summary.cache"
    if da.get("findings") != db.get("findings"):
        return "the findings differ"
    return "differs (not in the findings)"


def _real(path: object, cwd: Path) -> str:
    return os.path.realpath(os.path.join(cwd, str(path)))


def _findings(doc: dict[str, object]) -> list[dict[str, object]]:
    findings = doc["findings"]
    assert isinstance(findings, list)
    return findings


# ---------------------------------------------------------------------------------------------
# The measurements


@dataclass
class Context:
    errwise: Errwise
    tree: Path
    files: list[Path]
    work: Path
    list_file: Path
    quick: bool
    jobs: int
    targets: Targets
    tools: dict[str, float] = field(default_factory=dict)
    pylint_note: str = ""


def parse_floor(ctx: Context, jobs: int) -> Run:
    cmd = [sys.executable, "-c", FLOOR_SCRIPT, str(ctx.work), str(ctx.list_file), str(jobs)]

    def once() -> Run:
        result = run(cmd, ctx.work)
        if result.returncode != 0:
            raise BenchError(f"the parse floor failed:\n{_tail(result.stderr)}")
        return result

    best, runs = best_of(REPEAT, once)
    counts = best.stdout.split()
    if len(counts) != 2:
        raise BenchError(f"the parse floor printed {best.stdout!r}, not 'PARSED TOTAL'")
    parsed, total = counts
    print(
        f"parse floor (jobs={jobs}): {best.seconds:.2f} s best of "
        f"{', '.join(f'{r.seconds:.2f}' for r in runs)}; {int(parsed)} of {int(total)} parsed"
    )
    return best


def measure(ctx: Context, jobs: int) -> Table:
    print(f"\n-- jobs={jobs}")
    table = Table(jobs)
    targets, ew = ctx.targets, ctx.errwise
    floor = parse_floor(ctx, jobs)
    table.add("parse floor", floor.seconds, None, "1.00x")

    # Best of COLD_REPEAT, each on an empty cache directory (the floor is a best of REPEAT too).
    colds = [
        (c, ew.audit(ctx.tree, jobs, c)) for c in (ew.fresh_cache() for _ in range(COLD_REPEAT))
    ]
    cache, cold = min(colds, key=lambda pair: pair[1].seconds)
    table.cold_stdout = cold.stdout
    for i, (_, result) in enumerate(colds, 1):
        describe(f"errwise cold #{i}", result)
        if result.stdout != cold.stdout:
            raise BenchError("two cold runs printed different reports")
    ratio = cold.seconds / floor.seconds
    verdict = targets.check(
        f"jobs={jobs} cold <= {COLD_VS_FLOOR_TARGET:g}x floor", ratio <= COLD_VS_FLOOR_TARGET
    )
    table.add(
        "errwise cold",
        cold.seconds,
        cold.peak_mb,
        f"{ratio:.2f}x floor (target <= {COLD_VS_FLOOR_TARGET:g}x): {verdict}",
    )
    if MEMORY:
        if ctx.quick:
            print(f"peak memory, cold: {cold.peak_mb:.0f} MB (target on the full tree only)")
        else:
            verdict = targets.check(
                f"jobs={jobs} cold peak <= {PEAK_MB_TARGET:g} MB", cold.peak_mb <= PEAK_MB_TARGET
            )
            print(
                f"peak memory, cold: {cold.peak_mb:.0f} MB (target <= {PEAK_MB_TARGET:g} MB): "
                f"{verdict}"
            )

    if ew.no_cache_flag:
        nocache = ew.audit(ctx.tree, jobs, None, no_cache=True)
        describe("errwise cold --no-cache", nocache)
        diff = compare(cold.stdout, nocache.stdout)
        verdict = targets.check(f"jobs={jobs} --no-cache output = cold output", not diff)
        print(f"--no-cache stdout identical to the cold run's: {verdict} {diff}".rstrip())
        table.add("errwise cold --no-cache", nocache.seconds, nocache.peak_mb, f"same: {verdict}")
    else:
        table.add("errwise cold --no-cache", None, None, "--no-cache not available")

    warm, warms = best_of(REPEAT, lambda: ew.audit(ctx.tree, jobs, cache))
    for i, result in enumerate(warms, 1):
        describe(f"errwise warm #{i}", result)
    diffs = [compare(cold.stdout, w.stdout) for w in warms]
    diff = next((d for d in diffs if d), "")
    verdict = targets.check(f"jobs={jobs} warm output = cold output", not diff)
    print(f"warm stdout byte-identical to the cold run's: {verdict} {diff}".rstrip())
    note = f"same: {verdict}"
    if "default" in ctx.tools:
        passed = warm.seconds <= ctx.tools["default"]
        verdict = targets.check(f"jobs={jobs} warm <= ruff cold", passed)
        note = f"{warm.seconds / ctx.tools['default']:.2f}x ruff (target <= ruff cold): {verdict}"
        print(
            f"warm vs ruff: {warm.seconds:.2f} s vs {ctx.tools['default']:.2f} s default rules: "
            f"{verdict}; vs {ctx.tools['E9']:.2f} s syntax only: "
            f"{warm.seconds / ctx.tools['E9']:.2f}x (information)"
        )
    else:
        note = "vs ruff: not measured (ruff not installed)"
        print("warm vs ruff: not measured (ruff not installed)")
    table.add("errwise warm (no change)", warm.seconds, warm.peak_mb, note)

    for label, changed, note in one_file_changed(ctx, jobs, cache, warm):
        table.add(f"errwise one file changed: {label}", changed.seconds, changed.peak_mb, note)
    for name, key in (("ruff (default rules)", "default"), ("ruff (syntax only, E9)", "E9")):
        seconds = ctx.tools.get(key)
        table.add(name, seconds, None, "" if seconds is not None else "not installed")
    if jobs == ctx.jobs:
        table.add("pylint (exception checks)", ctx.tools.get("pylint"), None, ctx.pylint_note)
    return table


def _rechecked(stderr: bytes) -> str:
    """What the summary line says the ledger spared ("all": no finished result reused)."""
    text = stderr.decode(errors="replace")
    found = re.search(r"\((\d+) rechecked across files\)", text)
    return found.group(1) if found else "all"


HUBS = (
    ("posixpath.py", "def join(a, *p):\n"),
    ("logging/__init__.py", "def getLogger(name=None):\n"),
)
"""Functions many files call (the first the tree holds is edited; --quick has no posixpath)."""


def _hub_edit(ctx: Context) -> tuple[Path, str, str] | None:
    """A function many files call, and an edit of its body that changes its raise-set: it
    starts raising KeyError (on a condition the audit cannot decide)."""
    for name, head in HUBS:
        rel = Path(name)
        if rel in ctx.files and head in (ctx.tree / rel).read_text(encoding="utf-8"):
            return rel, head, head + "    if len(__name__) > 99: raise KeyError(__name__)\n"
    return None


def one_file_changed(ctx: Context, jobs: int, cache: Path, warm: Run) -> list[tuple[str, Run, str]]:
    """Two edits, each audited with the warm cache, then undone (and audited again, so the
    next starts from the original): a function appended to a mid-sized file, and the body of
    a function many files call. Each run must print what a fresh `--no-cache` run of the
    edited tree prints; the first must also leave every other file's findings as they were."""
    by_size = sorted(ctx.files, key=lambda rel: ((ctx.tree / rel).stat().st_size, rel))
    mid = by_size[len(by_size) // 2]
    edits: list[tuple[str, Path, Callable[[str], str]]] = [
        ("function added", mid, lambda text: text + ADDED)
    ]
    hub = _hub_edit(ctx)
    if hub is not None:
        rel, old, new = hub
        edits.append(("hub body edited", rel, lambda text: text.replace(old, new, 1)))
    rows: list[tuple[str, Run, str]] = []
    for label, rel, edit in edits:
        path = ctx.tree / rel
        original, stat = path.read_bytes(), path.stat()
        try:
            path.write_text(edit(original.decode("utf-8")), encoding="utf-8")
            result = ctx.errwise.audit(ctx.tree, jobs, cache, quiet=False)
            fresh = ctx.errwise.audit(ctx.tree, jobs, None, no_cache=True)
        finally:
            path.write_bytes(original)
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        ctx.errwise.audit(ctx.tree, jobs, cache)  # the ledger back at the original tree
        describe(f"errwise one file changed, {label} ({rel})", result)
        rechecked = _rechecked(result.stderr)
        same = ctx.targets.check(
            f"jobs={jobs} {label}: output = fresh run's", result.stdout == fresh.stdout
        )
        summary = report_of(result).get("summary")
        audited = summary.get("files") if isinstance(summary, dict) else "?"
        note = f"{rechecked} of {audited} files rechecked; = fresh run: {same}"
        print(f"{label} in {rel}: {note}")
        if label == "function added":
            target = _real(path, ctx.work)
            before = [
                f for f in _findings(report_of(warm)) if _real(f.get("path"), ctx.work) != target
            ]
            after = [
                f for f in _findings(report_of(result)) if _real(f.get("path"), ctx.work) != target
            ]
            verdict = ctx.targets.check(
                f"jobs={jobs} one file changed: other findings same", before == after
            )
            print(f"the findings of every other file are unchanged: {verdict}")
            note += f"; others same: {verdict}"
        rows.append((label, result, note))
    return rows


def measure_tools(ctx: Context, jobs: int) -> None:
    ruff = find_tool("ruff")
    if ruff is None:
        print("ruff: not installed")
    else:
        for key, extra in (("default", []), ("E9", ["--select", "E9"])):
            cmd = [ruff, "check", "--no-cache", "--isolated", "-q", "--exit-zero", *extra]
            best, runs = best_of(REPEAT, functools.partial(run, [*cmd, str(ctx.tree)], ctx.work))
            if best.returncode != 0:
                raise BenchError(f"ruff exited with {best.returncode}:\n{_tail(best.stderr)}")
            ctx.tools[key] = best.seconds
            print(
                f"ruff ({key}): {best.seconds:.2f} s best of "
                f"{', '.join(f'{r.seconds:.2f}' for r in runs)}"
            )
    pylint = find_tool("pylint")
    if ctx.quick:
        ctx.pylint_note = "skipped with --quick"
    elif pylint is None:
        ctx.pylint_note = "not installed"
    else:
        cmd = [pylint, "--disable=all", f"--enable={PYLINT_CHECKS}", f"--jobs={jobs}"]
        cmd += ["--recursive=y", "--persistent=n", str(ctx.tree)]
        try:
            result = run(cmd, ctx.work, timeout=PYLINT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            ctx.pylint_note = f"timed out after {PYLINT_TIMEOUT_S:g} s"
            return
        if result.returncode & (1 | 32):  # fatal message, usage error
            ctx.pylint_note = f"failed with exit {result.returncode}"
            print(f"pylint failed with exit {result.returncode}:\n{_tail(result.stderr)}")
        else:
            ctx.tools["pylint"] = result.seconds
    if "pylint" in ctx.tools:
        print(f"pylint (jobs={jobs}, exception-handling checks): {ctx.tools['pylint']:.2f} s")
    else:
        print(f"pylint: {ctx.pylint_note}")


def growth(ctx: Context, jobs: int) -> None:
    print(f"\n-- growth (jobs={jobs}, cold, fresh cache each)")
    runs: dict[int, Run] = {}
    for scale in (1, 2, 4):
        root = ctx.work / f"x{scale}"
        for i in range(1, scale + 1):
            shutil.copytree(ctx.tree, root / f"copy{i}")
        try:
            runs[scale] = ctx.errwise.audit(root, jobs, ctx.errwise.fresh_cache())
        finally:
            shutil.rmtree(root)
        print(f"{scale}x: {runs[scale].seconds:7.2f} s, peak {runs[scale].peak_mb:5.0f} MB")
    one = runs[1]
    for scale in (2, 4):
        print(
            f"{scale}x / 1x: time {runs[scale].seconds / one.seconds:.2f}, "
            f"peak {runs[scale].peak_mb / one.peak_mb:.2f}"
        )
    ratio = runs[4].peak_mb / one.peak_mb
    verdict = ctx.targets.check(f"peak(4x) <= {GROWTH_TARGET:g}x peak(1x)", ratio <= GROWTH_TARGET)
    print(f"peak(4x) = {ratio:.2f}x peak(1x) (target <= {GROWTH_TARGET:g}x): {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few packages instead of all")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="processes (default: one per CPU)"
    )
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    work = Path(tempfile.mkdtemp(prefix="errwise-bench-scale-"))
    try:
        return bench(args.quick, args.jobs, stdlib, work)
    except BenchError as exc:
        print(f"bench_scale: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench(quick: bool, jobs: int, stdlib: Path, work: Path) -> int:
    files = select_files(stdlib, quick)
    tree = work / "tree"
    lines = copy_tree(stdlib, files, tree)
    print(f"tree: {len(files)} files, {lines} lines from {stdlib} (copied to {tree})")
    # The floor parses exactly the files errwise audits (its discovery skips `venv/` and the
    # like), largest first so the processes finish together.
    audited = [Path(f.path) for f in discover([str(tree)], root=str(tree)).files]
    print(f"errwise audits {len(audited)} of them; the parse floor parses the same files")
    by_size = sorted(audited, key=lambda path: (-path.stat().st_size, path))
    list_file = work / "files.txt"
    list_file.write_text("".join(f"{path}\n" for path in by_size), encoding="utf-8")
    (work / f"{FLOOR_MODULE}.py").write_text(FLOOR_SOURCE, encoding="utf-8")

    errwise = Errwise.locate(work)
    print(f"errwise: {' '.join(errwise.base)}")
    if not errwise.cache_dir_flag:
        print("cache flags not available: warm/changed numbers are not cache runs")
    if not MEMORY:
        print("no /proc: memory not measured")
    ctx = Context(errwise, tree, files, work, list_file, quick, jobs, Targets())

    measure_tools(ctx, jobs)
    tables = [measure(ctx, jobs)]
    if jobs > 1:
        tables.append(measure(ctx, 1))
        same = tables[0].cold_stdout == tables[-1].cold_stdout
        print(f"jobs=1 vs jobs={jobs}: cold output identical: {same} (information)")
    if MEMORY:
        growth(ctx, jobs)

    for table in tables:
        table.print()
    missed = ctx.targets.missed
    print("\ntargets: " + ("all ok" if not missed else "MISSED: " + "; ".join(missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
