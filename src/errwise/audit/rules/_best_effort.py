"""Deliberate best effort, said so by the code: shared judgements of the lost-error family.

Promise: each predicate says "yes" only on evidence in the code, never from a function's name
alone, and never raises on any model:
- `reports_to_user`: the clause shows the error to the user — the error object or its
  traceback printed to stderr (`print(..., file=sys.stderr)`, `sys.stderr.write`,
  `click.echo(err=True)`), `traceback.print_exc()`, or a `warnings.warn` that carries it;
- `cleanup_step`: how the guarded code is a cleanup on a path whose outcome is decided
  elsewhere: `"reraise"` inside an except clause that then re-raises or exits (the original
  error surfaces), `"finally"` for cleanup calls in a `finally` block, `"dunder"` in `__del__`
  or `__exit__` (an exception there cannot usefully leave); None otherwise;
- `wait_loop`: the guarded code of a loop only waits or polls (`sleep`, `wait`, `join`,
  `poll`, `select`);
- `logs_error`: the clause logs the error itself — with its traceback, or the exception
  object passed to a logging call (its record carries it);
- `says_best_effort`: the function's docstring says failing quietly is its contract ("if
  possible", "best effort", "never raises");
- `hook_boundary`: the function is a lifecycle hook that must contain failures (`__del__`,
  registered with `atexit`/`weakref.finalize`/`signal.signal`, a logging handler's `emit`/
  `handleError`), or the clause logs the traceback in a callback (a function handed to other
  code in the file, a class's `run`) or around a call of a callback, hook
  or plug-in it was handed (a parameter, a loop variable, or a name saying `callback`/`hook`/
  `handler`/`plugin`/`listener`);
- `retries_in_handler`: the clause repeats a call of the guarded code, so a second failure
  propagates;
- `first_success`: one read-only attempt of a first-success search (the guarded code, or the
  `else:` of its try, returns on success, the clause moves on to the next alternative).
"""

from __future__ import annotations

import ast
from typing import Literal

from errwise.audit.effects import Effect
from errwise.audit.model import (
    TRACEBACK_TEXT_CALLS,
    FileModel,
    FunctionInfo,
    HandlerInfo,
    LogCall,
    walk_scope,
)
from errwise.audit.names import dotted
from errwise.audit.rules._flow import same_expr

__all__ = [
    "reports_to_user",
    "cleanup_step",
    "wait_loop",
    "logs_error",
    "hook_boundary",
    "lifecycle_hook",
    "says_best_effort",
    "retries_in_handler",
    "first_success",
    "CLEANUP_CALLS",
]

CLEANUP_CALLS = frozenset(
    {
        "close",
        "shutdown",
        "stop",
        "terminate",
        "kill",
        "remove",
        "unlink",
        "rmdir",
        "rmtree",
        "removedirs",
        "cancel",
        "join",
        "wait",
        "disconnect",
        "cleanup",
        "clear",
        "flush",
        "delete",
        "discard",
        "chdir",
        "rollback",
    }
)
"""Calls (by their last name) that tidy up after the work, whatever its outcome."""

_WAITS = frozenset({"sleep", "wait", "join", "poll", "select", "wait_for", "waitpid"})


def _mentions(node: ast.AST, name: str | None) -> bool:
    if name is None:
        return False
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _to_stderr(model: FileModel, log: LogCall) -> bool:
    if log.level == "warnings":
        return True
    if log.level == "stderr":
        return (model.qualify(log.call.func) or "") != "sys.stdout.write"
    if log.level == "print":
        return any(
            kw.arg == "file" and (model.qualify(kw.value) or "") in ("sys.stderr", "sys.__stderr__")
            for kw in log.call.keywords
        )
    return False


def reports_to_user(model: FileModel, handler: HandlerInfo) -> bool:
    """Does the clause show the error (or its traceback) to the user?"""
    name = handler.facts.name
    for log in handler.facts.logs:
        if log.level not in ("print", "stderr", "warnings"):
            continue
        if log.with_traceback:
            return True  # traceback.print_exc()
        if not _to_stderr(model, log):
            continue
        if _mentions(log.call, name) or any(
            (model.qualify(n.func) or "") in TRACEBACK_TEXT_CALLS
            for n in ast.walk(log.call)
            if isinstance(n, ast.Call)
        ):
            return True
    return False


