"""EW118 non-atomic-state-change: an on-disk state change that can stop half-way.

Promise: per function, on its normal path (not in except/finally clauses), one finding for the
first of these shapes it shows:
- an in-place write (`open(p, "w"/"wb"/"w+")`, `p.write_text/write_bytes`, `json.dump(...,
  open(p, "w"))`) paired with a removal or move of a path (`os.remove/unlink/rmdir/rename/replace`,
  `shutil.move/rmtree`, `p.unlink/rmdir/rename/replace`). Not flagged when a move's source is a
  path the function wrote (write-temp-then-rename: the atomic pattern), when the write goes to a
  `tempfile` path, when a try around the steps rolls back in its `except`/`finally` (a
  state-changing or cleanup call there), when the steps run inside a `with` of a
  transaction/atomic helper, or when the removed path is the written one;
- two moves of different things in a row (`rename(cur, bak); rename(new, cur)`), outside a loop,
  with nothing to undo the first;
- an in-place rewrite of a state file (`_state_write.state_rewrites`): a file the program reads
  back, or named as state (index, manifest, registry, lock/pid, cache, status...), truncated and
  rewritten with serialised structure where a crash leaves it empty or torn.
A write and a removal in different branches of one `if` are never paired; an "ensure absent"
removal (`if exists(p): remove(p)`) is not a step; a move aside whose destination the function
checks (`if os.path.exists(legacy)`) is a step a rerun finishes.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from errwise.audit.effects import Effect
from errwise.audit.finding import Finding, Severity
from errwise.audit.model import CallInfo, FileModel, FunctionInfo, walk_scope
from errwise.audit.names import dotted
from errwise.audit.rule import Rule
from errwise.audit.rules._flow import ancestors, imported_receiver, same_expr
from errwise.audit.rules._roles import is_test_or_tooling_path
from errwise.audit.rules._state_write import StateRewrite, state_rewrites

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
        pair = _pair_finding(model, fn)
        if pair is not None:
            yield pair  # one finding per function: the pair already says it is not atomic
            continue
        seen: list[ast.expr] = []
        for rewrite in state_rewrites(model, fn):
            if _among(rewrite.path, seen):
                continue
            seen.append(rewrite.path)
            yield _rewrite_finding(model, fn, rewrite)


def _pair_finding(model: FileModel, fn: FunctionInfo) -> Finding | None:
    """A write in place paired with a removal or move of another path (see the promise)."""
    if is_test_or_tooling_path(model.path):
        return None  # fixtures and build steps: no state a crash could leave half-changed
    steps = [s for c in fn.calls if (s := _step(model, c)) is not None and _normal(model, c)]
    writes = [s for s in steps if s.kind == "write"]
    changes = [s for s in steps if s.kind != "write"]
    if not writes:
        return _moves_finding(model, fn, [s for s in changes if s.kind == "move"])
    if not changes:
        return None
    temps = _temp_names(model, fn)
    if any(_is_temp(w.path, temps) for w in writes):
        return None
    if any(_write_then_rename(c, writes) for c in changes):
        return None  # write-temp-then-rename: the atomic pattern
    # Removing what this function itself wrote is cleanup, not a second state change; moving a
    # finished temporary into place is the atomic publish of another file.
    changes = [
        c
        for c in changes
        if not (c.kind == "remove" and _among(c.path, [w.path for w in writes]))
        and not (c.kind == "remove" and _ensure_absent(model, c))
        and not (c.kind == "move" and _is_temp(c.path, temps))
    ]
    if not changes:
        return None
    pairs = [
        (w, c) for w in writes for c in changes if not _exclusive(model, w.call.node, c.call.node)
    ]
    if not pairs:
        return None  # each write and each removal run in different branches: never both
    first_write, first_change = pairs[0]
    if _moved_aside_and_checked(fn, first_write, first_change):
        return None
    pair = [first_write, first_change]
    if any(_protected(model, s.call) for s in pair):
        return None
    write_first = first_write.call.node.lineno <= first_change.call.node.lineno
    return _finding(model, fn, first_write, first_change, write_first)


def _moves_finding(model: FileModel, fn: FunctionInfo, moves: list[_Step]) -> Finding | None:
    """Two moves of different things, the second not undoing or continuing the first, with
    nothing to put the first back when the second fails (`rename(cur, bak); rename(new, cur)`)."""
    if len(moves) < 2 or is_test_or_tooling_path(model.path):
        return None
    temps = _temp_names(model, fn)
    for first, second in itertools.pairwise(moves):
        if second.call.node.lineno == first.call.node.lineno or first.dest is None:
            continue
        if same_expr(second.path, first.path) or same_expr(second.path, first.dest):
            continue  # one thing moved twice, or moved on
        if any(_is_temp(s.path, temps) for s in (first, second)):
            continue  # moving a finished temporary into place
        if model.ctx(first.call.node).loop is not None:
            continue  # a batch of independent moves: each one is whole
        if any(_protected(model, s.call) for s in (first, second)):
            continue
        line1, line2 = first.call.node.lineno, second.call.node.lineno
        return model.finding(
            RULE,
            second.call.node,
            f"`{fn.name}` moves `{ast.unparse(first.path)}` to `{ast.unparse(first.dest)}` "
            f"(line {line1}) and then `{ast.unparse(second.path)}` (line {line2}) as separate "
            f"steps, with nothing to undo the first: if the move at line {line2} fails, the one "
            f"at line {line1} has already happened and the on-disk state is half-changed",
            severity=Severity.HIGH,
            recommendation=(
                "Undo the first move when the second fails (`try: ... except BaseException: "
                "os.replace(backup, path); raise`), or record both in an `errwise.Transaction` "
                "whose undo callables put things back; prefer one atomic `os.replace` of a "
                "fully prepared file (`errwise.atomic_write`)."
            ),
        )
    return None


def _ensure_absent(model: FileModel, step: _Step) -> bool:
    """`if os.path.isfile(p): os.remove(p)`: the removal is guarded by a test that the path is
    there — making sure a by-product is gone, which a rerun repeats, not half of a change."""
    for node in ancestors(model, step.call.node):
        if isinstance(node, ast.If) and any(
            isinstance(n, ast.Call)
            and (dotted(n.func) or "").rsplit(".", 1)[-1] in _EXISTS_PROBES
            and any(same_expr(arg, step.path) for arg in n.args)
            for n in ast.walk(node.test)
        ):
            return True
    return False


def _exclusive(model: FileModel, a: ast.AST, b: ast.AST) -> bool:
    """`a` and `b` sit in different branches of one `if` (or `match`): never both run."""
    child: ast.AST = a
    for node in ancestors(model, a):
        if isinstance(node, ast.If):
            mine = node.body if child in node.body else node.orelse
            other = node.orelse if mine is node.body else node.body
            if any(b is n for stmt in other for n in ast.walk(stmt)):
                return True
        elif isinstance(node, ast.Match) and any(
            b is n
            for case in node.cases
            if case is not child
            for stmt in case.body
            for n in ast.walk(stmt)
        ):
            return True
        child = node
    return False


def _moved_aside_and_checked(fn: FunctionInfo, write: _Step, change: _Step) -> bool:
    """The old file is moved aside (kept, not removed) before the write, and the function
    itself looks for it at its new place (`if os.path.exists(legacy): ...`): a failed write
    leaves the old file where a rerun finds it and finishes the change."""
    if change.kind != "move" or change.dest is None:
        return False
    if change.call.node.lineno > write.call.node.lineno:
        return False
    dest = change.dest
    for node in ast.walk(fn.node):
        if (
            isinstance(node, ast.Call)
            and (dotted(node.func) or "").rsplit(".", 1)[-1] in _EXISTS_PROBES
            and any(same_expr(arg, dest) for arg in node.args)
        ):
            return True
    return False


_EXISTS_PROBES = frozenset({"exists", "lexists", "isfile", "is_file"})


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
    if not isinstance(func, ast.Attribute):
        return None
    if imported_receiver(model, func.value):
        return None
    if isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
        return None  # the object's own method (`self.rename(name)`), not a path's
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


def _rewrite_finding(model: FileModel, fn: FunctionInfo, rewrite: StateRewrite) -> Finding:
    shown = f"`{ast.unparse(rewrite.path)}`"
    if rewrite.read_line is not None:
        evidence = f"state the code reads back (line {rewrite.read_line})"
        severity = Severity.HIGH
    else:
        evidence = f"state by its name (`{rewrite.word}`)"
        severity = Severity.MEDIUM
    return model.finding(
        RULE,
        rewrite.call.node,
        f"`{fn.name}` rewrites {shown} in place with {rewrite.how} (line "
        f"{rewrite.call.node.lineno}), {evidence}: opening it for writing empties it first, so "
        "a crash, Ctrl-C or a full disk before the write completes leaves it empty or "
        "half-written for the next reader",
        severity=severity,
        recommendation=(
            "Write the new content to a temporary file in the same directory, flush and fsync "
            "it, then `os.replace` it over the old one — `errwise.atomic_write(path, data)` "
            "does exactly that — so readers see the old state or the new one, never a torn "
            "file; an `errwise.Transaction` can undo it together with other steps."
        ),
    )


RULE = Rule(
    id="EW118",
    name="non-atomic-state-change",
    severity=Severity.HIGH,
    summary="A multi-step on-disk state change with no atomic rename, transaction or rollback.",
    what="""
