"""EW104 best-effort-loop: a loop over state-changing steps that logs or collects a failed step
and carries on.

Promise: a finding for a `for` loop whose body holds a `try` around state-changing calls (disk,
process, lock, rollback/cleanup) with an except clause that neither propagates nor leaves the
loop — unless the failures it collects are raised or returned as an error after the loop
(`if errors: raise ExceptionGroup(...)`), the try stops the loop on success (a retry or a
search), or the clause catches one specific expected condition (`FileNotFoundError` while
deleting), or the clause logs each failed step with its error (the traceback, or the exception
in the log record) and the steps are not rollback, cleanup or lock changes. Critical when the
steps are rollback, cleanup, lock or disk changes.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from errwise.audit.effects import Effect
from errwise.audit.finding import Finding, Severity
from errwise.audit.handling import Verdict, expected_condition, verdict
from errwise.audit.model import FileModel, FunctionInfo, HandlerInfo, LoopInfo, walk_scope
from errwise.audit.names import dotted
from errwise.audit.rule import Rule
from errwise.audit.rules._best_effort import logs_error, wait_loop
from errwise.audit.rules._demo import library_demo
from errwise.audit.rules._handler_context import documented_choice, reports_elsewhere
from errwise.audit.rules._tolerated import ends_processes, tolerated_creation
from errwise.audit.text import call_list, caught_text

__all__ = ["RULE"]

_ROLLBACK_WORDS = ("rollback", "roll_back", "undo", "revert", "restore")
_DELETIONS = frozenset({"os.remove", "os.unlink", "os.rmdir", "os.removedirs", "shutil.rmtree"})
_DELETION_METHODS = frozenset({"unlink", "rmdir", "rmtree", "remove"})
_LOOPS = (ast.For, ast.AsyncFor, ast.While)


def check(model: FileModel) -> Iterator[Finding]:
    for loop in model.loops:
        if not isinstance(loop.node, (ast.For, ast.AsyncFor)):
            continue  # `while` loops are retry and event loops, not a list of steps
        for try_ in loop.tries:
            body = try_.node.body
            effects = model.effects_in(body)
            rollback = _rollback_context(loop)
            if not effects.state_changing and not rollback:
                continue
            if _leaves_loop(_outside_handlers(loop, try_.node)):
                continue
            critical = rollback or bool(effects & (Effect.LOCK | Effect.CLEANUP))
            for handler in try_.handlers:
                if not _carries_on(model, handler) or _reported_after(model, handler, loop):
                    continue
                if wait_loop(model, handler) or library_demo(model, handler.node):
                    continue
                if not rollback and ends_processes(model, handler):
                    continue  # signalling processes that may have exited: a survivor at worst
                if not rollback and tolerated_creation(model, handler):
                    continue  # a missing directory fails the step that uses it, loudly
                if not critical and logs_error(handler):
                    continue  # best effort, said so: each failed step is logged with its error
                yield _finding(model, loop, handler, effects, rollback)
                break


def _rollback_context(loop: LoopInfo) -> bool:
    fn = loop.function
    texts = [ast.unparse(loop.node.iter) if isinstance(loop.node, (ast.For, ast.AsyncFor)) else ""]
    while fn is not None:
        texts.append(fn.name)
        fn = fn.parent
    lowered = " ".join(texts).lower()
    return any(w in lowered for w in _ROLLBACK_WORDS)


def _leaves_loop(body: list[ast.stmt]) -> bool:
    """Do the success paths return or break out of the loop (a retry or first-success search)?"""
    stack: list[tuple[ast.AST, bool]] = [(s, False) for s in body]
    while stack:
        node, nested = stack.pop()
        if isinstance(node, ast.Return) or (isinstance(node, ast.Break) and not nested):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        inner = nested or isinstance(node, _LOOPS)
        stack.extend((c, inner) for c in ast.iter_child_nodes(node))
    return False


def _outside_handlers(loop: LoopInfo, try_node: ast.Try | ast.TryStar) -> list[ast.stmt]:
    """The loop body with the try's handlers left out: the paths a successful step takes."""
    out: list[ast.stmt] = [s for s in loop.node.body if s is not try_node]
    out += try_node.body + try_node.orelse + try_node.finalbody
    return out


