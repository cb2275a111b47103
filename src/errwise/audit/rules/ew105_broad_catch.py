"""EW105 broad-catch: `except Exception` / `BaseException` / bare `except` that does not re-raise,
outside a documented top-level boundary.

Promise: a finding for a broad except clause that never re-raises or exits, in a function that is
not a boundary (`boundaries` in `[tool.errwise]`, default `main`, `cli`). At a boundary a broad
clause is expected and fine when it logs the traceback (or records the error) and ends the run
non-zero; one that does not is reported. Severity follows what the guarded code does and whether
the error still surfaces: high when the guarded code changes state and the error is lost,
low when nothing state-changing is guarded and the error is kept. Outside a boundary, a
clause that reports or logs the error, and the deliberate shapes listed in `what`, are silent.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from errwise.audit.effects import Effect
from errwise.audit.finding import Finding, Severity
from errwise.audit.handling import Verdict, verdict
from errwise.audit.model import FileModel, FunctionInfo, HandlerInfo
from errwise.audit.rule import Rule
from errwise.audit.rules._best_effort import (
    cleanup_step,
    first_success,
    hook_boundary,
    reports_to_user,
    retries_in_handler,
    says_best_effort,
    wait_loop,
)
from errwise.audit.rules._demo import library_demo
from errwise.audit.rules._fallback import documented_fallback
from errwise.audit.rules._handler_context import (
    at_boundary,
    in_thread,
    keeps_exception,
    reports_elsewhere,
    reports_errors,
    thread_targets,
)
from errwise.audit.rules._interrupts import blocking_call, instant_only
from errwise.audit.rules._probe import capability_probe, is_predicate
from errwise.audit.text import call_list, caught_text

__all__ = ["RULE"]


_CONTAINED = frozenset({"__del__", "__repr__", "__str__", "__format__"})
"""Methods that must never raise: containment is their contract."""


def check(model: FileModel) -> Iterator[Finding]:
    threads = thread_targets(model)
    for handler in model.handlers:
        if not handler.broad:
            continue
        fn = handler.function
        if _contained_method(fn) or reports_errors(fn):
            continue  # must not raise; or a failure while reporting another error
        if keeps_exception(handler):
            continue  # `exc = e`: kept to be raised or shown later
        body = handler.try_.node.body
        if len(body) == 1 and isinstance(body[0], ast.Raise):
            continue  # `try: raise X / except X:` is a deliberate idiom (e.g. to get a frame)
        v = verdict(model, handler)
        if v is Verdict.PROPAGATES or handler.facts.records_error:
            continue  # re-raised, or the exception object itself is handed on intact
        if _contained_on_purpose(model, handler):
            continue
        if v.loses_error and reports_elsewhere(model, handler):
            v = Verdict.RECORDS  # reported through the component's own error channel
        boundary = at_boundary(model, handler) or in_thread(model, fn, threads)
        if boundary and _ends_run_loudly(handler, v):
            continue
        if not boundary and v.loses_error and reports_to_user(model, handler):
            v = Verdict.RECORDS  # shown to the user (stderr, a warning); at a boundary a bug
            # would still reach the user as one line, without its traceback
        if v is Verdict.RECORDS and (not boundary or _dispatch_boundary(model, handler)):
            continue  # the failure is reported in full (its traceback, or shown to the user):
            # a bug caught here is still seen; at a boundary the run must also end non-zero
        if v is Verdict.LOGS and not boundary and _logged_query(model, handler):
            continue  # a failed query, logged: seen, and it leaves nothing half-done
        if _chosen_fallback(model, handler) or _acknowledged(model, handler):
            continue
        yield _finding(model, handler, v, boundary)


def _contained_on_purpose(model: FileModel, handler: HandlerInfo) -> bool:
    """Containment is the purpose: a capability probe's "no", a documented fallback, a
    lifecycle hook or a traceback-logging callback boundary, a cleanup whose failure is
    secondary, a wait in a loop, demo code."""
    return (
        _probe(model, handler)
        or documented_fallback(model, handler)
        or hook_boundary(model, handler)
        or cleanup_step(model, handler) is not None
        or wait_loop(model, handler)
        or says_best_effort(handler)
        or retries_in_handler(model, handler)
        or first_success(model, handler)
        or library_demo(model, handler.node)
    )


def _logged_query(model: FileModel, handler: HandlerInfo) -> bool:
    """A yes/no predicate noting why the answer is "no" (`is_special_host(...)` logging at
    debug that the helper program failed): the error is seen and nothing is left half-done.
    Elsewhere a logged broad clause still hides a bug behind one line (the handler's second
    problem, next to lost-traceback)."""
    effects = model.effects_in(handler.try_.node.body)
    return is_predicate(handler.function) and not effects & (Effect.DISK | Effect.LOCK)


def _contained_method(fn: FunctionInfo | None) -> bool:
    """`__del__`, `__repr__`, `__str__`, or any method of a repr/dump: never raising is its
    contract."""
    if fn is None:
        return False
    owner = (fn.class_name or "").lower()
    return fn.name in _CONTAINED or "repr" in fn.name or "repr" in owner


_ACKNOWLEDGED = re.compile(
    r"#.*\b(noqa\b.*\b(E722|BLE001|B902|PIE786|S110|S112)|nosec|"
    r"pylint:\s*disable=.*(broad-except|bare-except|broad-exception-caught|W0703|W0702))",
    re.IGNORECASE,
)
"""A linter's broad/bare-except check silenced on the `except` line: the breadth is chosen."""


