"""EW119 unclassified-raise: `raise Exception/RuntimeError("free text")` from library code.

Promise: flags `raise Exception(...)`, `raise BaseException(...)` and `raise RuntimeError(...)`
(or the bare class) — the builtin names, not a project class that happens to share one. Not
flagged: test code (files named `test_*.py`, `*_test.py`, `conftest.py`, or under a `tests`/
`test`/`testing` directory), `__main__.py` files and statements inside an
`if __name__ == "__main__":` block (a script talking to its human, not an API). Functions
defined in such a file are still library code.
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Iterator

from errwise.audit.finding import Finding, Severity
from errwise.audit.model import FileModel
from errwise.audit.rule import Rule
from errwise.audit.rules._flow import ancestors

_GENERIC = {
    "Exception": Severity.MEDIUM,
    "BaseException": Severity.MEDIUM,
    "RuntimeError": Severity.LOW,
}
_TEST_DIRS = frozenset({"tests", "test", "testing"})


def check(model: FileModel) -> Iterator[Finding]:
    if _is_test_file(model.path):
        return
    local = {c.qualname for c in model.classes}
    for info in model.raises:
        name = (info.exc_name or "").removeprefix("builtins.")
        if name not in _GENERIC or name in local or _in_main_block(model, info.node):
            continue
        exc = info.node.exc
        if exc is None:
            continue
        text = ast.unparse(exc)
        if len(text) > 60:
            text = text[:59] + "…"
        catch = "`except Exception`" if name != "RuntimeError" else "`except RuntimeError`"
        read = "parse the message text" if isinstance(exc, ast.Call) else "guess (no message)"
        yield model.finding(
            RULE,
            info.node,
            f"`raise {text}` gives callers no type or code to act on: to handle it they must "
            f"write {catch} — which also catches unrelated bugs — and {read}",
            severity=_GENERIC[name],
            recommendation=(
                'Raise a classified error: `raise errwise.env("ERR_…", "…", path=…)` for an '
                "environment failure, `errwise.usage(...)` for bad input, `errwise.target(...)` "
                "for a failure of the thing operated on, `errwise.bug(...)` for a broken "
                "invariant — or a project exception class a caller can catch by type."
            ),
        )


def _is_test_file(path: str) -> bool:
    norm = path.replace("\\", "/")
    base = posixpath.basename(norm)
    if base.startswith("test_") or base.endswith("_test.py") or base == "conftest.py":
        return True
    if base == "__main__.py":
        return True
    return any(part in _TEST_DIRS for part in norm.split("/")[:-1])


def _in_main_block(model: FileModel, node: ast.AST) -> bool:
    if model.function_of(node) is not None:
        return False
    for parent in ancestors(model, node):
        if isinstance(parent, ast.If) and _is_main_test(parent.test):
            return True
    return False


def _is_main_test(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


RULE = Rule(
    id="EW119",
    name="unclassified-raise",
    severity=Severity.LOW,
    summary='`raise Exception/RuntimeError("free text")`: no type or code a caller can act on.',
    what="""
`raise Exception(...)`, `raise BaseException(...)` or `raise RuntimeError(...)` (the builtins, or
the bare class) in library code. Medium for `Exception`/`BaseException` (only a catch-all can
handle it), low for `RuntimeError`. Test files, `__main__.py` and the body of an
`if __name__ == "__main__":` block are not library code and are skipped; functions defined in a
script file still count.
""",
    why="""
A caller that wants to handle this failure — retry, report, skip one item — has nothing to match
but the message text. It must catch a type that also catches every unrelated bug, and parse
prose that changes between versions. The failure cannot be counted, documented or tested by kind.
""",
    example="""
def acquire(lock_path):
    if lock_path.exists():
        raise RuntimeError(f"lock {lock_path} is held")
""",
    fix="""
Raise something a caller can act on without reading prose:

```python
def acquire(lock_path):
    if lock_path.exists():
        raise errwise.env("ERR_LOCK_HELD", "lock is held", lock=str(lock_path))
```

or a project exception (`class LockHeld(AppError)`), documented in the function's docstring.
""",
    check=check,
)
