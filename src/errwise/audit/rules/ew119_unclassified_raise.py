"""EW119 unclassified-raise: `raise Exception/RuntimeError("free text")` for a failure a caller
would handle.

Promise: flags `raise Exception(...)`, `raise BaseException(...)` and `raise RuntimeError(...)`
(or the bare class) — the builtin names, not a project class that happens to share one — when
the raise reports a failure of the world: it translates a caught error, or its guard probed the
file system or a process (`_raise_context.runtime_failure`); and, in a program's top-level
function (a boundary: `main`, `cli`), any such raise, which reaches the user as a traceback.
`BaseException` is always flagged. Not flagged: code that is not an API (tests, `__main__.py`,
`setup.py`, benchmarks, tool scripts, an `if __name__ == "__main__":` block, a
module's import-time checks) and programmer errors (`_raise_context.programmer_error`: a
dispatch default, a set-up or decorator check, an API-misuse message, a stub, a documented
exception). The recommendation names errwise only to a file that already imports it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from errwise.audit.finding import Finding, Severity
from errwise.audit.model import FileModel, RaiseInfo
from errwise.audit.rule import Rule
from errwise.audit.rules._flow import ancestors
from errwise.audit.rules._raise_context import (
    non_library_path,
    programmer_error,
    runtime_failure,
    uses_errwise,
)

_GENERIC = {
    "Exception": Severity.MEDIUM,
    "BaseException": Severity.MEDIUM,
    "RuntimeError": Severity.LOW,
}


def check(model: FileModel) -> Iterator[Finding]:
    if non_library_path(model.path):
        return
    local = {c.qualname for c in model.classes}
    for info in model.raises:
        name = (info.exc_name or "").removeprefix("builtins.")
        if name not in _GENERIC or name in local or _in_main_block(model, info.node):
            continue
        exc = info.node.exc
        if exc is None:
            continue
        top = model.is_boundary(info.ctx.function)
        if name != "BaseException" and not top and not _reported(model, info):
            continue
        text = ast.unparse(exc)
        if len(text) > 60:
            text = text[:59] + "…"
        if top:
            where = info.ctx.function.name if info.ctx.function is not None else "main"
            message = (
                f"`raise {text}` in `{where}()`, the program's top level: the user gets a "
                "traceback instead of a message, and an exit status that does not tell this "
                "failure from a crash"
            )
        else:
            catch = "`except Exception`" if name != "RuntimeError" else "`except RuntimeError`"
            read = "parse the message text" if isinstance(exc, ast.Call) else "guess (no message)"
            message = (
                f"`raise {text}` gives callers no type or code to act on: to handle it they "
                f"must write {catch} — which also catches unrelated bugs — and {read}"
            )
        yield model.finding(
            RULE,
            info.node,
            message,
            severity=_GENERIC[name],
            recommendation=_recommendation(model, top),
        )


def _reported(model: FileModel, info: RaiseInfo) -> bool:
    """A failure of the world, in code that runs when an operation does (not at import time)
    and is not a programmer error."""
    if info.ctx.function is None:
        return False  # an import-time check: nobody can catch it but the importer
    return programmer_error(model, info) is None and runtime_failure(model, info)


def _recommendation(model: FileModel, top: bool) -> str:
    if uses_errwise(model):
        return (
            'Raise a classified error: `raise errwise.env("ERR_…", "…", path=…)` for an '
            "environment failure, `errwise.usage(...)` for bad input, `errwise.target(...)` "
            "for a failure of the thing operated on — or a project exception class a caller "
            "can catch by type."
        )
    if top:
        return (
            "Tell the user and exit with a status: `raise SystemExit(f'tool: {reason}')` (or "
            "the argument parser's `parser.error(...)`), and keep tracebacks for bugs."
        )
    return (
        "Raise a type a caller can catch: an exception class of the project's own (e.g. "
        "`class LockHeld(ProjectError)`), or a builtin that names the failure (`TimeoutError`, "
        "`FileNotFoundError`, `PermissionError`, `ValueError` for bad input) — and document it "
        "in the function's docstring."
    )


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
the bare class) for a failure a caller would want to handle: the raise translates a caught error
(`except OSError: raise RuntimeError(...)`), or the `if` guarding it asked the world
(`os.path.exists`, `is_alive()`, `returncode`, directly or through a name assigned from such a
probe). In a program's top-level function (`main`, `cli`, a configured boundary) every such
raise is reported: it reaches the user as a traceback. `BaseException` is always reported.
Medium for `Exception`/`BaseException` (only a catch-all can handle it), low for `RuntimeError`.

Deliberately not reported:
- programmer errors, where a generic type is the honest choice: the final `else` of an
  `if`/`elif` dispatch or `case _:`, checks in `__init__` / `__new__` / `__init_subclass__` /
  `__set_name__` / `__post_init__` or in a decorator, messages of API misuse ("must be called
  first", "cannot ... twice", "not supported", "unknown ..."), a stub whose whole body is the
  raise, and an exception the function's docstring documents (changing it breaks callers);
- a precondition on values the caller passed, with no probe of the world: a misuse, not a
  failure to handle;
- code that is not an API: tests, `__main__.py`, `setup.py`, `noxfile.py`, benchmarks,
  docs, CI and tool scripts, an `if __name__ == "__main__":` block, and a module's
  import-time checks.
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
Raise something a caller can act on without reading prose: a project exception
(`class LockHeld(AppError)`), documented in the function's docstring, or a builtin that names
the failure; in a project that uses errwise, a classified error:

```python
def acquire(lock_path):
    if lock_path.exists():
        raise errwise.env("ERR_LOCK_HELD", "lock is held", lock=str(lock_path))
```
""",
    check=check,
)