def _carries_on(model: FileModel, handler: HandlerInfo) -> bool:
    facts = handler.facts
    if verdict(model, handler) is Verdict.PROPAGATES or expected_condition(handler):
        return False
    if reports_elsewhere(model, handler) or documented_choice(model, handler):
        return False
    own = [r for r in facts.returns if model.ctx(r).handler is handler]
    return not own and not facts.breaks


def _kept_in(handler: HandlerInfo) -> set[str]:
    """Names (dotted) where the handler keeps the failure: collections and flags."""
    kept: set[str] = set()
    for call in handler.facts.calls:
        if isinstance(call.func, ast.Attribute):
            base = dotted(call.func.value)
            if base is not None and call.func.attr in ("append", "add", "extend", "insert"):
                kept.add(base)
    for node in walk_scope(handler.node.body):
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                base = dotted(target.value if isinstance(target, ast.Subscript) else target)
                if base is not None:
                    kept.add(base)
    return kept


def _mentions_any(node: ast.AST, names: set[str]) -> bool:
    return any(
        isinstance(n, (ast.Name, ast.Attribute)) and dotted(n) in names for n in ast.walk(node)
    )


def _reported_after(model: FileModel, handler: HandlerInfo, loop: LoopInfo) -> bool:
    """Are the kept failures raised, or returned as an error, after the loop?"""
    kept = _kept_in(handler)
    fn = loop.function
    if not kept:
        return False
    end = (loop.node.body[-1].end_lineno or loop.node.lineno) if loop.node.body else 0
    for node in _after(model, fn, end):
        if isinstance(node, ast.Raise) or (
            isinstance(node, ast.Call) and (model.qualify(node.func) or "") == "sys.exit"
        ):
            if _mentions_any(node, kept) or _guarded_by(model, node, kept):
                return True
        elif (
            isinstance(node, ast.Return)
            and node.value is not None
            and _is_error_value(model, node.value)
            and (_mentions_any(node.value, kept) or _guarded_by(model, node, kept))
        ):
            return True
    return False


def _after(model: FileModel, fn: FunctionInfo | None, line: int) -> Iterator[ast.AST]:
    nodes = fn.node.body if fn is not None and not isinstance(fn.node, ast.Lambda) else []
    if fn is None:
        nodes = model.tree.body
    for node in walk_scope(nodes):
        if getattr(node, "lineno", 0) > line:
            yield node


def _guarded_by(model: FileModel, node: ast.AST, kept: set[str]) -> bool:
    cur = model.parents.get(node)
    while cur is not None and not isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef)):
        if isinstance(cur, ast.If) and _mentions_any(cur.test, kept):
            return True
        cur = model.parents.get(cur)
    return False


def _is_error_value(model: FileModel, expr: ast.expr) -> bool:
    if isinstance(expr, ast.Call):
        last = (model.qualify(expr.func) or "").rsplit(".", 1)[-1]
        return last in ("Err", "Failure", "ExceptionGroup", "BaseExceptionGroup") or last.endswith(
            ("Error", "Exception", "Group")
        )
    return False


