"""EW101 swallowed-exception: an except clause that discards the error it caught."""

from __future__ import annotations

from collections.abc import Iterator

from errwise.audit.effects import Effect
from errwise.audit.finding import Finding, Severity
from errwise.audit.handling import Verdict, documented, expected_condition, short, verdict
from errwise.audit.model import FileModel, HandlerInfo
from errwise.audit.rule import Rule
from errwise.audit.rules._best_effort import (
    cleanup_step,
    first_success,
    lifecycle_hook,
    says_best_effort,
    wait_loop,
)
from errwise.audit.rules._demo import library_demo
from errwise.audit.rules._probe import capability_probe
from errwise.audit.rules._tolerated import (
    after_reported_error,
    attribute_dump,
    explained_step,
    lenient_parse,
    optional_file_read,
    query_attempt,
    release_only,
    tolerated_creation,
    tolerated_removal,
)
from errwise.audit.rules._wanted import throws_caught, wanted_outcome
from errwise.audit.text import call_list, caught_text


def check(model: FileModel) -> Iterator[Finding]:
    for handler in model.handlers:
        if verdict(model, handler) is not Verdict.SWALLOWS or expected_condition(handler):
            continue
        if _deliberate(model, handler):
            continue
        body = handler.try_.node.body
        effects = model.effects_in(body)
        severity, why = _judge(model, handler, effects)
        if documented(model, handler):
            # A comment explains the silence: report it only where state may be left wrong.
            if not effects & (Effect.DISK | Effect.LOCK | Effect.CLEANUP):
                continue
            severity, why = Severity.LOW, why + " (a comment says this is deliberate)"
        calls = call_list(model, body)
        what = (
            f"`except{(' ' + caught_text(handler)) if not handler.bare else ''}` discards the error"
        )
        if calls:
            what += f" of {calls}"
        yield model.finding(
            RULE,
            handler.node,
            f"{what}: no re-raise, no log, no record{why}",
            severity=severity,
            recommendation=_recommend(handler, effects),
            claim=handler.node,
        )


def _deliberate(model: FileModel, handler: HandlerInfo) -> bool:
    """Silence that is the point: a capability probe's "no", an "ensure absent" whose error is
    the wanted outcome, a wait or poll in a loop, a cleanup whose failure is secondary (before
    re-raising the original error, in a `finally`, in `__del__`/`__exit__`), a lifecycle hook
    (`__del__`, `atexit`), a docstring that makes quiet failure the contract, demo code; an
    error the guarded code throws on purpose; the silences of `_tolerated` (an optional file
    read, a file removal catching `OSError`, one release call, a lenient parse, a failure while
    answering an error already logged, one narrow step a comment explains, a command run for its
    output in a first-success search)."""
    return (
        capability_probe(model, handler)
        or wanted_outcome(model, handler)
        or wait_loop(model, handler)
        or cleanup_step(model, handler) is not None
        or lifecycle_hook(model, handler.function)
        or says_best_effort(handler)
        or first_success(model, handler)
        or library_demo(model, handler.node)
        or throws_caught(model, handler)
        or optional_file_read(model, handler)
        or tolerated_removal(model, handler)
        or release_only(model, handler)
        or lenient_parse(model, handler)
        or after_reported_error(model, handler)
        or explained_step(model, handler)
        or query_attempt(model, handler)
        or attribute_dump(model, handler)
        or tolerated_creation(model, handler)
    )


def _judge(model: FileModel, handler: HandlerInfo, effects: Effect) -> tuple[Severity, str]:
    outer = model.ctx(handler.try_.node).handler
    if outer is not None:
        # What the code shows: this runs while another error is handled, and that one is
        # not re-raised here (a re-raising clause is `_deliberate`).
        return Severity.LOW, " (inside the handler of an earlier error)"
    body = handler.try_.node.body
    disk_steps = {c.qualname or c.attr for c in model.calls_in(body) if c.effects & Effect.DISK}
    if effects & (Effect.LOCK | Effect.CLEANUP):
        return Severity.CRITICAL, (
            "; the guarded code takes, releases or rolls back state, which is left wrong silently"
        )
    if len(disk_steps) >= 2:
        return Severity.CRITICAL, (
            "; the guarded code changes files in several steps, and a failure part-way leaves "
            "them half-changed without a trace"
        )
    if effects & Effect.DISK:
        return Severity.HIGH, "; a failed file change looks like success"
    if effects & (Effect.PROCESS | Effect.NETWORK):
        return Severity.HIGH, "; a failed command or request looks like success"
    if handler.broad:
        return Severity.HIGH, ""
    return Severity.MEDIUM, ""


