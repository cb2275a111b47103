"""EW120 dead-handler: an except clause for an exception nothing in the try body can raise.

Promise: "can never run" is said only when it is true: every call of the body resolved to known
behaviour (an unresolved call, an unknown attribute read or store means "unknown", never
"raises nothing"), classes compared after re-exports are resolved, and nothing a signal
handler raises is judged dead. A handler around a generator call whose result is iterated
outside the try is reported with that reason.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import replace

from errwise.audit.config import AuditConfig
from errwise.audit.deferred import Deferred
from errwise.audit.finding import Finding, Severity
from errwise.audit.handling import short
from errwise.audit.infer import NEVER_DEAD, Program
from errwise.audit.infer.facts import Call, CallKind, Try
from errwise.audit.infer.hierarchy import item_class
from errwise.audit.infer.program import UNKNOWN_ATTRIBUTE_READ
from errwise.audit.model import FileModel, HandlerInfo, walk_scope
from errwise.audit.rule import Rule
from errwise.audit.text import caught_text

_RUN_WITHOUT_CHECK = frozenset({"subprocess.run", "subprocess.call"})
_HTTP_CALL_PREFIXES = ("requests.", "httpx.")
_STATUS_ERRORS = frozenset({"requests.HTTPError", "httpx.HTTPStatusError", "httpx.HTTPError"})


def check(model: FileModel) -> Iterator[Deferred[tuple[_Clause, ...]]]:
    """The clauses worth judging; judged by `_resolve` once every file is summarised."""
    clauses: list[_Clause] = []
    skeletons: list[Finding] = []
    for handler in model.handlers:
        if handler.bare or not handler.caught or "?" in handler.caught:
            continue
        if _may_receive_thrown(handler):
            continue
        node = handler.node
        clauses.append((node.lineno, node.col_offset, caught_text(handler), _lazy_call(handler)))
        skeletons.append(model.finding(RULE, node, "", recommendation=""))
    if clauses:
        yield Deferred(f"{RULE.id} {RULE.name}", _resolve, tuple(clauses), tuple(skeletons))


_Lazy = tuple[int, int, str] | None
"""(line, column, the name bound or "" when returned) of the one call a try body makes when
the body only binds or returns its result: `rows = iter_rows(path)`."""
_Clause = tuple[int, int, str, _Lazy]
"""(line, 0-based column, the caught types as written, the lazy-call candidate) of a clause."""


def _lazy_call(handler: HandlerInfo) -> _Lazy:
    body = handler.try_.node.body
    if len(body) != 1:
        return None
    stmt = body[0]
    name = ""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        if not isinstance(target, ast.Name):
            return None
        name, value = target.id, stmt.value
    elif isinstance(stmt, ast.Return) and stmt.value is not None:
        value = stmt.value
    else:
        return None
    if not isinstance(value, ast.Call):
        return None
    inner = [*value.args, *(kw.value for kw in value.keywords), value.func]
    if any(isinstance(n, (ast.Call, ast.Subscript, ast.BinOp)) for e in inner for n in ast.walk(e)):
        return None  # the arguments run code of their own
    return value.lineno, value.col_offset, name


def _resolve(
    program: Program,
    config: AuditConfig,
    clauses: tuple[_Clause, ...],
    skeletons: tuple[Finding, ...],
) -> Iterator[Finding]:
    signals = _signal_raises(program)
    for clause, skeleton in zip(clauses, skeletons, strict=True):
        finding = _judge(program, skeleton, signals, clause)
        if finding is not None:
            yield finding


def _signal_raises(program: Program) -> frozenset[str]:
    """What the program's signal handlers raise: it can arrive in any code. A handler's known
    raises count (the typical one raises a class of its own to unwind the main loop); a saved
    handler put back (`signal.signal(sig, self._old)`) is not new code."""
    items: set[str] = set()
    for facts in program.files.values():
        for qual in facts.signal_handlers:
            if program.canonical_name(qual) in program.functions:
                items.update(item_class(i) for i in program.raise_set(qual)[0])
                continue
            spec = program.kb.spec(qual)
            if spec is not None:
                items.update(spec.raises)
    return frozenset(items)


def _judge(
    program: Program,
    skeleton: Finding,
    signals: frozenset[str],
    clause: _Clause,
) -> Finding | None:
    line, col, caught_as_written, lazy = clause
    return _judge_clause(program, skeleton, signals, line, col, caught_as_written, lazy=lazy)


def _judge_clause(  # noqa: PLR0917 - the clause's parts, unpacked once
    program: Program,
    skeleton: Finding,
    signals: frozenset[str],
    line: int,
    col: int,
    caught_as_written: str,
    *,
    lazy: _Lazy,
) -> Finding | None:
    result = program.handler(skeleton.path, line, col)
    t = program.try_of(skeleton.path, line, col)
    if result is None or t is None:
        return None
    hierarchy = program.hierarchy
    caught = [hierarchy.canonical(c) for c in result.caught]
    if any(not hierarchy.known(c) or not hierarchy.is_exception(c) for c in caught):
        return None
    if any(
        hierarchy.is_subclass(c, never) or hierarchy.is_subclass(never, c)
        for c in caught
        for never in NEVER_DEAD
    ):
        return None
    if any(hierarchy.related(r, c) for r in signals for c in caught):
        return None  # a signal handler may raise it into any code
    if lazy is not None:
        finding = _lazy_finding(program, skeleton, t, caught, caught_as_written, lazy=lazy)
        if finding is not None:
            return finding
    if result.body.unknown:
        return None  # some call could not be resolved: the body may raise anything
    if UNKNOWN_ATTRIBUTE_READ in result.body.items:
        return None
    raised = {item_class(i) for i in result.body.items}
    dead = [c for c in caught if not any(hierarchy.related(r, c) for r in raised)]
    if len(dead) != len(caught):
        return None
    calls = [c for c in program.calls(t.body) if c.kind is not CallKind.UNKNOWN]
    severity, why, fix = _explain(dead, calls)
    names = ", ".join(short(d) for d in dead)
    possible = hierarchy.ordered(result.body.items)
    can = (
        f"it can raise only {', '.join(short(p) for p in possible[:5])}"
        + (" and more" if len(possible) > 5 else "")
        if possible
        else "it raises nothing"
    )
    body_calls = _call_names(calls)
    where = f"the try body ({body_calls})" if body_calls else "the try body"
    return replace(
        skeleton,
        message=f"`except {caught_as_written}` can never run: nothing in {where} raises "
        f"{names} — {can}{why}",
        severity=severity,
        recommendation=fix,
        hidden_errors=list(possible),
    )


def _lazy_finding(
    program: Program,
    skeleton: Finding,
    t: Try,
    caught: list[str],
    caught_as_written: str,
    *,
    lazy: tuple[int, int, str],
) -> Finding | None:
    """`rows = iter_rows(path)` in the try, where `iter_rows` is a generator function of the
    program: the call runs none of its body, so the handler never sees what iterating raises."""
    line, col, name = lazy
    calls = list(program.calls(t.body))
    if len(calls) != 1 or (calls[0].line, calls[0].col) != (line, col):
        return None
    call = calls[0]
    functions, _ = program.resolved(call)
    generators = {g for f in program.files.values() for g in f.generators}
    if not functions or not all(program.canonical_name(f) in generators for f in functions):
        return None
    raised: set[str] = set()
    for function in functions:
        raised.update(item_class(i) for i in program.raise_set(function)[0])
    meant = [c for c in caught if any(program.hierarchy.related(r, c) for r in raised)]
    if not meant:
        return None  # not the generator's errors: judged like any other clause
    names = ", ".join(short(c) for c in meant)
    later = f"while `{name}` is iterated" if name else "while the caller iterates the result"
    callee = f"`{short(call.text)}()`"
    return replace(
        skeleton,
        message=f"`except {caught_as_written}` can never run: {callee} is a generator function, "
        f"so calling it runs none of its body and raises nothing — its {names} comes later, "
        f"{later}, outside this try",
        severity=Severity.MEDIUM,
        recommendation="Move the iteration into the try (e.g. `rows = list(iter_rows(path))`), "
        "or handle the error where the result is consumed; a generator's errors surface only "
        "when it is iterated.",
        hidden_errors=program.hierarchy.ordered(frozenset(raised)),
    )


def _may_receive_thrown(handler: HandlerInfo) -> bool:
    """A try body that yields or awaits can have any exception thrown into it."""
    return any(
        isinstance(n, (ast.Yield, ast.YieldFrom, ast.Await))
        for n in walk_scope(handler.try_.node.body)
    )


def _call_names(calls: list[Call]) -> str:
    names: list[str] = []
    for c in calls:
        text = f"`{short(c.text)}()`"
        if text not in names:
            names.append(text)
    shown = ", ".join(names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _explain(dead: list[str], calls: list[Call]) -> tuple[Severity, str, str]:
    dead_set = set(dead)
    if "subprocess.CalledProcessError" in dead_set and any(
        c.target in _RUN_WITHOUT_CHECK for c in calls
    ):
        return (
            Severity.HIGH,
            "; `subprocess.run()` raises CalledProcessError only with `check=True`, so a "
            "failing command is silently treated as success",
            "Pass `check=True` (and a `timeout=`) so a non-zero exit raises, or inspect "
            "`returncode` yourself; `errwise.run(...)` raises a classified error with the "
            "command, exit status and stderr.",
        )
    if dead_set & _STATUS_ERRORS and any(
        (c.target or "").startswith(_HTTP_CALL_PREFIXES) for c in calls
    ):
        return (
            Severity.HIGH,
            "; HTTP error statuses (404, 500) do not raise without `response.raise_for_status()`,"
            " so an error response is used as if it succeeded",
            "Call `response.raise_for_status()` right after the request (or check "
            "`response.status_code`) so the handler sees error statuses.",
        )
    if "subprocess.TimeoutExpired" in dead_set:
        return (
            Severity.MEDIUM,
            "; without `timeout=` the call never times out, so TimeoutExpired never comes",
            "Pass `timeout=` to the call so the handler can do its job.",
        )
    return (
        Severity.LOW,
        "",
        "Remove the clause, or catch what the body really raises; if it guards against a "
        "failure of code you expect to change, say so in a comment and catch the documented "
        "exception of that code.",
    )


RULE = Rule(
    id="EW120",
    name="dead-handler",
    severity=Severity.LOW,
    summary="An except clause for an exception the try body cannot raise.",
    what="""