def _cleanup_calls(model: FileModel, body: list[ast.stmt]) -> bool:
    calls = list(model.calls_in(body))
    if not calls:
        return False
    for call in calls:
        if call.effects & Effect.LOCK:
            return False  # a lock left taken is never a tidy-up detail
        name = call.attr or (call.qualname or "").rsplit(".", 1)[-1]
        if name not in CLEANUP_CALLS:
            return False
    return True


def cleanup_step(
    model: FileModel, handler: HandlerInfo
) -> Literal["reraise", "finally", "dunder"] | None:
    """Is the guarded code a cleanup whose own failure is secondary (see the module promise)?"""
    try_node = handler.try_.node
    ctx = model.ctx(try_node)
    outer = ctx.handler
    if outer is not None and (outer.facts.reraises or outer.facts.exits):
        return "reraise"
    body = try_node.body
    if ctx.try_part == "finally" and _cleanup_calls(model, body):
        return "finally"
    fn = handler.function
    if fn is not None and fn.name in ("__del__", "__exit__") and _cleanup_calls(model, body):
        return "dunder"
    return None


def wait_loop(model: FileModel, handler: HandlerInfo) -> bool:
    """Is the guarded code a loop's wait or poll, and nothing else?"""
    if model.ctx(handler.try_.node).loop is None:
        return False
    calls = list(model.calls_in(handler.try_.node.body))
    return bool(calls) and all(
        (c.attr or (c.qualname or "").rsplit(".", 1)[-1]) in _WAITS for c in calls
    )


def logs_error(handler: HandlerInfo) -> bool:
    """Does the clause log the error itself: with its traceback, or the exception object as
    an argument of the log call?"""
    facts = handler.facts
    if facts.logs_traceback:
        return True
    for log in facts.logs:
        if log.level in ("print", "stderr", "warnings"):
            continue  # not a log record
        values = [*log.call.args, *(k.value for k in log.call.keywords)]
        if any(_mentions(a, facts.name) for a in values):
            return True
    return False


_HOOK_WORDS = ("callback", "hook", "handler", "plugin", "listener", "cb", "handle", "notify")
_HOOK_PREFIXES = ("on_", "handle_", "pre_", "post_", "emit", "dispatch", "notify")
_REGISTRARS = frozenset({"atexit.register", "weakref.finalize", "signal.signal"})
_LOGGING_HOOKS = frozenset({"emit", "handleError"})


def _registered(model: FileModel) -> frozenset[str]:
    """Names handed to `atexit.register`, `weakref.finalize` or `signal.signal`."""
    cached: frozenset[str] | None = model.memo.get("registered hooks")
    if cached is not None:
        return cached
    names: set[str] = set()
    for call in model.calls:
        if call.qualname not in _REGISTRARS:
            continue
        for arg in call.node.args:
            name = dotted(arg)
            if name is not None:
                names.add(name.rsplit(".", 1)[-1])
    for info in model.functions:
        node = info.node
        if not isinstance(node, ast.Lambda) and any(
            (model.qualify(d) or "") == "atexit.register" for d in node.decorator_list
        ):
            names.add(info.name)
    out = frozenset(names)
    model.memo["registered hooks"] = out
    return out


def lifecycle_hook(model: FileModel, function: FunctionInfo | None) -> bool:
    """`__del__`, a function registered with `atexit`/`weakref.finalize`/`signal.signal`, or a
    logging handler's `emit`/`handleError`: a failure there has nowhere to go."""
    if function is None:
        return False
    if function.name == "__del__" or function.name in _registered(model):
        return True
    if function.name in _LOGGING_HOOKS and function.class_name is not None:
        owner = function.qualname.rsplit(".", 1)[0]
        return any(
            c.qualname == owner and any(b.endswith("Handler") for b in c.bases)
            for c in model.classes
        )
    return False


def _hook_call(call: ast.Call, function: FunctionInfo | None, loop_names: set[str]) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    lowered = name.lower().strip("_")
    if any(w in lowered.split("_") or lowered.endswith(w) for w in _HOOK_WORDS):
        return True
    if lowered.startswith(_HOOK_PREFIXES):
        return True
    if isinstance(func, ast.Name):
        params: set[str] = set()
        if function is not None and not isinstance(function.node, ast.Lambda):
            args = function.node.args
            params = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
        return func.id in params or func.id in loop_names
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id in loop_names
    return False


