"""EW123 cleanup-stops-at-first-failure: a close/shutdown/cleanup method that releases several
resources one after another, unguarded, where an early step can really fail.

Promise: flags a cleanup-like method (`close`, `shutdown`, `cleanup`, `stop`, `teardown`,
`__exit__`, `__del__`, ... by the words of its name) whose own statements release two or more
distinct resources in sequence, outside any `try` and any `with ExitStack()`/`suppress(...)`,
when a step before another resource's release is one that fails in practice: `flush()`, a file
removal (`os.unlink`, `os.remove`, `Path.unlink()` without `missing_ok=True`, `shutil.rmtree`
without `ignore_errors`), `os.kill`, a socket `shutdown(SHUT_...)`, a `wait`/`communicate` with a
timeout on a `subprocess.Popen`, `close()` of a file opened for writing here, `quit()`/`logout()`
of an smtplib/ftplib/imaplib/poplib client, a checked command (`check_call`, `run(check=True)`),
a call of a cleanup helper of the same class that itself has such a step, or the same method of
a member built from a class of this file whose own method has one. A loop releasing each item
of a collection is one step. One finding per method, at the first such step. Not flagged: steps
that cannot raise in practice (a plain `close()` of an object of unknown or in-memory kind,
`join()`, `terminate()`/`kill()` of a Popen, which ignore a process that is gone), steps on the
same resource (`f.flush(); f.close()`), guarded steps, and test code.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from errwise.audit.finding import Finding, Severity
from errwise.audit.model import ClassInfo, FileModel
from errwise.audit.names import dotted
from errwise.audit.rule import Rule
from errwise.audit.rules._flow import in_test_code

_CLEANUP_WORDS = frozenset(
    {
        "close",
        "aclose",
        "shutdown",
        "cleanup",
        "teardown",
        "stop",
        "dispose",
        "destroy",
        "disconnect",
        "terminate",
        "finalize",
        "release",
        "exit",
        "aexit",
        "del",
    }
)
_RELEASE_METHODS = frozenset(
    {
        "close",
        "aclose",
        "shutdown",
        "terminate",
        "kill",
        "join",
        "wait",
        "communicate",
        "unlink",
        "rmdir",
        "release",
        "flush",
        "stop",
        "disconnect",
        "cleanup",
        "quit",
        "logout",
        "unregister",
        "cancel",
    }
)
_HELPER_WORDS = frozenset({"remove", "delete", "unlink", "kill", "flush", "rmtree", "quit"})
"""Words that make a helper of the class (`self._remove_tree()`) a release step too."""
_REMOVALS = frozenset({"os.unlink", "os.remove", "os.rmdir", "os.removedirs", "shutil.rmtree"})
_SIGNALS = frozenset({"os.kill", "os.killpg"})
_CHECKED = frozenset({"subprocess.check_call", "subprocess.check_output", "subprocess.run"})
"""Commands a cleanup runs (`umount`, `docker rm`): a step that raises when the command fails
(`run` only with `check=True`)."""
_GUARDS = ("ExitStack", "AsyncExitStack", "suppress")
_WRITING_OPENERS = frozenset(
    {"open", "io.open", "os.fdopen", "gzip.open", "bz2.open", "lzma.open", "codecs.open"}
)
_CLIENT_MODULES = ("smtplib.", "ftplib.", "imaplib.", "poplib.")
_FLAG_WORDS = ("closed", "closing", "stopped", "shutdown", "running", "active", "open")


@dataclass(frozen=True, slots=True)
class _Step:
    call: ast.Call
    resource: str
    """What it releases: the receiver's text, or the path removed, or `each item of X`."""
    text: str
    """The call as written (short)."""


def check(model: FileModel) -> Iterator[Finding]:
    classes = {c.qualname: c for c in model.classes}
    for function in model.functions:
        node = function.node
        if isinstance(node, ast.Lambda) or not _cleanup_name(node.name):
            continue
        if in_test_code(model, node):
            continue
        cls = classes.get(function.class_name or "")
        steps = list(_steps(model, node.body))
        for index, step in enumerate(steps):
            later = [
                s
                for s in steps[index + 1 :]
                if not _same_resource(s, step) and not _exclusive(model, s.call, step.call)
            ]
            if not later:
                break
            reason = _can_fail(model, cls, step, depth=1)
            if reason is None:
                continue
            yield _report(model, node, step, reason, later)
            break


def _same_resource(a: _Step, b: _Step) -> bool:
    """`f.flush()` then `f.close()`, or `self.proc.stdin.flush()` then `self.proc.terminate()`:
    a step on a part of the object the other releases is the same resource."""
    x, y = a.resource, b.resource
    return x == y or x.startswith(y + ".") or y.startswith(x + ".")


