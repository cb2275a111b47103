"""EW112 raise-without-cause: a new exception raised inside an except clause without `from`.

Promise: flags `raise NewError(...)` (a call, or a class name) inside an except clause when the
statement has no `from` clause. Not flagged: a bare `raise`, re-raising the caught exception
(`raise exc`, `raise exc.with_traceback(tb)`), `raise ... from exc` and the deliberate
`raise ... from None`, a lower-case name (an exception object built earlier, possibly the caught
one), and `SystemExit` (its traceback is never printed).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from errwise.audit.finding import Finding, Severity
from errwise.audit.handling import expected_condition
from errwise.audit.model import FileModel, HandlerInfo
from errwise.audit.rule import Rule
from errwise.audit.text import caught_text

_NOT_ERRORS = frozenset({"SystemExit", "builtins.SystemExit", "KeyboardInterrupt"})


def check(model: FileModel) -> Iterator[Finding]:
    for info in model.raises:
        node, handler = info.node, info.ctx.handler
        if handler is None or node.exc is None or node.cause is not None:
            continue
        if not _new_exception(node.exc, handler) or (info.exc_name or "") in _NOT_ERRORS:
            continue
        raised = _raised_text(node.exc)
        caught = caught_text(handler) or "BaseException"
        bind = handler.node.name or "exc"
        narrow = expected_condition(handler)
        uses = handler.node.name is not None and _mentions(node.exc, handler.node.name)
        message = (
            f"`raise {raised}` inside `except {caught}` (line {handler.node.lineno}) has no "
            f"`from`: the {caught} is not recorded as the cause (`__cause__` is None), and the "
            "traceback shows it under 'During handling of the above exception, another "
            "exception occurred', which reads as a second bug in this handler"
        )
        if uses:
            message += f"; `{bind}` only survives as text in the new message"
        yield model.finding(
            RULE,
            node,
            message,
            severity=Severity.MEDIUM if narrow or handler.facts.inspects_error else Severity.HIGH,
            recommendation=(
                f"Chain it: bind the error (`except {caught} as {bind}:`) and write "
                f"`raise {raised} from {bind}`; if the original is pure noise, say so with "
                f"`from None`. Where it fits, `raise errwise.classify({bind}).with_context(...) "
                f"from {bind}` keeps the cause and adds a stable code."
            ),
        )


def _new_exception(exc: ast.expr, handler: HandlerInfo) -> bool:
    name = handler.node.name
    if isinstance(exc, ast.Name):
        # `raise exc` (the caught one, or one kept in a variable) re-raises; a class name is new.
        return exc.id != name and exc.id[:1].isupper()
    if isinstance(exc, ast.Attribute):
        root = exc
        while isinstance(root, ast.Attribute):
            root = root.value  # type: ignore[assignment]
        return not (isinstance(root, ast.Name) and root.id in (name, "self")) and (
            exc.attr[:1].isupper()
        )
    if isinstance(exc, ast.Call):
        func = exc.func
        # `raise exc.with_traceback(tb)`: a method of the caught error returns the error itself.
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            return func.value.id != name
        return True
    return False


def _mentions(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _raised_text(exc: ast.expr) -> str:
    target = exc.func if isinstance(exc, ast.Call) else exc
    text = ast.unparse(target)
    if len(text) > 40:
        text = "…" + text[-39:]
    return f"{text}(...)" if isinstance(exc, ast.Call) else text


RULE = Rule(
    id="EW112",
    name="raise-without-cause",
    severity=Severity.HIGH,
    summary="A new exception raised in an except clause without `from`.",
    what="""
`raise NewError(...)` inside an `except` clause, with no `from`. A bare `raise`, `raise exc` of
the caught error, `raise exc.with_traceback(tb)`, `raise ... from exc` and the deliberate
`raise ... from None` are fine; so is `raise SystemExit(...)`, whose traceback is never shown.
High when the clause catches a broad or family type (the replaced error carried the real
reason); medium for narrow, expected conditions (`KeyError` turned into `AttributeError`) and
for clauses that inspected the error first (`if exc.errno == ENOENT: raise KeyError(key)`).
""",
    why="""
Python still keeps the caught error as `__context__`, but not as `__cause__`: code walking the
cause chain (and `errwise.classify`, loggers, error reporters that follow `__cause__`) does not see
the real reason, and the traceback says "During handling of the above exception, another
exception occurred" — which tells the reader the handler itself crashed, sending them hunting for
a second bug instead of reading the translation the author intended.
""",
    example="""
def load_config(path):
    try:
        return json.loads(path.read_text())
    except OSError:
        raise ConfigError(f"cannot read {path}")
""",
    fix="""
Say that the new error is *because of* the old one:

```python
def load_config(path):
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        raise errwise.classify(exc).with_context(config=str(path)) from exc
```

Use `from None` only when the original error is noise for every reader.
""",
    check=check,
)
