"""EW114 check-then-use: a path checked for existence, then used, with a race in between.

Promise: flags an `if` whose test checks a path (`os.path.exists/isfile/isdir/lexists(p)`,
`p.exists()/is_file()/is_dir()`, `os.access(p, ...)`; alone, negated, or as one operand of
`and`, which informs only the body) and whose branch — the body, the `else`, or, when the body
leaves early (`return`/`raise`/`continue`/`break`), the statements after the `if` — then opens,
reads, writes, stats, lists, removes, renames or creates the *same* path expression. Not flagged
when that use sits in a `try` that catches the error the race produces (FileNotFoundError /
FileExistsError or a superclass), or when the path is reassigned in between. Reported only for
a path other processes or threads contend for — its names speak of it (a lock, a pid file, a
heartbeat, a claim, a queue or spool directory, a worker; a temp file or socket alone is not
enough) — and never in test code.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

from errwise.audit.finding import Finding, Severity
from errwise.audit.model import FileModel, walk_scope
from errwise.audit.rule import Rule
from errwise.audit.rules._flow import (
    assignments,
    enclosing_tries_catching,
    imported_receiver,
    in_test_code,
    same_expr,
)

_CHECK_FUNCS = frozenset(
    {"os.path.exists", "os.path.isfile", "os.path.isdir", "os.path.lexists", "os.access"}
)
_CHECK_METHODS = frozenset({"exists", "is_file", "is_dir"})
# Uses by function (path = first positional argument) -> creates?
_USE_FUNCS: dict[str, bool] = {
    "open": False,
    "io.open": False,
    "os.open": False,
    "os.stat": False,
    "os.lstat": False,
    "os.listdir": False,
    "os.scandir": False,
    "os.remove": False,
    "os.unlink": False,
    "os.rmdir": False,
    "os.rename": False,
    "os.replace": False,
    "os.chmod": False,
    "os.utime": False,
    "os.path.getsize": False,
    "os.path.getmtime": False,
    "shutil.rmtree": False,
    "shutil.move": False,
    "shutil.copy": False,
    "shutil.copy2": False,
    "shutil.copyfile": False,
    "shutil.copytree": False,
    "os.mkdir": True,
    "os.makedirs": True,
    "os.symlink": True,
    "os.link": True,
}
# Uses by method on the same path object -> creates?
_USE_METHODS: dict[str, bool] = {
    "open": False,
    "read_text": False,
    "read_bytes": False,
    "stat": False,
    "lstat": False,
    "iterdir": False,
    "unlink": False,
    "rmdir": False,
    "rename": False,
    "replace": False,
    "chmod": False,
    "write_text": True,
    "write_bytes": True,
    "mkdir": True,
    "touch": True,
    "symlink_to": True,
    "hardlink_to": True,
}
# Functions whose second argument is a path they create (or replace).
_DEST_FUNCS = frozenset(
    {
        "os.link",
        "os.symlink",
        "os.rename",
        "os.replace",
        "shutil.move",
        "shutil.copy",
        "shutil.copy2",
        "shutil.copyfile",
        "shutil.copytree",
    }
)
_JUMPS = (ast.Return, ast.Raise, ast.Continue, ast.Break)


@dataclass(frozen=True, slots=True)
class _Check:
    call: ast.Call
    path: ast.expr
    text: str
    negated: bool
    partial: bool = False
    """Part of an `and` test: only the body is known to have seen the path (the `else` and
    the fall-through after an early exit know nothing)."""


def check(model: FileModel) -> Iterator[Finding]:
    for node in model.nodes(ast.If):
        found = _path_check(model, node.test)
        if found is None or in_test_code(model, node):
            continue
        if not _shared(model, node, found.path):
            continue  # a path only this program touches: the race cannot happen in practice
        # In the branch where the path was found, a use can fail with FileNotFoundError; in
        # the branch where it was not, a create can fail with FileExistsError (or clobber).
        present = node.orelse if found.negated else node.body
        absent = node.body if found.negated else node.orelse
        branches = [(present, False), (absent, True)]
        if found.partial:
            branches = [(node.body, False)]
        elif node.body and isinstance(node.body[-1], _JUMPS) and not node.orelse:
            # The statements after `if ...: return` continue the opposite branch.
            branches.append((_following(model, node), not found.negated))
        if found.text.startswith("os.access("):
            # A permission check says nothing about absence: only its "allowed" branch counts.
            branches = [(stmts, creating) for stmts, creating in branches if not creating]
        for stmts, creating in branches:
            hit = next(
                (
                    use
                    for use, creates in _uses(model, stmts, found.path)
                    if creates == creating
                    and not enclosing_tries_catching(
                        model, use, "FileExistsError" if creates else "FileNotFoundError"
                    )
                ),
                None,
            )
            if hit is not None:
                yield _finding(model, found, hit, creating)
                break


_SHARED_WORDS = frozenset(
    {"lock", "locks", "lockfile", "flock", "pid", "pidfile", "sock", "socket", "heartbeat"}
    | {"lease", "claim", "claims", "queue", "spool", "pending", "running", "inbox", "outbox"}
    | {"journal", "state", "stale", "mutex", "semaphore", "shared", "tmp", "temp", "tempfile"}
    | {"temporary", "tmpfile", "tmpdir", "tempdir", "worker", "workers"}
)
_CONTENDED_WORDS = frozenset(
    {"lock", "locks", "lockfile", "flock", "pid", "pidfile", "heartbeat", "lease", "claim"}
    | {"claims", "queue", "spool", "pending", "running", "inbox", "outbox", "mutex"}
    | {"semaphore", "stale", "worker", "workers"}
)
"""The words of `_SHARED_WORDS` that name a thing processes contend for. A temp file, a
socket, "state" or "shared" alone are not evidence: a `mkstemp` path is private to its
creator, a program's own socket or state file is touched by that program only."""
_TOKEN = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def _shared(model: FileModel, node: ast.If, path: ast.expr) -> bool:
    """Is the path one other processes or threads contend for? The evidence is in the names:
    the path, what the function built it from, the function or its class speak of a lock, a
    pid file, a heartbeat, a claim, a queue or spool directory, a worker (`lock_path`,
    `self.pidfile`, `run_dir / "pending"`, `lock_path.with_suffix(".tmp")`) — a temp file or
    socket alone is not enough."""
    words = [ast.unparse(path)]
    fn = model.function_of(node)
    if fn is not None and not isinstance(fn.node, ast.Lambda):
        words.append(fn.qualname)
        bound = assignments(model, fn.node)
        names = {n.id for n in ast.walk(path) if isinstance(n, ast.Name)}
        words.extend(ast.unparse(v) for name in names for v in bound.get(name, []))
    tokens = {t.lower() for w in words for t in _TOKEN.findall(w)}
    return not tokens.isdisjoint(_CONTENDED_WORDS)


