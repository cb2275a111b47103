"""EW112 raise-without-cause: a new exception raised inside an except clause without `from`.

Promise: on the default profile, flags only the plug-in shape: a clause that catches the error
an operation on code chosen at run time raises for "not found" / "called wrongly" (an
`ImportError` around the import of a configured plug-in, a `TypeError` around the call of a
method looked up by name, or any error) and raises one fixed error passing nothing of it on, so
the same error raised inside the plug-in for its own reason is misreported and its reason lost.
On the `strict` profile it also flags the translations below (a style note: the original
survives as `__context__`). Strict profile: flags `raise NewError(...)` (a call, or a class
name) inside an except clause when the statement has no `from` clause and the caught error
really goes missing from what the new one carries. Not flagged: a bare `raise`, re-raising the
caught exception (`raise exc`, `raise exc.with_traceback(tb)`), `raise ... from exc` and the
deliberate `raise ... from None`, a lower-case name (an exception object built earlier, possibly
the caught one), control-flow exceptions (`SystemExit`, `StopIteration`, ...), errors a CLI
shows as their message (`click.ClickException`, `argparse` errors, a `...UsageError`: no
traceback is shown), a new error that is given the caught object (`raise ConnectionError(err,
request=r)`, `raise errwise.classify(exc)`) or its formatted traceback, a clause that logged or
printed the traceback before raising, test files, and statements whose project turned ruff's
B904 off (an explicit ignore, or `# noqa: B904` on the statement). The caught error's text in
the new message (`str(exc)`) is a low style note only when the new type is a builtin the
interpreter raises for bugs (`TypeError`, `RuntimeError`, ...), whose traceback then reads as a
crash of the handler; with a project's own type it is a translation and is not reported. A
clause that passes nothing on is medium when it caught a family of failures, low for a narrow,
expected one.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from errwise.audit.finding import Finding, Severity
from errwise.audit.handling import expected_condition
from errwise.audit.model import FileModel, HandlerInfo
from errwise.audit.rule import Rule
from errwise.audit.rules._raise_context import (
    CONTROL_FLOW,
    Kept,
    kept_original,
    lint_decided,
    looks_like_a_bug,
    runs_chosen_code,
    shown_error,
    uses_errwise,
)
from errwise.audit.rules._roles import is_test_path
from errwise.audit.text import caught_text

_RUFF_CODE = "B904"
"""ruff's (flake8-bugbear's) rule for this very check: a project that turned it off decided."""


def check(model: FileModel) -> Iterator[Finding]:
    if is_test_path(model.path):
        return
    for info in model.raises:
        node, handler = info.node, info.ctx.handler
        if handler is None or node.exc is None or node.cause is not None:
            continue
        name = info.exc_name or ""
        if not _new_exception(node.exc, handler) or name.removeprefix("builtins.") in CONTROL_FLOW:
            continue
        if lint_decided(model, node, _RUFF_CODE):
            continue
        kept = kept_original(model, info)
        if kept in (Kept.OBJECT, Kept.TRACEBACK):
            continue  # the original travels with the new error, or was reported: not lost
        chosen = _chosen_code(model, handler, kept)
        if chosen is None and (model.config.profile != "strict" or shown_error(model, name)):
            continue  # a translation: the original is printed as `__context__`; style at most
        raised = _raised_text(node.exc)
        caught = caught_text(handler) or "BaseException"
        bind = handler.node.name or "exc"
        line = handler.node.lineno
        head = f"`raise {raised}` inside `except {caught}` (line {line}) has no `from`"
        tail = (
            "the traceback shows it under 'During handling of the above exception, another "
            "exception occurred', which reads as a second failure in this handler"
        )
        if chosen is not None:
            call, reasons = chosen
            message = (
                f"{head} and passes nothing of the {caught} on, though the `try` runs code "
                f"chosen at run time ({call}): the same {caught} raised inside that code for "
                f"its own reason ({reasons}) is reported as this fixed error, and whoever reads "
                "only the new error's message never learns that reason"
            )
            severity = Severity.MEDIUM
        elif kept is Kept.TEXT:
            if not looks_like_a_bug(name) or _same_type(name, handler):
                continue  # a translation (or an enriched copy) that keeps the original's text
            short = name.removeprefix("builtins.")
            subject = f"the {caught}'s" if len(handler.caught) == 1 else "the caught error's"
            message = (
                f"{head}: {subject} text is in the new message and Python keeps the error as "
                f"`__context__`, but not as `__cause__`, and {tail}: a {short} there is what "
                "a bug in the handler would raise"
            )
            severity = Severity.LOW
        elif expected_condition(handler) or handler.facts.inspects_error:
            message = (
                f"{head}: the {caught} is chained only as `__context__`, not as `__cause__`, "
                f"and {tail}"
            )
            severity = Severity.LOW
        else:
            message = (
                f"{head} and passes nothing of the {caught} on: its type and message (the reason "
                "it failed) are not in the new error, which keeps it only as `__context__`, not "
                f"`__cause__` — wherever only the new error's text is shown the reason is gone, "
                f"and {tail}"
            )
            severity = Severity.MEDIUM
        recommendation = (
            f"Chain it: bind the error (`except {caught} as {bind}:`) and write "
            f"`raise {raised} from {bind}`; if the original is pure noise, say so with "
            "`from None`."
        )
        if uses_errwise(model):
            recommendation += (
                f" Where it fits, `raise errwise.classify({bind}).with_context(...) from {bind}` "
                "keeps the cause and adds a stable code."
            )
        yield model.finding(RULE, node, message, severity=severity, recommendation=recommendation)


def _chosen_code(model: FileModel, handler: HandlerInfo, kept: Kept) -> tuple[str, str] | None:
    """The plug-in shape: the clause turns every error of code chosen at run time (a
    configured plug-in's import, a method looked up by name) into one fixed error, passing
    nothing of it on — unless it re-raises the original in another branch or inspects it
    first (the new error then answers a case it recognised)."""
    facts = handler.facts
    if kept is not Kept.NOTHING or facts.bare_reraise or facts.inspects_error:
        return None
    return runs_chosen_code(model, handler.try_.node.body, handler.caught)


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


def _same_type(name: str, handler: HandlerInfo) -> bool:
    """The new error has the type the clause caught (`except ValueError as e: raise
    ValueError(f"{e} in section {s}")`): a copy of the original with more context."""
    short = name.removeprefix("builtins.")
    return any(c.removeprefix("builtins.") == short for c in handler.caught)


def _raised_text(exc: ast.expr) -> str:
    target = exc.func if isinstance(exc, ast.Call) else exc
    text = ast.unparse(target)
    if len(text) > 40:
        text = "…" + text[-39:]
    return f"{text}(...)" if isinstance(exc, ast.Call) else text


RULE = Rule(
    id="EW112",
    name="raise-without-cause",
    severity=Severity.MEDIUM,
    summary="A new exception raised in an except clause without `from`.",
    what="""
Default profile: `raise NewError("fixed message")` inside an `except` clause, with no `from`
and nothing of the caught error passed on, when the `try` runs code chosen at run time — a
plug-in imported by a configured name (`importlib.import_module(spec)`, an entry point, a
helper of the file that does so) or a method looked up by a name from data
(`getattr(obj, name)(...)`) — and the clause catches the error that operation raises for "not
found" / "called wrongly" (`ImportError`, `TypeError`) or any error: the same type raised inside
the plug-in for its own reason (a missing dependency, a bug) is reported as the fixed message,
and the reason is lost (medium). Not reported there: a clause that re-raises the original in
another branch or inspects it; a static import of an optional dependency; a translation of
ordinary code (the original is printed as `__context__`, and the message names what failed:
style, left to ruff's B904).

Strict profile, in addition: `raise NewError(...)` inside an `except` clause, with no `from`,
where the caught error goes missing from what the new one carries. Medium when the clause caught
a family of failures (`OSError`, `Exception`, a bare `except`) and passes nothing of it on (its
errno and message are not in the new error); low for a narrow, expected condition (`KeyError`
turned into `AttributeError`), for a clause that inspected the error first, and when the caught
error's text is in the new message of a builtin type the interpreter raises for bugs
(`TypeError`, `ValueError`, `RuntimeError`, ...): only the chaining is missing, and the
traceback's "During handling of the above exception" then reads as a crash of the handler.

Deliberately not reported:
- a bare `raise`, `raise exc` of the caught error, `raise exc.with_traceback(tb)`,
  `raise ... from exc` and the deliberate `raise ... from None`;
- a new error given the caught object (`raise ConnectionError(err, request=r)`,
  `raise errwise.classify(exc)`, which records it as `__cause__`) or its formatted traceback
  (`traceback.format_exc()`): the original travels with it; and a clause that logged or
  printed the traceback before raising (`log.exception(...)`, `traceback.print_exc()`);
- a project's own error type given the caught error's text (`raise SSHException(str(e))`): a
  translation that keeps the message, its traceback chained as `__context__`; and a copy of
  the caught type enriched with its text (`except ValueError as e: raise ValueError(f"{e} in
  {section}")`);
- (strict) control flow (`SystemExit`, `StopIteration`, `StopAsyncIteration`, `KeyboardInterrupt`);
- (strict) errors shown as their message, never as a traceback: click's `ClickException` family,
  `argparse.ArgumentTypeError`, a project class named `...UsageError` / `...CommandError` /
  `...UserError` or `Exit`, a type the file's own top level prints and exits on, RPC faults
  and HTTP exceptions sent to a peer, or a class of the file deriving from one of those;
- test files, and a project that decided: ruff's B904 (the same check) in an explicit
  `ignore` / `extend-ignore` of its `[tool.ruff]`, or `# noqa: B904` on the statement (a bare
  `# noqa` names no code, and a file-wide `# ruff: noqa` is not a decision about one statement).
""",
    why="""
Python keeps the caught error as `__context__`, and tracebacks and logging print it, but not as
`__cause__`: code that follows the cause chain (`errwise.classify`, error reporters, a
`to_dict()` with a `cause` field) does not see the real reason, and the traceback says "During
handling of the above exception, another exception occurred" — the wording of a crash inside the
handler, which sends the reader hunting for a second bug instead of reading the translation the
author intended. When the new error's message drops the original's (its errno, its reason),
whoever shows only the new error's text has lost why it failed.
""",
    example="""
import importlib

def load_plugin(spec):
    try:
        return importlib.import_module(spec)
    except ImportError:
        raise ConfigError(f"plug-in {spec} cannot be resolved")
""",
    fix="""
Say that the new error is *because of* the old one, so a missing dependency inside the
plug-in is not read as a misspelt name:

```python
def load_plugin(spec):
    try:
        return importlib.import_module(spec)
    except ImportError as exc:
        raise errwise.classify(exc).with_context(plugin=spec) from exc
```

Use `from None` only when the original error is noise for every reader.
""",
    check=check,
    profile="strict",
)