def _handed_on(model: FileModel) -> frozenset[str]:
    """Names of functions passed as an argument somewhere in the file (`on_event`, a
    `self.events_callback` handed to a library): they run as callbacks."""
    cached: frozenset[str] | None = model.memo.get("handed-on functions")
    if cached is not None:
        return cached
    defined = {f.name for f in model.functions}
    names: set[str] = set()
    for call in model.calls:
        for arg in [*call.node.args, *(k.value for k in call.node.keywords)]:
            name = dotted(arg)
            if name is not None and name.rsplit(".", 1)[-1] in defined:
                names.add(name.rsplit(".", 1)[-1])
    out = frozenset(names)
    model.memo["handed-on functions"] = out
    return out


def _callback_function(model: FileModel, function: FunctionInfo | None) -> bool:
    """The function itself runs as a callback or a thread's body: it is handed to other code
    in this file, or it is a class's `run` (the thread protocol). Its name alone says nothing."""
    if function is None:
        return False
    if function.name == "run" and function.class_name is not None:
        return True
    return function.name in _handed_on(model)


def hook_boundary(model: FileModel, handler: HandlerInfo) -> bool:
    """A lifecycle hook; or a traceback-logging clause in a callback, or around a handed-in
    callback, hook or plug-in."""
    if lifecycle_hook(model, handler.function):
        return True
    if not handler.facts.logs_traceback:
        return False
    if _callback_function(model, handler.function):
        return True
    loop = model.ctx(handler.try_.node).loop
    loop_names: set[str] = set()
    if loop is not None and isinstance(loop.node, (ast.For, ast.AsyncFor)):
        loop_names = {n.id for n in ast.walk(loop.node.target) if isinstance(n, ast.Name)}
    calls = [c.node for c in model.calls_in(handler.try_.node.body)]
    return any(_hook_call(c, handler.function, loop_names) for c in calls)


_BEST_EFFORT_WORDS = (
    "if possible",
    "best effort",
    "best-effort",
    "ignore errors",
    "ignoring errors",
    "errors are ignored",
    "silently",
    "never raises",
    "does not raise",
    "doesn't raise",
)


def says_best_effort(handler: HandlerInfo) -> bool:
    """Does the function's docstring say that failing quietly is its contract ("Close the file
    if possible", "best effort", "never raises")?"""
    function = handler.function
    if function is None or isinstance(function.node, ast.Lambda):
        return False
    doc = ast.get_docstring(function.node)
    if not doc:
        return False
    lowered = " ".join(doc.lower().split())
    return any(word in lowered for word in _BEST_EFFORT_WORDS)


def retries_in_handler(model: FileModel, handler: HandlerInfo) -> bool:
    """The clause repeats a call of the guarded code (`except Exception: return
    self.con.execute(sql)` after a first try): a second failure propagates from there."""
    guarded = [c.node for c in model.calls_in(handler.try_.node.body)]
    if not guarded:
        return False
    for call in handler.facts.calls:
        if model.ctx(call).handler is not handler:
            continue
        if any(same_expr(call, g) for g in guarded):
            return True
    return False


def first_success(model: FileModel, handler: HandlerInfo) -> bool:
    """One attempt of a first-success search that only reads: the guarded code returns (or
    leaves its loop) on success, the clause only moves on (`pass`/`continue`) to the next
    alternative, and nothing guarded changes state. Whether "none worked" is then answered
    honestly is judged where the function answers (error-as-sentinel, silent-fallback)."""
    if not all(isinstance(s, (ast.Pass, ast.Continue)) for s in handler.node.body):
        return False
    body = handler.try_.node.body
    if model.effects_in(body).state_changing:
        return False
    in_loop = model.ctx(handler.try_.node).loop is not None
    # success may also be answered in the `else:` of the try (`else: break`)
    orelse = handler.try_.node.orelse
    for node in walk_scope([*body, *orelse]):
        if isinstance(node, ast.Return) and node.value is not None:
            return True
        if isinstance(node, ast.Break) and in_loop:
            return True
    return False