def _branches(model: FileModel, node: ast.AST) -> dict[ast.If, bool]:
    """The `if` statements enclosing `node`: whether it sits in the body (True) or the else."""
    found: dict[ast.If, bool] = {}
    child, parent = node, model.parents.get(node)
    while parent is not None and not isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
        if isinstance(parent, ast.If) and child is not parent.test:
            found[parent] = any(child is b for b in parent.body)
        child, parent = parent, model.parents.get(parent)
    return found


def _exclusive(model: FileModel, a: ast.AST, b: ast.AST) -> bool:
    """`if x: step_a else: step_b`: the two never run in the same call."""
    left, right = _branches(model, a), _branches(model, b)
    return any(right.get(node, side) != side for node, side in left.items())


def _cleanup_name(name: str) -> bool:
    words = name.strip("_").lower().split("_")
    if "clean" in words and "up" in words:
        return True
    return any(w in _CLEANUP_WORDS for w in words)


def _steps(model: FileModel, body: list[ast.stmt]) -> Iterator[_Step]:
    """The release calls a block runs in sequence, outside any try or guarding `with`."""
    for stmt in body:
        if isinstance(stmt, ast.Expr):
            call = stmt.value.value if isinstance(stmt.value, ast.Await) else stmt.value
            if isinstance(call, ast.Call):
                step = _release(model, call)
                if step is not None:
                    yield step
        elif isinstance(stmt, ast.If):
            yield from _steps(model, stmt.body)
            yield from _steps(model, stmt.orelse)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            if not any(_guarding(model, item.context_expr) for item in stmt.items):
                yield from _steps(model, stmt.body)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            inner = list(_steps(model, stmt.body))
            if inner:
                where = ast.unparse(stmt.iter)
                first = inner[0]
                yield _Step(first.call, f"each item of {where}", first.text)


def _guarding(model: FileModel, expr: ast.expr) -> bool:
    target = expr.func if isinstance(expr, ast.Call) else expr
    name = model.qualify(target) or dotted(target) or ""
    return name.rsplit(".", 1)[-1] in _GUARDS


def _release(model: FileModel, call: ast.Call) -> _Step | None:
    text = _short(call)
    qual = model.qualify(call.func) or ""
    if qual in _REMOVALS or qual in _SIGNALS or _checked_command(qual, call):
        what = ast.unparse(call.args[0]) if call.args else text
        return _Step(call, what, text)
    if not isinstance(call.func, ast.Attribute):
        return None
    method = call.func.attr
    receiver = dotted(call.func.value)
    if receiver is None:
        return None
    if receiver in ("self", "cls"):
        # A helper of the class: `self._close_transport()` releases what it names.
        words = set(method.strip("_").lower().split("_"))
        helper = _cleanup_name(method) or bool(words & _HELPER_WORDS)
        if helper and method not in ("close", "aclose", "__exit__", "__del__"):
            return _Step(call, f"self.{method}()", text)
        return None
    if method in _RELEASE_METHODS:
        return _Step(call, receiver, text)
    return None


def _short(call: ast.Call) -> str:
    text = ast.unparse(call)
    return text if len(text) <= 60 else text[:57] + "..."


def _can_fail(model: FileModel, cls: ClassInfo | None, step: _Step, *, depth: int) -> str | None:
    """Why this step raises in practice, or None when it rarely or never does."""
    call = step.call
    qual = model.qualify(call.func) or ""
    keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg}
    if qual in _REMOVALS:
        if _true(keywords.get("ignore_errors")):
            return None
        return "a removal raises when the path is already gone or not permitted"
    if qual in _SIGNALS:
        return "signalling a process that already exited raises `ProcessLookupError`"
    if _checked_command(qual, call):
        return "a command that exits non-zero raises `CalledProcessError`"
    if not isinstance(call.func, ast.Attribute):
        return None
    method = call.func.attr
    receiver = dotted(call.func.value) or ""
    if receiver == "self" and cls is not None and depth > 0:
        helper = _method(cls, method)
        if helper is not None:
            for inner in _steps(model, helper.body):
                why = _can_fail(model, cls, inner, depth=depth - 1)
                if why is not None:
                    return f"it runs `{inner.text}`, and {why}"
        return None
    if method == "flush":
        return "flushing writes buffered data out, which raises on a full disk or a broken pipe"
    if method == "unlink":
        if _true(keywords.get("missing_ok")):
            return None
        return "a removal raises when the path is already gone or not permitted"
    bound = _bound_to(model, cls, call, receiver)
    if method == "shutdown" and any("SHUT_" in ast.unparse(a) for a in call.args):
        return "shutting down a socket whose peer already went away raises `OSError`"
    if method in ("wait", "communicate") and (call.args or "timeout" in keywords):
        if any(b.endswith("Popen") or "create_subprocess" in b for b in bound):
            return "waiting with a timeout raises `TimeoutExpired` when the process does not exit"
        return None
    if method == "close" and any(
        _writes(model, b_call) for b_call in _bound_calls(model, cls, call, receiver)
    ):
        return "closing a file opened for writing flushes it, which raises on a full disk"
    if method in ("quit", "logout") and any(b.startswith(_CLIENT_MODULES) for b in bound):
        return "it sends a command to the server, which raises if the connection already dropped"
    if depth > 0:
        return _local_method_fails(model, cls, step, method, receiver)
    return None


