"""Shared judgements of the timeout rules (subprocess-without-timeout, network-call-without-
timeout): does a call pass a timeout, which names hold an object made by a factory, which lock
a call runs under, and the finding of a call that can wait forever.

Promise: pure functions over a `FileModel`; a name is "bound here" only when the same function
(or, for `self.x`, the same class) assigns it from the factory, so an object of unknown origin is
never judged.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from errwise.audit.finding import Finding, Severity
from errwise.audit.model import CallInfo, FileModel
from errwise.audit.names import dotted
from errwise.audit.rule import Rule
from errwise.audit.rules._flow import ancestors

__all__ = [
    "Bound",
    "bound_objects",
    "bound_here",
    "calls_on",
    "has_splat",
    "is_none",
    "missing_timeout",
    "scope_key",
    "under_lock",
    "waits_forever",
]

Bound = dict[str, dict[str, list[ast.Call]]]
"""Scope key (`fn:<qualname>`, `class:<name>`, `module`) -> bound name -> the factory calls."""


def has_splat(node: ast.Call) -> bool:
    """`f(**kwargs)`: the splat may carry the timeout."""
    return any(kw.arg is None for kw in node.keywords)


def is_none(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


def missing_timeout(node: ast.Call, positional: int | None, keyword: str = "timeout") -> str:
    """Why the call has no timeout ("" when it has one)."""
    for kw in node.keywords:
        if kw.arg == keyword:
            return f"passes `{keyword}=None`" if is_none(kw.value) else ""
    if positional is not None and len(node.args) > positional:
        if any(isinstance(a, ast.Starred) for a in node.args[: positional + 1]):
            return ""
        return "passes `None` as timeout" if is_none(node.args[positional]) else ""
    if any(isinstance(a, ast.Starred) for a in node.args):
        return ""  # `*args` may carry the timeout positionally
    return "has no timeout"


def scope_key(call: CallInfo, name: str) -> str | None:
    fn = call.ctx.function
    if name.startswith("self.") and fn is not None:
        owner = fn
        while owner.parent is not None and owner.class_name is None:
            owner = owner.parent
        return f"class:{owner.class_name}" if owner.class_name else None
    return f"fn:{fn.qualname}" if fn is not None else "module"


def bound_objects(model: FileModel, factories: frozenset[str]) -> Bound:
    """Names assigned (or bound by `with ... as`) from a call of one of `factories`."""
    bound: Bound = {}
    for call in model.calls:
        if call.qualname not in factories:
            continue
        parent = model.parents.get(call.node)
        if isinstance(parent, ast.Await):
            parent = model.parents.get(parent)
        targets: list[ast.expr] = []
        if isinstance(parent, (ast.Assign, ast.AnnAssign)):
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        elif isinstance(parent, ast.withitem) and parent.optional_vars is not None:
            targets = [parent.optional_vars]
        for target in targets:
            name = dotted(target)
            if name is None:
                continue
            key = scope_key(call, name)
            if key is not None:
                bound.setdefault(key, {}).setdefault(name, []).append(call.node)
    return bound


def bound_here(call: CallInfo, receiver: str, bound: Bound) -> list[ast.Call]:
    """The factory calls that bound `receiver` in the call's scope (empty when none did)."""
    key = scope_key(call, receiver)
    return bound.get(key, {}).get(receiver, []) if key is not None else []


def calls_on(model: FileModel, call: CallInfo, receiver: str) -> Iterable[CallInfo]:
    """Method calls on `receiver` in the same scope as `call` (the class for `self.x`)."""
    index: dict[str, list[CallInfo]] | None = model.memo.get(_BY_RECEIVER)
    if index is None:
        index = model.memo[_BY_RECEIVER] = {}
        for other in model.calls:
            func = other.node.func
            name = dotted(func.value) if isinstance(func, ast.Attribute) else None
            if name is not None:
                index.setdefault(name, []).append(other)
    key = scope_key(call, receiver)
    return [other for other in index.get(receiver, []) if scope_key(other, receiver) == key]


_BY_RECEIVER = "timeouts: method calls by receiver"
"""`FileModel.memo` key: the file's method calls by their receiver's dotted name."""


def under_lock(model: FileModel, call: CallInfo) -> str | None:
    """The lock or transaction the call runs under (`with lock:`), if any."""
    for node in ancestors(model, call.node):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                expr = item.context_expr
                name = dotted(expr.func if isinstance(expr, ast.Call) else expr) or ""
                if any(w in name.lower() for w in ("lock", "transaction", "mutex")):
                    return name
    return None


def waits_forever(
    rule: Rule, model: FileModel, call: CallInfo, message: str, recommendation: str
) -> Finding:
    """The finding of a call that can wait forever: the rule's severity, or medium (and said)
    when it waits under a lock or transaction, blocking every other holder too."""
    lock = under_lock(model, call)
    severity = rule.severity
    if lock is not None:
        severity = Severity.MEDIUM
        message += f" while holding `{lock}`, blocking every other holder too"
    return model.finding(
        rule,
        call.node,
        message,
        severity=severity,
        recommendation=recommendation[:1].upper() + recommendation[1:] + ".",
    )