def _path_check(model: FileModel, test: ast.expr) -> _Check | None:
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        # `if os.path.exists(p) and ...:` — the body runs only where the path was found.
        for value in test.values:
            found = _path_check(model, value)
            if found is not None and not found.negated:
                return _Check(found.call, found.path, found.text, negated=False, partial=True)
        return None
    negated = False
    while isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        negated, test = not negated, test.operand
    if not isinstance(test, ast.Call):
        return None
    qual = model.qualify(test.func) or ""
    if qual in _CHECK_FUNCS and test.args and not isinstance(test.args[0], ast.Constant):
        return _Check(test, test.args[0], f"{qual}({ast.unparse(test.args[0])})", negated)
    func = test.func
    if (
        isinstance(func, ast.Attribute)
        and func.attr in _CHECK_METHODS
        and not test.args
        and not test.keywords
        and not imported_receiver(model, func.value)
    ):
        return _Check(test, func.value, f"{ast.unparse(func.value)}.{func.attr}()", negated)
    return None


def _following(model: FileModel, node: ast.If) -> list[ast.stmt]:
    parent = model.parents.get(node)
    for field in ("body", "orelse", "finalbody"):
        block = getattr(parent, field, None)
        if isinstance(block, list) and node in block:
            return block[block.index(node) + 1 :]
    return []


def _uses(
    model: FileModel, stmts: list[ast.stmt], path: ast.expr
) -> Iterator[tuple[ast.Call, bool]]:
    names = {n.id for n in ast.walk(path) if isinstance(n, ast.Name)}
    for stmt in stmts:
        for node in sorted(
            (n for n in walk_scope([stmt]) if isinstance(n, ast.Call)),
            key=lambda n: (n.lineno, n.col_offset),
        ):
            use = _use_of(model, node, path)
            if use is not None:
                yield node, use
        if _rebinds(stmt, names):
            return  # the path (or part of it) now names something else


def _use_of(model: FileModel, call: ast.Call, path: ast.expr) -> bool | None:
    qual = model.qualify(call.func) or ""
    if qual in _DEST_FUNCS and len(call.args) > 1 and same_expr(call.args[1], path):
        return True
    if qual in _USE_FUNCS and call.args and same_expr(call.args[0], path):
        if qual == "os.makedirs" and _exist_ok(call):
            return None
        if qual == "os.open":
            # Without O_EXCL (fails) or O_TRUNC (clobbers), O_CREAT just opens what exists.
            flags = ast.unparse(call.args[1]) if len(call.args) > 1 else ""
            return "O_CREAT" in flags and ("O_EXCL" in flags or "O_TRUNC" in flags)
        return _USE_FUNCS[qual] or (qual in ("open", "io.open") and _creates(call))
    func = call.func
    if (
        isinstance(func, ast.Attribute)
        and func.attr in _USE_METHODS
        and same_expr(func.value, path)
    ):
        if func.attr == "mkdir" and _exist_ok(call):
            return None
        return _USE_METHODS[func.attr] or (func.attr == "open" and _creates(call, 0))
    return None


