"""EW116 return-in-finally: `return`, `break` or `continue` in a `finally` block."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from errwise.audit.finding import Finding, Severity
from errwise.audit.model import FileModel, walk_scope
from errwise.audit.rule import Rule

_JUMPS = (ast.Return, ast.Break, ast.Continue)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def check(model: FileModel) -> Iterator[Finding]:
    for try_ in model.tries:
        for node in _jumps_leaving_finally(try_.node.finalbody):
            word = type(node).__name__.lower()
            yield model.finding(
                RULE,
                node,
                f"`{word}` in `finally` discards any exception in flight: an error raised in the "
                "`try` (or its handlers) vanishes and the function looks successful",
                recommendation=(
                    f"Move the `{word}` after the `try` statement; keep `finally` for cleanup "
                    "only, so exceptions propagate (Python 3.14 warns about this: PEP 765)."
                ),
                severity=Severity.HIGH if try_.handlers or _may_raise(try_.node) else RULE.severity,
            )


def _jumps_leaving_finally(finalbody: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Jumps that leave the finally block: returns anywhere, break/continue outside inner loops."""
    stack: list[tuple[ast.AST, bool]] = [(s, False) for s in finalbody]
    while stack:
        node, in_loop = stack.pop()
        if isinstance(node, _SCOPES):
            continue
        if isinstance(node, ast.Return) or (
            isinstance(node, (ast.Break, ast.Continue)) and not in_loop
        ):
            yield node
            continue
        loop_body = node.body if isinstance(node, _LOOPS) else ()
        stack.extend((c, in_loop or c in loop_body) for c in ast.iter_child_nodes(node))


def _may_raise(node: ast.Try | ast.TryStar) -> bool:
    return any(isinstance(n, (ast.Call, ast.Raise, ast.Subscript)) for n in walk_scope(node.body))


RULE = Rule(
    id="EW116",
    name="return-in-finally",
    severity=Severity.MEDIUM,
    summary="`return`/`break`/`continue` in `finally` discards the in-flight exception.",
    what="""
A `return`, `break` or `continue` that leaves a `finally` block (a `break`/`continue` belonging
to a loop inside the block is fine). Whatever exception was propagating through the `try` —
including `KeyboardInterrupt` — is dropped without a trace.
""",
    why="""
The function returns normally after a failure: the caller gets a plausible value and the error
is gone from every log. CPython 3.14 emits a SyntaxWarning for it (PEP 765) for this reason.
""",
    example="""
def read_count(path):
    try:
        return int(open(path).read())
    finally:
        return 0      # a missing file, a parse error, even Ctrl-C: all become 0
""",
    fix="""
Keep `finally` for cleanup and return after the statement:

```python
def read_count(path):
    try:
        with open(path) as handle:
            return int(handle.read())
    except FileNotFoundError:
        return 0
```
""",
    check=check,
)
