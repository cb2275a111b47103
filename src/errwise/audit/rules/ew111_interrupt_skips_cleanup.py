"""EW111 interrupt-skips-cleanup: rollback or cleanup done only in `except Exception`.

Promise: a finding for an `except Exception` clause that undoes or cleans up (a rollback, undo,
restore or cleanup call, a lock release, a file or directory removal) after a `try` that does
something, when neither that `try` nor an enclosing one in the same function has a `finally`,
nor a clause for `BaseException`/`KeyboardInterrupt`/bare `except`. Ctrl-C (`KeyboardInterrupt`)
and `sys.exit()` are not `Exception`s: they skip the cleanup and leave state behind. This is the
real danger behind "broad catching" in seed 004 MEDIUM-1 — `except Exception` does *not* catch
Ctrl-C. The cleanup may be a call to a helper of the same module (a function, or a method of
the clause's class via `self.`) whose own body removes, rolls back or releases. A helper whose
body only assigns attributes (an in-memory restore) is not cleanup an interrupt can skip with
harm: the interrupt abandons the object with the operation. Does not claim the clause.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from errwise.audit.effects import Effect
from errwise.audit.finding import Finding, Severity
from errwise.audit.handling import short
from errwise.audit.model import CallInfo, FileModel, FunctionInfo, HandlerInfo, TryInfo
from errwise.audit.rule import Rule
from errwise.audit.rules._handler_context import in_thread, thread_targets
from errwise.audit.rules.ew108_ignored_error_result import resolve_callee
from errwise.audit.text import call_text

__all__ = ["RULE"]

_REMOVALS = frozenset(
    {
        "os.remove",
        "os.unlink",
        "os.rmdir",
        "os.removedirs",
        "shutil.rmtree",
    }
)
_REMOVAL_METHODS = frozenset({"unlink", "rmdir", "rmtree"})
_INTERRUPT_CATCHERS = frozenset({"BaseException", "KeyboardInterrupt"})


def check(model: FileModel) -> Iterator[Finding]:
    threads = thread_targets(model)
    for handler in model.handlers:
        if in_thread(model, handler.function, threads):
            continue  # a thread's code: Ctrl-C is delivered to the main thread only
        if handler.catches_base or not any(short(c) == "Exception" for c in handler.caught):
            continue
        try_ = handler.try_
        if not try_.body_calls:
            continue
        cleanup = _cleanup_calls(model, handler)
        if not cleanup:
            continue
        if _covered(model, try_):
            continue
        yield _finding(model, handler, cleanup)


def _cleanup_calls(model: FileModel, handler: HandlerInfo) -> list[tuple[CallInfo, str | None]]:
    """The clause's cleanup calls, each with what it does when it is a helper of this module
    (`self._discard()` -> "`shutil.rmtree()`"), else None."""
    found: list[tuple[CallInfo, str | None]] = []
    functions = {f.qualname: f for f in model.functions}
    for call in model.calls_in(handler.node.body):
        if call.ctx.handler is not handler:
            continue  # inside a nested handler of the clause
        key = resolve_callee(model, call, functions)
        if key is not None and _in_memory_only(functions[key]):
            continue  # `self._restore()` that only puts attributes back: an interrupt abandons
            # the object with the operation, no state outside the process is left behind
        if _cleans_up(call):
            found.append((call, None))
            continue
        # A helper of this module that does the undo: `self._discard()`, `remove_partial(p)`.
        if key is not None and key != (handler.function.qualname if handler.function else None):
            inner = next((c for c in functions[key].calls if _cleans_up(c)), None)
            if inner is not None:
                found.append((call, call_text(model, inner.node)))
    return found


def _in_memory_only(fn: FunctionInfo) -> bool:
    """A helper whose whole body assigns attributes or names and calls nothing."""
    node = fn.node
    if isinstance(node, ast.Lambda) or fn.calls:
        return False
    body = [
        s
        for s in node.body
        if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))  # docstring
    ]
    return bool(body) and all(isinstance(s, (ast.Assign, ast.AugAssign)) for s in body)


def _cleans_up(call: CallInfo) -> bool:
    name = call.qualname or ""
    return bool(
        call.effects & Effect.CLEANUP
        or name in _REMOVALS
        or (call.attr in _REMOVAL_METHODS and "." in name)
    )


def _covers(try_: TryInfo) -> bool:
    return try_.has_finally or any(
        h.bare or any(short(c) in _INTERRUPT_CATCHERS for c in h.caught) for h in try_.handlers
    )


def _covered(model: FileModel, try_: TryInfo) -> bool:
    """This try, or an enclosing one in the same function, runs code on interruption too."""
    if _covers(try_):
        return True
    tries: dict[ast.AST, TryInfo] = {
        t.node: t for t in (try_.function.tries if try_.function else model.tries)
    }
    child: ast.AST = try_.node
    node = model.parents.get(child)
    while node is not None and not isinstance(
        node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
    ):
        info = tries.get(node)
        if info is not None:
            if child in info.node.body and _covers(info):
                return True
            if info.has_finally and child not in info.node.finalbody:
                return True
        child, node = node, model.parents.get(node)
    return False


def _finding(
    model: FileModel, handler: HandlerInfo, cleanup: list[tuple[CallInfo, str | None]]
) -> Finding:
    names: list[str] = []
    shown_names: list[str] = []
    for call, via in cleanup:
        text = call_text(model, call.node)
        if text not in names:
            names.append(text)
            shown_names.append(text if via is None else f"{text} (which calls {via})")
    shown = ", ".join(shown_names[:3])
    rollback = any(c.effects & Effect.CLEANUP for c, _ in cleanup)
    what = "rollback" if rollback else "cleanup"
    message = (
        f"{what} {shown} runs only in `except Exception`: Ctrl-C (`KeyboardInterrupt`) and "
        f"`sys.exit()` are not `Exception`s, so an interruption skips it and leaves the state "
        f"half changed"
    )
    return model.finding(
        RULE,
        handler.node,
        message,
        severity=Severity.CRITICAL if rollback else Severity.MEDIUM,
        recommendation=(
            f"Run the {what} on every exit path: put it in `finally:` (guarded by a success "
            f"flag), or add `except BaseException: {names[0].strip('`')}; raise` — or let "
            "`errwise.Transaction` own the undo steps (it rolls back on `KeyboardInterrupt` too, "
            "then re-raises it)."
        ),
    )


RULE = Rule(
    id="EW111",
    name="interrupt-skips-cleanup",
    severity=Severity.CRITICAL,
    summary="Rollback/cleanup only in `except Exception`: Ctrl-C skips it and leaves state behind.",
    what="""