A function that, on its normal path, changes on-disk state in steps that can stop half-way:

- it writes a file in place (`open(p, "w")`, `p.write_text(...)`) and removes or moves another
  path (`os.remove`, `os.rename`, `shutil.move`, `p.unlink()`, `p.rename(...)`). High when the
  move/remove comes first (a failed write leaves the state moved but not updated); medium when
  the write comes first (a failed removal leaves two versions);
- it moves one thing and then another (`os.rename(current, backup)` then
  `os.rename(new, current)`) with nothing to put the first back (high);
- it rewrites a *state file* in place: a file the code reads back (a read-modify-write, or
  another function of the module reads the same path — high), or one whose name, data or owner
  says it is state (index, state, manifest, registry, lock, pid, cache, status, metadata, db,
  journal, checkpoint — medium). Opening it for writing truncates it, so a crash leaves it empty.

Deliberately not reported: write-to-temp then `os.replace` (a move whose source is the written
file), `tempfile` or `*.tmp` targets, `errwise.atomic_write`, a `try` whose `except`/`finally`
undoes, a `with transaction:`-style block; outputs the user asked for (a path or owner named
report, export, output, download, log, html, dest); files only created empty (`open(lock, "w")`);
a state file whose reader recovers from a torn file by starting over (`except ValueError:
reset`); a scratch file the module reads once and removes; a text file the caller names
(a parameter) edited as text, such as a source file a tool updates; independent moves in a loop;
a finished temporary moved into place beside another write; test, fixture and build code
(`tests/`, `testing/`, `test_*.py`, `conftest.py`, `setup.py`, `noxfile.py`). Also: an in-place
rewrite of plain text (a pid, a one-line description — only serialised structure, `json.dump`,
`yaml.safe_dump`, `pickle`, is reported: a torn copy of it fails to parse on every later run); a
write and a removal in different branches of one `if` (never both run); a removal guarded by a
test that the path exists (`if os.path.isfile(p): os.remove(p)`: ensure absent, repeated by a
rerun); an old file moved aside before the write when the function looks for it at its new
place (`if os.path.exists(legacy): ...`), which a rerun finishes.
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
    profile="strict",
)
