"""EW107 subprocess-without-timeout: a child process or network call that can wait forever.

Promise: flags `subprocess.run/call/check_call/check_output` without `timeout=`,
`Popen.wait()`/`Popen.communicate()` on a `Popen` bound in the same function (or on `self.x` in
the same class) without a timeout, `await proc.wait()/communicate()` on an asyncio subprocess
outside `asyncio.wait_for`/`asyncio.timeout`, `requests` calls and `requests.Session` methods
without `timeout=`, `urllib.request.urlopen` without a timeout, and `httpx` calls with an
explicit `timeout=None` (httpx has a default timeout otherwise). Import aliases are resolved. A
`**kwargs` splat may carry a timeout, so such calls are never flagged; nor is `wait()` on a
process the same function already killed, terminated or `communicate()`d, nor a wait inside a
`try` with an explicit `except KeyboardInterrupt` (an interactive child).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from errwise.audit.finding import Finding, Severity
from errwise.audit.model import CallInfo, FileModel
from errwise.audit.names import dotted
from errwise.audit.rule import Rule
from errwise.audit.rules._flow import ancestors

_SUBPROCESS = frozenset(
    {"subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output"}
)
_REQUESTS = frozenset(
    f"requests.{m}" for m in ("get", "post", "put", "patch", "delete", "head", "options", "request")
)
_SESSION_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "request", "send"}
)
_URLOPEN = frozenset({"urllib.request.urlopen", "urllib2.urlopen"})
# Positional index of the timeout parameter, where it has one.
_POSITIONAL_TIMEOUT = {"wait": 0, "communicate": 1, "urlopen": 2}


def check(model: FileModel) -> Iterator[Finding]:
    popens = _bound_objects(model, frozenset({"subprocess.Popen"}))
    sessions = _bound_objects(model, frozenset({"requests.Session", "requests.session"}))
    aprocs = _bound_objects(
        model,
        frozenset({"asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell"}),
    )
    for call in model.calls:
        node = call.node
        if any(kw.arg is None for kw in node.keywords):
            continue  # `**kwargs` may carry the timeout
        if _interactive(model, call):
            continue
        qual = call.qualname or ""
        if qual in _SUBPROCESS:
            problem = _missing(node, None)
            if problem:
                yield _finding(model, call, f"`{qual}()`", "the child process", problem, fix="run")
        elif qual in _REQUESTS:
            problem = _missing(node, None)
            if problem:
                yield _finding(model, call, f"`{qual}()`", "the server", problem, fix="http")
        elif qual in _URLOPEN:
            problem = _missing(node, _POSITIONAL_TIMEOUT["urlopen"])
            if problem:
                yield _finding(model, call, f"`{qual}()`", "the server", problem, fix="http")
        elif qual.startswith("httpx.") and _explicit_none(node):
            yield _finding(
                model, call, f"`{qual}()`", "the server", "passes `timeout=None`", fix="httpx"
            )
        elif isinstance(node.func, ast.Attribute):
            method = node.func.attr
            if method in ("wait", "communicate") and _fresh_popen(model, node.func.value):
                problem = _missing(node, _POSITIONAL_TIMEOUT[method])
                if problem:
                    yield _finding(
                        model,
                        call,
                        f"`subprocess.Popen(...).{method}()`",
                        "the child process",
                        problem,
                        fix="popen",
                    )
                continue
            receiver = dotted(node.func.value)
            if receiver is None:
                continue
            if method in ("wait", "communicate") and _bound_here(model, call, receiver, popens):
                problem = _missing(node, _POSITIONAL_TIMEOUT[method])
                if problem and not _finished_before(model, call, receiver, method):
                    yield _finding(
                        model,
                        call,
                        f"`{receiver}.{method}()` on a `subprocess.Popen`",
                        "the child process",
                        problem,
                        fix="popen",
                    )
            elif (
                method in ("wait", "communicate")
                and _bound_here(model, call, receiver, aprocs)
                and not _async_deadline(model, call)
                and not _finished_before(model, call, receiver, method)
            ):
                yield _finding(
                    model,
                    call,
                    f"`await {receiver}.{method}()` on an asyncio subprocess",
                    "the child process",
                    "has no deadline (asyncio's process methods take no timeout)",
                    fix="asyncio",
                )
            elif method in _SESSION_METHODS and _bound_here(model, call, receiver, sessions):
                problem = _missing(node, None)
                if problem:
                    yield _finding(
                        model,
                        call,
                        f"`{receiver}.{method}()` on a `requests.Session`",
                        "the server",
                        problem,
                        fix="http",
                    )


def _fresh_popen(model: FileModel, expr: ast.expr) -> bool:
    return isinstance(expr, ast.Call) and model.qualify(expr.func) == "subprocess.Popen"


def _missing(node: ast.Call, positional: int | None) -> str:
    """Why the call has no timeout ("" when it has one)."""
    for kw in node.keywords:
        if kw.arg == "timeout":
            return "passes `timeout=None`" if _is_none(kw.value) else ""
    if positional is not None and len(node.args) > positional:
        return "passes `None` as timeout" if _is_none(node.args[positional]) else ""
    return "has no timeout"


def _explicit_none(node: ast.Call) -> bool:
    return any(kw.arg == "timeout" and _is_none(kw.value) for kw in node.keywords)


def _is_none(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


def _bound_objects(model: FileModel, factories: frozenset[str]) -> dict[str, list[str]]:
    """Scope (function qualname, or class name for `self.x`) -> names bound to a factory call."""
    bound: dict[str, list[str]] = {}
    for call in model.calls:
        if call.qualname not in factories:
            continue
        parent = model.parents.get(call.node)
        if isinstance(parent, ast.Await):
            parent = model.parents.get(parent)
        targets: list[ast.expr] = []
        if isinstance(parent, (ast.Assign, ast.AnnAssign)):
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        elif isinstance(parent, ast.withitem) and parent.optional_vars is not None:
            targets = [parent.optional_vars]
        for target in targets:
            name = dotted(target)
            if name is None:
                continue
            key = _scope_key(call, name)
            if key is not None:
                bound.setdefault(key, []).append(name)
    return bound


def _scope_key(call: CallInfo, name: str) -> str | None:
    fn = call.ctx.function
    if name.startswith("self.") and fn is not None:
        owner = fn
        while owner.parent is not None and owner.class_name is None:
            owner = owner.parent
        return f"class:{owner.class_name}" if owner.class_name else None
    return f"fn:{fn.qualname}" if fn is not None else "module"


def _bound_here(
    model: FileModel, call: CallInfo, receiver: str, bound: dict[str, list[str]]
) -> bool:
    key = _scope_key(call, receiver)
    return key is not None and receiver in bound.get(key, ())


def _finished_before(model: FileModel, call: CallInfo, receiver: str, method: str) -> bool:
    """Was the process killed, or (for `wait`) already reaped by `communicate()`, earlier in
    the same function? Then this call returns at once (or its real wait was flagged already)."""
    fn = call.ctx.function
    calls = fn.calls if fn is not None else model.calls
    ends = {"kill", "terminate", "send_signal"} | ({"communicate"} if method == "wait" else set())
    return any(
        c is not call
        and isinstance(c.node.func, ast.Attribute)
        and c.node.func.attr in ends
        and dotted(c.node.func.value) == receiver
        and c.node.lineno <= call.node.lineno
        for c in calls
    )


def _interactive(model: FileModel, call: CallInfo) -> bool:
    """Inside a try with an explicit `except KeyboardInterrupt`: the wait is driven by a human
    (a pager, an editor), who ends it with Ctrl-C — a deadline would be wrong there."""
    ctx = call.ctx
    try_, part = ctx.try_, ctx.try_part
    while try_ is not None:
        if part == "body" and any(
            c.removeprefix("builtins.") == "KeyboardInterrupt"
            for h in try_.handlers
            for c in h.caught
        ):
            return True
        outer = model.ctx(try_.node)
        if outer.function is not ctx.function:
            break
        try_, part = outer.try_, outer.try_part
    return False


_ASYNC_DEADLINES = frozenset(
    {"asyncio.timeout", "asyncio.timeout_at", "async_timeout.timeout", "anyio.fail_after"}
)


def _async_deadline(model: FileModel, call: CallInfo) -> bool:
    """`await asyncio.wait_for(proc.wait(), t)` or inside `async with asyncio.timeout(t):`."""
    parent = model.parents.get(call.node)
    if isinstance(parent, ast.Call) and model.qualify(parent.func) in (
        "asyncio.wait_for",
        "asyncio.shield",
    ):
        return True
    for node in ancestors(model, call.node):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                expr = item.context_expr
                if isinstance(expr, ast.Call) and model.qualify(expr.func) in _ASYNC_DEADLINES:
                    return True
    return False


def _under_lock(model: FileModel, call: CallInfo) -> str | None:
    """The lock or transaction the call runs under (`with lock:`), if any."""
    for node in ancestors(model, call.node):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                expr = item.context_expr
                name = dotted(expr.func if isinstance(expr, ast.Call) else expr) or ""
                if any(w in name.lower() for w in ("lock", "transaction", "mutex")):
                    return name
    return None


_FIXES = {
    "run": "pass `timeout=` (seconds) and handle `subprocess.TimeoutExpired`, or use "
    "`errwise.run(cmd, timeout=…)`, which kills the child and raises a classified error naming "
    "the command",
    "popen": "pass a timeout (`proc.communicate(timeout=…)` / `proc.wait(timeout=…)`); on "
    "`subprocess.TimeoutExpired` kill the child and reap it, or use `errwise.run(cmd, timeout=…)`",
    "http": "pass `timeout=(connect, read)` seconds, e.g. `timeout=(3.05, 30)`, and handle the "
    "timeout error as a classified `errwise.env(...)` error",
    "asyncio": "wrap it in `await asyncio.wait_for(proc.communicate(), timeout=…)` or an "
    "`async with asyncio.timeout(…):` block, and kill the child when the deadline passes",
    "httpx": "drop `timeout=None` (httpx defaults to 5 s) or pass a finite `httpx.Timeout(…)`",
}


def _finding(
    model: FileModel, call: CallInfo, what: str, peer: str, problem: str, *, fix: str
) -> Finding:
    lock = _under_lock(model, call)
    severity = RULE.severity
    message = f"{what} {problem}: if {peer} stops responding, this call waits forever"
    if lock is not None:
        severity = Severity.MEDIUM
        message += f" while holding `{lock}`, blocking every other holder too"
    return model.finding(
        RULE,
        call.node,
        message,
        severity=severity,
        recommendation=_FIXES[fix][:1].upper() + _FIXES[fix][1:] + ".",
    )


RULE = Rule(
    id="EW107",
    name="subprocess-without-timeout",
    severity=Severity.LOW,
    summary="A subprocess, requests, httpx or urllib call that can hang forever.",
    what="""