An `except Exception` clause that rolls back, cleans up, releases a lock or removes files after a
`try` that did something, when neither that `try` nor an enclosing one has a `finally` or a
clause for `BaseException`, `KeyboardInterrupt` or bare `except`. `KeyboardInterrupt` and
`SystemExit` derive from `BaseException`, not `Exception`: they pass straight through the
clause, and the undo never runs. The undo may be inline (`os.remove(tmp)`,
`conn.rollback()`) or a call to a helper of the same module whose body does it
(`self._discard()` that calls `shutil.rmtree`).

Deliberately not reported: a helper that only changes memory (forgets an entry, stops an
object, puts attributes back — even one named `restore`/`rollback` whose body only assigns),
code run in a thread (Ctrl-C reaches the main thread only), a clause covered by a
`finally` or an interrupt clause around it.
""",
    why="""
The user presses Ctrl-C while the work order is half taken: the lock stays, the file stays in
"running", the worktree stays on disk. The code *has* a rollback — it just never runs on the
one failure users cause on purpose. (Seed 004's MEDIUM-1 feared the opposite: `except
Exception` does not catch Ctrl-C; the real defect is that the rollback is skipped.)
""",
    example="""
try:
    create_worktree(root, wo_id, branch, path)
except Exception as e:
    logger.error(f"Failed to create worktree: {e}")
    execute_rollback(transaction, root)       # never runs on Ctrl-C
    return 1
""",
    fix="""
Run the undo on every way out, then let the interruption continue:

```python
try:
    create_worktree(root, wo_id, branch, path)
except BaseException:
    execute_rollback(transaction, root)
    raise
```

or use `errwise.Transaction`, which rolls back on `KeyboardInterrupt` and re-raises it.
""",
    check=check,
    profile="strict",
)
