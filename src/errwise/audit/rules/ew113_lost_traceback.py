"""EW113 lost-traceback: an error logged without its traceback, and not re-raised.

Promise: a finding for an except clause whose only trace of the error is a log line without the
traceback (`logger.error(f"...{e}")`, a print to stdout), that neither re-raises, exits nor
records the error, nor shows the error itself to the user on stderr. Not reported for a clause
catching one specific expected condition, nor at a top-level boundary that reports the error and
ends the run non-zero (a clean one-line message is the right thing for a user there), nor for
a clause that keeps the error (stores it, or hands the object on), notes its text at a level the
author chose for notes (debug, info, stdout), guards code that raises only its own errors, logs
only when asked (`if verbose:`), or names what the failing operation worked on while it answers
the peer with an error status, runs as a signal/exit hook, or only failed to remove a file.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from errwise.audit.finding import Finding, Severity
from errwise.audit.handling import Verdict, expected_condition, verdict
from errwise.audit.model import FileModel, HandlerInfo, LogCall, walk_scope
from errwise.audit.names import dotted
from errwise.audit.rule import Rule
from errwise.audit.rules._best_effort import cleanup_step, lifecycle_hook, reports_to_user
from errwise.audit.rules._demo import library_demo
from errwise.audit.rules._handler_context import at_boundary, reports_errors
from errwise.audit.rules._probe import predicate_question, probe_body
from errwise.audit.text import call_list, caught_text

__all__ = ["RULE"]


def check(model: FileModel) -> Iterator[Finding]:
    for handler in model.handlers:
        if verdict(model, handler) is not Verdict.LOGS or expected_condition(handler):
            continue
        if at_boundary(model, handler) and not _returns_success(handler):
            continue  # a clean message for the user, and the run ends (non-zero)
        if reports_errors(handler.function):
            continue  # a failure while reporting another error: nothing better to do
        own = [log for log in handler.facts.logs if model.ctx(log.call).handler is handler]
        if not own:
            continue  # only a nested clause logs: that clause is judged on its own
        if not handler.broad and (
            all(log.level == "debug" for log in own)
            or (
                any(_mentions_error(log, _error_names(handler)) for log in own)
                and not _needs_traceback(model, handler, own)
            )
        ):
            continue  # a one-step failure reported with its cause, or an expected probe miss
        if reports_to_user(model, handler) or library_demo(model, handler.node):
            continue  # the error is shown to the user (stderr, a warning): kept, deliberately
        if cleanup_step(model, handler) == "reraise":
            continue  # a cleanup failure noted while the original error goes on
        if probe_body(model, handler.try_.node.body):
            continue  # an import or capability probe: the note says which fallback is used
        notes = all(log.level in ("debug", "info") for log in own)
        if notes and predicate_question(model, handler):
            continue  # a yes/no question whose "could not tell" is noted, then answered "no"
        if _keeps_error(model, handler):
            continue  # the error object is stored or handed on: whoever reads it has it all
        if _noted_with_text(handler, own):
            continue  # its own text in a note the author chose (debug, info, stdout)
        if _own_raises_only(model, handler):
            continue  # the guarded code only raises its own errors: the cause is known
        if _optional_note(model, handler, own):
            continue  # logged only when asked (`if verbose:`): an expected case, noted
        if _names_input(model, handler, own) and (
            _answers_peer(handler)
            or lifecycle_hook(model, handler.function)
            or _removal_only(model, handler)
        ):
            continue  # a reported input failure, a hook's note, a stale file left: said so
        yield _finding(model, handler, own)


_NOTES = frozenset({"debug", "info", "print", "stderr", "warnings"})
"""Levels of a note, not of a failure someone must investigate."""


_NOTE_LEVELS = frozenset({"debug", "info", "print"})
_TEXT_CALLS = frozenset({"str", "repr", "format", "type", "print", "isinstance", "getattr"})


def _keeps_error(model: FileModel, handler: HandlerInfo) -> bool:
    """The clause stores the error object (`result = e`, `self.error = e`) or hands it, as
    itself, to a call that is not a log or a conversion to text (`failures.append(e)`,
    `Result(source, e)`): the record someone reads later carries the whole error."""
    name = handler.facts.name
    if name is None:
        return False
    logs = {id(log.call) for log in handler.facts.logs}
    for node in walk_scope(handler.node.body):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Name)
            and (node.value.id == name)
        ):
            return True
        if isinstance(node, ast.Call) and id(node) not in logs:
            func = node.func
            short = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if short in _TEXT_CALLS:
                continue
            if any(isinstance(a, ast.Name) and a.id == name for a in node.args):
                return True
    return False


def _noted_with_text(handler: HandlerInfo, logs: list[LogCall]) -> bool:
    """Every log line is a note (debug, info, a print to stdout) that carries the error's own
    text: the author chose a note, and the reason is in it."""
    names = _error_names(handler)
    return all(log.level in _NOTE_LEVELS and _mentions_error(log, names) for log in logs)


def _own_raises_only(model: FileModel, handler: HandlerInfo) -> bool:
    """The guarded code makes no call except building the exceptions its own `raise`
    statements raise: the clause knows exactly what it caught."""
    body = handler.try_.node.body
    raised = {id(n.exc) for n in walk_scope(body) if isinstance(n, ast.Raise) and n.exc is not None}
    return bool(raised) and all(id(c.node) in raised for c in model.calls_in(body))


_FLAG_WORDS = ("verbose", "debug")


def _optional_note(model: FileModel, handler: HandlerInfo, logs: list[LogCall]) -> bool:
    """Every log line sits under an `if` of the clause that tests a verbosity flag
    (`if verbose:`, `if self.debug:`): the author logs it only when asked."""

    def flagged(log: LogCall) -> bool:
        cur = model.parents.get(log.call)
        while cur is not None and cur is not handler.node:
            if isinstance(cur, ast.If):
                words = [
                    n.id if isinstance(n, ast.Name) else n.attr
                    for n in ast.walk(cur.test)
                    if isinstance(n, (ast.Name, ast.Attribute))
                ]
                if any(f in w.lower() for w in words for f in _FLAG_WORDS):
                    return True
            cur = model.parents.get(cur)
        return False

    return all(flagged(log) for log in logs)


def _names_input(model: FileModel, handler: HandlerInfo, logs: list[LogCall]) -> bool:
    """A log line names what the failing operation worked on: a name or attribute passed to a
    call of the guarded code (the file read, the data parsed, the path removed)."""
    given: set[str] = set()
    for call in model.calls_in(handler.try_.node.body):
        for arg in [*call.node.args, *(k.value for k in call.node.keywords)]:
            for n in ast.walk(arg):
                if isinstance(n, (ast.Name, ast.Attribute)) and not (
                    isinstance(n, ast.Name) and n.id in ("self", "cls")
                ):
                    given.add(ast.dump(n))
    return any(
        isinstance(n, (ast.Name, ast.Attribute)) and ast.dump(n) in given
        for log in logs
        for n in ast.walk(log.call)
    )


def _answers_peer(handler: HandlerInfo) -> bool:
    """The clause answers the peer whose input failed with an error status (a call given a
    4xx/5xx literal: `request.error(400)`, `abort(400)`)."""
    return any(
        isinstance(a, ast.Constant) and type(a.value) is int and 400 <= a.value < 600
        for call in handler.facts.calls
        for a in call.args
    )


_REMOVALS = frozenset({"remove", "unlink", "rmdir", "rmtree", "removedirs"})


def _removal_only(model: FileModel, handler: HandlerInfo) -> bool:
    """Every call of the guarded code removes a file: its failure leaves a stale file behind,
    and nothing else."""
    calls = list(model.calls_in(handler.try_.node.body))
    return bool(calls) and all(
        (c.attr or (c.qualname or "").rpartition(".")[2]) in _REMOVALS for c in calls
    )


def _needs_traceback(model: FileModel, handler: HandlerInfo, logs: list[LogCall]) -> bool:
    """The message alone cannot say where it failed: it is logged as a warning or an error, and
    the guarded code makes several calls that could have raised it (for one call, the message
    of an `OSError` names the call's file and errno) or is retried."""
    if all(log.level in _NOTES for log in logs):
        return False
    if _retry(model, handler):
        return True  # every attempt logs one line, and none says where it failed
    return len(list(model.calls_in(handler.try_.node.body))) >= 2


def _retry(model: FileModel, handler: HandlerInfo) -> bool:
    """The clause is in a loop whose `try` leaves it on success (a retry)."""
    if model.ctx(handler.try_.node).loop is None:
        return False
    return any(isinstance(n, (ast.Return, ast.Break)) for n in walk_scope(handler.try_.node.body))


def _returns_success(handler: HandlerInfo) -> bool:
    """Does the clause return `0`/`None`/`True` (a boundary reporting success)?"""
    for ret in handler.facts.returns:
        value = ret.value
        if value is None:
            return True
        if isinstance(value, ast.Constant) and any(
            value.value is v or (type(value.value) is int and value.value == 0)
            for v in (None, True)
        ):
            return True
    return False


def _error_names(handler: HandlerInfo) -> frozenset[str]:
    """The exception's name and the names the clause derives from it (`code = exc.args[0]`,
    `msg = str(exc)`): logging one of them shows the error."""
    name = handler.facts.name
    if name is None:
        return frozenset()
    names = {name}
    for node in walk_scope(handler.node.body):
        if isinstance(node, ast.Assign) and any(
            isinstance(n, ast.Name) and n.id in names for n in ast.walk(node.value)
        ):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return frozenset(names)


def _mentions_error(log: LogCall, names: frozenset[str]) -> bool:
    for n in ast.walk(log.call):
        if isinstance(n, ast.Name) and n.id in names:
            return True
        if isinstance(n, ast.Attribute) and n.attr == "exc_info" and dotted(n) == "sys.exc_info":
            return True
    return False


def _names_type(log: LogCall, name: str | None) -> bool:
    """Does the message show the exception's type (`type(e)`, `repr(e)`, `!r`, `%r`)?"""
    for node in ast.walk(log.call):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("type", "repr")
            and node.args
        ):
            return True
        if isinstance(node, ast.Attribute) and node.attr in ("__class__", "__qualname__"):
            return True
        if isinstance(node, ast.FormattedValue) and node.conversion == ord("r"):
            return True
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "%r" in node.value:
            return True
    return False


