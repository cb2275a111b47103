"""Static typing of the boundary API, checked by `mypy --strict` (not run by pytest)."""

from __future__ import annotations

import argparse
from typing import assert_type

import errwise


@errwise.guard()
def trace(frame: object, event: str, arg: object) -> int:
    return 1


@errwise.guard(fallback="off", policy="disable")
def render(value: int) -> str:
    return str(value)


assert_type(trace(None, "line", None), int | None)
assert_type(render(3), str)
assert_type(errwise.guard(fallback=0), errwise.Guard[int])
assert_type(errwise.guard(), errwise.Guard[None])


def main() -> int:
    return 0


def main_with_args(args: argparse.Namespace) -> int:
    return 0


assert_type(errwise.run_main(main), int)
assert_type(errwise.run_main(main_with_args, [], parser=argparse.ArgumentParser()), int)
assert_type(errwise.policy.current().on_error, errwise.policy.OnError)
assert_type(errwise.metrics.snapshot(), dict[tuple[str, str], int])
