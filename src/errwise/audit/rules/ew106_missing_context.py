"""EW106 missing-context: a low-level error escapes an operation without the arguments that
identify what failed, and a caller up the chain catches it broadly and loses it.

Promise: a finding only when the losing caller is found in the program's facts (a broad clause
that swallows, logs-and-continues or falls back, not a boundary, not a clause that only notes
the failure at debug level); never raises on any model."""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace

from errwise.audit.config import AuditConfig
from errwise.audit.deferred import Deferred
from errwise.audit.finding import Finding, Severity
from errwise.audit.handling import Verdict, short
from errwise.audit.infer import Program, describe, errnos_of, item_class, program_for
from errwise.audit.infer.facts import Call, CallKind, Handler
from errwise.audit.infer.summarize import MODULE_CODE
from errwise.audit.model import CallInfo, FileModel, FunctionInfo, walk_scope
from errwise.audit.rule import Rule

_LOW_LEVEL = ("OSError", "subprocess.SubprocessError")
"""Failures that say what broke but not on behalf of what (no ids, no domain names)."""
_BROAD = frozenset(
    {"BaseException", "Exception", "OSError", "subprocess.SubprocessError", "RuntimeError"}
)
_LOSES = frozenset(v.value for v in Verdict if v.loses_error)
_MAX_DEPTH = 4


@dataclass(frozen=True, slots=True)
class _Loss:
    caller: str
    path: str
    line: int
    handler: Handler
    depth: int


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A state-changing library call whose own error would not name some identifying
    parameter of its function; whether its low-level errors escape the function (and whether
    a caller loses them) is settled with the whole program's facts."""

    items: frozenset[str]
    """What the call raises (the knowledge base's items)."""
    guards: tuple[tuple[bool, tuple[str, ...]], ...]
    """(bare, caught) of every except clause of the function whose try body holds the call."""
    text: str
    absent: tuple[str, ...]
    state_changing: bool


@dataclass(frozen=True, slots=True)
class _Operation:
    qual: str
    name: str
    candidates: tuple[_Candidate, ...]


def check(model: FileModel) -> Iterator[Deferred[_Operation]]:
    local: Program | None = None
    for fn in model.functions:
        if isinstance(fn.node, ast.Lambda) or not _identifying_params(fn):
            continue
        if local is None:
            local = program_for(model)  # only the file's own call facts are read from it
        calls = _library_calls(model, local, fn)
        if not calls:
            continue
        derived = _derived_from_params(model, fn)
        candidates: list[_Candidate] = []
        skeletons: list[Finding] = []
        for info, items in calls:
            absent = _absent_params(info, fn, derived)
            if not absent:
                continue  # its error names the arguments (OSError filename, cmd)
            text = f"`{short(info.qualname or info.attr or 'call')}()`"
            guards = _guards_in_function(model, info)
            candidates.append(
                _Candidate(items, guards, text, tuple(absent), bool(info.effects.state_changing))
            )
            skeletons.append(model.finding(RULE, info.node, "", recommendation=""))
        if candidates:
            qual = f"{model.module_name}.{fn.qualname}" if model.module_name else fn.qualname
            operation = _Operation(qual, fn.name, tuple(candidates))
            yield Deferred(f"{RULE.id} {RULE.name}", _resolve, operation, tuple(skeletons))


def _resolve(
    program: Program, config: AuditConfig, op: _Operation, skeletons: tuple[Finding, ...]
) -> Iterator[Finding]:
    hierarchy = program.hierarchy
    missing: list[tuple[_Candidate, frozenset[str], Finding]] = []
    for candidate, skeleton in zip(op.candidates, skeletons, strict=True):
        items = frozenset(
            i
            for i in candidate.items
            if any(hierarchy.is_subclass(item_class(i), low) for low in _LOW_LEVEL)
        )
        if not items or _caught_in_function(program, candidate.guards, items):
            continue
        missing.append((candidate, items, skeleton))
    if not missing:
        return
    items = frozenset().union(*(i for _, i, _ in missing))
    loss = _find_loss(program, config, op.qual, items)
    if loss is not None:
        yield _finding(program, op, missing, loss)


_IDENTIFYING = ("id", "name", "path", "key", "file", "dir", "url", "host", "user", "branch", "ref")


def _identifying_params(fn: FunctionInfo) -> list[str]:
    """The parameters that could name what the operation acts on, most telling first."""
    node = fn.node
    assert not isinstance(node, ast.Lambda)
    args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    names = [a.arg for a in args]
    if fn.class_name is not None and names and names[0] in ("self", "cls"):
        names = names[1:]
    names = [n for n in names if not n.startswith("_")]
    telling = [n for n in names if any(w in n.lower() for w in _IDENTIFYING)]
    return telling or names