def _finding(model: FileModel, handler: HandlerInfo, logs: list[LogCall]) -> Finding:
    facts = handler.facts
    logs = sorted(logs, key=lambda log: log.call.lineno)
    names = _error_names(handler)
    log = next((lg for lg in logs if _mentions_error(lg, names)), logs[0])
    shown = _mentions_error(log, names)
    clause = "a bare `except`" if handler.bare else f"`except {caught_text(handler)}`"
    calls = call_list(model, handler.try_.node.body)
    how = "prints" if log.level in ("print", "stderr") else f"logs (`{log.level}`)"
    if shown:
        what = f"{how} only the message of the error"
        if not _names_type(log, facts.name) and handler.broad:
            what += ", not even its type,"
        message = (
            f"{clause} {what} and carries on: the traceback of "
            f"{calls or 'the failure'} is lost, so nobody can tell where it failed"
        )
    else:
        what = f"{how} a message without the error itself"
        message = (
            f"{clause} {what} and carries on: the cause and the traceback of "
            f"{calls or 'the failure'} are lost, so nobody can tell why it failed"
        )
    severity = (
        Severity.MEDIUM
        if shown and (_names_type(log, facts.name) or not handler.broad)
        else (Severity.HIGH)
    )
    if any(isinstance(r.value, ast.Constant) and r.value.value is False for r in facts.returns):
        message += "; the caller learns only `False`, not why"
    name = facts.name or "exc"
    return model.finding(
        RULE,
        handler.node,
        message,
        severity=severity,
        recommendation=(
            f"Log with the traceback — `logger.exception(...)` or `exc_info=True` — or re-raise "
            f"with context: `raise errwise.classify({name}).with_context(...) from {name}`; to "
            f"hand the failure to the caller return `errwise.Err(errwise.classify({name}))`."
        ),
        anchor=log.call,
        suppress_lines=(log.call.lineno,),
        claim=handler.node,
    )