def _finding(
    model: FileModel, loop: LoopInfo, handler: HandlerInfo, effects: Effect, rollback: bool
) -> Finding:
    node = loop.node
    assert isinstance(node, (ast.For, ast.AsyncFor))
    header = f"for {ast.unparse(node.target)} in {ast.unparse(node.iter)}"
    if len(header) > 60:
        header = header[:59] + "…"
    calls = call_list(model, handler.try_.node.body)
    clause = "a bare `except`" if handler.bare else f"`except {caught_text(handler)}`"
    facts = handler.facts
    doing = (
        "collects"
        if _kept_in(handler) and verdict(model, handler) is Verdict.RECORDS and not facts.logs
        else "logs"
        if facts.logs_anything
        else "drops"
    )
    calls_in = list(model.calls_in(handler.try_.node.body))
    deletions_only = bool(calls_in) and all(
        not c.effects.state_changing
        or c.qualname in _DELETIONS
        or (c.attr in _DELETION_METHODS and not c.effects & (Effect.LOCK | Effect.CLEANUP))
        for c in calls_in
    )
    critical = rollback or bool(effects & (Effect.LOCK | Effect.CLEANUP))
    if rollback:
        harm = (
            "a failed undo step is skipped and the rest runs on, leaving state half rolled "
            "back with no error raised"
        )
    elif critical:
        harm = "the loop finishes with lock or cleanup state half done and no error raised"
    elif deletions_only:
        harm = (
            "files it was meant to remove stay behind and nobody is told"
            if doing == "drops"
            # the clause logs something: "nobody is told" would be false
            else "files it was meant to remove stay behind and the loop ends as if all were gone"
        )
    elif effects & Effect.DISK:
        harm = "the loop finishes with on-disk state half changed and no error raised"
    else:
        harm = "the loop finishes as if every step had succeeded"
    message = (
        f"best-effort loop `{header}`: {clause} {doing} the failure of "
        f"{calls or 'a step'} and carries on — {harm}"
    )
    return model.finding(
        RULE,
        handler.node,
        message,
        severity=Severity.CRITICAL
        if critical
        else Severity.MEDIUM
        if deletions_only
        else Severity.HIGH,
        recommendation=(
            "Use `errwise.Transaction`: undo steps run in reverse, a failed critical undo "
            "stops the rollback, and `RollbackError` lists what is left to do by hand. At the "
            "least, collect the failures and raise them after the loop "
            '(`if errors: raise ExceptionGroup("rollback failed", errors)`) instead of '
            "returning as if the loop had succeeded."
        ),
        anchor=handler.node,
        suppress_lines=(node.lineno,),
        claim=handler.node,
    )


RULE = Rule(
    id="EW104",
    name="best-effort-loop",
    severity=Severity.CRITICAL,
    summary="A loop over state-changing steps logs or collects a failed step and carries on.",
    what="""
A `for` loop over steps that change state (files, processes, locks, rollback or cleanup
operations) whose per-step `except` logs, collects or drops the failure and continues with the
next step. Not reported when the collected failures are raised or returned as an error after
the loop (`if errors: raise ExceptionGroup(...)`, `return Err(errors)`), when the try leaves the
loop on success (a retry or a first-success search), or when the clause catches one specific
expected condition (`except FileNotFoundError` while deleting). Deliberately not reported
either: a best effort that says so — each failed step logged with its error (`logger.exception`,
`exc_info=True`, or the exception passed to the log call) — unless the steps are a rollback,
cleanup or lock changes, where "some undo steps silently did not happen" is the harm itself;
signals sent to processes (`os.kill`) catching only `OSError`, outside a rollback: a process
that already exited is the usual failure, and a survivor is not state left changed; creating
directories catching only `OSError` (a missing one fails the step that uses it); and demo
code under `if __name__ == "__main__":` of a library module.
""",
    why="""
"Best effort" means "some steps silently did not happen". In a rollback, the lock stays taken,
the work order stays "running", the worktree stays on disk — and the function returns as if the
undo worked, so nobody is told what to fix by hand.
""",
    example="""
def execute_rollback(transaction):
    failed = []
    for op in reversed(transaction.operations):
        try:
            op.undo()                       # remove lock, move work order back, ...
        except Exception as e:
            logger.error(f"rollback failed: {e}")
            failed.append(op.name)          # ... and go on regardless
    return not failed, failed
""",
    fix="""
Let a transaction own the undo steps, so a failed critical undo stops and is reported:

```python
with errwise.Transaction("take work order") as tx:
    tx.step("lock", do=create_lock, undo=remove_lock, critical=True,
            recovery=f"rm {lock_path}")
    tx.step("move", do=move_to_running, undo=move_back, critical=True)
    tx.step("worktree", do=add_worktree, undo=remove_worktree)
# a failed undo raises RollbackError listing what is left to do by hand
```

Without a transaction, collect the failures and raise them after the loop:
`if errors: raise ExceptionGroup("rollback failed", errors)`.
""",
    check=check,
    profile="strict",
    specificity=50,
)
