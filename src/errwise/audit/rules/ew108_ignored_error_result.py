"""EW108 ignored-error-result: a call that reports failure by its return value, whose value is
dropped.

Promise: a finding for
- `subprocess.run(...)` without `check=True`, and `subprocess.call(...)`, whose result is dropped
  or assigned to a name whose `returncode` is never looked at (reading only `.stdout` does not
  count); `os.system(...)` whose status is dropped;
- any call passing `check=False` (a wrapper asked not to raise) whose result is dropped;
- a call, used as a statement, to a *failure-signalling function*: one whose except clause
  answers with a normal-path value (error-as-sentinel) or, for a boolean function, with `False`
  — of the same module, or of another module of the audited tree (`from locking import
  try_lock`, a plain top-level module too): each file's facts go into `FileFacts.results`
  (`failure_results`) and a `Deferred` check reads them with `Program.failure_result`;
- outside test code, a call of a function of the audited tree (same module, or another one
  through the same facts) that answers failure with `None` and no `except`
  (`_none_failure.none_failures`: the fall-through of a dispatch, an unsupported-value guard, a
  `return None` after a warning), whose result the caller uses unchecked: an attribute, call or
  subscript on it, or passing it as a keyword to a network/process/disk call.

The failure-signalling facts are computed per module by `failure_signalling_functions(model)`
and consumed by `check_with(model, known)`; a later cross-module pass can merge the facts of
imported modules (keyed by qualified name, e.g. `pkg.helpers.create_lock`) into `known`.
"""

from __future__ import annotations

import ast
import dataclasses
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from errwise.audit.deferred import Deferred
from errwise.audit.effects import Effect
from errwise.audit.finding import Finding, Severity
from errwise.audit.handling import expected_condition, verdict
from errwise.audit.model import CallInfo, FileModel, FunctionInfo, walk_scope
from errwise.audit.rule import Rule
from errwise.audit.rules._commands import command_of, shown_to_the_user
from errwise.audit.rules._none_failure import (
    NoneFailure,
    none_failures,
    unchecked_use,
)
from errwise.audit.rules._roles import is_test_or_tooling_path
from errwise.audit.rules.ew102_error_as_sentinel import (
    is_bool_function,
    literal_key,
    sentinel_handlers,
)
from errwise.audit.text import call_text, caught_text

if TYPE_CHECKING:
    from errwise.audit.config import AuditConfig
    from errwise.audit.infer.program import Program

__all__ = [
    "RULE",
    "FailureSignal",
    "failure_signalling_functions",
    "check_with",
    "resolve_callee",
    "failure_results",
]

_RESULT_ONLY_ATTRS = frozenset({"stdout", "stderr", "args", "pid"})


@dataclass(frozen=True, slots=True)
class FailureSignal:
    """A function that reports failure through its return value (a fact about its module)."""

    qualname: str
    how: str
    """e.g. "returns `False` from `except OSError` at line 40"."""
    state_changing: bool
    """Its guarded code changes on-disk or lock state: dropping the failure is critical."""


def failure_signalling_functions(model: FileModel) -> dict[str, FailureSignal]:
    """The functions of this module that signal failure by their return value, by qualname."""
    known: dict[str, FailureSignal] = {}
    for function in model.functions:
        signal = _signal_of(model, function)
        if signal is not None:
            known[function.qualname] = signal
    return known


def _signal_of(model: FileModel, function: FunctionInfo) -> FailureSignal | None:
    if isinstance(function.node, ast.Lambda) or function.is_generator:
        return None
    for found in sentinel_handlers(model, function):
        h = found.handler
        clause = "a bare `except`" if h.bare else f"`except {caught_text(h)}`"
        return FailureSignal(
            function.qualname,
            f"returns `{found.value}` from {clause} at line {found.ret.lineno}",
            bool(model.effects_in(h.try_.node.body) & (Effect.DISK | Effect.LOCK | Effect.CLEANUP)),
        )
    if not _boolean(function):
        return None
    for try_ in function.tries:
        for h in try_.handlers:
            if not verdict(model, h).loses_error or expected_condition(h):
                continue  # `except KeyError: return False` answers "was not there"
            for ret in h.facts.returns:
                where = model.ctx(ret)
                if where.handler is h and where.try_ is try_ and literal_key(ret.value) == "False":
                    clause = "a bare `except`" if h.bare else f"`except {caught_text(h)}`"
                    return FailureSignal(
                        function.qualname,
                        f"returns `False` from {clause} at line {ret.lineno}",
                        bool(
                            model.effects_in(try_.node.body)
                            & (Effect.DISK | Effect.LOCK | Effect.CLEANUP)
                        ),
                    )
    return None


