"""EW109 conflated-errno: `except OSError` around a call whose errnos mean different things.

Promise: flags an `except OSError` / `IOError` / `EnvironmentError` / `os.error` clause whose
try-body calls `os.link`, `os.open(..., O_EXCL ...)`, `os.mkdir`/`os.makedirs` (without
`exist_ok=True`), `os.kill`/`os.killpg`, `os.rename`/`os.replace`, `os.rmdir` or their
`pathlib.Path` equivalents or a non-blocking `fcntl.flock`/`lockf`, when neither that clause
inspects the error (`errno`, `isinstance`, handing it on, doing the same call again before it
changes anything) nor the
same try catches a narrower subclass (`FileExistsError`,
`PermissionError`, `ProcessLookupError`, ...), and the clause does not re-raise the caught error
itself. `open(p, "x")` and `path.open("x")` count as `O_EXCL` opens. Not flagged: a kill with
a signal that ends the process (`SIGKILL`, `SIGTERM`, ...) whose clause only ignores the failure
(the process is meant to be gone either way; the liveness probe `os.kill(pid, 0)` is flagged).
`ERRNO_TABLE` (data, reusable by the inference issue) names, per operation, the errno that means
an expected outcome and the ones that mean a real failure.

The same shape with a library exception whose message or error code is the discriminator
(`MESSAGE_TABLE`): `except sqlite3.OperationalError` around `execute(...)` — "no such table" and
"database is locked" alike — when the clause neither reads the message (`str(exc)` compared),
`args` or the error code (`sqlite_errorcode`/`sqlite_errorname`), nor re-raises.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from errwise.audit.effects import Effect
from errwise.audit.finding import Finding, Severity
from errwise.audit.handling import verdict
from errwise.audit.model import CallInfo, FileModel, HandlerInfo
from errwise.audit.rule import Rule
from errwise.audit.rules._flow import exception_ancestors, imported_receiver
from errwise.audit.text import caught_text

__all__ = ["RULE", "ERRNO_TABLE", "ErrnoSplit", "MESSAGE_TABLE", "MessageSplit"]


@dataclass(frozen=True, slots=True)
class ErrnoSplit:
    """The errnos of one operation that need different handling."""

    expected: tuple[str, ...]
    """Errnos that are an outcome the caller plans for (the thing exists, the process is gone)."""
    expected_meaning: str
    failures: tuple[str, ...]
    """Errnos that are real failures (permission, space, a different file system)."""
    subclasses: tuple[str, ...]
    """The OSError subclasses that separate them."""


ERRNO_TABLE: dict[str, ErrnoSplit] = {
    "link": ErrnoSplit(
        ("EEXIST",),
        "the target already exists: someone else holds it",
        ("EACCES", "EPERM", "ENOSPC", "EXDEV", "EROFS"),
        ("FileExistsError", "PermissionError"),
    ),
    "open_excl": ErrnoSplit(
        ("EEXIST",),
        "the file already exists: someone else created it first",
        ("EACCES", "ENOENT", "ENOSPC", "EROFS"),
        ("FileExistsError", "PermissionError", "FileNotFoundError"),
    ),
    "mkdir": ErrnoSplit(
        ("EEXIST",),
        "the directory already exists",
        ("EACCES", "ENOENT", "ENOSPC", "EROFS"),
        ("FileExistsError", "PermissionError", "FileNotFoundError"),
    ),
    "kill": ErrnoSplit(
        ("ESRCH",),
        "the process no longer exists",
        ("EPERM",),
        ("ProcessLookupError", "PermissionError"),
    ),
    "rename": ErrnoSplit(
        ("ENOENT",),
        "the source is already gone",
        ("EXDEV", "EACCES", "EPERM", "ENOTEMPTY", "EISDIR"),
        ("FileNotFoundError", "PermissionError"),
    ),
    "flock_nb": ErrnoSplit(
        ("EAGAIN", "EWOULDBLOCK", "EACCES"),
        "another process holds the lock",
        ("EBADF", "ENOLCK", "EINVAL"),
        ("BlockingIOError", "PermissionError"),
    ),
    "rmdir": ErrnoSplit(
        ("ENOENT", "ENOTEMPTY"),
        "the directory is gone, or still holds files",
        ("EACCES", "EPERM", "EBUSY"),
        ("FileNotFoundError", "PermissionError"),
    ),
}

_OS_FUNCS = {
    "os.link": "link",
    "os.mkdir": "mkdir",
    "os.makedirs": "mkdir",
    "os.kill": "kill",
    "os.killpg": "kill",
    "os.rename": "rename",
    "os.replace": "rename",
    "os.rmdir": "rmdir",
}
# pathlib methods (by attribute name, on a receiver that is not an imported module).
_PATH_METHODS = {
    "hardlink_to": "link",
    "link_to": "link",
    "mkdir": "mkdir",
    "rename": "rename",
    "rmdir": "rmdir",
}
_FAMILY = frozenset({"OSError", "IOError", "EnvironmentError", "os.error", "socket.error"})


def check(model: FileModel) -> Iterator[Finding]:
    for handler in model.handlers:
        library = _library_case(model, handler)
        if library is not None:
            yield library
            continue
        caught = [c.removeprefix("builtins.") for c in handler.caught]
        family = [c for c in caught if c in _FAMILY]
        if not family or _distinguishes(model, handler):
            continue
        body_calls = _body_calls(model, handler)
        if any((c.qualname or "").startswith("tempfile.") for c in body_calls):
            continue  # works in a fresh scratch place: "already exists" is not an outcome there
        ops = [
            (call, op)
            for call in body_calls
            if (op := _operation(model, call))
            and not _renames_own_temp(model, call, op, handler)
            and not _target_cleared_before(model, call, op, handler)
            and not (op == "kill" and _stops_ignoring(call, handler))
        ]
        if not ops:
            continue
        call, op = ops[0]
        split = ERRNO_TABLE[op]
        lost = verdict(model, handler).loses_error
        what = _call_name(model, call)
        outcome = (
            "handles both the same way" if lost else "turns both into the same replacement error"
        )
        severity = Severity.HIGH if lost else Severity.MEDIUM
        message = (
            f"`except {caught_text(handler)}` around {what} (line {call.node.lineno}) does not "
            f"look at errno: {'/'.join(split.expected)} ({split.expected_meaning}) and "
            f"{'/'.join(split.failures)} (a real failure) need different handling, "
            f"but this clause {outcome}"
        )
        exclusive = _rename_over_exclusive(model, call, op, handler) if op == "rename" else None
        if exclusive is not None:
            severity = Severity.CRITICAL
            message += (
                f"; worse, this rename is the fallback after the exclusive "
                f"{_call_name(model, exclusive)} at line {exclusive.node.lineno} failed, and "
                "rename silently replaces an existing target: when that failure was EEXIST "
                "(another process holds it), the fallback takes it anyway — two owners"
            )
        yield model.finding(
            RULE,
            handler.node,
            message,
            severity=severity,
            recommendation=(
                f"Catch `{split.subclasses[0]}` for the expected case "
                f"({'/'.join(split.expected)}) in its own clause and let other `OSError`s "
                "propagate, or raise them classified: `raise errwise.classify(exc)"
                ".with_context(...) from exc` (maps EACCES, ENOSPC, ... to distinct codes)"
                + (
                    "; for lock files use `errwise.FileLock`, which reports 'held by another' "
                    "apart from real failures."
                    if op in ("link", "open_excl", "flock_nb")
                    else "."
                )
            ),
        )


@dataclass(frozen=True, slots=True)
class MessageSplit:
    """A library exception class that carries outcomes the caller plans for and real failures
    alike, told apart only by its message or error code."""

    expected: str
    """What the clause is usually written for, by the statement it guards."""
    failures: tuple[str, ...]
    discriminators: tuple[str, ...]
    """The attributes that tell the cases apart (besides the message)."""


MESSAGE_TABLE: dict[str, MessageSplit] = {
    "sqlite3.OperationalError": MessageSplit(
        "a missing table or column",
        ("database is locked", "disk I/O error", "unable to open database file"),
        ("sqlite_errorcode", "sqlite_errorname"),
    ),
}
_SQL_EXPECTED = (
    ("ADD COLUMN", "a column that already exists ('duplicate column name')"),
    ("CREATE", "an object that already exists ('already exists')"),
    ("DROP", "a missing table ('no such table')"),
    ("SELECT", "a missing table or column ('no such table', 'no such column')"),
    ("PRAGMA", "a missing table ('no such table')"),
)
_DB_CALLS = frozenset({"execute", "executemany", "executescript", "commit", "fetchone", "fetchall"})


def _library_case(model: FileModel, handler: HandlerInfo) -> Finding | None:
    """`except sqlite3.OperationalError:` meant for one case ("no such table"), which also
    catches "database is locked" and "disk I/O error", with nothing looking at which it was."""
    split = next(
        (MESSAGE_TABLE[c] for c in handler.caught if c in MESSAGE_TABLE),
        None,
    )
    if split is None or _reads_message(handler, split) or _distinguishes(model, handler):
        return None
    calls = [c for c in _body_calls(model, handler) if c.attr in _DB_CALLS]
    if not calls:
        return None
    call = min(calls, key=lambda c: (not (c.attr or "").startswith("execute"), c.node.lineno))
    expected = split.expected
    sql = call.node.args[0] if call.node.args else None
    if isinstance(sql, ast.Constant) and isinstance(sql.value, str):
        upper = " ".join(sql.value.upper().split())
        expected = next((text for key, text in _SQL_EXPECTED if key in upper), expected)
    lost = verdict(model, handler).loses_error
    outcome = "handles them all the same way" if lost else "turns them all into one error"
    caught = caught_text(handler)
    failures = ", ".join(f"'{f}'" for f in split.failures)
    return model.finding(
        RULE,
        handler.node,
        f"`except {caught}` around `{ast.unparse(call.node.func)}()` (line "
        f"{call.node.lineno}): the same class reports {expected} and real failures "
        f"({failures}), and this clause never looks at the message or error code, so it "
        f"{outcome}",
        severity=Severity.HIGH if lost else Severity.MEDIUM,
        recommendation=(
            "Handle only the case you expect and re-raise the rest: bind the error and test "
            f"`exc.{split.discriminators[0]}` (or the message, e.g. `'no such table' in "
            "str(exc)`), then `raise` for anything else — or check for the table/column first."
        ),
    )


def _reads_message(handler: HandlerInfo, split: MessageSplit) -> bool:
    """Does the clause look at the error's message or code (`str(exc)`, `exc.args`,
    `exc.sqlite_errorcode`)?"""
    name = handler.facts.name
    if name is None:
        return False
    for stmt in handler.node.body:
        for node in ast.walk(stmt):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == name
                and node.attr in (*split.discriminators, "args")
            ):
                return True
            if isinstance(node, ast.Compare) and any(
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Name)
                and n.func.id in ("str", "repr")
                and any(isinstance(a, ast.Name) and a.id == name for a in n.args)
                for part in (node.left, *node.comparators)
                for n in ast.walk(part)
            ):
                return True
    return False


def _destination(call: CallInfo, op: str) -> ast.expr | None:
    """The path a link/exclusive-open/rename creates."""
    node, qual = call.node, call.qualname or ""
    if qual.startswith("os.") or qual in ("open", "io.open"):
        index = 0 if op == "open_excl" else 1
        return node.args[index] if len(node.args) > index else None
    if op == "open_excl" and isinstance(node.func, ast.Attribute):
        return node.func.value  # path.open("x")
    if isinstance(node.func, ast.Attribute):
        if op == "link":
            return node.func.value  # target.hardlink_to(source)
        return node.args[0] if node.args else None  # source.rename(target)
    return None


def _rename_over_exclusive(
    model: FileModel, call: CallInfo, op: str, handler: HandlerInfo
) -> CallInfo | None:
    """The `os.link`/`O_EXCL` open whose failure this rename falls back from, onto the same
    target (the lock-file fallback of seed 004's HIGH-4)."""
    target = _destination(call, op)
    outer = model.ctx(handler.try_.node).handler
    if target is None or outer is None:
        return None
    for other in model.calls_in(outer.try_.node.body):
        kind = _operation(model, other)
        if kind in ("link", "open_excl"):
            dest = _destination(other, kind)
            if dest is not None and ast.dump(dest) == ast.dump(target):
                return other
    return None


_STOP_SIGNALS = frozenset({"SIGKILL", "SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGABRT"})


def _stops_ignoring(call: CallInfo, handler: HandlerInfo) -> bool:
    """`os.kill(pid, SIGKILL)` (a signal that ends the process, not the liveness probe
    `os.kill(pid, 0)`) in a `try` whose clause only ignores the failure: the caller wants the
    process gone, and neither ESRCH (it already is) nor EPERM (the pid is no longer a process
    this user owns, or never was) leaves anything to do or an answer to get wrong."""
    args = call.node.args
    if len(args) < 2 or not handler.facts.pass_only:
        return False
    sig = args[1]
    name = sig.attr if isinstance(sig, ast.Attribute) else getattr(sig, "id", "")
    return name in _STOP_SIGNALS


def _body_calls(model: FileModel, handler: HandlerInfo) -> list[CallInfo]:
    """The calls of the try-body this clause guards, in source order."""
    return sorted(
        model.calls_in(handler.try_.node.body), key=lambda c: (c.node.lineno, c.node.col_offset)
    )


def _operation(model: FileModel, call: CallInfo) -> str | None:
    qual = call.qualname or ""
    if qual == "os.makedirs" and _exist_ok(call.node):
        return None  # exist_ok=True: EEXIST cannot arise
    if qual in _OS_FUNCS:
        return _OS_FUNCS[qual]
    if qual == "os.open":
        flags = call.node.args[1] if len(call.node.args) > 1 else None
        for kw in call.node.keywords:
            if kw.arg == "flags":
                flags = kw.value
        if flags is not None and any(
            (isinstance(n, ast.Attribute) and n.attr == "O_EXCL")
            or (isinstance(n, ast.Name) and n.id == "O_EXCL")
            for n in ast.walk(flags)
        ):
            return "open_excl"
        return None
    if qual in ("fcntl.flock", "fcntl.lockf") and _names_flag(call.node, "LOCK_NB"):
        return "flock_nb"  # a non-blocking lock: "held by another" is an expected outcome
    if qual in ("open", "io.open") and _exclusive_mode(call.node, 1):
        return "open_excl"  # open(path, "x"): O_CREAT | O_EXCL
    func = call.node.func
    if (
        isinstance(func, ast.Attribute)
        and func.attr == "open"
        and not imported_receiver(model, func.value)
        and _exclusive_mode(call.node, 0)
    ):
        return "open_excl"  # path.open("x")
    if not isinstance(func, ast.Attribute) or func.attr not in _PATH_METHODS:
        return None
    if imported_receiver(model, func.value):
        return None  # a module function of something else (ftp.mkd, shutil...)
    if func.attr == "mkdir" and _exist_ok(call.node):
        return None  # exist_ok=True: EEXIST cannot arise
    if func.attr == "rename" and len(call.node.args) != 1:
        return None  # Path.rename takes exactly one argument
    return _PATH_METHODS[func.attr]


def _names_flag(node: ast.Call, flag: str) -> bool:
    return any(
        (isinstance(n, ast.Attribute) and n.attr == flag)
        or (isinstance(n, ast.Name) and n.id == flag)
        for arg in [*node.args[1:], *(k.value for k in node.keywords)]
        for n in ast.walk(arg)
    )


def _exclusive_mode(node: ast.Call, index: int) -> bool:
    mode: ast.expr | None = node.args[index] if len(node.args) > index else None
    for kw in node.keywords:
        if kw.arg == "mode":
            mode = kw.value
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and "x" in mode.value


def _exist_ok(node: ast.Call) -> bool:
    return any(
        kw.arg == "exist_ok" and not (isinstance(kw.value, ast.Constant) and not kw.value.value)
        for kw in node.keywords
    )


def _distinguishes(model: FileModel, handler: HandlerInfo) -> bool:
    """Does this try tell the errnos apart (or hand the error on intact)?"""
    facts = handler.facts
    if facts.inspects_error or facts.records_error or facts.bare_reraise:
        return True
    if any(_hands_on_exc_info(model, call) for call in facts.calls):
        return True  # `onerror(func, path, sys.exc_info())`: the callback gets the errno
    if any(_reports_error(call) for call in facts.calls):
        return True  # `manager.extraction_error()`: an error reporter that reads sys.exc_info
    if _retries(model, handler):
        return True  # the clause does it again (blocking): a real failure raises there
    if facts.name is not None and any(
        isinstance(r.exc, ast.Name) and r.exc.id == facts.name for r in facts.raises
    ):
        return True
    for other in handler.try_.handlers:
        for name in other.caught:
            short = name.removeprefix("builtins.")
            if short in _FAMILY:
                continue
            ancestry = exception_ancestors(model, short)
            if ancestry is not None and "OSError" in ancestry:
                return True
    return False


def _retries(model: FileModel, handler: HandlerInfo) -> bool:
    """The clause calls again what its try-body called (`flock(fd, LOCK_EX | LOCK_NB)`, then
    `flock(fd, LOCK_EX)`): whatever really failed fails again there, and raises."""
    tried = {
        c.qualname
        for c in model.calls_in(handler.try_.node.body)
        if c.qualname is not None and _operation(model, c) is not None
    }
    for call in sorted(
        (c for c in model.calls_in(handler.node.body) if c.ctx.handler is handler),
        key=lambda c: (c.node.lineno, c.node.col_offset),
    ):
        if call.qualname in tried:
            return True
        if call.effects & (Effect.DISK | Effect.PROCESS):
            return False  # acts on "held by another" first (`os.unlink(lock)`): not a retry
    return False


def _reports_error(call: ast.Call) -> bool:
    func = call.func
    name = (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")).lower()
    return name.endswith(("_error", "_failure", "_failed")) or name in ("fail", "abort", "die")


def _renames_own_temp(model: FileModel, call: CallInfo, op: str, handler: HandlerInfo) -> bool:
    """`os.replace(tmp, path)` of a file this try just wrote: ENOENT is no expected outcome
    there (write-temp-then-rename), so every errno is a failure alike."""
    if op != "rename":
        return False
    node = call.node
    source = node.args[0] if (call.qualname or "").startswith("os.") and node.args else None
    if source is None and isinstance(node.func, ast.Attribute):
        source = node.func.value
    if source is None:
        return False
    wanted = ast.dump(source)
    for other in model.calls_in(handler.try_.node.body):
        if other.node.lineno >= node.lineno or not other.effects & Effect.DISK:
            continue
        target = other.node.func.value if isinstance(other.node.func, ast.Attribute) else None
        first = other.node.args[0] if other.node.args else None
        if any(t is not None and ast.dump(t) == wanted for t in (target, first)):
            return True
    return False


_REMOVERS = frozenset({"os.unlink", "os.remove", "os.rmdir", "shutil.rmtree"})


def _target_cleared_before(model: FileModel, call: CallInfo, op: str, handler: HandlerInfo) -> bool:
    """`os.unlink(dst); os.link(src, dst)`: the code removed the target itself, so EEXIST is
    no outcome it plans for — every errno is a failure alike."""
    if op not in ("link", "open_excl", "mkdir"):
        return False
    target = _destination(call, op) if op != "mkdir" else _mkdir_target(call)
    if target is None:
        return False
    wanted = ast.dump(target)
    for other in model.calls_in(handler.try_.node.body):
        if other.node.lineno > call.node.lineno or other.node is call.node:
            continue
        func = other.node.func
        removed: ast.expr | None = None
        if other.qualname in _REMOVERS and other.node.args:
            removed = other.node.args[0]
        elif isinstance(func, ast.Attribute) and func.attr in ("unlink", "rmdir"):
            removed = func.value
        if removed is not None and ast.dump(removed) == wanted:
            return True
    return False


def _mkdir_target(call: CallInfo) -> ast.expr | None:
    node = call.node
    if (call.qualname or "").startswith("os."):
        return node.args[0] if node.args else None
    return node.func.value if isinstance(node.func, ast.Attribute) else None


def _hands_on_exc_info(model: FileModel, call: ast.Call) -> bool:
    return any(
        isinstance(arg, ast.Call) and model.qualify(arg.func) in ("sys.exc_info", "sys.exception")
        for arg in [*call.args, *(kw.value for kw in call.keywords)]
    )


def _call_name(model: FileModel, call: CallInfo) -> str:
    qual = call.qualname
    if qual is not None and qual.startswith("os."):
        return f"`{qual}()`"
    return f"`{ast.unparse(call.node.func)}()`"


RULE = Rule(
    id="EW109",
    name="conflated-errno",
    severity=Severity.HIGH,
    summary=(
        "`except OSError` around link/mkdir/kill/O_EXCL (or a sqlite3 error) blind to "
        "errno/message."
    ),
    what="""
An `except OSError` (or `IOError`, `EnvironmentError`) clause around `os.link`,
`os.open(..., O_EXCL)`, `open(p, "x")`, `os.mkdir`, `os.kill`, `os.rename`/`os.replace`,
`os.rmdir`, a non-blocking `fcntl.flock`/`lockf` (`LOCK_NB`) or the `pathlib.Path`
equivalents, when nothing in that `try` tells the errnos apart: the clause does not read
`errno`, does not `isinstance`-check or hand on the error, no other clause catches a narrower
subclass (`FileExistsError`, `PermissionError`, `ProcessLookupError`...), and the clause does
not re-raise the caught error — whatever it does instead (returns a value, `continue`s, sets a
flag, logs). High when the clause returns, logs or swallows; medium when it raises one
replacement error for every errno; critical when the clause guards a `rename` that falls back
from a failed `os.link`/`O_EXCL` create of the same target
(rename replaces an existing target, so the fallback takes a lock another process holds).

Also a library exception that reports an expected case and real failures alike:
`except sqlite3.OperationalError` around `execute(...)` ("no such table", "duplicate column
name" — and "database is locked", "disk I/O error") when the clause never looks at the message
or the error code and does not re-raise.

Deliberately not reported: `os.makedirs(..., exist_ok=True)`, a clause that does the same
call again before it changes anything (`flock(fd, LOCK_EX)` after a failed `LOCK_NB` try: a
real failure raises there; removing the lock first is still reported), a
target the code removed just before, a rename of the temporary file the `try` itself wrote,
work inside a fresh `tempfile` directory, a clause that hands `sys.exc_info()` to a callback or
re-raises, a `sqlite3.OperationalError` clause that tests `str(exc)`, `exc.args` or
`exc.sqlite_errorcode`, and `os.kill(pid, SIGKILL)` (a signal that ends the process) in a
clause that only ignores the failure: the process is meant to be gone, and neither ESRCH nor
EPERM (the pid is not, or no longer, this user's process) leaves anything to do — the
liveness probe `os.kill(pid, 0)` is still reported.
""",
    why="""
For these calls one errno is an outcome the caller plans for — the lock already exists, the
process already exited — and the others are real failures: permission denied, disk full,
read-only file system, a rename across devices. Folding them together makes "someone else holds
the lock" look like "we may not write here" (or the reverse): callers retry what can never
succeed, or give up on what only needed waiting, and the operator is never told.
""",
    example="""
def create_lock(temp_path, lock_path):
    try:
        os.link(temp_path, lock_path)
        return True
    except OSError:
        return False    # EEXIST (held) and EACCES/ENOSPC (broken) look the same
""",
    fix="""
Catch the expected case by its subclass and let everything else surface, classified:

```python
def create_lock(temp_path, lock_path):
    try:
        os.link(temp_path, lock_path)
    except FileExistsError:
        return errwise.Err(LockHeld(lock_path))          # expected: retry later
    except OSError as exc:
        raise errwise.classify(exc).with_context(lock=str(lock_path)) from exc
    return errwise.Ok(None)
```

For lock files, `errwise.FileLock` does this for you.
""",
    check=check,
    profile="strict",
)
