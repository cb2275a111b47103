"""`make fuzz`: audit N programs from pysource-codegen, count what happens, minimise each crash.

Usage: `python tests/fuzz/fuzz_run.py [-n 10000] [--start 0] [--jobs 2] [--timeout 20]
[--node-limit 500] [--out fuzz-out] [--minimize-budget 300]`.

Promise: seed i gives the program `fuzz_programs.generated(start + i, node_limit)`
(pysource-codegen's), audited twice: as generated and dressed (`fuzz_programs.dressed`: its
names replaced by the APIs the rules know), so a run is reproducible and (seed, variant) names
a program. Seeds are spread over `--jobs` worker processes (this script with `--worker`), one
at a time each; the parent holds a watchdog on every worker: an audit that takes more than
`--timeout` seconds is a hang — the worker is killed, the program recorded, a fresh worker
takes the next seed. A worker that dies is a crash too. Each program is checked by
`fuzz_check.check` (audit + every report format), so a crash is an exception out of errwise or
an ERR_INTERNAL diagnostic. A seed the generator itself cannot turn into a program (it has
known failures, e.g. f-strings it cannot unparse) is counted apart, never blamed on errwise.
Each failure is appended to `failures.jsonl` in `--out` as soon as it is seen.

At the end it prints: programs, findings, diagnostics by code, internal errors, hangs, worker
deaths, generator failures, seconds; writes `summary.json` in `--out`; then, for each distinct
crash signature (and each hang), minimises the first program that showed it with
pysource-minimize (predicate: the same signature; for a hang: still over the timeout), within
`--minimize-budget` seconds each, writes it to `--out` and prints its path. Exit status: 0 when
no program made errwise fail or hang, 1 otherwise, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import selectors
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fuzz_check import Outcome

GENERATOR_TIMEOUT = 120.0
"""Seconds the generator may take for one program before it counts as a generator failure."""


# --- the worker ---------------------------------------------------------------------------


def worker(node_limit: int) -> int:
    """Read seeds from stdin, one a line; for each, say when the program is generated, then what
    its check found (see the module promise)."""
    from fuzz_programs import dressed, generated

    check = checker()
    for line in sys.stdin:
        seed = int(line)
        try:
            source = generated(seed, node_limit)
        # errwise: ignore[broad-catch] -- the generator's own failures are counted, not ours
        except Exception as exc:
            _say({"seed": seed, "phase": "skipped", "reason": f"{type(exc).__name__}: {exc}"})
            continue
        programs = [("generated", source)]
        try:
            programs.append(("dressed", dressed(source, seed)))
        except SyntaxError:  # the program, or its dressed text, does not parse
            _say({"seed": seed, "phase": "undressed"})
        for name, program in programs:
            _say({"seed": seed, "phase": "auditing", "variant": name})
            outcome = check(program)
            _say(
                {
                    "seed": seed,
                    "phase": "checked",
                    "variant": name,
                    "findings": outcome.findings,
                    "diagnostics": dict(outcome.diagnostics),
                    "failures": outcome.failures,
                }
            )
        _say({"seed": seed, "phase": "done"})
    return 0


def checker() -> Callable[[str], Outcome]:
    """`fuzz_check.check`, or, when `FUZZ_INJECT` is set, a check with failures injected for
    testing this driver: `hang:TEXT` sleeps on a program containing TEXT, `crash:TEXT` reports
    a failure for one (several, comma-separated)."""
    from fuzz_check import Outcome, check

    injected = [item.partition(":")[::2] for item in os.environ.get("FUZZ_INJECT", "").split(",")]
    injected = [(kind, text) for kind, text in injected if text]
    if not injected:
        return check

    def check_injected(source: str) -> Outcome:
        for kind, text in injected:
            if text in source and kind == "hang":
                time.sleep(3600)
            if text in source and kind == "crash":
                return Outcome(failures=["InjectedCrash"], details=[f"injected on {text!r}"])
        return check(source)

    return check_injected


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


# --- the parent ---------------------------------------------------------------------------


Case = tuple[int, str]
"""A program: its seed and its variant (`fuzz_programs.VARIANTS`)."""


@dataclass
class Tally:
    seeds: int = 0
    """Seeds whose programs were all checked."""
    programs: int = 0
    """Programs checked (each seed's variants)."""
    findings: int = 0
    diagnostics: Counter[str] = field(default_factory=Counter)
    diagnosed: dict[str, list[Case]] = field(default_factory=dict)
    """The programs that got each diagnostic code (the first 20 of each)."""
    internal_errors: int = 0
    crashes: dict[str, list[Case]] = field(default_factory=dict)
    """The programs that showed each failure signature."""
    hangs: list[Case] = field(default_factory=list)
    deaths: dict[str, list[Case]] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    """Generator failures, by exception type."""
    undressed: int = 0
    """Programs audited only as generated: they, or their dressed text, do not parse."""


class Worker:
    def __init__(self, node_limit: int) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--worker",
                "--node-limit",
                str(node_limit),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin: IO[str] = self.proc.stdin
        self.fd = self.proc.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.buffer = b""
        self.seed: int | None = None
        self.variant: str | None = None
        """The variant being audited (None: the program is being generated)."""
        self.deadline = 0.0

    def give(self, seed: int) -> None:
        self.seed, self.variant = seed, None
        self.deadline = time.monotonic() + GENERATOR_TIMEOUT
        self.stdin.write(f"{seed}\n")
        self.stdin.flush()

    def lines(self) -> tuple[list[dict[str, Any]], bool]:
        """The messages that arrived, and whether the worker's output ended."""
        chunk = os.read(self.fd, 65536)
        self.buffer += chunk
        *complete, self.buffer = self.buffer.split(b"\n")
        return [json.loads(line) for line in complete if line], not chunk

    def stop(self, kill: bool = False) -> int:
        if kill:
            self.proc.kill()
        else:
            self.stdin.close()
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=30)