def _boolean(function: FunctionInfo) -> bool:
    """Annotated `-> bool`, or every normal-path return is a boolean literal."""
    if is_bool_function(function):
        return True
    keys = [literal_key(r.node.value) for r in function.normal_returns()]
    return bool(keys) and all(k in ("True", "False") for k in keys)


def resolve_callee(model: FileModel, call: CallInfo, known: Mapping[str, object]) -> str | None:
    """The key in `known` this call targets: a module function by (qualified) name, or a
    method of the caller's own class via `self.`/`cls.`."""
    if call.qualname is not None and call.qualname in known:
        return call.qualname
    func = call.node.func
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in ("self", "cls")
    ):
        fn = call.ctx.function
        while fn is not None and fn.class_name is None:
            fn = fn.parent
        if fn is not None:
            key = f"{fn.qualname.rsplit('.', 1)[0]}.{func.attr}"
            if key in known:
                return key
    return None


def failure_results(model: FileModel) -> dict[str, tuple[str, str, bool]]:
    """This module's failure-signalling functions as the program-wide facts other files read
    (`FileFacts.results`): fully qualified name -> (kind, how, state changing); kind "value"
    (a sentinel or `False` from an except clause) wins over "none" (`None` as failure value)."""
    prefix = f"{model.module_name}." if model.module_name else ""
    facts: dict[str, tuple[str, str, bool]] = {
        prefix + qual: ("none", f"returns `None` {failure.why} (line {failure.line})", False)
        for qual, failure in none_failures(model).items()
    }
    for qual, signal in failure_signalling_functions(model).items():
        facts[prefix + qual] = ("value", signal.how, signal.state_changing)
    return facts


_Candidate = tuple[str, str, str, bool]
"""(target, kind wanted, what the use does, whether the use raises)."""


def check(model: FileModel) -> Iterator[Finding | Deferred[tuple[_Candidate, ...]]]:
    known = failure_signalling_functions(model)
    nones = none_failures(model)
    yield from check_with(model, known)
    yield from _none_results_used(model, nones)
    yield from _imported_candidates(model, {**nones, **known})


def _none_results_used(model: FileModel, nones: Mapping[str, NoneFailure]) -> Iterator[Finding]:
    """Calls of this module's functions that answer failure with `None`, whose caller uses the
    result without looking at it."""
    if not nones or is_test_or_tooling_path(model.path):
        return  # a test knows its inputs: it uses the answer for the case it set up
    for call in model.calls:
        if call.discarded:
            continue
        key = resolve_callee(model, call, nones)
        if key is None or (call.ctx.function is not None and call.ctx.function.qualname == key):
            continue
        use = unchecked_use(model, call)
        if use is None:
            continue
        failure = nones[key]
        how = f"returns `None` {failure.why} (line {failure.line})"
        message, recommendation = _none_text(
            call_text(model, call.node), key, how, use.text, raises=use.raises, where=""
        )
        yield model.finding(
            RULE, call.node, message, severity=Severity.HIGH, recommendation=recommendation
        )


def _none_text(
    shown: str, target: str, how: str, use: str, *, raises: bool, where: str
) -> tuple[str, str]:
    """The message and recommendation of a `None` failure value used unchecked."""
    name = target.rsplit(".", 1)[-1]
    message = f"{shown}{where} {how} and this call uses the result without checking it: {use}" + (
        f", which says nothing of why `{name}` gave up" if raises else ""
    )
    return message, (
        f"Check the result (`if result is None: ...`) and report why — better, make `{name}` "
        "raise a classified error naming the value it could not handle (`errwise.usage(...)` "
        "/ `errwise.env(...)`), so the failure surfaces where it happens."
    )


