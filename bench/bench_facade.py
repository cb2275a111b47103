"""Benchmark the error façade's hot paths against plain Python, in the same run.

Targets (issue 2):
  (a) construct + raise + catch an `errwise.Error` with 4 context items (`errwise.env(...)`)
      costs at most 1.5x the same with a plain exception class holding 4 fields;
  (b) `Ok(x).map(f).unwrap()` is at least as fast as the same chain with the `result` package.

Each figure is the best of many short timeit rounds, the two sides of a comparison interleaved
so that load bursts hit both alike; nanoseconds per operation.
Usage: python bench/bench_facade.py [--quick]. Exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import sys
import timeit

import result

import errwise

TARGET_ERROR_RATIO = 1.5
TARGET_RESULT_RATIO = 1.0


class PlainError(Exception):
    """The baseline: what a careful author writes by hand without errwise."""

    def __init__(self, message: str, path: str, size: int, attempt: int, user: str) -> None:
        super().__init__(message)
        self.path = path
        self.size = size
        self.attempt = attempt
        self.user = user


RAISE_ERRWISE = """
try:
    raise env("ERR_DISK_FULL", "cannot write report.json", path=p, size=n, attempt=a, user=u)
except EnvError:
    pass
"""
RAISE_PLAIN = """
try:
    raise PlainError("cannot write report.json", p, n, a, u)
except PlainError:
    pass
"""
CHAIN = "Ok(x).map(f).unwrap()"


def inc(value: int) -> int:
    return value + 1


def timer(stmt: str, **names: object) -> timeit.Timer:
    """A timer running `stmt` inline (no wrapper call diluting the difference measured)."""
    return timeit.Timer(stmt, globals=dict(names))


def interleaved(cases: dict[str, timeit.Timer], number: int, rounds: int) -> dict[str, float]:
    """Time the cases alternately, many short rounds (so load bursts hit all alike), and keep
    each one's best round: nanoseconds per operation."""
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(rounds):
        for name, case in cases.items():
            best[name] = min(best[name], case.timeit(number) / number * 1e9)
    return best


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    args = parser.parse_args()
    number, rounds = (5_000, 5) if args.quick else (20_000, 60)

    context = {"p": "/tmp/report.json", "n": 4096, "a": 3, "u": "alice"}
    errors = {
        "plain": timer(RAISE_PLAIN, PlainError=PlainError, **context),
        "errwise": timer(RAISE_ERRWISE, env=errwise.env, EnvError=errwise.EnvError, **context),
    }
    chains = {
        "result": timer(CHAIN, Ok=result.Ok, x=41, f=inc),
        "errwise": timer(CHAIN, Ok=errwise.Ok, x=41, f=inc),
    }
    # Sanity: both sides really do the work being compared.
    if errwise.Ok(41).map(inc).unwrap() != 42 or result.Ok(41).map(inc).unwrap() != 42:
        raise SystemExit("bench_facade: the Result chains disagree")
    probe = errwise.env("ERR_DISK_FULL", "x", path="/p", size=1, attempt=2, user="u")
    if len(probe.context) != 4 or not isinstance(probe, errwise.EnvError):
        raise SystemExit("bench_facade: errwise.env() did not build the error measured")

    errors_ns = interleaved(errors, number, rounds)
    chains_ns = interleaved(chains, number * 2, rounds)

    missed = 0
    ratio_a = errors_ns["errwise"] / errors_ns["plain"]
    ok_a = ratio_a <= TARGET_ERROR_RATIO
    missed += not ok_a
    print("(a) construct + raise + catch, 4 context items / 4 fields")
    print(f"    plain exception      {errors_ns['plain']:8.1f} ns")
    print(f"    errwise.env(...)     {errors_ns['errwise']:8.1f} ns")
    print(f"    ratio {ratio_a:.2f}x (target <= {TARGET_ERROR_RATIO}x): {verdict(ok_a)}")

    ratio_b = chains_ns["errwise"] / chains_ns["result"]
    ok_b = ratio_b <= TARGET_RESULT_RATIO
    missed += not ok_b
    print("(b) Ok(x).map(f).unwrap()")
    print(f"    result package       {chains_ns['result']:8.1f} ns")
    print(f"    errwise              {chains_ns['errwise']:8.1f} ns")
    print(f"    ratio {ratio_b:.2f}x (target <= {TARGET_RESULT_RATIO}x): {verdict(ok_b)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