def _acknowledged(model: FileModel, handler: HandlerInfo) -> bool:
    """The author silenced a linter's broad-except check on this clause; or the clause only
    brings in a stand-in (`from .plain import Widget`: feature detection); or the `try`'s
    `else:` leaves the search (`break`/`return`): each failure just means "try the next"."""
    line = model.lines[handler.node.lineno - 1] if handler.node.lineno <= len(model.lines) else ""
    if _ACKNOWLEDGED.search(line):
        return True
    body = handler.node.body
    if body and all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in body):
        return True
    orelse = handler.try_.node.orelse
    return bool(orelse) and isinstance(orelse[-1], (ast.Break, ast.Return, ast.Continue))


def _probe(model: FileModel, handler: HandlerInfo) -> bool:
    """A capability probe's "no" — but not a remote round trip dressed as a probe outside a
    yes/no question (`size = self.stat().st_size` over the network, `0` on any failure)."""
    if not capability_probe(model, handler):
        return False
    return is_predicate(handler.function) or blocking_call(model, handler.try_.node.body) is None


def _chosen_fallback(model: FileModel, handler: HandlerInfo) -> bool:
    """The clause's outcome was chosen, not a bug hidden by accident: the guarded code only
    computes values locally (a conversion, a formatting, a path, a read-only probe: nothing
    there fails for a reason a narrower clause would keep apart); a comment explains the
    choice; the fallback is a named default (`default()`, `DEFAULT_USER`); the clause hands
    the function's own argument back unchanged; or it closes the resource it was serving."""
    body = handler.try_.node.body
    if instant_only(model, body) or _explained(model, handler):
        return True
    values = [
        n.value
        for n in handler.node.body
        if isinstance(n, (ast.Return, ast.Assign)) and n.value is not None
    ]
    if any("default" in ast.unparse(v).lower() for v in values):
        return True
    fn = handler.function
    if fn is not None and not isinstance(fn.node, ast.Lambda):
        params = {a.arg for a in fn.node.args.args + fn.node.args.kwonlyargs} - {"self", "cls"}
        returned = [n.value for n in handler.node.body if isinstance(n, ast.Return)]
        if returned and all(isinstance(r, ast.Name) and r.id in params for r in returned):
            return True
    return (
        _releases(handler)
        or _releases_only(model, body)
        or _success_flag(model, handler)
        or _secondary(model, handler)
    )


def _secondary(model: FileModel, handler: HandlerInfo) -> bool:
    """The `try` is a step of another clause that already logged or reported the first
    error (`except Exception: log(...); try: send_failure() except: pass`): a failure of the
    follow-up cannot hide anything the first report did not show."""
    outer = model.ctx(handler.try_.node).handler
    if outer is None:
        return False
    return verdict(model, outer) in (Verdict.RECORDS, Verdict.LOGS) or outer.facts.records_error


_RELEASE = frozenset({"close", "stop", "shutdown", "terminate", "release"})
"""Letting go of a resource. Not `unlink`/`remove`: a failed removal leaves state behind."""


def _releases_only(model: FileModel, body: list[ast.stmt]) -> bool:
    """The guarded code only lets go of something (closes, stops, removes), reading at most
    what decides it: its failure leaves nothing the caller could act on."""
    released = False
    for call in model.calls_in(body):
        func = call.node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in _RELEASE:
            released = True
        elif name in ("open", "read", "int", "str", "hasattr", "getattr", "isinstance"):
            if name == "open" and any(
                isinstance(a, ast.Constant) and set(str(a.value)) - {"r", "b", "t"}
                for a in call.node.args[1:2]
            ):
                return False  # opened for writing
        else:
            return False
    return released


