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
exception). Two programmer-error look-alikes are still flagged: a public method's stub raising
the base `Exception` when a subclass in the program inherits it, and the `else` of an error
translation whose other branches raise specific types. A `RuntimeError` is not flagged when
the program catches `RuntimeError` by name and ends on it (its command line's shown error).
The recommendation names errwise only to a file that already imports it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from errwise.audit.deferred import Deferred
from errwise.audit.finding import Finding, Severity
from errwise.audit.model import FileModel, RaiseInfo
from errwise.audit.rule import Rule
from errwise.audit.rules._flow import ancestors
from errwise.audit.rules._raise_context import (
    STUB,
    non_library_path,
    programmer_error,
    runtime_failure,
    uses_errwise,
)
from errwise.audit.rules._shown_type import (
    inherited_unchanged,
    shows_as_message,
    translation_siblings,
)

if TYPE_CHECKING:
    from errwise.audit.config import AuditConfig
    from errwise.audit.infer.program import Program

_GENERIC = {
    "Exception": Severity.MEDIUM,
    "BaseException": Severity.MEDIUM,
    "RuntimeError": Severity.LOW,
}


def check(model: FileModel) -> Iterator[Finding | Deferred[tuple[str, ...]]]:
    if non_library_path(model.path):
        return
    pending: list[tuple[str, Finding]] = []
    local = {c.qualname for c in model.classes}
    for info in model.raises:
        name = (info.exc_name or "").removeprefix("builtins.")
        if name not in _GENERIC or name in local or _in_main_block(model, info.node):
            continue
        exc = info.node.exc
        if exc is None:
            continue
        top = model.is_boundary(info.ctx.function)
        text = ast.unparse(exc)
        if len(text) > 60:
            text = text[:59] + "…"
        stub = None if top else _inherited_stub(model, info, name, text)
        if stub is not None:
            pending.append(
                (
                    stub[0],
                    model.finding(
                        RULE,
                        info.node,
                        stub[1],
                        severity=_GENERIC[name],
                        recommendation=_recommendation(model, top),
                    ),
                )
            )
            continue
        fallback = None if top else _translation_fallback(model, info, name, text)
        if fallback is not None:
            made = model.finding(
                RULE,
                info.node,
                fallback,
                severity=_GENERIC[name],
                recommendation=_recommendation(model, top),
            )
            if name == "RuntimeError":
                pending.append(("shown", made))
            else:
                yield made
            continue
        if name != "BaseException" and not top and not _reported(model, info):
            continue
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
        finding = model.finding(
            RULE,
            info.node,
            message,
            severity=_GENERIC[name],
            recommendation=_recommendation(model, top),
        )
        if name == "RuntimeError" and not top:
            pending.append(("shown", finding))
        else:
            yield finding
    if pending:
        yield Deferred(
            f"{RULE.id} {RULE.name}",
            _resolve,
            tuple(kind for kind, _ in pending),
            tuple(finding for _, finding in pending),
        )


def _resolve(
    program: Program, config: AuditConfig, kinds: tuple[str, ...], skeletons: tuple[Finding, ...]
) -> Iterator[Finding]:
    """A RuntimeError finding unless the program shows RuntimeError as its message; a stub
    finding when a subclass in the program inherits the stub (`kind` is `Class.method`)."""
    for kind, skeleton in zip(kinds, skeletons, strict=True):
        if kind == "shown":
            if not shows_as_message(program, "RuntimeError"):
                yield skeleton
        else:
            cls, _, method = kind.rpartition(".")
            if inherited_unchanged(program, cls, method):
                yield skeleton


def _inherited_stub(
    model: FileModel, info: RaiseInfo, name: str, text: str
) -> tuple[str, str] | None:
    """A stub of a public method raising the base `Exception` itself: a programmer-error
    look-alike, but every subclass that does not override the method hands the bare type to
    its users (confirmed against the program's classes). (qualified `Class.method`, message)"""
    fn = info.ctx.function
    if fn is None or isinstance(fn.node, ast.Lambda) or fn.class_name is None:
        return None
    if (
        name == "Exception"
        and programmer_error(model, info) == STUB
        and not fn.node.name.startswith("_")
        and not fn.class_name.rpartition(".")[2].startswith("_")
    ):
        prefix = f"{model.module_name}." if model.module_name else ""
        return f"{prefix}{fn.class_name}.{fn.node.name}", (
            f"`raise {text}` is the body of the public method `{fn.node.name}`, and a subclass "
            f"does not override it: its users get the bare `{name}`, which they can only catch "
            "with a catch-all — `NotImplementedError` is the type they can test for"
        )
    return None


def _translation_fallback(model: FileModel, info: RaiseInfo, name: str, text: str) -> str | None:
    """The fallback of an error translation whose other branches raise specific types: the
    unknown case of the same failure gets none."""
    siblings = translation_siblings(model, info.node)
    if siblings:
        kinds = ", ".join(f"`{s}`" for s in siblings)
        return (
            f"`raise {text}` is the fallback of a translation whose other branches raise "
            f"{kinds}: this case of the same failure gets no type a caller can catch — only "
            f"`except {name}`, which also catches unrelated bugs, and the message text"
        )
    return None


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
- `RuntimeError` in a program that catches `RuntimeError` by name and exits on it (`except
  RuntimeError as e: print(e); sys.exit(1)`): the project's own user-error type, shown as a
  message;
- a stub raising `Exception` that every subclass in the program overrides (one that a
  subclass inherits is reported: its users meet the bare `Exception`). The final `else` of an
  error translation whose other branches raise specific types is reported too;
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
    profile="strict",
)
