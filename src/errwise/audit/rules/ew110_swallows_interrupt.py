"""EW110 swallows-interrupt: a bare `except` or `except BaseException` that does not re-raise
eats Ctrl-C (`KeyboardInterrupt`) and `SystemExit`.

Promise: a finding for a bare/`BaseException` clause with no `raise` and no exit anywhere in its
body, around code where an interruption has a window (it visibly waits, or runs unknown code in
each iteration of a loop the clause keeps going: `_interrupts.py`), outside worker threads,
unless an earlier clause of the same `try` already handles `KeyboardInterrupt`, or the clause
hands the exception object on (stores it, passes it to `set_exception`, returns it) so
another thread or a caller re-raises it, or unless the clause's class (or function) installs
its own SIGINT handler (`signal.signal(SIGINT, ...)`, `loop.add_signal_handler(SIGINT, ...)`),
so that Ctrl-C never raises `KeyboardInterrupt` there. Does not claim the clause: this harm is
separate from how the error itself is handled.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from errwise.audit.effects import Effect
from errwise.audit.finding import Finding, Severity
from errwise.audit.handling import short
from errwise.audit.model import FileModel, HandlerInfo, walk_scope
from errwise.audit.rule import Rule
from errwise.audit.rules._best_effort import cleanup_step, lifecycle_hook
from errwise.audit.rules._demo import library_demo
from errwise.audit.rules._handler_context import keeps_exception, reports_elsewhere, reports_errors
from errwise.audit.rules._interrupts import (
    blocking_call,
    foreign_call,
    in_worker_thread,
    own_sigint_handler,
)
from errwise.audit.rules._probe import imports_only

__all__ = ["RULE"]

_INTERRUPTS = ("KeyboardInterrupt", "BaseException")


def check(model: FileModel) -> Iterator[Finding]:
    tuples = _module_tuples(model)
    for handler in model.handlers:
        if not handler.catches_base:
            continue
        if in_worker_thread(model, handler.function):
            continue  # a thread's code: Ctrl-C is delivered to the main thread only
        if own_sigint_handler(model, handler.function):
            continue  # Ctrl-C runs the program's own SIGINT handler, raises nothing here
        facts = handler.facts
        fn = handler.function
        if facts.reraises or facts.exits or facts.records_error or keeps_exception(handler):
            continue
        if _exits(model, handler) or reports_elsewhere(model, handler) or reports_errors(fn):
            continue  # ends the process, or shows the interruption (a REPL's contract)
        if fn is not None and fn.name == "__del__":
            continue  # an exception cannot leave __del__ anyway
        if _interrupt_handled_earlier(handler, tuples) or _mentions_interrupt(model, handler):
            continue
        if cleanup_step(model, handler) is not None or lifecycle_hook(model, handler.function):
            continue  # the interruption is already on its way out, or cannot arrive here
        if library_demo(model, handler.node) or imports_only(handler.try_.node.body):
            continue  # demo code; an import probe (its fallback import runs either way)
        window = _window(model, handler)
        if window is None:
            continue  # nothing there visibly waits: an interruption has no window to land in
        yield _finding(model, handler, window)


def _window(model: FileModel, handler: HandlerInfo) -> tuple[str, bool] | None:
    """Why an interruption can land in the guarded code, and whether a loop then goes on:
    it waits on the world (network, subprocess, sleep, an `await`, a `yield`), or it runs
    code this file does not show once per iteration of a loop the `try` sits in directly."""
    body = handler.try_.node.body
    looping = _loops_on(model, handler)
    waits = blocking_call(model, body)
    if waits is not None:
        return waits, looping
    if looping:
        unknown = foreign_call(model, body)
        if unknown is not None:
            return unknown, True
    return None


def _loops_on(model: FileModel, handler: HandlerInfo) -> bool:
    """The `try` is a statement of a loop's body (directly, or under an `if`), and the clause
    does not leave the loop."""
    node: ast.AST | None = model.parents.get(handler.try_.node)
    while isinstance(node, ast.If):
        node = model.parents.get(node)
    if not isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
        return False
    return not any(
        isinstance(n, (ast.Break, ast.Return, ast.Raise)) for n in walk_scope(handler.node.body)
    )


def _exits(model: FileModel, handler: HandlerInfo) -> bool:
    """The process ends anyway: `_exit(...)`/`exit(...)`/`abort()` however imported (a forked
    child), a non-zero `exitcode = 1` set for the process's end, or a `raise` right after the
    `try` statement (`except: pass` then `raise SystemExit(code)`)."""
    for call in handler.facts.calls:
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in ("_exit", "exit", "abort"):
            return True
    for node in walk_scope(handler.node.body):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and "exit" in t.id.lower() for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and node.value.value not in (0, None, False)
        ):
            return True
    parent = model.parents.get(handler.try_.node)
    siblings: list[ast.stmt] = getattr(parent, "body", []) if parent is not None else []
    for index, stmt in enumerate(siblings):
        if stmt is handler.try_.node:
            following = siblings[index + 1 : index + 2]
            return bool(following) and isinstance(following[0], ast.Raise)
    return False


def _module_tuples(model: FileModel) -> dict[str, set[str]]:
    """Module-level names bound to a tuple of exception names (`_reraised = (KeyboardInterrupt,
    SystemExit)`), by name."""
    out: dict[str, set[str]] = {}
    for stmt in model.tree.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Tuple):
            names = {short(model.qualify(e) or "?") for e in stmt.value.elts}
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = names
    return out


def _interrupt_handled_earlier(handler: HandlerInfo, tuples: dict[str, set[str]]) -> bool:
    for earlier in handler.try_.handlers[: handler.index]:
        for caught in earlier.caught:
            names = tuples.get(caught, {short(caught)})
            if names & set(_INTERRUPTS):
                return True
    return False


def _mentions_interrupt(model: FileModel, handler: HandlerInfo) -> bool:
    """The clause deals with an interruption on purpose (a REPL printing "KeyboardInterrupt")."""
    for node in walk_scope(handler.node.body):
        if isinstance(node, ast.Name) and node.id in ("KeyboardInterrupt", "SystemExit"):
            return True
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "interrupt" in node.value.lower()
        ):
            return True
    return False


def _finding(model: FileModel, handler: HandlerInfo, window: tuple[str, bool]) -> Finding:
    clause = "bare `except:`" if handler.bare else "`except BaseException`"
    during, in_loop = window
    coroutine = isinstance(getattr(handler.function, "node", None), ast.AsyncFunctionDef)
    generator = handler.function is not None and handler.function.is_generator
    effects = model.effects_in(handler.try_.node.body)
    consequence = (
        "the loop goes on and the user cannot stop the program"
        if in_loop
        else "the program carries on as if nothing happened"
    )
    if during == "a `yield`":
        message = (
            f"{clause} without re-raise around a `yield` catches the `GeneratorExit` that "
            "closing the generator throws in there: the generator cannot be closed (Python "
            "raises `RuntimeError` when it yields again), and `KeyboardInterrupt` and "
            f"`SystemExit` raised in its own code are swallowed too and {consequence}"
        )
    else:
        message = (
            f"{clause} without re-raise catches `KeyboardInterrupt` and `SystemExit`: Ctrl-C "
            f"during {during} (or a `sys.exit()` inside it) is swallowed and {consequence}"
        )
        if generator:
            message += "; in a generator it also swallows `GeneratorExit`"
    if coroutine:
        message += "; in a coroutine it also swallows `CancelledError`, so cancelling it fails"
    severity = (
        Severity.HIGH
        if in_loop or effects & (Effect.DISK | Effect.LOCK | Effect.PROCESS)
        else Severity.MEDIUM
    )
    name = handler.facts.name or "exc"
    return model.finding(
        RULE,
        handler.node,
        message,
        severity=severity,
        recommendation=(
            "Catch `Exception` (or narrower) instead; if this must run on interruption too "
            f"(cleanup, rollback), use `finally:` or re-raise: `except BaseException as {name}: "
            "cleanup(); raise`. An `errwise.Transaction` undoes its steps on Ctrl-C and "
            "re-raises it."
        ),
    )


RULE = Rule(
    id="EW110",
    name="swallows-interrupt",
    severity=Severity.HIGH,
    summary="Bare `except:` / `except BaseException` without re-raise eats Ctrl-C and SystemExit.",
    what="""