def run(
    seeds: deque[int], jobs: int, timeout: float, node_limit: int, log: IO[str] | None = None
) -> Tally:
    """Check every seed's program (see the module promise); each failure is also written to
    `log` (one JSON object a line) as soon as it is seen."""
    tally = Tally()

    def note(event: dict[str, Any]) -> None:
        if log is not None:
            log.write(json.dumps(event) + "\n")
            log.flush()

    total = len(seeds)
    selector = selectors.DefaultSelector()
    workers: dict[int, Worker] = {}

    def start() -> None:
        if not seeds:
            return
        w = Worker(node_limit)
        workers[w.fd] = w
        selector.register(w.fd, selectors.EVENT_READ)
        w.give(seeds.popleft())

    def retire(w: Worker, kill: bool) -> int:
        selector.unregister(w.fd)
        del workers[w.fd]
        return w.stop(kill)

    for _ in range(jobs):
        start()
    shown = 0
    while workers:
        soonest = min(w.deadline for w in workers.values())
        wait = None if soonest == float("inf") else max(0.0, soonest - time.monotonic())
        events = selector.select(timeout=wait)
        for key, _ in events:
            w = workers[key.fd]
            messages, ended = w.lines()
            for message in messages:
                _record(message, tally, w, timeout)
                if message.get("failures"):
                    note({k: message[k] for k in ("seed", "variant", "failures")})
                if message["phase"] in ("skipped", "done"):
                    if seeds:
                        w.give(seeds.popleft())
                    else:
                        w.seed = None
                        w.deadline = float("inf")
            if ended:
                code = retire(w, kill=False)
                if w.seed is not None and w.variant is None:
                    tally.skipped[f"generator died (exit status {code})"] += 1
                    start()
                elif w.seed is not None and w.variant is not None:
                    tally.programs += 1
                    died = f"worker died (exit status {code})"
                    tally.deaths.setdefault(died, []).append((w.seed, w.variant))
                    note({"seed": w.seed, "variant": w.variant, "failures": [died]})
                    start()
            elif w.seed is None and not seeds:
                retire(w, kill=False)
        now = time.monotonic()
        for w in [w for w in workers.values() if w.deadline <= now]:
            retire(w, kill=True)
            if w.variant is not None and w.seed is not None:
                tally.programs += 1
                tally.hangs.append((w.seed, w.variant))
                note({"seed": w.seed, "variant": w.variant, "failures": ["hang"]})
            elif w.seed is not None:
                tally.skipped["generator timeout"] += 1
            start()
        done = tally.seeds + sum(tally.skipped.values())
        if done // 500 > shown // 500:
            sys.stderr.write(f"\r{done}/{total}")
        shown = done
    sys.stderr.write("\n")
    return tally


