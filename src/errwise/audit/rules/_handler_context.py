"""What surrounds an except clause, beyond what it does with the error: shared judgements of the
lost-error and interruption rules (EW102-EW113).

Promise: each predicate is conservative — it says "yes" only on evidence in the code (a call
whose name says it reports an error, a `target=` keyword, a `Thread` base class, a comment
next to a narrow clause, a configured boundary) — and never raises on any model.
"""

from __future__ import annotations

import ast
import re

from errwise.audit.handling import documented
from errwise.audit.model import FileModel, FunctionInfo, HandlerInfo

__all__ = [
    "reports_elsewhere",
    "documented_choice",
    "commented",
    "reports_errors",
    "keeps_exception",
    "at_boundary",
    "thread_targets",
    "in_thread",
]

_CHANNEL_TOKENS = frozenset(
    {
        "exc",
        "exception",
        "warn",
        "warning",
        "error",
        "err",
        "fail",
        "failure",
        "abort",
        "traceback",
        "excepthook",
    }
)


def reports_elsewhere(model: FileModel, handler: HandlerInfo) -> bool:
    """The clause reports the failure through the component's own error channel
    (`self.send_error(404)`, `parser.error(...)`, `self.fail(...)`, `onerror(...)`,
    `t.print_exc()`, `_warn_unhandled_exception()`)."""
    logs = {id(log.call) for log in handler.facts.logs}
    for call in handler.facts.calls:
        if model.ctx(call).handler is not handler or id(call) in logs:
            continue
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if not name or name[0].isupper():
            continue  # constructing an exception is not reporting one
        lowered = name.lower()
        tokens = set(lowered.strip("_").split("_"))
        if tokens & _CHANNEL_TOKENS or any(
            word in lowered for word in ("error", "fail", "traceback", "excepthook")
        ):
            return True
    return False


def documented_choice(model: FileModel, handler: HandlerInfo) -> bool:
    """A narrow clause whose choice is explained by a comment: in the clause
    (`handling.documented`) or on the lines just above the `try`. A comment admitting a problem
    (`TODO`, `FIXME`, `XXX`, a question) and tool directives explain nothing."""
    if handler.broad:
        return False  # a comment does not make "everything" a specific condition
    return commented(model, handler)


def commented(model: FileModel, handler: HandlerInfo) -> bool:
    """A comment in the clause or on the lines just above the `try` explains it; a comment
    admitting a problem (`TODO`, `FIXME`, `XXX`, a question) and tool directives explain
    nothing."""
    node = handler.node
    own = model.lines[node.lineno - 1 : node.end_lineno or node.lineno]
    if any(_ADMISSION.search(line.partition("#")[2]) for line in own):
        return False
    if documented(model, handler):
        return True
    try_line = handler.try_.node.lineno
    above = [
        line.strip().lstrip("#").strip()
        for line in model.lines[max(try_line - 3, 0) : try_line - 1]
        if line.strip().startswith("#")
    ]
    return any(
        len(text) >= 8
        and not _ADMISSION.search(text)
        and not text.lower().startswith(_TOOL_COMMENTS)
        for text in above
    )


_ADMISSION = re.compile(r"TODO|FIXME|XXX|HACK|\?")
_TOOL_COMMENTS = ("errwise:", "noqa", "pragma", "type:", "fmt:", "pylint:", "nosec")


def reports_errors(function: FunctionInfo | None) -> bool:
    """Is this function itself an error reporter (`handle_error`, `excepthook`,
    `call_exception_handler`)? A failure while reporting another error has nowhere to go."""
    if function is None:
        return False
    name = function.name.lower()
    return any(w in name for w in ("error", "excepthook", "exception_handler"))


def keeps_exception(handler: HandlerInfo) -> bool:
    """`exc = e`: the exception object is kept in a variable (to be raised or shown later)."""
    name = handler.facts.name
    return name is not None and any(
        isinstance(n, ast.Assign) and isinstance(n.value, ast.Name) and n.value.id == name
        for n in ast.walk(handler.node)
    )


def at_boundary(model: FileModel, handler: HandlerInfo) -> bool:
    """In a configured boundary function, or in module-level code of a `__main__` module or
    under `if __name__ == "__main__":`."""
    fn = handler.function
    if fn is not None:
        return model.is_boundary(fn)
    if model.path.endswith("__main__.py"):
        return True
    node = model.parents.get(handler.try_.node)
    while node is not None:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            return True
        node = model.parents.get(node)
    return False


def thread_targets(model: FileModel) -> frozenset[str]:
    """Names passed as `target=` (threads, processes): Ctrl-C never arrives in their code."""
    names: set[str] = set()
    for call in model.calls:
        for kw in call.node.keywords:
            if kw.arg == "target":
                value = kw.value
                if isinstance(value, ast.Attribute):
                    names.add(value.attr)
                elif isinstance(value, ast.Name):
                    names.add(value.id)
    return frozenset(names)


_THREAD_CLASSES = "thread classes"
"""`FileModel.memo` key: the qualified names of the file's classes deriving a `...Thread`."""


def in_thread(model: FileModel, function: FunctionInfo | None, targets: frozenset[str]) -> bool:
    """Code that runs in another thread (a `target=` function or a `Thread` subclass's
    method): Ctrl-C is delivered to the main thread only."""
    thread_classes: frozenset[str] | None = model.memo.get(_THREAD_CLASSES)
    if thread_classes is None:
        thread_classes = model.memo[_THREAD_CLASSES] = frozenset(
            info.qualname for info in model.classes if any(b.endswith("Thread") for b in info.bases)
        )
    while function is not None:
        if function.name in targets:
            return True
        if function.class_name is not None:
            if function.qualname.rsplit(".", 1)[0] in thread_classes:
                return True
            if function.class_name.endswith("Thread"):
                return True
        function = function.parent
    return False
