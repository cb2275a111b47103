"""A tour of the errwise façade: classified errors, classify(), Result, application codes.

Run: python examples/facade_demo.py   (each scenario fails on purpose and shows what a user and a
program get from the failure; the tour itself exits 0 when every scenario behaved as shown).
"""

from __future__ import annotations

import subprocess
import sys

import errwise
from errwise import Kind, codes

# An application registers its own codes once, with the same guarantees as the built-in ones.
ERR_REPORT_STALE = codes.register(
    "ERR_REPORT_STALE",
    Kind.TARGET,
    "report is stale",
    doc="The report is older than its inputs; regenerate it.",
)


def read_config(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise errwise.classify(exc).with_context(config=path) from exc


@errwise.as_result(errwise.EnvError)
def load(path: str) -> str:
    return read_config(path)


def show(title: str, error: errwise.Error) -> None:
    print(f"## {title}")
    print(f"  str:       {error}")
    print(f"  kind:      {error.kind.value} (exit code {error.exit_code})")
    print(f"  recover?:  {error.recoverable}")
    for hint in error.hints:
        print(f"  hint:      {hint}")
    print(f"  JSON:      {error.to_json()}")
    print()


def main() -> int:
    # 1. A real OS failure, classified by errno, returned as a Result and matched.
    match load("/nonexistent/errwise-demo.toml"):
        case errwise.Ok(text):
            print(f"unexpectedly loaded {len(text)} bytes", file=sys.stderr)
            return 1
        case errwise.Err(error):
            show("a missing config file (OSError -> ERR_NOT_FOUND, via as_result)", error)

    # 2. A command that fails: the return code and the tail of its stderr travel in the context.
    try:
        subprocess.run(
            ["sh", "-c", "echo 'disk quota exceeded' >&2; exit 3"],
            capture_output=True,
            check=True,
            timeout=10,
        )
    except subprocess.CalledProcessError as exc:
        failed = errwise.classify(exc)
        show("a failing command (CalledProcessError -> ERR_SUBPROCESS_FAILED)", failed)

    # 3. The application's own code, raised the easy way.
    try:
        raise errwise.target(ERR_REPORT_STALE, "report.json predates its inputs", age_s=3600)
    except errwise.TargetError as exc:
        show("an application code (errwise.target)", exc.add_hint("run `make report` again"))

    # 4. Bad input is a usage error at the call, not a crash later.
    try:
        errwise.ensure(True, "ERR_TYPO_IN_CODE", "never raised, but the typo is caught")
    except errwise.UsageError as exc:
        show("a typo in an error code (caught even though the condition held)", exc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
