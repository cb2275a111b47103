"""EW118 non-atomic-state-change: a function that writes a file in place AND removes or moves
another path, with nothing making the pair atomic or undoable.

Promise: per function, on its normal path (not in except/finally clauses): an in-place write
(`open(p, "w"/"wb"/"w+")`, `p.write_text/write_bytes`, `json.dump(..., open(p, "w"))`) and a
removal or move of a path (`os.remove/unlink/rmdir/rename/replace`, `shutil.move/rmtree`,
`p.unlink/rmdir/rename/replace`). Not flagged when a move's source is a path the function wrote
(write-temp-then-rename: the atomic pattern), when the write goes to a `tempfile` path, when a
try around the steps rolls back in its `except`/`finally` (a state-changing or cleanup call
there), when the steps run inside a `with` of a transaction/atomic helper, or when the removed
path is the written one.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from errwise.audit.effects import Effect
from errwise.audit.finding import Finding, Severity
from errwise.audit.model import CallInfo, FileModel, FunctionInfo, walk_scope
from errwise.audit.names import dotted
from errwise.audit.rule import Rule
from errwise.audit.rules._flow import ancestors, imported_receiver, same_expr

_REMOVE_FUNCS = frozenset({"os.remove", "os.unlink", "os.rmdir", "shutil.rmtree"})
_MOVE_FUNCS = frozenset({"os.rename", "os.replace", "shutil.move", "os.renames"})
_REMOVE_METHODS = frozenset({"unlink", "rmdir"})
_MOVE_METHODS = frozenset({"rename", "replace"})
_TEMP_FACTORIES = ("tempfile.", "mkstemp", "NamedTemporaryFile")
_ATOMIC_WORDS = ("transaction", "atomic", "staged", "rollback")


@dataclass(frozen=True, slots=True)
class _Step:
    call: CallInfo
    path: ast.expr
    dest: ast.expr | None
    kind: str
    """"write", "remove" or "move"."""


def check(model: FileModel) -> Iterator[Finding]:
    for fn in model.functions:
        steps = [s for c in fn.calls if (s := _step(model, c)) is not None and _normal(model, c)]
        writes = [s for s in steps if s.kind == "write"]
        changes = [s for s in steps if s.kind != "write"]
        if not writes or not changes:
            continue
        temps = _temp_names(model, fn)
        if any(_is_temp(w.path, temps) for w in writes):
            continue
        if any(_write_then_rename(c, writes) for c in changes):
            continue  # write-temp-then-rename: the atomic pattern
        # Removing what this function itself wrote is cleanup, not a second state change.
        changes = [
            c
            for c in changes
            if not (c.kind == "remove" and _among(c.path, [w.path for w in writes]))
        ]
        if not changes:
            continue
        first_write, first_change = writes[0], changes[0]
        pair = [first_write, first_change]
        if any(_protected(model, s.call) for s in pair):
            continue
        write_first = first_write.call.node.lineno <= first_change.call.node.lineno
        yield _finding(model, fn, first_write, first_change, write_first)


def _write_then_rename(change: _Step, writes: list[_Step]) -> bool:
    return change.kind == "move" and any(
        same_expr(change.path, w.path) and w.call.node.lineno <= change.call.node.lineno
        for w in writes
    )


def _among(path: ast.expr, paths: list[ast.expr]) -> bool:
    return any(same_expr(path, p) for p in paths)


def _step(model: FileModel, call: CallInfo) -> _Step | None:
    node, qual = call.node, call.qualname or ""
    func = node.func
    if qual in ("open", "io.open") and node.args and _write_mode(node):
        return _Step(call, node.args[0], None, "write")
    if qual in _REMOVE_FUNCS and node.args:
        return _Step(call, node.args[0], None, "remove")
    if qual in _MOVE_FUNCS and len(node.args) >= 2:
        return _Step(call, node.args[0], node.args[1], "move")
    if not isinstance(func, ast.Attribute) or "." not in qual:
        return None
    if imported_receiver(model, func.value):
        return None
    if func.attr in ("write_text", "write_bytes") and node.args:
        return _Step(call, func.value, None, "write")
    if func.attr in _REMOVE_METHODS and not node.args:
        return _Step(call, func.value, None, "remove")
    if func.attr in _MOVE_METHODS and len(node.args) == 1 and not node.keywords:
        return _Step(call, func.value, node.args[0], "move")
    return None


def _write_mode(call: ast.Call) -> bool:
    mode: ast.expr | None = call.args[1] if len(call.args) > 1 else None
    for kw in call.keywords:
        if kw.arg == "mode":
            mode = kw.value
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and "w" in mode.value


def _normal(model: FileModel, call: CallInfo) -> bool:
    """On the normal path: not in an except clause or a finally block of its function."""
    ctx = call.ctx
    if ctx.handler is not None:
        return False
    while ctx.try_ is not None:
        if ctx.try_part == "finally":
            return False
        outer = model.ctx(ctx.try_.node)
        if outer.function is not ctx.function:
            break
        ctx = outer
    return True


def _temp_names(model: FileModel, fn: FunctionInfo) -> set[str]:
    """Names the function binds to temporary paths: from `tempfile`, or from an expression
    that says so (`path + ".tmp"`, `self.pseudo_tempname()`)."""
    names: set[str] = set()
    body = [] if isinstance(fn.node, ast.Lambda) else fn.node.body
    for node in walk_scope(body):
        value: ast.expr | None = None
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            value, targets = node.value, node.targets
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            value, targets = node.context_expr, [node.optional_vars]
        if value is None:
            continue
        text = ast.unparse(value)
        if not any(t in text for t in _TEMP_FACTORIES) and not _temp_word(text):
            continue
        for target in targets:
            names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def _temp_word(text: str) -> bool:
    lowered = text.lower()
    return "tmp" in lowered or "temp" in lowered


def _is_temp(path: ast.expr, temps: set[str]) -> bool:
    names = {n.id for n in ast.walk(path) if isinstance(n, ast.Name)}
    if names & temps:
        return True
    return _temp_word(ast.unparse(path))


def _protected(model: FileModel, call: CallInfo) -> bool:
    """Inside a try that undoes on failure, or a `with` of a transaction/atomic helper."""
    for node in ancestors(model, call.node):
        if isinstance(node, (ast.Try, ast.TryStar)):
            undo = [*node.finalbody, *(s for h in node.handlers for s in h.body)]
            effects = model.effects_in(undo)
            if effects & (Effect.DISK | Effect.CLEANUP):
                return True
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                expr = item.context_expr
                name = (dotted(expr.func if isinstance(expr, ast.Call) else expr) or "").lower()
                if any(w in name for w in _ATOMIC_WORDS):
                    return True
    return False


def _finding(
    model: FileModel, fn: FunctionInfo, write: _Step, change: _Step, write_first: bool
) -> Finding:
    func = write.call.node.func
    wtext = (
        f"`{ast.unparse(func)}(…)`"
        if isinstance(func, ast.Attribute)
        else f"`{ast.unparse(func)}({ast.unparse(write.path)}, 'w')`"
    )
    verb = "moves" if change.kind == "move" else "removes"
    ctext = f"`{ast.unparse(change.call.node.func)}(…)`"
    wline, cline = write.call.node.lineno, change.call.node.lineno
    if write_first:
        gap = (
            f"if {ctext} (line {cline}) fails, the new file and the old path both exist and "
            "readers see two versions of the state"
        )
        severity = Severity.MEDIUM
    else:
        gap = (
            f"if the write at line {wline} fails (disk full, permission, a crash mid-write), "
            f"the {'move' if change.kind == 'move' else 'removal'} at line {cline} has already "
            "happened and the file is truncated or stale: the on-disk state is half-changed, "
            "with nothing to undo it"
        )
        severity = Severity.HIGH
    return model.finding(
        RULE,
        change.call.node if not write_first else write.call.node,
        f"`{fn.name}` writes {wtext} in place (line {wline}) and {verb} "
        f"`{ast.unparse(change.path)}` (line {cline}) as separate steps: {gap}",
        severity=severity,
        recommendation=(
            "Make the change one atomic step or an undoable sequence: write with "
            "`errwise.atomic_write(path, data)` (temp file + fsync + `os.replace`), stage "
            "multi-file output with `errwise.staged_output(...)`, or run the steps in an "
            "`errwise.Transaction` whose undo callables restore the old state on failure."
        ),
    )


RULE = Rule(
    id="EW118",
    name="non-atomic-state-change",
    severity=Severity.HIGH,
    summary="A multi-step on-disk state change with no atomic rename, transaction or rollback.",
    what="""