An `except` clause whose exception types nothing in the try body can raise, judged from the
exception-flow inference: the documented raises of library calls (errwise's knowledge base), the
audited code's own functions (their raise-sets, computed across modules), and built-in
operations (`d[k]` raises KeyError, `a / b` ZeroDivisionError). It reports only when *every*
call in the body, transitively, was resolved — one unknown call and the clause is left alone. It
never judges clauses for exceptions any code may raise (TypeError, AttributeError,
RecursionError, KeyboardInterrupt, ...), for classes whose ancestry it does not know, or try
bodies that `yield`/`await` (exceptions can be thrown into them), nor clauses for what a
signal handler of the program raises (it arrives in whatever code runs). An attribute read or
store on an object of unknown type counts as unknown code (a property, a setter, a weakref
proxy). It also reports a clause around a call of a generator function of the analysed code
whose result is only bound or returned (`rows = iter_rows(path)`): calling a generator runs
none of its body, so the errors the clause expects come later, while the result is iterated
outside the try (not reported when the iteration is inside the try). The classic cases get a
higher severity: `except CalledProcessError` around `subprocess.run()` without `check=True`, and
`except requests.HTTPError` around a request without `raise_for_status()`.
""",
    why="""
The handler encodes what the author expected to go wrong, and that expectation is false: the
failure it was written for arrives some other way, or not at all. Around `subprocess.run()`
without `check=True` a failing command returns normally, so the "error handling" never runs and
the failure passes as success. Elsewhere a dead clause misleads readers about the real failure
modes and hides that the real ones are not handled.
""",
    example="""
import subprocess

def push(branch):
    try:
        subprocess.run(["git", "push", "origin", branch], timeout=60)
    except subprocess.CalledProcessError:   # never raised: check=True is missing
        return False
    return True
""",
    fix="""
Make the code raise what the handler expects, or handle what it really raises:

```python
def push(branch):
    try:
        subprocess.run(["git", "push", "origin", branch], check=True, timeout=60)
    except subprocess.CalledProcessError as exc:
        raise errwise.classify(exc).with_context(branch=branch) from exc
```

`errwise.run(...)` runs a command with a timeout and raises a classified error on failure.
""",
    check=check,
    profile="strict",
)
