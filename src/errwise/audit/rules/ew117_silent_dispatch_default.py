"""EW117 silent-dispatch-default: an if/elif dispatch on a kind string with no `else`, after
which the function reports success.

Promise: flags an `if`/`elif` chain of two or more branches that each compare one and the same
subject (a name, attribute or subscript) to string constants (`==` or `in` a tuple/list/set of
strings), without a final `else`, when the same function afterwards reports success: returns
`True`, `"ok"`-like strings or `Ok(...)`, or logs a success message ("done", "complete",
"success", "✓" ...). A `match` whose cases are all string literals, without `case _:`, is judged
the same way. Not flagged when the statement right after the chain raises (the default is an
error), when the subject was validated earlier in the function (`if kind not in KNOWN: raise`,
`assert kind in ...`), or when it comes from `getopt` or a loop over the literal values.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from errwise.audit.effects import Effect
from errwise.audit.finding import Finding, Severity
from errwise.audit.model import FileModel, FunctionInfo, walk_scope
from errwise.audit.rule import Rule
from errwise.audit.rules._flow import mentions_expr, same_expr

_SUCCESS_WORDS = (
    "success",
    "succeeded",
    "complete",
    "completed",
    "done",
    "finished",
    "rolled back",
    "✓",
    "✔",
)
_SUCCESS_STRINGS = frozenset({"ok", "success", "done", "completed"})
_LOG_METHODS = frozenset({"info", "debug", "warning", "log", "msg", "print", "echo", "secho"})


def check(model: FileModel) -> Iterator[Finding]:
    for node in model.nodes(ast.If):
        parent = model.parents.get(node)
        if isinstance(parent, ast.If) and parent.orelse == [node]:
            continue  # an `elif` of a chain handled from its head
        chain = _chain(node)
        if chain is None:
            continue
        branches, last = chain
        subject, values = _dispatch(branches)
        if subject is None or last.orelse:
            continue
        bodies = [s for b in branches for s in b.body]
        finding = _judge(model, node, subject, values, bodies, missing="has no `else`")
        if finding is not None:
            yield finding
    for match in model.nodes(ast.Match):
        cases = _match_values(match)
        if cases is None:
            continue
        bodies = [s for case in match.cases for s in case.body]
        finding = _judge(model, match, match.subject, cases, bodies, missing="has no `case _:`")
        if finding is not None:
            yield finding


def _judge(
    model: FileModel,
    node: ast.If | ast.Match,
    subject: ast.expr,
    values: list[str],
    bodies: list[ast.stmt],
    *,
    missing: str,
) -> Finding | None:
    fn = model.function_of(node)
    if fn is None or _after_is_raise(model, node) or _validated(fn, node, subject):
        return None
    success = _success_after(model, fn, node)
    if success is None:
        return None
    effects = model.effects_in(bodies)
    changes = bool(effects & (Effect.DISK | Effect.LOCK | Effect.CLEANUP | Effect.PROCESS))
    shown = ", ".join(repr(v) for v in values[:4]) + (" ..." if len(values) > 4 else "")
    subject_text = ast.unparse(subject)
    message = (
        f"dispatch on `{subject_text}` handles {shown} and {missing}: any other value "
        f"does nothing, and the function still reports success ({success})"
    )
    if changes:
        message += "; the skipped branch would have changed state, which is silently left"
    default = "else:" if isinstance(node, ast.If) else "case _:"
    return model.finding(
        RULE,
        node,
        message,
        severity=Severity.CRITICAL if changes else Severity.MEDIUM,
        recommendation=(
            f'Add `{default} raise errwise.bug("unknown {subject_text.rsplit(".", 1)[-1]}", '
            f"value={subject_text})` (or `errwise.usage(...)` if it comes from input), or "
            "dispatch through a dict and let a missing key fail; with an Enum or Literal "
            "type, end with `typing.assert_never(...)` so the type checker finds new kinds."
        ),
    )


def _match_values(match: ast.Match) -> list[str] | None:
    """The string values of a `match` whose cases are all string literals (no wildcard,
    capture or guard) — two or more of them; None otherwise."""
    values: list[str] = []
    for case in match.cases:
        if case.guard is not None:
            return None
        patterns = (
            case.pattern.patterns if isinstance(case.pattern, ast.MatchOr) else [case.pattern]
        )
        for pattern in patterns:
            if not (
                isinstance(pattern, ast.MatchValue)
                and isinstance(pattern.value, ast.Constant)
                and isinstance(pattern.value.value, str)
            ):
                return None
            values.append(pattern.value.value)
    return values if len(match.cases) >= 2 else None


def _chain(node: ast.If) -> tuple[list[ast.If], ast.If] | None:
    branches = [node]
    while len(branches[-1].orelse) == 1 and isinstance(branches[-1].orelse[0], ast.If):
        branches.append(branches[-1].orelse[0])
    return (branches, branches[-1]) if len(branches) >= 2 else None


def _dispatch(branches: list[ast.If]) -> tuple[ast.expr | None, list[str]]:
    """The common subject of the chain's tests and the string values compared, or None."""
    subject: ast.expr | None = None
    values: list[str] = []
    for branch in branches:
        found = _compare(branch.test)
        if found is None:
            return None, []
        expr, strings = found
        if subject is None:
            subject = expr
        elif not same_expr(subject, expr):
            return None, []
        values.extend(strings)
    return subject, values