A function that, on its normal path, both writes a file in place (`open(p, "w")`,
`p.write_text(...)`) and removes or moves another path (`os.remove`, `os.rename`, `shutil.move`,
`p.unlink()`, `p.rename(...)`), with nothing making the pair atomic: no write-to-temp then
`os.replace` (a move whose source is the written file), no `tempfile` target, no `try` whose
`except`/`finally` undoes, no `with transaction:`-style block. High when the move/remove comes
first (a failed write leaves the state moved but not updated); medium when the write comes first
(a failed removal leaves two versions).
""",
    why="""
Each step can fail on its own — disk full, permission, a crash or Ctrl-C in between. A state
change split into unprotected steps then stops half-way: a work order moved to `running/` whose
file still says `pending`, a new config written but the old one still in place. Readers trust
the files and act on a state nobody intended.
""",
    example="""
def start(wo_id, pending, running):
    shutil.move(pending / f"{wo_id}.yaml", running / f"{wo_id}.yaml")
    with open(running / f"{wo_id}.yaml", "w") as handle:
        yaml.safe_dump({"status": "running"}, handle)   # fails: moved, but still "pending"
""",
    fix="""
Write the new state atomically, then make the move the last, single step — or record undo steps:

```python
def start(wo_id, pending, running):
    source, target = pending / f"{wo_id}.yaml", running / f"{wo_id}.yaml"
    with errwise.Transaction() as tx:
        errwise.atomic_write(target, render({"status": "running"}))
        tx.on_undo(target.unlink)
        source.unlink()
```
""",
    check=check,
)