def _recommend(handler: HandlerInfo, effects: Effect) -> str:
    caught = ", ".join(short(c) for c in handler.caught) or "everything"
    base = (
        f"Catch only the failure you expect here instead of {caught} (e.g. `FileNotFoundError`) "
        "and let the rest propagate; if the step may fail, say so: "
        "`raise errwise.classify(exc).with_context(...) from exc`, or return "
        "`errwise.Err(errwise.classify(exc))` so the caller must look."
    )
    if effects & (Effect.DISK | Effect.LOCK | Effect.CLEANUP):
        base += (
            " For multi-step state changes use `errwise.Transaction` (undo never skipped "
            "silently) or `errwise.atomic_write`."
        )
    return base


RULE = Rule(
    id="EW101",
    name="swallowed-exception",
    severity=Severity.HIGH,
    summary="An except clause discards the error: no re-raise, no log, no record, no fallback.",
    what="""
An `except` clause whose body does nothing with the error — `pass`, `continue`, `break`, a bare
`return` — for anything broader than one specific, expected condition. Handlers for narrow types
that name an expected situation (`FileNotFoundError`, `KeyError`, `ImportError`, `ValueError`
...) are left alone: silence there is a decision. So is a handler whose comment explains the
silence, unless the guarded code changes files or locks (then it is reported as low).
Handlers that log, re-raise, record the error or compute a fallback value are judged by the more
specific rules (lost-traceback, silent-fallback, error-as-sentinel, best-effort-loop).

Deliberately not reported, because the silence is the point: a capability probe whose failure
means "no" (`fileno()`, `isatty()`, `getattr(...)`, an `import`, a predicate's `False`); an
"ensure absent/present" whose caught error is the wanted outcome (`del d[k]` catching
`KeyError`, `os.makedirs` catching `FileExistsError`); a loop's wait or poll; a cleanup whose
failure is secondary — before an enclosing clause re-raises the original error, cleanup calls in
a `finally`, in `__del__`/`__exit__`; a lifecycle hook (`__del__`, `atexit`, signal handlers); a
function whose docstring makes quiet failure its contract ("close the file if possible", "best
effort"); one read-only attempt of a first-success search (the guarded code returns on success,
the clause moves on to the next alternative: how "none worked" is answered is judged where the
function answers); demo code under `if __name__ == "__main__":` of a library module. Nor,
because the cost of the silence is known and small: an optional local file read catching only
`OSError` (absent or unreadable means "nothing to read"); removing a file or signalling a
process catching only `OSError` ("ensure gone": a leftover, no lock involved); creating a
directory catching only `OSError` (the step that uses it fails loudly if it is missing); one call
releasing a resource (`close()`, `stop()`); a lenient parse that skips a malformed item; a
failure while answering an error the enclosing handler already logged (sending an error status);
one narrow step a comment explains (a comment admitting a problem explains nothing); one attempt
of a first-success search that runs a command for its output; an exception the guarded code
throws on purpose (`coro.throw(exc)` caught by `except exc`); reading each attribute of
`dir(obj)` by name, skipping those that fail (an introspecting dump). A swallow inside the
handler of an earlier error that is neither re-raised nor logged is low.
""",
    why="""
The failure happened and nobody will ever know: the program carries on in a state it did not
check. When the guarded code changes files, locks or other shared state (critical), that state is
left half-changed; when it runs a command or a request (high), a failure looks like success.
Operators see the consequences far from the cause, with nothing in the logs.
""",
    example="""
def remove_lock(lock_path):
    try:
        lock_path.unlink()
    except Exception:
        pass          # lock may still be there: nobody can take the work order again
""",
    fix="""
Catch what you expect and let everything else surface, with context:

```python
def remove_lock(lock_path):
    try:
        lock_path.unlink()
    except FileNotFoundError:
        return        # already gone: the outcome we wanted
    except OSError as exc:
        raise errwise.classify(exc).with_context(lock=str(lock_path)) from exc
```

For locks use `errwise.FileLock`, whose release never fails silently.
""",
    check=check,
    profile="strict",
    specificity=20,
)
