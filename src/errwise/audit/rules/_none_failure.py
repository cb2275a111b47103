"""`None` as a failure value: functions that answer "could not" with `None`, and the calls that
use that answer unchecked.

Promise: `none_failures(model)` lists the functions of a module (no generators, no lambdas)
that return a real value on some paths and `None` on a path the code marks as a failure:
- the fall-through after an `if`/`elif` chain whose branches return values ("no case matched":
  an unsupported algorithm, an unknown kind), by an explicit `return None` or by falling off
  the end of the function;
- a `return None` under an `if x not in ...:` or `if not isinstance(...)` guard (an unsupported
  value);
- a `return None` right after a log or warning call in the same block.
A `return None` under a test of a parameter being `None`/empty (`if not data: return None`) is
passing the caller's nothing through, not a failure, and is never evidence.

`unchecked_use(model, call)` says how a caller uses such a result without looking at it: an
attribute, a call or a subscript on it (directly or through the variable it is assigned to), or
the variable passed as a keyword argument to a call that changes the world (network, process,
disk); None when the caller tests the value anywhere (`is None`, truthiness, `or`, `assert`,
`isinstance`), reassigns it, or runs inside a `try` that catches `AttributeError`/`TypeError`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from errwise.audit.effects import Effect
from errwise.audit.model import CallInfo, FileModel, FunctionInfo, walk_scope
from errwise.audit.rules._flow import catches

__all__ = ["NoneFailure", "UncheckedUse", "none_failures", "unchecked_use"]

_WORLD = Effect.NETWORK | Effect.PROCESS | Effect.DISK


@dataclass(frozen=True, slots=True)
class NoneFailure:
    qualname: str
    line: int
    """The `return None` (or the end of the function, for an implicit fall-through)."""
    why: str
    """In words: "when no case matches", "for an unsupported value", "after logging a warning"."""


@dataclass(frozen=True, slots=True)
class UncheckedUse:
    node: ast.AST
    line: int
    text: str
    """What happens, in words (`auth.headers` raises `AttributeError` ...)."""
    raises: bool = True
    """The use raises (rather than going on with `None`)."""


def none_failures(model: FileModel) -> dict[str, NoneFailure]:
    """The module's functions whose `None` return is a failure value, by qualname."""
    found: dict[str, NoneFailure] = {}
    for fn in model.functions:
        if isinstance(fn.node, ast.Lambda) or fn.is_generator:
            continue
        values = [r for r in fn.returns if not _is_none(r.node.value)]
        if not values or any(r.ctx.function is not fn for r in values):
            continue
        failure = _failure_return(model, fn)
        if failure is not None:
            found[fn.qualname] = failure
    return found


def _is_none(value: ast.expr | None) -> bool:
    return value is None or (isinstance(value, ast.Constant) and value.value is None)


def _failure_return(model: FileModel, fn: FunctionInfo) -> NoneFailure | None:
    node = fn.node
    assert not isinstance(node, ast.Lambda)
    params = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
    for ret in fn.returns:
        if not _is_none(ret.node.value) or ret.ctx.function is not fn or ret.ctx.handler:
            continue
        parent = model.parents.get(ret.node)
        block = _block_of(parent, ret.node)
        if block is None:
            continue
        index = block.index(ret.node)
        if index > 0 and _is_log(model, block[index - 1]):
            return NoneFailure(fn.qualname, ret.node.lineno, "after logging a warning")
        if isinstance(parent, ast.If) and ret.node in parent.body:
            if _passes_nothing_through(parent.test, params):
                continue
            if _unsupported_guard(parent.test):
                return NoneFailure(fn.qualname, ret.node.lineno, "for an unsupported value")
        if parent is node and index == len(block) - 1 and _after_dispatch(block[:index]):
            return NoneFailure(fn.qualname, ret.node.lineno, "when no case matches")
    last = node.body[-1]
    if isinstance(last, ast.If) and _falls_through(last) and _after_dispatch(node.body):
        # `if kind == "a": return A() / elif kind == "b": return B()` and nothing after
        end = last.end_lineno or last.lineno
        return NoneFailure(fn.qualname, end, "when no case matches, by falling off the end")
    return None


def _falls_through(chain: ast.If) -> bool:
    """An `if`/`elif` chain with no final `else`."""
    branch = chain
    while len(branch.orelse) == 1 and isinstance(branch.orelse[0], ast.If):
        branch = branch.orelse[0]
    return not branch.orelse


def _block_of(parent: ast.AST | None, stmt: ast.stmt) -> list[ast.stmt] | None:
    if parent is None:
        return None
    for name in ("body", "orelse", "finalbody"):
        block = getattr(parent, name, None)
        if isinstance(block, list) and stmt in block:
            return block
    return None


def _is_log(model: FileModel, stmt: ast.stmt) -> bool:
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
        return False
    call = stmt.value
    qual = model.qualify(call.func) or ""
    func = call.func
    attr = func.attr if isinstance(func, ast.Attribute) else ""
    return qual == "warnings.warn" or attr in ("warning", "warn", "error", "exception")