def _exist_ok(call: ast.Call) -> bool:
    return any(
        kw.arg == "exist_ok" and not (isinstance(kw.value, ast.Constant) and not kw.value.value)
        for kw in call.keywords
    )


def _creates(call: ast.Call, index: int = 1) -> bool:
    mode: ast.expr | None = call.args[index] if len(call.args) > index else None
    for kw in call.keywords:
        if kw.arg == "mode":
            mode = kw.value
    return (
        isinstance(mode, ast.Constant)
        and isinstance(mode.value, str)
        and bool(set("wx") & set(mode.value))
    )


def _rebinds(stmt: ast.stmt, names: set[str]) -> bool:
    for node in walk_scope([stmt]):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id in names:
            return True
    return False


def _finding(model: FileModel, found: _Check, use: ast.Call, creates: bool) -> Finding:
    used = ast.unparse(use.func)
    if creates:
        race = "another process can create it in between: " + _create_race(used)
        fix = (
            "Skip the check and create atomically: `os.open(path, os.O_CREAT | os.O_EXCL | "
            "os.O_WRONLY)` / `open(path, 'x')` and handle `FileExistsError`, or "
            "`os.makedirs(path, exist_ok=True)`; for lock files use `errwise.FileLock`."
        )
        severity = Severity.HIGH if _owns(use) else Severity.MEDIUM
    else:
        race = (
            "the path can be removed or replaced in between, and the call then fails with "
            "FileNotFoundError — the very case the check meant to handle"
        )
        fix = (
            f"Skip the check: call `{used}(...)` directly and handle `FileNotFoundError` "
            "(or `FileExistsError`) where you would have taken the other branch."
        )
        severity = Severity.MEDIUM
    return model.finding(
        RULE,
        use,
        f"`{found.text}` is checked at line {found.call.lineno}, then `{used}(...)` uses the "
        f"same path at line {use.lineno}: {race}",
        severity=severity,
        recommendation=fix,
        anchor=use,
    )


def _create_race(used: str) -> str:
    if used.endswith(("rename", "replace", "move", "copy", "copy2", "copyfile")):
        return "this call then silently replaces what the other process put there"
    if used.endswith(("open", "write_text", "write_bytes")):
        return (
            "this call then fails with FileExistsError (mode 'x', O_EXCL) or silently "
            "truncates and overwrites the other writer's file"
        )
    return "this call then fails with FileExistsError, the case the check meant to avoid"


def _owns(call: ast.Call) -> bool:
    """An exclusive create whose loss means two owners (open for writing, link, symlink)."""
    name = ast.unparse(call.func)
    return name.endswith(
        ("open", "link", "symlink_to", "hardlink_to", "write_text", "rename", "replace", "move")
    )


RULE = Rule(
    id="EW114",
    name="check-then-use",
    severity=Severity.MEDIUM,
    summary="`exists()`/`isfile()` checked, then the same path opened/removed/created: a race.",
    what="""
An `if` that tests `os.path.exists/isfile/isdir/lexists(p)`, `p.exists()/is_file()/is_dir()`
(or `os.access(p, ...)`, whose "allowed" branch is judged the same way) and then, in the branch
that relies on the answer, opens, reads, stats, lists, removes, renames
or creates the same path expression `p` (also in the statements after an `if not ...: return`).
Not flagged when that use is inside a `try` that handles the error the race produces.
High when the branch creates something meant to be exclusive after finding it absent
(two processes both pass the check: two owners); medium otherwise.

Deliberately not reported: a path nothing marks as shared — the race needs another process or
thread touching the path, so it is reported only when the path, the names it is built from, its
function or its class name a thing processes contend for (`lock`, `pid`, `heartbeat`, `lease`,
`claim`, `queue`, `spool`, `pending`, `running`, `stale`, `worker`...): a private config read if
present, an `else` that creates a missing file of the program's own, a `mkstemp` temp file
(private to its creator), the program's own socket or state file, or a class merely named
"shared" are left alone ("tmp", "socket", "state", "journal" or "shared" alone are not
evidence); and test code, where a crash is the test failing.
""",
    why="""
Between the check and the use another process (or thread) can create, remove or replace the
path. The check then gives false confidence: the program crashes with the FileNotFoundError it
tried to avoid, or two processes both see "no lock" and both take it.
""",
    example="""
def read_claim(path):
    if not os.path.exists(path):
        return None
    with open(path) as handle:       # another worker can take the claim after the check
        return json.load(handle)
""",
    fix="""
Do the operation and handle its failure — the operation itself is the only atomic check:

```python
def read_claim(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
```

To create exclusively: `open(path, "x")` or `os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)`
and handle `FileExistsError`; for locks, `errwise.FileLock`.
""",
    check=check,
    profile="strict",
)
