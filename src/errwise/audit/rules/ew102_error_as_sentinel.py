"""EW102 error-as-sentinel: a handler returns a value the function also returns on a normal path.

Promise: a finding only when the except clause loses the error (no re-raise, no traceback, no
record) and the value it returns is *also* a normal-path outcome of the same function — the
same literal (`False`, `None`, `(False, None)`, `{}`, `-1`, ...), or, for a function annotated
`-> bool`, the same truth value. `sentinel_handlers(model, function)` exposes that judgement so
ignored-error-result can mark such functions as failure-signalling.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from errwise.audit.effects import Effect
from errwise.audit.finding import Finding, Severity
from errwise.audit.handling import expected_condition, short, verdict
from errwise.audit.model import FileModel, FunctionInfo, HandlerInfo, ReturnInfo
from errwise.audit.rule import Rule
from errwise.audit.rules._demo import library_demo
from errwise.audit.rules._fallback import documented_fallback
from errwise.audit.rules._handler_context import documented_choice, reports_elsewhere
from errwise.audit.rules._probe import capability_probe
from errwise.audit.rules._tolerated import read_only_lookup
from errwise.audit.text import call_list, caught_text

__all__ = ["RULE", "Sentinel", "sentinel_handlers", "literal_key", "is_bool_function"]

_EMPTY_CALLS = {"dict": "{}", "list": "[]", "set": "set()", "tuple": "()", "str": "''"}


@dataclass(frozen=True, slots=True)
class Sentinel:
    """An except clause returning `value`, which the normal path at `normal_line` returns too."""

    handler: HandlerInfo
    ret: ast.Return
    value: str
    normal_line: int
    normal_text: str
    """How the normal path produces it: the value itself, or the expression that can be false."""


def literal_key(expr: ast.expr | None) -> str | None:
    """A canonical rendering of a literal value (`None` for a bare return); None if not literal."""
    if expr is None:
        return "None"
    if isinstance(expr, ast.Constant):
        return repr(expr.value)
    if (
        isinstance(expr, ast.UnaryOp)
        and isinstance(expr.op, ast.USub)
        and isinstance(expr.operand, ast.Constant)
        and isinstance(expr.operand.value, (int, float))
    ):
        return repr(-expr.operand.value)
    if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
        parts = [literal_key(e) for e in expr.elts]
        if any(p is None for p in parts):
            return None
        inner = ", ".join(p for p in parts if p is not None)
        if isinstance(expr, ast.Tuple):
            return f"({inner},)" if len(parts) == 1 else f"({inner})"
        if isinstance(expr, ast.List):
            return f"[{inner}]"
        return f"{{{inner}}}" if parts else "set()"
    if isinstance(expr, ast.Dict) and not expr.keys:
        return "{}"
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id in _EMPTY_CALLS
        and not expr.args
        and not expr.keywords
    ):
        return _EMPTY_CALLS[expr.func.id]
    return None


def is_bool_function(function: FunctionInfo) -> bool:
    """Annotated `-> bool`."""
    ann = function.return_annotation
    return (isinstance(ann, ast.Name) and ann.id == "bool") or (
        isinstance(ann, ast.Constant) and ann.value == "bool"
    )


def _falls_off_end(body: list[ast.stmt]) -> bool:
    """Can control reach the end of these statements (an implicit `return None`)?"""
    if not body:
        return True
    last = body[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return False
    if isinstance(last, ast.If):
        return _falls_off_end(last.body) or _falls_off_end(last.orelse)
    if isinstance(last, (ast.With, ast.AsyncWith)):
        return _falls_off_end(last.body)
    if isinstance(last, ast.While):
        infinite = isinstance(last.test, ast.Constant) and bool(last.test.value)
        has_break = any(isinstance(n, ast.Break) for n in ast.walk(last))
        return not infinite or has_break
    if isinstance(last, (ast.Try, ast.TryStar)):
        if last.finalbody and not _falls_off_end(last.finalbody):
            return False
        main = last.orelse if last.orelse else last.body
        return _falls_off_end(main) or any(_falls_off_end(h.body) for h in last.handlers)
    return True


def _normal_outcomes(function: FunctionInfo) -> list[tuple[ReturnInfo | None, str | None]]:
    """(return, literal key or None for a computed value) for every normal-path return;
    `(None, "None")` when control can fall off the end."""
    out: list[tuple[ReturnInfo | None, str | None]] = [
        (r, literal_key(r.node.value)) for r in function.normal_returns()
    ]
    node = function.node
    if not isinstance(node, ast.Lambda) and _falls_off_end(node.body):
        out.append((None, "None"))
    return out


def _truth(key: str) -> bool | None:
    try:
        return bool(ast.literal_eval(key))
    except (ValueError, SyntaxError):
        return None


def _predicate(function: FunctionInfo) -> bool:
    """`is_x`, `isdir`, `has_x`, `can_x`, `exists`: "could not tell" is, by design, "no"."""
    name = function.name.lstrip("_")
    return name.startswith(("is_", "has_", "can_", "supports_", "exists")) or (
        name.startswith("is") and not name.startswith(("iss", "iso"))
    )


def _value_function(outcomes: list[tuple[ReturnInfo | None, str | None]]) -> bool:
    """Does some normal path return a real value (not None, not just another call's result)?"""
    for ret, key in outcomes:
        if ret is None or key == "None":
            continue
        if key is not None or not isinstance(ret.node.value, (ast.Call, ast.Await)):
            return True
    return False


def sentinel_handlers(model: FileModel, function: FunctionInfo) -> list[Sentinel]:
    """The except clauses of `function` whose returned value is also a normal-path outcome."""
    if function.is_generator or isinstance(function.node, ast.Lambda):
        return []
    handlers = [h for t in function.tries for h in t.handlers]
    if not handlers:
        return []
    if model.is_boundary(function):
        return []  # a boundary returns exit statuses: 2 on a usage error is the contract
    outcomes = _normal_outcomes(function)
    # A function that only ever returns None is a procedure: its callers use no value.
    if not _value_function(outcomes):
        return []
    boolish = is_bool_function(function)
    found: list[Sentinel] = []
    for handler in handlers:
        if not verdict(model, handler).loses_error or expected_condition(handler):
            continue
        if reports_elsewhere(model, handler) or documented_choice(model, handler):
            continue  # reported through the component's channel, or a documented choice
        if documented_fallback(model, handler) or capability_probe(model, handler):
            continue  # the value is the function's documented answer, or a probe's "no"
        if library_demo(model, handler.node):
            continue
        for ret in handler.facts.returns:
            where = model.ctx(ret)
            if where.handler is not handler or where.try_ is not handler.try_:
                continue  # a nested try's outcome (its success or its own handler)
            key = literal_key(ret.value)
            if key is None or (key == "False" and _predicate(function)):
                continue
            match = _match(key, outcomes, boolish)
            if match is not None:
                line, text = match
                found.append(Sentinel(handler, ret, key, line, text))
                break
    return found


def _match(
    key: str,
    outcomes: list[tuple[ReturnInfo | None, str | None]],
    boolish: bool,
) -> tuple[int, str] | None:
    for ret, other in outcomes:
        if other == key:
            return (ret.node.lineno if ret is not None else -1), key
    if boolish and _truth(key) is False:
        for ret, other in outcomes:
            if ret is None:
                continue
            if other is None and ret.node.value is not None:
                text = ast.unparse(ret.node.value)
                return ret.node.lineno, f"`{text[:40]}` when that is false"
            if other is not None and _truth(other) is False:
                return ret.node.lineno, other
    return None


def check(model: FileModel) -> Iterator[Finding]:
    for function in model.functions:
        for found in sentinel_handlers(model, function):
            if _unavailable_answer(model, function, found):
                continue
            yield _finding(model, function, found)


def _unavailable_answer(model: FileModel, function: FunctionInfo, found: Sentinel) -> bool:
    """A read-only lookup (only file-access errors caught, nothing changed) whose value is
    already the function's conditional "not available" answer: every normal path returning
    it does so under an `if` (`if not path: return None, None`), and the clause answers an
    unreadable source like an absent one. Callers already handle that value."""
    if found.normal_line == -1 or not read_only_lookup(model, found.handler):
        return False
    if _about_lock(model, function, found.handler.try_.node.body):
        return False  # "no lock" and "could not read the lock" must never look alike
    same = [r for r in function.normal_returns() if literal_key(r.node.value) == found.value]
    return bool(same) and all(_under_if(model, r.node, function) for r in same)


def _under_if(model: FileModel, node: ast.AST, function: FunctionInfo) -> bool:
    cur = model.parents.get(node)
    while cur is not None and cur is not function.node:
        if isinstance(cur, ast.If):
            return True
        cur = model.parents.get(cur)
    return False


def _finding(model: FileModel, function: FunctionInfo, found: Sentinel) -> Finding:
    handler = found.handler
    body = handler.try_.node.body
    effects = model.effects_in(body)
    calls = call_list(model, body)
    clause = "a bare `except`" if handler.bare else f"`except {caught_text(handler)}`"
    where = (
        "when it falls off the end (an implicit `None`)"
        if found.normal_line == -1
        else f"at line {found.normal_line}"
    )
    same = (
        f"the same value the normal path returns {where}"
        if found.normal_text == found.value
        else f"and the normal path at line {found.normal_line} returns {found.normal_text}"
    )
    failure = f"a failure of {calls}" if calls else "a failure"
    message = (
        f"{clause} returns `{found.value}` — {same}: callers cannot tell {failure} "
        f"from a real `{found.value}`"
    )
    severity = Severity.HIGH
    if effects & (Effect.DISK | Effect.LOCK | Effect.CLEANUP):
        severity = Severity.CRITICAL
        message += "; the guarded code changes lock or on-disk state"
    elif _about_lock(model, function, body):
        severity = Severity.CRITICAL
        message += "; the answer is about a lock: callers may remove a valid one or take a held one"
    elif not calls:
        severity = Severity.MEDIUM
    return model.finding(
        RULE,
        handler.node,
        message,
        severity=severity,
        recommendation=_recommend(function, found, handler),
        anchor=found.ret,
        claim=handler.node,
    )


def _about_lock(model: FileModel, function: FunctionInfo, body: list[ast.stmt]) -> bool:
    if "lock" in function.name.lower():
        return True
    return any("lock" in (c.qualname or "").lower() for c in model.calls_in(body))


def _recommend(function: FunctionInfo, found: Sentinel, handler: HandlerInfo) -> str:
    name = function.name
    code = _code_for(handler)
    return (
        f"Make the failure a distinct outcome of `{name}()`: return "
        f"`errwise.Err(...)` with a typed reason (e.g. `Result[Info, Problem]` where Problem "
        f"says 'permission_denied', 'corrupt', ...) instead of `{found.value}`, or raise "
        f'`errwise.env("{code}", ..., path=...)` / `raise errwise.classify(exc).with_context('
        f"...) from exc`; catch only the condition for which `{found.value}` is the true answer "
        f"(e.g. `FileNotFoundError`)."
    )


def _code_for(handler: HandlerInfo) -> str:
    caught = {short(c) for c in handler.caught}
    if "PermissionError" in caught:
        return "ERR_PERMISSION_DENIED"
    if caught & {"subprocess.CalledProcessError", "subprocess.SubprocessError"}:
        return "ERR_SUBPROCESS_FAILED"
    if caught & {"TimeoutError", "subprocess.TimeoutExpired"}:
        return "ERR_TIMEOUT"
    return "ERR_IO"


RULE = Rule(
    id="EW102",
    name="error-as-sentinel",
    severity=Severity.HIGH,
    summary="A handler returns a value the function also returns on success, hiding the error.",
    what="""
An `except` clause that loses the error (no re-raise, no traceback logged, nothing recorded) and
returns a literal — `False`, `None`, `(False, None)`, `{}`, `[]`, `""`, `0`, `-1` — that the
same function also returns on a normal path (an explicit `return`, or falling off the end for
`None`). For a function annotated `-> bool`, returning `False` while a normal path can also
yield false counts too. A handler whose value never occurs on the normal path (`return True`
on success, `return False` on failure) is not this defect; neither is a handler for one specific
expected condition (`except FileNotFoundError: return None`), a value the function's
docstring documents for the failure ("returns None if the file cannot be read") or its own
`default` parameter, a capability probe's "no", and demo code under
`if __name__ == "__main__":` of a library module. Nor a read-only lookup that catches only
file-access errors (`OSError`) and answers with the value the function already returns under an
`if` for "not available" (`if path is None: return None, None`): callers handle that value, and
an unreadable source is answered like an absent one — unless the answer is about a lock.
""",
    why="""
The caller receives a plausible answer: `(False, None)`, "there is no lock", when in truth it
could not be read (permission denied, disk error, a corrupt file). It acts on the wrong answer —
removes a valid lock, retries forever, reports success — and nothing tells the operator why.
""",
    example="""
def check_lock_validity(lock_path):
    if not lock_path.exists():
        return False, None              # expected: no lock
    try:
        meta = parse(lock_path.read_text())
        return True, meta
    except (OSError, ValueError) as e:
        logger.error(f"Error parsing lock: {e}")
        return False, None
""",
    fix="""
Return a distinct, typed failure the caller must inspect, or raise a classified error:

```python
def check_lock(lock_path) -> errwise.Result[LockInfo, LockProblem]:
    try:
        text = lock_path.read_text()
    except FileNotFoundError:
        return errwise.Err(LockProblem("not_found"))
    except PermissionError as exc:
        raise errwise.env("ERR_PERMISSION_DENIED", "cannot read lock", path=lock_path) from exc
    ...
    return errwise.Ok(info)
```
""",
    check=check,
    profile="strict",
    specificity=40,
)
