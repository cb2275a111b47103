"""A tour of the errwise façade: classified errors, classify(), Result.

Run: python examples/facade_demo.py
"""

from __future__ import annotations

import sys

import errwise


def read_config(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise errwise.classify(exc).with_context(config=path) from exc


@errwise.as_result(errwise.EnvError)
def load(path: str) -> str:
    return read_config(path)


def main() -> int:
    match load("/nonexistent/errwise-demo.toml"):
        case errwise.Ok(text):
            sys.stderr.write(f"loaded {len(text)} bytes\n")
        case errwise.Err(error):
            sys.stderr.write(f"{error}\n")
            for hint in error.hints:
                sys.stderr.write(f"hint: {hint}\n")
            sys.stderr.write(error.to_json() + "\n")
            return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