def _success_flag(model: FileModel, handler: HandlerInfo) -> bool:
    """`can = 0; try: ...; can = 1 / except: pass`: the failure is kept in a flag the code
    reads afterwards."""
    body = handler.try_.node.body
    set_true = {
        t.id
        for s in body
        if isinstance(s, ast.Assign) and isinstance(s.value, ast.Constant) and s.value.value
        for t in s.targets
        if isinstance(t, ast.Name)
    }
    if not set_true:
        return False
    node: ast.AST = handler.try_.node
    parent = model.parents.get(node)
    if isinstance(parent, ast.Try) and node in parent.body:
        node, parent = parent, model.parents.get(parent)  # `try: try: ... finally: undo`
    before: list[ast.stmt] = []
    for field in ("body", "orelse", "finalbody"):
        stmts = getattr(parent, field, None)
        if isinstance(stmts, list) and node in stmts:
            before = stmts[: stmts.index(node)]
    return any(
        isinstance(s, ast.Assign)
        and isinstance(s.value, ast.Constant)
        and not s.value.value
        and any(isinstance(t, ast.Name) and t.id in set_true for t in s.targets)
        for s in before
    )


_ADMISSION = re.compile(r"TODO|FIXME|XXX|HACK|\?")
_TOOL = re.compile(r"^\s*(errwise:|noqa|pragma|type:|fmt:|pylint:|nosec)", re.IGNORECASE)


def _explained(model: FileModel, handler: HandlerInfo) -> bool:
    """A comment of its own line inside the clause says why failing quietly is right (a
    trailing note on the `except` line, an admission — `TODO`, a question — or a tool
    directive explains nothing)."""
    node = handler.node
    end = node.end_lineno or node.lineno
    notes = [
        line.strip()[1:].strip()
        for line in model.lines[node.lineno : end]
        if line.strip().startswith("#")
    ]
    text = " ".join(n for n in notes if not _TOOL.match(n))
    return len(text.split()) >= 4 and not _ADMISSION.search(text)


def _releases(handler: HandlerInfo) -> bool:
    """Every statement of the clause closes something or counts down: the failed connection
    or resource is dropped, the usual answer of a server to one broken peer."""
    closes = 0
    for stmt in handler.node.body:
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Sub):
            continue
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr in ("close", "shutdown", "release", "abort")
        ):
            closes += 1
            continue
        return False
    return closes > 0


def _dispatch_boundary(model: FileModel, handler: HandlerInfo) -> bool:
    """A reporting clause (traceback logged, or the error handed to the component's error
    channel) in a worker loop, or around a dispatch to a handler, hook or callback."""
    if model.ctx(handler.try_.node).loop is not None:
        return True
    if reports_elsewhere(model, handler):
        return True
    return handler.facts.logs_traceback and hook_boundary(model, handler)


def _ends_run_loudly(handler: HandlerInfo, v: Verdict) -> bool:
    """A boundary clause that keeps the traceback (or reports through the component's error
    channel) and does not report success."""
    if v is not Verdict.RECORDS:
        return False  # a bug would reach the user as one line, without its traceback
    for ret in handler.facts.returns:
        value = ret.value
        if value is None or (
            isinstance(value, ast.Constant)
            and (value.value is None or value.value is True or value.value == 0)
            and not isinstance(value.value, float)
        ):
            return False  # the run ends as if it had succeeded
    return True


def _finding(model: FileModel, handler: HandlerInfo, v: Verdict, at_boundary: bool) -> Finding:
    body = handler.try_.node.body
    effects = model.effects_in(body)
    calls = call_list(model, body)
    state = bool(effects & (Effect.DISK | Effect.LOCK | Effect.CLEANUP))
    lost = v.loses_error
    if state:
        severity = Severity.HIGH if lost else Severity.MEDIUM
    elif calls:
        severity = Severity.MEDIUM if lost else Severity.LOW
    else:
        severity = Severity.LOW
    clause = "a bare `except`" if handler.bare else f"`except {caught_text(handler)}`"
    guarded = f"around {calls}" if calls else "around code with no calls"
    fate = {
        Verdict.RECORDS: "reports it",
        Verdict.LOGS: "only logs it",
        Verdict.FALLBACK: "replaces it with a value",
        Verdict.SWALLOWS: "drops it",
    }[v]
    message = (
        f"{clause} {guarded} catches every error, programming bugs included "
        f"(`TypeError`, `AttributeError`), and {fate} without re-raising"
    )
    if handler.catches_base:
        message += "; it also catches `KeyboardInterrupt` and `SystemExit`"
    if state:
        message += "; the guarded code changes on-disk or lock state"
    if at_boundary:
        message += (
            " — at a top-level boundary this is fine only when the traceback is logged and the "
            "run ends non-zero"
        )
    return model.finding(
        RULE,
        handler.node,
        message,
        severity=severity,
        recommendation=_recommend(handler, at_boundary),
        claim=handler.node,
    )