RULE = Rule(
    id="EW113",
    name="lost-traceback",
    severity=Severity.HIGH,
    summary="An error logged without its traceback, and not re-raised.",
    what="""
An `except` clause that logs or prints the error without its traceback
(`logger.error(f"failed: {e}")`, `print(e)`, `logger.warning("cannot remove")`) and then carries on
— no re-raise, no exit, no `Err`, not stored. Clauses for one specific expected condition
(`except FileNotFoundError: logger.info("no config, using defaults")`) are left alone, and so is
a top-level boundary that prints a clean message and ends the run non-zero.

A family of failures (`OSError`, `CalledProcessError`) logged with its message is reported when
the message cannot say where it failed: logged as a warning or an error while the guarded code
makes several calls, or is retried.

Deliberately not reported: an import or capability probe that notes which fallback it uses; a
predicate (`is_*`, `has_*`, ...) around code that changes nothing, noting at debug or info level
that it could not tell; a clause
that shows the error to the user (printed to stderr, `click.echo(err=True)`, `warnings.warn`
carrying it); a cleanup failure noted inside a clause that then re-raises the original error;
demo code under `if __name__ == "__main__":` of a library module; a clause that stores the
error object or hands it to a call (`failures.append(e)`, `result = e`): the record carries
it; a note (debug, info, a print to stdout) that carries the error's own text; a `try` whose
only failures are its own `raise` statements; a log line written only under a verbosity flag
(`if verbose:`); and a message naming what the failing operation worked on (the data, the
file) when the clause answers the peer with an error status (`request.error(400)`), runs in a
signal or exit hook, or guards only the removal of a file (a stale file is all that is left).
""",
    why="""
`str(e)` of a `KeyError` is `'name'`; of an `OSError` it lacks the call that failed. The log says
something went wrong but not where or why, and the operator cannot act on it: the traceback was
the one piece of evidence, and it is gone.
""",
    example="""
def cleanup_worktree(root, path):
    try:
        run(["git", "worktree", "remove", str(path)], cwd=root)
        return True
    except Exception as e:
        logger.error(f"Failed to cleanup worktree: {e}")
        return False
""",
    fix="""
Keep the traceback, or hand the error on with context:

```python
    except subprocess.CalledProcessError as exc:
        logger.exception("cannot remove worktree %s", path)
        return errwise.Err(errwise.classify(exc).with_context(path=str(path)))
```
""",
    check=check,
    profile="strict",
    specificity=15,
)