A bare `except:` or `except BaseException` clause that neither re-raises nor exits. It catches
`KeyboardInterrupt`, `SystemExit` and (in generators) `GeneratorExit` along with every error.
Not reported when an earlier clause of the same `try` handles `KeyboardInterrupt`, or when the
clause hands the exception object on (e.g. `future.set_exception(exc)`, `self.error = exc`) to be
re-raised elsewhere.

Reported only where an interruption has a window to land in: the guarded code visibly waits
(a network, subprocess, sleep or wait call, a method that talks to something such as
`connect`, `recv`, `result`, `info`, `stat` on an object that is not a local module, an
`await` — where a coroutine's cancellation arrives — or a `yield`), or it runs code this file
does not show once per iteration of a loop that the clause keeps going. Not reported around
local, quick work (`os.chdir`, `open(...).close()`, a connect to a Unix-domain socket, parsing
with the file's own helpers), around a call of a plain local value (a callback: nothing is
known of it), nor in code that runs in a worker thread (a `target=` function, a class deriving
a `...Thread` here or in another module of the project), nor in a class (or a function outside
a class) that installs its own SIGINT handler with `signal.signal(signal.SIGINT, handler)` or
an event loop's `add_signal_handler(signal.SIGINT, ...)`: Ctrl-C runs that handler instead of
raising `KeyboardInterrupt` (a handler that raises it again, or `signal.default_int_handler`,
does not count).

Also not reported where Ctrl-C or `sys.exit()` cannot be lost: a cleanup inside a clause that
then re-raises or exits (the original error, or the interruption, goes on), cleanup calls in a
`finally` (an interruption raised by the `try` goes on after it), `__del__`, `atexit` and signal
handlers, a logging handler's `emit`; an import probe (`try: import x` / `except: import y`);
guarded code that only makes instant calls (a conversion such as `int(text)`, a probe, a string
method: nothing there can block or call `sys.exit()`); and demo code under `if __name__ ==
"__main__":` of a library module.
""",
    why="""
The user presses Ctrl-C and nothing happens — or worse, a loop skips to its next item and goes
on. A `sys.exit(2)` deep in the code turns into "carry on". Supervisors that stop a program with
SIGINT wait forever.
""",
    example="""
for job in jobs:
    try:
        job.run()
    except:                        # Ctrl-C moves on to the next job
        logger.warning("job failed")
""",
    fix="""
Catch `Exception` for errors, and let interrupts through; do cleanup in `finally`:

```python
for job in jobs:
    try:
        job.run()
    except JobError:
        logger.exception("job %s failed", job)
```
""",
    check=check,
    profile="strict",
)