def _recommend(handler: HandlerInfo, at_boundary: bool) -> str:
    if at_boundary:
        return (
            "At a boundary, log with the traceback (`logger.exception(...)`) and exit non-zero "
            "— or let `errwise.run_main(main)` do both; never carry on as if nothing happened."
        )
    return (
        "Catch the failures this code can really raise (e.g. `OSError`, "
        "`subprocess.CalledProcessError`) and let programming errors propagate to the top-level "
        "boundary; if containment is the purpose here, say so with "
        "`# errwise: ignore[broad-catch] -- <reason>` above the `except` line."
    )


RULE = Rule(
    id="EW105",
    name="broad-catch",
    severity=Severity.MEDIUM,
    summary="`except Exception`/`BaseException`/bare `except` that does not re-raise.",
    what="""
An `except Exception`, `except BaseException` or bare `except:` that never re-raises (nor
exits), outside a top-level boundary (`boundaries` in `[tool.errwise]`; by default functions
named `main` or `cli`). At a boundary, a broad clause is the right tool when it logs the traceback
and ends the run with a non-zero status; one that does not is reported. When a more specific rule
judges the same clause (swallowed-exception, lost-traceback, silent-fallback, error-as-sentinel,
best-effort-loop) only that rule reports it.

Deliberately not reported, because containment is the purpose there: a capability probe whose
failure means "no" (`fileno()`, `isatty()`, a predicate answering `False`); a fallback that is
the function's API (its `default` parameter, or the value its docstring documents); a lifecycle
hook (`__del__`, `atexit`/`weakref.finalize`/signal handlers, a logging handler's `emit`/
`handleError`); a clause that reports the error in full (its traceback, or the component's own
error channel) in a worker loop or around a dispatch to a handler, hook, callback or plug-in; a
function whose docstring makes quiet failure its contract ("if possible", "never raises"); a
clause that retries the guarded call (a second failure propagates); one read-only attempt of a
first-success search; a cleanup
whose failure is secondary (before re-raising the original, in a
`finally`); a loop's wait; demo code under `if __name__ == "__main__":` of a library module.
A clause that shows the error to the user (stderr, `warnings.warn`) counts as reporting it.

Outside a boundary, also not reported: a clause that reports the error in full (its traceback,
the component's error channel, the user's screen) — a bug caught there is still seen; a clause
in a yes/no predicate that logs why the answer is "no"; guarded code
that only computes values locally (conversions, formatting, `os.path`, read-only probes, the
file's own private helpers doing the same); a clause whose own comment lines say why failing
quietly is right, or whose `except` line silences a linter's broad/bare-except check (`# noqa:
BLE001`, `E722`, `# nosec`, `pylint: disable=broad-except`); a fallback to a named default
(`default()`, `DEFAULT_USER`) or to the function's own argument unchanged; a clause that only
brings in a stand-in import (feature detection); a `try` whose `else:` leaves a search (each
failure means "try the next"); guarded code that only lets go of something (close, stop,
shutdown, reading at most what decides it); a clause that closes the resource it served; a
success flag (`can = 0; try: ...; can = 1`). A remote round trip dressed as a probe
(`self.stat().st_size` answered `0` on any failure, outside a yes/no predicate) is reported.
""",
    why="""
A broad clause treats a typo (`AttributeError`), a bug (`TypeError`) and a real environment
failure alike: the program goes on with a wrong belief, and the bug that should have failed a
test is hidden in production. Severity follows the guarded code: state changes under a broad
clause that loses the error are high, a broad clause around pure code that keeps the error is
low.
""",
    example="""
def load_state(path):
    try:
        return parse(path.read_text())
    except Exception:                 # a typo in parse() looks like a missing state
        return None
""",
    fix="""
Catch what the code can really raise and let bugs surface:

```python
def load_state(path):
    try:
        text = path.read_text()
    except OSError as exc:
        return errwise.Err(errwise.classify(exc).with_context(path=str(path)))
    return parse(text)
```

Where containment is the purpose (a plugin host, a worker loop), keep the broad clause, log
the traceback and document it: `# errwise: ignore[broad-catch] -- one bad plugin must not stop
the others`.
""",
    check=check,
    profile="strict",
    specificity=10,
)