def _record(message: dict[str, Any], tally: Tally, w: Worker, timeout: float) -> None:
    phase = message["phase"]
    if phase == "auditing":
        w.variant = message["variant"]
        w.deadline = time.monotonic() + timeout
    elif phase == "skipped":
        tally.skipped[message["reason"].split(":", 1)[0]] += 1
    elif phase == "undressed":
        tally.undressed += 1
    elif phase == "done":
        tally.seeds += 1
    elif phase == "checked":
        tally.programs += 1
        tally.findings += message["findings"]
        tally.diagnostics.update(message["diagnostics"])
        for code in message["diagnostics"]:
            cases = tally.diagnosed.setdefault(code, [])
            if len(cases) < 20:
                cases.append((message["seed"], message["variant"]))
        tally.internal_errors += message["diagnostics"].get("ERR_INTERNAL", 0)
        for signature in dict.fromkeys(message["failures"]):
            tally.crashes.setdefault(signature, []).append((message["seed"], message["variant"]))


# --- minimising ---------------------------------------------------------------------------


def minimise(source: str, holds: Callable[[str], bool], budget: float) -> str:
    """The smallest program pysource-minimize finds for which `holds` stays true, searching for
    at most `budget` seconds (then the smallest found so far). Programs need only parse, not
    compile: the auditor reads what `ast.parse` accepts."""
    from pysource_minimize import CouldNotMinimize, minimize

    deadline = time.monotonic() + budget
    smallest = source

    def checker(candidate: str) -> bool:
        nonlocal smallest
        if time.monotonic() >= deadline or not holds(candidate):
            return False
        if len(candidate) < len(smallest):
            smallest = candidate
        return True

    try:
        return minimize(source, checker, compilable=False)
    except CouldNotMinimize:  # out of time before it began, or no longer reproducible
        return smallest


