"""EW107 subprocess-without-timeout: a child process that can wait forever.

Promise: flags `subprocess.run/call/check_call/check_output` without `timeout=`,
`Popen.wait()`/`Popen.communicate()` on a `Popen` bound in the same function (or on `self.x` in
the same class) without a timeout, and `await proc.wait()/communicate()` on an asyncio
subprocess outside `asyncio.wait_for`/`asyncio.timeout` — but only for a child that can really
stall unseen: not an interactive child (an editor, a pager, a shell, a credential helper, a
command from `EDITOR`/`PAGER`/`BROWSER`/`SHELL`, `git commit` without a message), not a wrapper
that exits
with the child's status, not a `run`/`call` whose child writes to the user's terminal, not a
fixed local command that finishes on its own (`git rev-parse`, `uname`, `tool --version`,
`python -c "..."`), not a process the code polls or that the caller asked to wait for
(`if wait: proc.wait()`). Import aliases are resolved; a `**kwargs` splat may carry a timeout,
so such calls are never flagged. Not in CI, release, benchmark or tool scripts
(`_raise_context.non_library_path`), run by a developer at a terminal. Network calls are
`network-call-without-timeout` (EW122).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from errwise.audit.finding import Finding, Severity
from errwise.audit.model import CallInfo, FileModel
from errwise.audit.names import dotted
from errwise.audit.rule import Rule
from errwise.audit.rules._commands import (
    command_of,
    finishes,
    inherits_terminal,
    interactive_reason,
)
from errwise.audit.rules._flow import ancestors, in_test_code
from errwise.audit.rules._raise_context import non_library_path
from errwise.audit.rules._timeouts import (
    bound_here,
    bound_objects,
    calls_on,
    has_splat,
    missing_timeout,
    waits_forever,
)

_SUBPROCESS = frozenset(
    {"subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output"}
)
_EXEC_FACTORIES = frozenset({"asyncio.create_subprocess_exec"})
_ASYNC_FACTORIES = _EXEC_FACTORIES | {"asyncio.create_subprocess_shell"}
_EXITS = frozenset({"sys.exit", "SystemExit", "os._exit", "exit", "quit"})
# Positional index of the timeout parameter, where it has one.
_POSITIONAL_TIMEOUT = {"wait": 0, "communicate": 1}


def check(model: FileModel) -> Iterator[Finding]:
    if non_library_path(model.path):
        return  # CI, release and tool scripts: the developer running one sees it stall
    popens = bound_objects(model, frozenset({"subprocess.Popen"}))
    aprocs = bound_objects(model, _ASYNC_FACTORIES)
    for call in model.calls:
        node = call.node
        if has_splat(node) or _interactive(model, call) or _caller_chose_to_wait(model, call):
            continue
        if in_test_code(model, node):
            continue  # the child is the code under test; the test runner bounds the run
        qual = call.qualname or ""
        if qual in _SUBPROCESS:
            problem = missing_timeout(node, None)
            if problem and not _unbounded_by_design(model, call, node, qual):
                yield _finding(model, call, f"`{qual}()`", problem, fix="run")
            continue
        if not isinstance(node.func, ast.Attribute):
            continue
        method = node.func.attr
        if method not in ("wait", "communicate"):
            continue
        if _fresh_popen(model, node.func.value):
            assert isinstance(node.func.value, ast.Call)
            problem = missing_timeout(node, _POSITIONAL_TIMEOUT[method])
            if problem and not _unbounded_by_design(model, call, node.func.value, None):
                yield _finding(
                    model, call, f"`subprocess.Popen(...).{method}()`", problem, fix="popen"
                )
            continue
        receiver = dotted(node.func.value)
        if receiver is None:
            continue
        starts = bound_here(call, receiver, popens)
        if starts:
            problem = missing_timeout(node, _POSITIONAL_TIMEOUT[method])
            if (
                problem
                and not _finished_before(model, call, receiver, method)
                and not _polled(model, call, receiver)
                and not any(_unbounded_by_design(model, call, s, None) for s in starts)
            ):
                yield _finding(
                    model,
                    call,
                    f"`{receiver}.{method}()` on a `subprocess.Popen`",
                    problem,
                    fix="popen",
                )
            continue
        starts = bound_here(call, receiver, aprocs)
        if (
            starts
            and not _async_deadline(model, call)
            and not _finished_before(model, call, receiver, method)
            and not any(_unbounded_by_design(model, call, s, None) for s in starts)
        ):
            yield _finding(
                model,
                call,
                f"`await {receiver}.{method}()` on an asyncio subprocess",
                "has no deadline (asyncio's process methods take no timeout)",
                fix="asyncio",
            )


def _unbounded_by_design(
    model: FileModel, call: CallInfo, start: ast.Call, qual: str | None
) -> bool:
    """A child for which no deadline is right, or none is needed: a human drives it (an editor,
    a pager, a shell), the program's job is to run it and exit with its status, it runs in the
    user's terminal (only for the blocking `run`/`call` family, `qual` given), or it is a fixed
    local command that finishes on its own."""
    command = command_of(model, start, argv=model.qualify(start.func) in _EXEC_FACTORIES)
    if interactive_reason(model, call, command) is not None:
        return True
    if _exits_with_status(model, call):
        return True
    if qual is not None and inherits_terminal(start, qual):
        return True
    return finishes(command)


def _exits_with_status(model: FileModel, call: CallInfo) -> bool:
    """`sys.exit(subprocess.call(cmd))`: a wrapper that runs the child in its place."""
    node: ast.AST = call.node
    for parent in ancestors(model, call.node):
        if isinstance(parent, ast.stmt):
            return isinstance(parent, ast.Raise) and _is_exit(model, parent.exc)
        if isinstance(parent, ast.Call) and node is not parent.func and _is_exit(model, parent):
            return True
        node = parent
    return False


def _is_exit(model: FileModel, expr: ast.expr | None) -> bool:
    if isinstance(expr, ast.Call):
        expr = expr.func
    return expr is not None and (model.qualify(expr) or "").removeprefix("builtins.") in _EXITS


def _caller_chose_to_wait(model: FileModel, call: CallInfo) -> bool:
    """`if wait: proc.wait()`: the caller asked to block until the child ends."""
    for node in ancestors(model, call.node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return False
        if isinstance(node, (ast.If, ast.IfExp)) and any(
            ("wait" in name or "block" in name)
            for sub in ast.walk(node.test)
            for name in (_identifier(sub),)
            if name
        ):
            return True
    return False


def _identifier(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id.lower()
    if isinstance(node, ast.Attribute):
        return node.attr.lower()
    return ""


def _polled(model: FileModel, call: CallInfo, receiver: str) -> bool:
    """The process is polled (`proc.poll()`) in the same scope: the code watches it itself."""
    return any(
        isinstance(c.node.func, ast.Attribute) and c.node.func.attr == "poll"
        for c in calls_on(model, call, receiver)
    )


def _fresh_popen(model: FileModel, expr: ast.expr) -> bool:
    return isinstance(expr, ast.Call) and model.qualify(expr.func) == "subprocess.Popen"


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


_FIXES = {
    "run": "pass `timeout=` (seconds) and handle `subprocess.TimeoutExpired`, or use "
    "`errwise.run(cmd, timeout=…)`, which kills the child and raises a classified error naming "
    "the command",
    "popen": "pass a timeout (`proc.communicate(timeout=…)` / `proc.wait(timeout=…)`); on "
    "`subprocess.TimeoutExpired` kill the child and reap it, or use `errwise.run(cmd, timeout=…)`",
    "asyncio": "wrap it in `await asyncio.wait_for(proc.communicate(), timeout=…)` or an "
    "`async with asyncio.timeout(…):` block, and kill the child when the deadline passes",
}


def _finding(model: FileModel, call: CallInfo, what: str, problem: str, *, fix: str) -> Finding:
    message = f"{what} {problem}: if the child process stops responding, this call waits forever"
    return waits_forever(RULE, model, call, message, _FIXES[fix])


RULE = Rule(
    id="EW107",
    name="subprocess-without-timeout",
    severity=Severity.LOW,
    summary="A subprocess call that can hang forever.",
    what="""
