"""A guard on a real host: a `sys.settrace` tracer (or `sys.setprofile` profiler) that fails.

An exception in a trace callback normally kills the tracer and surfaces in the traced program at
whatever line it was running. Here the callbacks run under one `errwise.guard`:

- `--on-error disable`: the first failure unhooks the tracer (`on_disable`), logs one warning on
  stderr, and the traced program runs to completion with its own stdout and exit status (3).
- `--on-error abort`: the traced program sees the classified error (ERR_INTERNAL: the tracer's
  KeyError is a bug), and `run_main` exits 70.

Run: python examples/guarded_tracer.py --hook settrace --on-error disable; echo $?
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import errwise

PROGRAM_EXIT_STATUS = 3
FAIL_AFTER_EVENTS = 5


class FlakyRecorder:
    """Records events; its lookup table lacks an entry, so event FAIL_AFTER_EVENTS fails."""

    def __init__(self) -> None:
        self.events = 0
        self.body_runs = 0
        self.unhooked = 0
        self.kinds = {f"event-{i}": i for i in range(FAIL_AFTER_EVENTS)}

    def record(self, event: str) -> None:
        self.body_runs += 1
        key = f"event-{self.events}"
        self.events += 1
        _ = self.kinds[key]  # KeyError on event FAIL_AFTER_EVENTS: a bug in the recorder


def install(hook: str, recorder: FlakyRecorder) -> Callable[[], object]:
    """Install the guarded callbacks on `hook`; return the function that reads the hook back."""
    setter: Callable[[Any], None] = sys.settrace if hook == "settrace" else sys.setprofile
    getter: Callable[[], object] = sys.gettrace if hook == "settrace" else sys.getprofile

    def unhook(err: errwise.Error) -> None:
        recorder.unhooked += 1
        setter(None)

    boundary = errwise.guard(fallback=None, on_disable=unhook, name=f"recorder.{hook}")

    @boundary
    def local_trace(frame: FrameType, event: str, arg: object) -> object:
        recorder.record(event)
        return local_trace

    @boundary
    def global_trace(frame: FrameType, event: str, arg: object) -> object:
        recorder.record(event)
        return local_trace

    setter(global_trace)
    return getter


def square(n: int) -> int:
    return n * n


def user_program() -> int:
    """The traced program: its stdout and exit status must survive a failing tracer."""
    total = 0
    for i in range(10):
        total += square(i)
    sys.stdout.write(f"total={total}\n")
    return PROGRAM_EXIT_STATUS


def main(args: argparse.Namespace) -> int:
    recorder = FlakyRecorder()
    getter = install(args.hook, recorder)
    try:
        return user_program()
    except errwise.Error as err:
        sys.stderr.write(f"traced program saw {err.code} ({type(err).__name__})\n")
        raise
    finally:
        sys.stderr.write(
            f"{args.hook} after run: {getter()!r}; tracer body ran {recorder.body_runs} times; "
            f"on_disable called {recorder.unhooked} times\n"
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hook", choices=("settrace", "setprofile"), default="settrace")
    return parser


if __name__ == "__main__":
    sys.exit(errwise.run_main(main, parser=build_parser()))