`subprocess.run/call/check_call/check_output` without `timeout=`; `wait()`/`communicate()` on a
`subprocess.Popen` created in the same function (or stored on `self` in the same class) without a
timeout; `await proc.wait()`/`communicate()` on an asyncio subprocess outside
`asyncio.wait_for`/`asyncio.timeout`; `requests.get/post/...`, `requests.request` and
`requests.Session` methods without `timeout=`; `urllib.request.urlopen` without a timeout;
`httpx` calls with an explicit `timeout=None` (httpx applies a default otherwise).
`import subprocess as sp` and `from subprocess import run` are resolved. Not flagged: calls with
a `**kwargs` splat (it may carry the timeout); `wait()` after the same function killed,
terminated or `communicate()`d the process; calls in a `try` with an explicit
`except KeyboardInterrupt` (an interactive child — a pager, an editor — that the user ends with
Ctrl-C). Severity is low, medium when the call runs inside a `with <lock>:` block.
""",
    why="""
A git command waiting for a credential prompt, a stalled NFS mount or a dead server never
returns: the program hangs with no error, holds its locks, and an operator must find and kill it
by hand. A timeout turns the hang into an error that names the command.
""",
    example="""
import subprocess

def run_command(cmd, cwd):
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True)
""",
    fix="""
Give every external call a deadline and turn its expiry into a classified error:

```python
import errwise

def run_command(cmd, cwd):
    return errwise.run(cmd, cwd=cwd, timeout=300)   # kills and reaps the child on timeout
```

or `subprocess.run(cmd, ..., timeout=300)` with `except subprocess.TimeoutExpired`;
`requests.get(url, timeout=(3.05, 30))`; `urllib.request.urlopen(url, timeout=30)`.
""",
    check=check,
)