def _checked_command(qual: str, call: ast.Call) -> bool:
    if qual not in _CHECKED:
        return False
    check = next((kw.value for kw in call.keywords if kw.arg == "check"), None)
    return qual != "subprocess.run" or _true(check)


def _local_method_fails(
    model: FileModel, cls: ClassInfo | None, step: _Step, method: str, receiver: str
) -> str | None:
    """`self.channel.close()` where `self.channel = Channel(...)` of a class in this file whose
    own `close()` runs a step that fails in practice."""
    classes = {c.node.name: c for c in model.classes}
    for bound in _bound_calls(model, cls, step.call, receiver):
        name = dotted(bound.func) or ""
        other = classes.get(name.rsplit(".", 1)[-1])
        if other is None or other is cls:
            continue
        body = _method(other, method)
        if body is None:
            continue
        for inner in _steps(model, body.body):
            why = _can_fail(model, other, inner, depth=0)
            if why is not None:
                return f"`{name}.{method}()` runs `{inner.text}`, and {why}"
    return None


def _true(value: ast.expr | None) -> bool:
    return isinstance(value, ast.Constant) and bool(value.value)


def _method(cls: ClassInfo, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for stmt in cls.node.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
            return stmt
    return None


def _bound_calls(
    model: FileModel, cls: ClassInfo | None, call: ast.Call, receiver: str
) -> list[ast.Call]:
    """The calls whose result is assigned to `receiver` in this function, or (for `self.x`)
    anywhere in the class."""
    if receiver.startswith("self.") and cls is not None:
        scope: ast.AST = cls.node
    else:
        function = model.ctx(call).function
        if function is None or isinstance(function.node, ast.Lambda):
            return []
        scope = function.node
    found: list[ast.Call] = []
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            found.extend(
                item.context_expr
                for item in node.items
                if item.optional_vars is not None
                and dotted(item.optional_vars) == receiver
                and isinstance(item.context_expr, ast.Call)
            )
            continue
        else:
            continue
        value = getattr(node, "value", None)
        if isinstance(value, ast.Call) and any(dotted(t) == receiver for t in targets):
            found.append(value)
    return found


def _bound_to(model: FileModel, cls: ClassInfo | None, call: ast.Call, receiver: str) -> list[str]:
    return [model.qualify(c.func) or "" for c in _bound_calls(model, cls, call, receiver)]


def _writes(model: FileModel, opener: ast.Call) -> bool:
    if (model.qualify(opener.func) or "") not in _WRITING_OPENERS:
        return False
    mode = opener.args[1] if len(opener.args) > 1 else None
    for kw in opener.keywords:
        if kw.arg == "mode":
            mode = kw.value
    return (
        isinstance(mode, ast.Constant)
        and isinstance(mode.value, str)
        and any(ch in mode.value for ch in "wax+")
    )


def _closed_flag(body: list[ast.stmt], before: ast.Call) -> tuple[str, bool] | None:
    """`self._closed = True` (or `self._state = State.CLOSED`) set before the step: (the flag,
    whether the method returns at once when it is already set)."""
    for stmt in body:
        if stmt.lineno >= before.lineno:
            break
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
            continue
        target = dotted(stmt.targets[0]) or ""
        if not target.startswith("self.") or not _marks_closed(target, stmt.value):
            continue
        guarded = any(
            isinstance(s, ast.If)
            and target in ast.unparse(s.test)
            and any(isinstance(b, ast.Return) for b in s.body)
            for s in body
            if s.lineno < stmt.lineno
        )
        return target, guarded
    return None


def _marks_closed(target: str, value: ast.expr) -> bool:
    """A boolean flag named for the state (`_closed`, `_running`, ...) or a state constant
    naming it (`State.CLOSED`)."""
    if isinstance(value, ast.Constant) and isinstance(value.value, bool):
        name = target.rsplit(".", 1)[-1].strip("_").lower()
        return name.removeprefix("is_") in _FLAG_WORDS
    state = (dotted(value) or "").rsplit(".", 1)[-1].upper()
    return state.startswith(("CLOS", "STOP", "SHUT"))


def _report(
    model: FileModel,
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    step: _Step,
    reason: str,
    later: list[_Step],
) -> Finding:
    skipped = ", ".join(f"`{s.text}`" for s in later[:3]) + (" and more" if len(later) > 3 else "")
    message = (
        f"`{function.name}()` releases its resources one after another with no try/finally: "
        f"if `{step.text}` raises ({reason}), "
        f"{skipped} {'never runs' if len(later) == 1 else 'never run'}, so "
        f"{'that resource leaks' if len(later) == 1 else 'those resources leak'}"
    )
    severity = RULE.severity
    flag = _closed_flag(function.body, step.call)
    if flag is not None:
        name, guarded = flag
        severity = Severity.MEDIUM
        message += f"; `{name}` is set before the steps"
        if guarded:
            message += f", so a second `{function.name}()` returns at once and never retries them"
    return model.finding(
        RULE,
        step.call,
        message,
        severity=severity,
        recommendation=(
            "Release each resource whatever the earlier steps did: register them on a "
            "`contextlib.ExitStack` (it runs every callback even after one fails, and raises the "
            "failure with the earlier ones chained to it), or "
            "put each later step in a `finally:`."
        ),
        anchor=step.call,
    )


RULE = Rule(
    id="EW123",
    name="cleanup-stops-at-first-failure",
    severity=Severity.LOW,
    summary="A close/shutdown method whose first failing step leaks the resources after it.",
    what="""
A cleanup-like method — its name says `close`, `shutdown`, `cleanup`, `stop`, `teardown`,
`dispose`, `disconnect`, `release`, or it is `__exit__` / `__del__` — that releases two or more
distinct resources one after another, outside any `try` and any `with ExitStack()` or
`with suppress(...)`, where a step before another resource's release fails in practice:
`flush()`; a file removal (`os.unlink`, `os.remove`, `os.rmdir`, `shutil.rmtree` without
`ignore_errors=True`, `Path.unlink()` without `missing_ok=True`); `os.kill`; a socket
`shutdown(socket.SHUT_...)`; `wait(timeout)` / `communicate(timeout=...)` on a
`subprocess.Popen`; `close()` of a file this code opened for writing; `quit()` / `logout()` of
an `smtplib` / `ftplib` / `imaplib` / `poplib` client; a checked command
(`subprocess.check_call`, `subprocess.run(..., check=True)`); a call of a cleanup helper of the
same class that itself runs such a step; or `close()` (etc.) of a member built from a class of
the same file whose own `close()` runs one. A loop releasing each item of a collection is one
step. One finding per method, at the first such step. Severity is low, medium when a "closed"
flag (`self._closed = True`, `self._state = State.CLOSED`) is set before the steps.

Deliberately not reported: steps that rarely raise in practice — `close()` of a socket or of an
object of unknown kind, `join()`, `Popen.terminate()` / `kill()` (they ignore a process that
already exited), `stop()` of an unknown object; a second step on the same resource
(`f.flush(); f.close()`); steps inside a `try` (with `finally` or a handler) or an `ExitStack`;
a single resource; test code.
""",
    why="""
Cleanup runs when something already went wrong more often than not. If its first step raises —
the disk is full when the log is flushed, the peer is gone when the socket is shut down, the
temporary file was already removed — the steps after it never run: child processes keep
running, files and connections stay open, temporary directories pile up. When the method marks
the object closed first and returns at once when it is set, a second `close()` does nothing, so
nothing ever releases them.
""",
    example="""
import os

class Session:
    def close(self):
        self._closed = True
        self.log.flush()
        os.unlink(self.lock_path)
        self.proc.terminate()
        self.sock.close()
""",
    fix="""
Release every resource whatever the earlier steps did, and let the errors surface:

```python
import contextlib
import os

class Session:
    def close(self):
        if self._closed:
            return
        self._closed = True
        with contextlib.ExitStack() as stack:  # callbacks run last-in first-out, all of them
            stack.callback(self.sock.close)
            stack.callback(self.proc.terminate)
            stack.callback(os.unlink, self.lock_path)
            stack.callback(self.log.flush)
```

Or one `try: ... finally: ...` per step. When a step's failure is expected (the lock file may
already be gone), say so precisely (`Path.unlink(missing_ok=True)`); when it must reach the
caller, raise it classified, e.g. `raise errwise.env("ERR_IO", "...") from exc`, after
the other resources were released.
""",
    check=check,
    profile="strict",
)
