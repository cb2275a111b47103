"""What audited code already does well: the "positive findings" of a report.

Promise: `strengths(model)` lists, in source order, the functions of one file that already
handle errors the way errwise recommends — return a `Result` (annotated `Result[...]` or
returning `Ok(...)` / `Err(...)`), raise classified errors (`errwise.usage/env/target/bug`,
`errwise.classify(exc)...`, or any `errwise` error type), or do state changes with errwise's
safe operations (`atomic_write`, `FileLock`, `Transaction`, `run`). Read from the model only; it
never raises for any code the model accepts.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from errwise.audit.model import FileModel, FunctionInfo

__all__ = ["Strength", "strengths", "KINDS"]

KINDS = {
    "result": "return a `Result`, so callers must look at failures",
    "classified": "raise classified errors (a code and context a caller can act on)",
    "safe-ops": "change state with errwise's safe operations",
}
"""Each kind of strength, as a report phrases it ("Functions that ...")."""

_RESULT_NAMES = frozenset({"Ok", "Err"})
_SAFE_OPS = frozenset(
    {"errwise.atomic_write", "errwise.FileLock", "errwise.Transaction", "errwise.run"}
)
_CLASSIFIED = frozenset(
    {"errwise.usage", "errwise.env", "errwise.target", "errwise.bug", "errwise.classify"}
)


@dataclass(frozen=True, slots=True)
class Strength:
    path: str
    line: int
    function: str
    kind: str
    """One of `KINDS`."""


def strengths(model: FileModel) -> list[Strength]:
    found = [
        Strength(model.path, function.node.lineno, function.qualname, kind)
        for function in model.functions
        if not isinstance(function.node, ast.Lambda)
        for kind in _kinds(model, function)
    ]
    found.sort(key=lambda s: (s.line, s.kind))
    return found


def _kinds(model: FileModel, function: FunctionInfo) -> list[str]:
    kinds: list[str] = []
    annotation = function.return_annotation
    returns_result = annotation is not None and _names_result(model, annotation)
    if not returns_result:
        for ret in function.returns:
            value = ret.node.value
            if isinstance(value, ast.Call) and _short(model, value.func) in _RESULT_NAMES:
                returns_result = True
                break
    if returns_result:
        kinds.append("result")
    for raise_info in function.raises:
        if _classified(model, raise_info.node.exc, raise_info.exc_name):
            kinds.append("classified")
            break
    if any((c.qualname or "") in _SAFE_OPS for c in function.calls):
        kinds.append("safe-ops")
    return kinds


def _names_result(model: FileModel, annotation: ast.expr) -> bool:
    target = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    if isinstance(target, ast.Constant) and isinstance(target.value, str):
        return target.value.split("[", 1)[0].rsplit(".", 1)[-1] == "Result"
    return _short(model, target) == "Result"


def _short(model: FileModel, expr: ast.expr) -> str:
    name = model.qualify(expr) or ""
    return name.rsplit(".", 1)[-1]


def _classified(model: FileModel, exc: ast.expr | None, exc_name: str | None) -> bool:
    if exc is None:
        return False
    if exc_name is not None and exc_name.startswith("errwise."):
        return True
    # raise errwise.env(...) / raise errwise.classify(exc).with_context(...)
    node: ast.expr = exc
    while True:
        if isinstance(node, ast.Call):
            if (model.qualify(node.func) or "") in _CLASSIFIED:
                return True
            node = node.func
        elif isinstance(node, ast.Attribute):
            node = node.value
        else:
            return False