def _derived_from_params(model: FileModel, fn: FunctionInfo) -> dict[str, set[str]]:
    """For each local name of `fn`, the parameters its assigned values mention (transitively):
    `tmp = root / f"{order_id}.tmp"` makes `tmp` carry `root` and `order_id`."""
    params = set(_identifying_params(fn))
    edges: dict[str, set[str]] = {}
    for node in walk_scope(fn.node.body if not isinstance(fn.node, ast.Lambda) else []):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            used = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
            for target in targets:
                for t in ast.walk(target):
                    if isinstance(t, ast.Name):
                        edges.setdefault(t.id, set()).update(used)
    carried: dict[str, set[str]] = {p: {p} for p in params}
    for _ in range(8):  # a few rounds reach every chain that matters
        changed = False
        for name, used in edges.items():
            now = carried.setdefault(name, set())
            before = len(now)
            for u in used:
                now |= carried.get(u, set())
            changed = changed or len(now) != before
        if not changed:
            break
    return carried


def _absent_params(info: CallInfo, fn: FunctionInfo, derived: dict[str, set[str]]) -> list[str]:
    """The identifying parameters a failing call's own error will not mention: OSError
    carries the path it was given, CalledProcessError the command."""
    mentioned: set[str] = set()
    for arg in [*info.node.args, *(k.value for k in info.node.keywords)]:
        for n in ast.walk(arg):
            if isinstance(n, ast.Name):
                mentioned |= derived.get(n.id, set())
    receiver = info.node.func.value if isinstance(info.node.func, ast.Attribute) else None
    if receiver is not None:  # `lock_path.unlink()`: the path is the receiver
        for n in ast.walk(receiver):
            if isinstance(n, ast.Name):
                mentioned |= derived.get(n.id, set())
    return [p for p in _identifying_params(fn) if p not in mentioned]


def _library_calls(
    model: FileModel, local: Program, fn: FunctionInfo
) -> list[tuple[CallInfo, frozenset[str]]]:
    """State-changing library calls of `fn` (known to the knowledge base) and what they raise."""
    out: list[tuple[CallInfo, frozenset[str]]] = []
    for info in fn.calls:
        if info.ctx.function is not fn or not info.effects.state_changing:
            continue
        fact = local.call_at(model.path, info.node.lineno, info.node.col_offset)
        if fact is None or fact.kind is not CallKind.KNOWN or _to_devnull(model, info):
            continue
        out.append((info, fact.items))
    return out


def _to_devnull(model: FileModel, info: CallInfo) -> bool:
    return any(
        model.qualify(a) == "os.devnull" for a in info.node.args if isinstance(a, ast.Attribute)
    )


def _guards_in_function(
    model: FileModel, info: CallInfo
) -> tuple[tuple[bool, tuple[str, ...]], ...]:
    """The except clauses of the call's own function whose try body holds the call."""
    guards: list[tuple[bool, tuple[str, ...]]] = []
    ctx = info.ctx
    while ctx.try_ is not None and ctx.function is info.ctx.function:
        if ctx.try_part == "body" and (ctx.handler is None or ctx.handler.try_ is not ctx.try_):
            guards.extend((h.bare, tuple(h.caught)) for h in ctx.try_.handlers)
        ctx = model.ctx(ctx.try_.node)
    return tuple(guards)


def _caught_in_function(
    program: Program, guards: tuple[tuple[bool, tuple[str, ...]], ...], items: frozenset[str]
) -> bool:
    """Does a try of the same function around the call catch (some of) its errors?"""
    for bare, caught in guards:
        received, _, _ = program.hierarchy.split(items, caught)
        if bare or received:
            return True
    return False


def _find_loss(
    program: Program, config: AuditConfig, qual: str, items: frozenset[str]
) -> _Loss | None:
    """A caller, up to a few frames up, that catches these errors broadly and loses them
    (a top-level boundary that reports the error is doing its job)."""
    hierarchy = program.hierarchy
    todo: deque[tuple[str, frozenset[str], int]] = deque([(qual, items, 1)])
    seen = {qual}
    while todo:
        callee, pending, depth = todo.popleft()
        for site in program.call_sites(callee):
            if site.on_error_path:
                continue  # handling another failure: a secondary path, judged elsewhere
            remaining = pending
            for handler in site.guards:
                if "?" in handler.caught:
                    remaining = frozenset()
                    break
                received, remaining, _ = hierarchy.split(remaining, handler.caught)
                if not received:
                    continue
                broad = not handler.caught or bool(_BROAD & set(handler.caught))
                if (
                    broad
                    and handler.verdict in _LOSES
                    and not _boundary(config, site.caller)
                    and not program.handler_calls_raising_code(handler)
                    and not _debug_note(handler)
                ):
                    return _Loss(site.caller, site.path, site.line, handler, depth)
                if not remaining:
                    break
            if remaining and depth < _MAX_DEPTH and site.caller not in seen:
                seen.add(site.caller)
                todo.append((site.caller, remaining, depth + 1))
    return None