def hangs(source: str, timeout: float) -> bool:
    """Whether auditing `source` in a fresh process takes more than `timeout` seconds."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(source)
    try:
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--check-file", f.name],
            timeout=timeout,
            capture_output=True,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return True
    finally:
        os.unlink(f.name)
    return False


def minimise_all(tally: Tally, args: argparse.Namespace) -> list[Path]:
    out = Path(args.out)
    written = []
    from fuzz_programs import variant

    cases = [(sig, found[0]) for sig, found in tally.crashes.items()]
    cases += [(sig, found[0]) for sig, found in tally.deaths.items()]
    cases += [("hang", case) for case in tally.hangs[:3]]
    for signature, (seed, name) in cases:
        source = variant(name, seed, args.node_limit)
        holds = _predicate(signature, args.timeout)
        if not holds(source):
            sys.stdout.write(f"seed {seed} {name}: {signature} does not reproduce; kept whole\n")
            small = source
        else:
            small = minimise(source, holds, args.minimize_budget)
        slug = re.sub(r"[^A-Za-z0-9]+", "-", signature).strip("-")[:80]
        path = out / f"seed{seed}-{name}-{slug}.py"
        header = f"# fuzz seed {seed} {name} (node_limit {args.node_limit}): {signature}\n"
        path.write_text(header + small + ("" if small.endswith("\n") else "\n"))
        written.append(path)
        sys.stdout.write(f"minimised: {path}\n")
    return written


def _predicate(signature: str, timeout: float) -> Callable[[str], bool]:
    """What a smaller program must still do to show the same failure."""
    check = checker()
    if signature == "hang":
        return lambda candidate: hangs(candidate, timeout)
    if signature.startswith("worker died"):
        return lambda candidate: not hangs(candidate, timeout) and _dies(candidate)
    return lambda candidate: signature in check(candidate).failures


def _dies(source: str) -> bool:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(source)
    try:
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--check-file", f.name],
            timeout=60,
            capture_output=True,
            check=False,
        )
    finally:
        os.unlink(f.name)
    return done.returncode not in (0, 1)


def check_file(path: str) -> int:
    """`--check-file`: check one program; 0 when errwise coped, 1 when it failed on it."""
    outcome = checker()(Path(path).read_text())
    for detail in outcome.details:
        sys.stdout.write(detail + "\n")
    return 1 if outcome.failures else 0


# --- the command line ---------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-n", type=int, default=10_000, help="programs to generate")
    parser.add_argument("--start", type=int, default=0, help="the first seed")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per audit")
    parser.add_argument("--node-limit", type=int, default=500, help="AST nodes per program")
    parser.add_argument("--out", default="fuzz-out", help="where minimised crashes go")
    parser.add_argument("--minimize-budget", type=float, default=300.0)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--check-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.node_limit)
    if args.check_file:
        return check_file(args.check_file)
    if args.n < 0 or args.jobs < 1 or args.timeout <= 0 or args.node_limit < 1:
        parser.error("-n must be >= 0, --jobs >= 1, --timeout > 0, --node-limit >= 1")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    with (out / "failures.jsonl").open("w") as log:
        seeds = deque(range(args.start, args.start + args.n))
        tally = run(seeds, args.jobs, args.timeout, args.node_limit, log)
    seconds = time.monotonic() - began
    summary = {
        "programs": tally.programs,
        "seeds": [args.start, args.start + args.n],
        "seeds_checked": tally.seeds,
        "node_limit": args.node_limit,
        "generator_failures": dict(tally.skipped),
        "undressed": tally.undressed,
        "findings": tally.findings,
        "diagnostics": dict(sorted(tally.diagnostics.items())),
        "diagnosed": dict(sorted(tally.diagnosed.items())),
        "internal_errors": tally.internal_errors,
        "crashes": {sig: len(seeds) for sig, seeds in tally.crashes.items()},
        "crash_seeds": {sig: seeds[:20] for sig, seeds in tally.crashes.items()},
        "hangs": tally.hangs,
        "worker_deaths": {sig: seeds[:20] for sig, seeds in tally.deaths.items()},
        "seconds": round(seconds, 1),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    _print_summary(summary)
    failed = bool(tally.crashes or tally.hangs or tally.deaths)
    if failed:
        minimise_all(tally, args)
    return 1 if failed else 0


def _print_summary(summary: dict[str, Any]) -> None:
    lines = [
        f"programs:           {summary['programs']} ({summary['seeds_checked']} generated from "
        f"seeds {summary['seeds'][0]}..{summary['seeds'][1] - 1}, node limit "
        f"{summary['node_limit']}, each audited as generated and dressed)",
        f"generator failures: {sum(summary['generator_failures'].values())} "
        f"{summary['generator_failures'] or ''}",
        f"undressed:          {summary['undressed']} (the program or its dressed text does not "
        "parse: audited as generated only)",
        f"findings:           {summary['findings']}",
        f"diagnostics:        {summary['diagnostics'] or 0}",
        f"internal errors:    {summary['internal_errors']}",
        f"distinct crashes:   {len(summary['crashes'])}",
        *(f"  {n:6} x {sig}" for sig, n in summary["crashes"].items()),
        f"hangs:              {len(summary['hangs'])} "
        + " ".join(f"{seed}/{name}" for seed, name in summary["hangs"][:20]),
        f"worker deaths:      {sum(len(s) for s in summary['worker_deaths'].values())}",
        f"seconds:            {summary['seconds']}",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