def _passes_nothing_through(test: ast.expr, params: set[str]) -> bool:
    """`if x is None:` / `if not x:` on a parameter: the caller passed nothing in."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return isinstance(test.operand, ast.Name) and test.operand.id in params
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Is):
        return isinstance(test.left, ast.Name) and test.left.id in params
    if isinstance(test, ast.BoolOp):
        return any(_passes_nothing_through(v, params) for v in test.values)
    return False


def _unsupported_guard(test: ast.expr) -> bool:
    if isinstance(test, ast.Compare) and any(isinstance(op, ast.NotIn) for op in test.ops):
        return True
    return (
        isinstance(test, ast.UnaryOp)
        and isinstance(test.op, ast.Not)
        and isinstance(test.operand, ast.Call)
        and isinstance(test.operand.func, ast.Name)
        and test.operand.func.id == "isinstance"
    )


def _after_dispatch(before: list[ast.stmt]) -> bool:
    """The statements before the final `return None` end in an `if`/`elif` chain whose
    branches all return a value: the fall-through is "none of the cases"."""
    if not before or not isinstance(before[-1], ast.If):
        return False
    branch: ast.stmt | None = before[-1]
    count = 0
    while isinstance(branch, ast.If):
        last = branch.body[-1]
        if not (isinstance(last, ast.Return) and not _is_none(last.value)):
            return False
        count += 1
        branch = branch.orelse[0] if len(branch.orelse) == 1 else None
        if branch is None:
            break
    # Earlier sibling `if`s that return a value count as cases too (`if a: return x` twice).
    for stmt in reversed(before[:-1]):
        if not (isinstance(stmt, ast.If) and isinstance(stmt.body[-1], ast.Return)):
            break
        count += 1
    return count >= 2


def unchecked_use(model: FileModel, call: CallInfo) -> UncheckedUse | None:
    """How the caller uses the call's result without checking it (see the module promise)."""
    if _guarded(model, call):
        return None
    parent = model.parents.get(call.node)
    direct = _use_of(model, parent, call.node)
    if direct is not None:
        return direct
    if not (
        isinstance(parent, ast.Assign)
        and len(parent.targets) == 1
        and isinstance(parent.targets[0], ast.Name)
    ):
        return None
    var = parent.targets[0].id
    fn = call.ctx.function
    if fn is None or isinstance(fn.node, ast.Lambda):
        return None
    first: UncheckedUse | None = None
    for node in walk_scope(fn.node.body):
        if not isinstance(node, ast.Name) or node.id != var:
            continue
        if isinstance(node.ctx, ast.Store):
            if node is not parent.targets[0]:
                return None  # reassigned: the value may be checked or replaced
            continue
        if node.lineno < call.node.lineno:
            continue
        up = model.parents.get(node)
        if _tests(up, node):
            return None
        use = _use_of(model, up, node)
        if use is not None and (first is None or use.line < first.line):
            first = use
    return first


def _use_of(model: FileModel, up: ast.AST | None, node: ast.expr) -> UncheckedUse | None:
    shown = "result" if any(n > 100 for n, _ in enumerate(ast.walk(node))) else ast.unparse(node)
    if len(shown) > 40:
        shown = shown[:39] + "…"
    line = getattr(node, "lineno", 0)
    if isinstance(up, ast.Attribute) and up.value is node:
        return UncheckedUse(
            up,
            line,
            f"`{shown}.{up.attr}` (line {line}) raises `AttributeError: 'NoneType' object "
            f"has no attribute '{up.attr}'`",
        )
    if isinstance(up, ast.Call) and up.func is node:
        return UncheckedUse(up, line, f"calling it (line {line}) raises `TypeError`")
    if isinstance(up, ast.Subscript) and up.value is node:
        return UncheckedUse(up, line, f"`{shown}[…]` (line {line}) raises `TypeError`")
    if isinstance(up, ast.keyword) and up.arg is not None:
        outer = model.parents.get(up)
        if isinstance(outer, ast.Call):
            info = next((c for c in model.calls_in([outer]) if c.node is outer), None)
            if info is not None and info.effects & _WORLD:
                return UncheckedUse(
                    outer,
                    line,
                    f"`{info.qualname or up.arg}(..., {up.arg}={shown})` (line {line}) then "
                    f"runs with `{up.arg}=None`, as if nothing had failed",
                    raises=False,
                )
    return None


def _tests(up: ast.AST | None, node: ast.expr) -> bool:
    """Is the variable tested here (`is None`, truthiness, `or`/`and`, `isinstance`...)?"""
    if isinstance(up, (ast.Compare, ast.BoolOp, ast.IfExp, ast.Assert)):
        return True
    if isinstance(up, (ast.If, ast.While)) and up.test is node:
        return True
    if isinstance(up, ast.UnaryOp) and isinstance(up.op, ast.Not):
        return True
    return (
        isinstance(up, ast.Call)
        and isinstance(up.func, ast.Name)
        and up.func.id in ("isinstance", "bool", "callable", "hasattr", "getattr")
    )


def _guarded(model: FileModel, call: CallInfo) -> bool:
    """The call sits in a try whose clauses catch `AttributeError` or `TypeError`."""
    ctx = call.ctx
    try_, part = ctx.try_, ctx.try_part
    while try_ is not None:
        if part == "body" and any(
            catches(model, h.caught, "AttributeError") or catches(model, h.caught, "TypeError")
            for h in try_.handlers
        ):
            return True
        outer = model.ctx(try_.node)
        if outer.function is not ctx.function:
            break
        try_, part = outer.try_, outer.try_part
    return False