`subprocess.run/call/check_call/check_output` without `timeout=`; `wait()`/`communicate()` on a
`subprocess.Popen` created in the same function (or stored on `self` in the same class) without a
timeout; `await proc.wait()`/`communicate()` on an asyncio subprocess outside
`asyncio.wait_for`/`asyncio.timeout`. `import subprocess as sp` and `from subprocess import run`
are resolved.

Deliberately not reported, because a deadline would be wrong or is not needed there:
interactive children (editors, pagers, browsers, shells, `open -W`, an interactive `ssh`
session, `git commit` without a message, a command read from `EDITOR`/`VISUAL`/`PAGER`/
`BROWSER`/`SHELL`, a credential or passphrase helper — its command, class or module speaks of
a credential, askpass, pinentry or passphrase — that may prompt the user, a call in a `try`
with an explicit `except KeyboardInterrupt`); a wrapper
that exits with the child's status (`sys.exit(subprocess.call(cmd))`: running it is the
program's job); a `run`/`call`/`check_call` whose output goes to the user's terminal (the user
sees it stall and can answer or press Ctrl-C); a fixed local command that finishes on its own
(its program and subcommand are literal and do not wait on a network, a lock or a person:
`git rev-parse`, `uname`, `tool --version`, `python -c "..."`; `git fetch`, `ssh`, `curl`,
`pip install` are still reported); a `Popen` the code polls itself, a wait the caller asked for
(`if wait: proc.wait()`), `wait()` after the same function killed, terminated or
`communicate()`d the process; calls with a `**kwargs` splat (it may carry the timeout); test
code (`test_*.py`, `test*` functions, `Test*` classes); CI, release, benchmark and tool scripts
(`ci/`, `tools/`, `scripts/`, `benchmarks/`, `setup.py`, `noxfile.py`), run by a developer at a
terminal who sees them stall. Network calls are `network-call-without-timeout` (EW122).
Severity is low, medium when the call runs inside a `with <lock>:` block.
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

or `subprocess.run(cmd, ..., timeout=300)` with `except subprocess.TimeoutExpired`.
""",
    check=check,
    profile="strict",
)