def _imported_candidates(
    model: FileModel, local: Mapping[str, object]
) -> Iterator[Deferred[tuple[_Candidate, ...]]]:
    """Calls of functions imported from other modules of the tree (`from locking import
    try_lock`; `import locking; locking.try_lock(p)`) that drop the result, or use it
    unchecked: whether the callee reports failure by its value is a fact of the other file,
    read once every file is summarised."""
    candidates: list[_Candidate] = []
    skeletons: list[Finding] = []
    for call in model.calls:
        if call.qualname is None or "." not in call.qualname:
            continue
        if resolve_callee(model, call, local) is not None:
            continue  # a function of this module: judged above
        func = call.node.func
        head = func.value if isinstance(func, ast.Attribute) else func
        while isinstance(head, ast.Attribute):
            head = head.value
        if not isinstance(head, ast.Name) or model.imports.lookup(head.id) is None:
            continue  # a method of a local object: its class is not known here
        if call.qualname.split(".", 1)[0] in _STDLIB_ROOTS:
            continue
        if call.discarded:
            candidates.append((call.qualname, "value", "", False))
        elif is_test_or_tooling_path(model.path):
            continue  # a test knows its inputs: it uses the answer for the case it set up
        else:
            use = unchecked_use(model, call)
            if use is None:
                continue
            candidates.append((call.qualname, "none", use.text, use.raises))
        skeletons.append(model.finding(RULE, call.node, "", recommendation=""))
    if candidates:
        yield Deferred(f"{RULE.id} {RULE.name}", _resolve, tuple(candidates), tuple(skeletons))


_STDLIB_ROOTS = frozenset(sys.stdlib_module_names) | {"builtins"}


def _resolve(
    program: Program,
    config: AuditConfig,
    candidates: tuple[_Candidate, ...],
    skeletons: tuple[Finding, ...],
) -> Iterator[Finding]:
    for (target, wanted, use_text, raises), skeleton in zip(candidates, skeletons, strict=True):
        fact = program.failure_result(target)
        if fact is None or fact[0] != wanted:
            continue
        _, how, state_changing = fact
        module, _, name = target.rpartition(".")
        how = how.replace(" at line ", f" in `{module}` at line ").replace(
            " (line ", f" (`{module}` line "
        )
        if wanted == "none":
            message, recommendation = _none_text(
                f"`{name}()`", target, how, use_text, raises=raises, where=f" (from `{module}`)"
            )
            severity = Severity.HIGH
        else:
            message, severity, recommendation = _helper_text(
                f"`{name}()`", FailureSignal(target, how, state_changing), f" (from `{module}`)"
            )
        yield dataclasses.replace(
            skeleton, message=message, severity=severity, recommendation=recommendation
        )


def check_with(model: FileModel, known: Mapping[str, FailureSignal]) -> Iterator[Finding]:
    """Findings of this module, given the failure-signalling functions it can call."""
    for call in model.calls:
        finding = _subprocess_finding(model, call)
        if finding is None and call.discarded:
            key = resolve_callee(model, call, known)
            if key is not None and (call.ctx.function is None or call.ctx.function.qualname != key):
                finding = _helper_finding(model, call, known[key])
        if finding is not None:
            yield finding


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def _is_false(expr: ast.expr | None) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is False


def _subprocess_finding(model: FileModel, call: CallInfo) -> Finding | None:
    name = call.qualname or ""
    node = call.node
    check_kw = _keyword(node, "check")
    if any(kw.arg is None for kw in node.keywords):
        return None  # **kwargs may carry check=True
    if name == "subprocess.run" and (check_kw is None or _is_false(check_kw)):
        what = "the `CompletedProcess`"
    elif name in ("subprocess.call", "os.system"):
        what = "the exit status"
    elif _is_false(check_kw) and name not in ("subprocess.Popen",):
        what = "its result"
    else:
        return None
    if name != "os.system" and shown_to_the_user(node, name, command_of(model, node)):
        return None  # `git --no-pager diff` shown to the user: its failure changes nothing
    shown = call_text(model, node)
    if call.discarded:
        how = f"{shown} drops {what}"
    else:
        unread = _unread_status(model, call)
        if unread is None:
            return None
        how = f"{shown} stores {what} in `{unread}` but never reads its return code"
    asked = " (`check=False`)" if _is_false(check_kw) else ""
    message = f"{how}{asked}: a failing command (non-zero exit) goes unnoticed"
    return model.finding(
        RULE,
        node,
        message,
        severity=Severity.HIGH,
        recommendation=(
            "Use `errwise.run(cmd, timeout=...)`, which raises `ERR_SUBPROCESS_FAILED` with the "
            "command and its stderr, or pass `check=True`; if a non-zero exit is an expected "
            "outcome, read `returncode` and act on it."
        ),
    )