def _debug_note(handler: Handler) -> bool:
    """The catching clause notes the failure only at debug level (`log.debug("save failed")`)
    and does nothing else: its author decided no operator needs it, so naming which one failed
    would change nothing anyone reads."""
    calls = [item for item in handler.body if isinstance(item, Call)]
    return (
        handler.verdict == Verdict.LOGS.value
        and bool(calls)
        and len(calls) == len(handler.body)
        and all(c.attr == "debug" or c.text.endswith(".debug") for c in calls)
    )


def _boundary(config: AuditConfig, qual: str) -> bool:
    short_name = qual.rpartition(".")[2]
    if short_name == MODULE_CODE:
        return True  # script code under `if __name__ == "__main__":` and friends
    return config.is_boundary(qual, []) or config.is_boundary(short_name, [])


def _finding(
    program: Program,
    op: _Operation,
    missing: list[tuple[_Candidate, frozenset[str], Finding]],
    loss: _Loss,
) -> Finding:
    first, _, skeleton = missing[0]
    absent = list(first.absent)
    calls: list[str] = []
    for candidate, _, _ in missing:
        if candidate.text not in calls:
            calls.append(candidate.text)
    all_items = frozenset().union(*(i for _, i, _ in missing))
    names = program.hierarchy.ordered(all_items)
    hidden = describe(names, errnos_of(all_items), True)
    params = ", ".join(f"`{p}`" for p in absent[:3])
    caught = ", ".join(short(c) for c in loss.handler.caught) or "everything (bare except)"
    caller = loss.caller.rpartition(".")[2] if "." in loss.caller else loss.caller
    what = {
        "swallows": "discards it",
        "logs": "logs it and carries on",
        "fallback": "replaces it with a fallback value",
    }.get(loss.handler.verdict, "loses it")
    chain = "" if loss.depth == 1 else f" {loss.depth} calls up"
    severity = Severity.HIGH if first.state_changing else Severity.MEDIUM
    name = op.name
    return replace(
        skeleton,
        message=f"{', '.join(calls[:3])} in `{name}()` can fail with {hidden}, and the error "
        f"escapes `{name}()` carrying none of {params}; `{caller}()` "
        f"({loss.path}:{loss.line}){chain} catches it with `except {caught}` and {what} — "
        f"nothing says which one failed",
        severity=severity,
        hidden_errors=list(names),
        recommendation=(
            f"Add the identifying arguments where the operation fails: `except OSError as exc: "
            f"raise errwise.classify(exc).with_context({_context_sketch(absent)}) from exc` "
            f"in `{name}()`, so whoever handles it can say what failed; and make "
            f"`{caller}()` catch only what it can handle."
        ),
    )


def _context_sketch(params: list[str]) -> str:
    return ", ".join(f"{p}={p}" for p in params[:2])


RULE = Rule(
    id="EW106",
    name="missing-context",
    severity=Severity.HIGH,
    summary="A low-level error escapes an operation without its identifying arguments, and a "
    "caller catches it broadly and loses it.",
    what="""
A function with identifying parameters (a name, a path, an id) performs a state-changing library
call (`os.replace`, `Path.unlink`, `subprocess.run(check=True)`, ...) whose low-level errors
(OSError, SubprocessError) escape it with no handler adding those parameters — *and* a caller up
the chain (within a few frames, across modules) catches them with a broad clause
(`except Exception` / `except OSError` / bare) that swallows, logs-and-continues or falls back.
Only then is the context truly lost: the one place that handles the failure cannot say which
item failed. Errors that reach a handler that re-raises or records them, or the top of the
program, are left to those handlers; so are errors that reach a clause that only notes them at
debug level (`log.debug("cache save failed")`): its author decided no operator needs to know.
""",
    why="""
`PermissionError: [Errno 13] Permission denied: '/srv/q/.tmp'` says what broke, not on behalf
of what: which work order, which user, which deploy. When the caller then turns it into `False`
or a log line, the operator sees "failed" with no way to tell which of a thousand items, and
the retry logic cannot tell a full disk from a missing file.
""",
    example="""
def save(order_id, data):
    tmp = ROOT / f"{order_id}.tmp"
    tmp.write_text(data)
    os.replace(tmp, ROOT / order_id)      # errors escape without order_id

def publish(order_id, data):
    try:
        save(order_id, data)
    except OSError:
        log.warning("save failed")        # which order? which error?
        return False
""",
    fix="""
Attach the identifying arguments where the low-level call fails, keeping the cause:

```python
def save(order_id, data):
    try:
        errwise.atomic_write(ROOT / order_id, data)
    except OSError as exc:
        raise errwise.classify(exc).with_context(order_id=order_id) from exc
```

and let the caller handle the classified error (or let it propagate to a boundary).
""",
    check=check,
    profile="strict",
)