def _compare(test: ast.expr) -> tuple[ast.expr, list[str]] | None:
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return None
    left, op, right = test.left, test.ops[0], test.comparators[0]
    if isinstance(op, ast.Eq):
        if _is_str(right) and _is_subject(left):
            return left, [right.value]  # type: ignore[attr-defined]
        if _is_str(left) and _is_subject(right):
            return right, [left.value]  # type: ignore[attr-defined]
        return None
    if (
        isinstance(op, ast.In)
        and _is_subject(left)
        and isinstance(right, (ast.Tuple, ast.List, ast.Set))
        and right.elts
        and all(_is_str(e) for e in right.elts)
    ):
        return left, [e.value for e in right.elts]  # type: ignore[attr-defined]
    return None


def _is_str(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and isinstance(expr.value, str)


def _is_subject(expr: ast.expr) -> bool:
    return isinstance(expr, (ast.Name, ast.Attribute, ast.Subscript))


def _after_is_raise(model: FileModel, node: ast.If | ast.Match) -> bool:
    parent = model.parents.get(node)
    for field in ("body", "orelse", "finalbody"):
        block = getattr(parent, field, None)
        if isinstance(block, list) and node in block:
            rest = block[block.index(node) + 1 :]
            return bool(rest) and isinstance(rest[0], ast.Raise)
    return False


def _validated(fn: FunctionInfo, chain: ast.If | ast.Match, subject: ast.expr) -> bool:
    """Is the subject checked against a known set earlier (or produced by an option parser)?"""
    for node in walk_scope(fn.node.body if not isinstance(fn.node, ast.Lambda) else []):
        if getattr(node, "lineno", chain.lineno) >= chain.lineno:
            continue
        if isinstance(node, ast.Assert) and mentions_expr(node.test, subject):
            return True
        if (
            isinstance(node, ast.If)
            and mentions_expr(node.test, subject)
            and any(isinstance(s, ast.Raise) for s in walk_scope(node.body))
        ):
            return True
        if (
            isinstance(node, (ast.For, ast.AsyncFor))
            and mentions_expr(node.target, subject)
            and (_from_option_parser(fn, node.iter) or _literal_strings(node.iter))
        ):
            return True
    return False


def _literal_strings(expr: ast.expr) -> bool:
    """`for kind in ("a", "b"):` — the loop itself enumerates the values."""
    return isinstance(expr, (ast.Tuple, ast.List, ast.Set)) and all(_is_str(e) for e in expr.elts)


def _from_option_parser(fn: FunctionInfo, iterable: ast.expr) -> bool:
    """`getopt.getopt(...)` itself, or a name the function bound from it."""
    if "getopt" in ast.unparse(iterable):
        return True
    names = {n.id for n in ast.walk(iterable) if isinstance(n, ast.Name)}
    for call in fn.calls:
        if not (call.qualname or "").startswith("getopt."):
            continue
        for node in walk_scope(fn.node.body if not isinstance(fn.node, ast.Lambda) else []):
            if isinstance(node, ast.Assign) and node.value is call.node:
                bound = {n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
                if bound & names:
                    return True
    return False


def _success_after(model: FileModel, fn: FunctionInfo, chain: ast.If | ast.Match) -> str | None:
    """How the function reports success after the chain (a short description), or None."""
    end = chain.end_lineno or chain.lineno
    for ret in fn.normal_returns():
        value = ret.node.value
        if ret.node.lineno <= end or value is None:
            continue
        if isinstance(value, ast.Constant) and (
            value.value is True
            or (isinstance(value.value, str) and value.value.lower() in _SUCCESS_STRINGS)
        ):
            return f"`return {ast.unparse(value)}` at line {ret.node.lineno}"
        if isinstance(value, ast.Call) and (model.qualify(value.func) or "").rsplit(".", 1)[-1] in (
            "Ok",
            "Success",
        ):
            return f"`return {ast.unparse(value.func)}(...)` at line {ret.node.lineno}"
    for call in fn.calls:
        if call.node.lineno <= end or call.ctx.handler is not None:
            continue
        func = call.node.func
        method = func.attr if isinstance(func, ast.Attribute) else call.qualname
        if method not in _LOG_METHODS:
            continue
        text = " ".join(
            str(n.value)
            for a in call.node.args
            for n in ast.walk(a)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        ).lower()
        if any(word in text for word in _SUCCESS_WORDS):
            return f"logs {_short(text)!r} at line {call.node.lineno}"
    return None


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:39] + "…"


RULE = Rule(
    id="EW117",
    name="silent-dispatch-default",
    severity=Severity.MEDIUM,
    summary="if/elif dispatch on a kind string with no `else`, in code that then reports success.",
    what="""
An `if`/`elif` chain of two or more branches comparing the same variable or attribute to string
constants (`op.kind == "remove_lock"`, `mode in ("a", "b")`), with no `else` — or a `match`
whose cases are all string literals, with no `case _:` — in a function that afterwards reports
success: returns `True`, `"ok"` or `Ok(...)`, or logs "done"/"complete"/"success". Not flagged
when the statement after the chain raises, when the subject was validated earlier in the
function (`if kind not in KINDS: raise`, `assert`), or when it comes from `getopt` (which
already rejected unknown options) or from a loop over the literal values. Critical when the
branches change state (files, locks, rollback, processes): an unknown kind skips that change and
nobody is told.
""",
    why="""
A new kind added elsewhere, a typo, or a value from an older file format falls through every
branch and nothing happens — yet the function says it succeeded. In a rollback this leaves state
behind while the log says "rolled back".
""",
    example="""
def rollback(transaction):
    for op in reversed(transaction.operations):
        if op.rollback_type == "remove_lock":
            op.lock_path.unlink()
        elif op.rollback_type == "move_wo_to_pending":
            op.running.rename(op.pending)
    logger.info("Rollback complete")
    return True
""",
    fix="""
Make the unknown case loud:

```python
        if op.rollback_type == "remove_lock":
            op.lock_path.unlink()
        elif op.rollback_type == "move_wo_to_pending":
            op.running.rename(op.pending)
        else:
            raise errwise.bug("unknown rollback type", rollback_type=op.rollback_type)
```

Or use a dict of handlers (a missing key raises), or an Enum with `typing.assert_never`;
`errwise.Transaction` records an undo callable per step, so there is nothing to dispatch.
""",
    check=check,
    profile="strict",
)