def _unread_status(model: FileModel, call: CallInfo) -> str | None:
    """The variable holding the result when its status is never read; None when it is."""
    parent = model.parents.get(call.node)
    if not (
        isinstance(parent, ast.Assign)
        and len(parent.targets) == 1
        and isinstance(parent.targets[0], ast.Name)
    ):
        return None
    var = parent.targets[0].id
    if var == "_":
        return None  # an explicit, visible discard
    fn = call.ctx.function
    scope: list[ast.stmt] = (
        model.tree.body if fn is None or isinstance(fn.node, ast.Lambda) else fn.node.body
    )
    for node in walk_scope(scope):
        if isinstance(node, ast.Name) and node.id == var and isinstance(node.ctx, ast.Load):
            attr = model.parents.get(node)
            if isinstance(attr, ast.Attribute) and attr.attr in _RESULT_ONLY_ATTRS:
                continue
            return None
    return var


def _helper_finding(model: FileModel, call: CallInfo, signal: FailureSignal) -> Finding:
    message, severity, recommendation = _helper_text(call_text(model, call.node), signal, "")
    return model.finding(RULE, call.node, message, severity=severity, recommendation=recommendation)


def _helper_text(shown: str, signal: FailureSignal, where: str) -> tuple[str, Severity, str]:
    """The message, severity and recommendation of a dropped failure-signalling result."""
    message = (
        f"{shown}{where} reports failure through its return value — it {signal.how} — and "
        "this call drops the result: the failure is silently ignored"
    )
    return (
        message,
        Severity.CRITICAL if signal.state_changing else Severity.HIGH,
        (
            f"Check the result of {shown} and act on a failure — better, make "
            f"`{signal.qualname.rsplit('.', 1)[-1]}` raise a classified error "
            "(`errwise.env(...)`) or return `errwise.Result` so a failure cannot be dropped "
            "unnoticed."
        ),
    )


RULE = Rule(
    id="EW108",
    name="ignored-error-result",
    severity=Severity.HIGH,
    summary="A call that reports failure by its return value, whose value is dropped.",
    what="""
Calls whose failure is reported only through their return value, with that value dropped:
`subprocess.run(...)` without `check=True` (or `subprocess.call`) whose result is discarded or
whose `returncode` is never read; `os.system(...)` as a statement; any call passing
`check=False` whose result is discarded; a call, used as a statement, to a function of the
audited tree (the same module or an imported one) that signals failure by its return value (one
whose except clause returns a normal-path value, or a boolean function whose except clause
returns `False`); and a call of a function that answers failure with `None` (when no case of a
dispatch matches, for an unsupported value, after logging a warning) whose result the caller
uses unchecked — an attribute, a call or a subscript on it, or passing it on as a keyword to a
network, process or disk call (`requests.get(url, auth=None)` sends no credentials).

Deliberately not reported: a boolean answer to an expected condition (`except KeyError: return
False`), a result the caller tests anywhere (`is None`, truthiness, `or`, `assert`), a `None`
that only passes the caller's own nothing through (`if not data: return None`), a use inside a
`try` catching `AttributeError`/`TypeError`, a `None` result used in test code (the test set
up the case), and calls into code outside the audited tree.
""",
    why="""
The command failed, the lock was not taken, the heartbeat was not written — and the code goes on
as if it had worked. Nothing raises and nothing is logged at the call, so the failure shows up
later as a different, confusing problem.
""",
    example="""
def take(root, lock_path):
    create_lock(lock_path)                 # returns False when the lock was not taken
    subprocess.run(["git", "worktree", "add", "wt"], cwd=root, timeout=60)
""",
    fix="""
Let failures raise, or look at the result:

```python
def take(root, lock_path):
    with errwise.FileLock(lock_path):      # raises ERR_LOCK_HELD / ERR_PERMISSION_DENIED
        errwise.run(["git", "worktree", "add", "wt"], cwd=root, timeout=60)
```
""",
    check=check,
    profile="strict",
)
