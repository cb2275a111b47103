"""Silences whose cost is known and small, shown by what the guarded code does: shared
judgements of the lost-error family (EW101, EW104), added beside `_wanted`/`_probe`.

Promise: each predicate says "yes" only when the clause does nothing but move on (`pass`,
`continue`, `break`, a bare `return`) and the guarded code is of one of these shapes; it never
raises on any model:
- `optional_file_read`: the guarded code reads a local file (an `open()` for reading,
  `read_text`/`read_bytes`, or a call named `read_*file*`/`load*` handed a path) and changes
  nothing, and the clause catches only file-access errors (`OSError` and its subclasses): an
  absent or unreadable optional file means "nothing to read";
- `tolerated_removal`: every guarded statement removes one file (`os.remove`, `os.unlink`,
  `os.rmdir`, `Path.unlink`, ...) or signals a process to end (`os.kill`), no lock is involved,
  and the clause catches only `OSError` and its subclasses: "ensure gone", where the only cost
  of a failure is a file or process left behind;
- `ends_processes`: a `tolerated_removal` whose every step signals a process (`os.kill`): the
  process may already have exited, and a survivor is a process left behind, not state changed;
- `tolerated_creation`: every guarded statement creates a directory (`os.makedirs`,
  `os.mkdir`, `Path.mkdir`) and the clause catches only `OSError` and its subclasses: the
  pre-`exist_ok` idiom; if the directory is really missing, the step that uses it fails loudly
  (whether the errno is looked at is conflated-errno's concern);
- `release_only`: the guarded code is one call that releases a resource (`close`, `stop`,
  `shutdown`, `disconnect`, `terminate`, `unregister`, a name with a `close` word such as
  `force_close_all`) and takes no lock: the object is unusable either way;
- `lenient_parse`: every call the guarded code makes converts or parses a value (`int`,
  `float`, `strptime`, a `parse*` function) and nothing guarded changes state: a malformed
  item is skipped, which is the caller's stated choice by the shape of the code;
- `explained_step`: the clause catches narrow types, the guarded code is one statement that
  takes no lock and rolls nothing back, and a comment in the clause or a comment block just
  above the `try` explains it (a block admitting a problem — `TODO`, `FIXME`, `XXX`, a
  question — explains nothing);
- `query_attempt`: one attempt of a first-success search that runs a command only to read its
  output (`check_output`, `Popen(..., stdout=PIPE).communicate()`, `run(capture_output=True)`),
  returns what it read on success, and otherwise changes nothing; the clause moves on to the
  next source (how "none worked" is answered is judged where the function answers);
- `read_only_lookup`: the clause catches only file-access errors (`OSError` and its
  subclasses) and the guarded code only reads (no state change, no network): an unreadable
  source is answered like an absent one;
- `attribute_dump`: the clause sits in a loop over an object's attribute names (`for key in
  dir(obj)`) and the guarded code reads that attribute by name (`getattr(obj, key)`): any
  property may raise anything, and skipping it is what an introspecting dump means to do;
- `after_reported_error`: the clause sits inside the handler of an earlier error that this
  outer handler already logged or recorded: a failure while answering it (sending an error
  status) is secondary and the primary error is not lost.
"""

from __future__ import annotations

import ast
import re

from errwise.audit.effects import Effect
from errwise.audit.handling import documented, short
from errwise.audit.model import FileModel, HandlerInfo, walk_scope

__all__ = [
    "tolerated_creation",
    "attribute_dump",
    "ends_processes",
    "read_only_lookup",
    "query_attempt",
    "moves_on",
    "explained_step",
    "optional_file_read",
    "tolerated_removal",
    "release_only",
    "lenient_parse",
    "after_reported_error",
]

_FILE_ERRORS = frozenset(
    {
        "OSError",
        "IOError",
        "EnvironmentError",
        "os.error",
        "FileNotFoundError",
        "PermissionError",
        "IsADirectoryError",
        "NotADirectoryError",
        "io.UnsupportedOperation",
    }
)


def _file_errors_only(handler: HandlerInfo) -> bool:
    return (
        not handler.bare
        and bool(handler.caught)
        and all(short(c) in _FILE_ERRORS for c in handler.caught)
    )


def moves_on(handler: HandlerInfo) -> bool:
    """The clause only moves on: `pass`, `continue`, `break`, a bare `return`, a docstring."""
    for stmt in handler.node.body:
        if isinstance(stmt, (ast.Pass, ast.Continue, ast.Break)):
            continue
        if isinstance(stmt, ast.Return) and stmt.value is None:
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue
        return False
    return True


def _last(qualname: str | None, attr: str | None) -> str:
    return attr or (qualname or "").rsplit(".", 1)[-1]


def optional_file_read(model: FileModel, handler: HandlerInfo) -> bool:
    """Reads a local file whose absence means "nothing to read" (see the module promise)."""
    if not _file_errors_only(handler) or not moves_on(handler):
        return False
    body = handler.try_.node.body
    if model.effects_in(body).state_changing:
        return False
    calls = list(model.calls_in(body))
    if any(c.effects & Effect.NETWORK for c in calls):
        return False
    for call in calls:
        name = _last(call.qualname, call.attr).lower()
        if call.qualname in ("open", "io.open", "codecs.open") or name in (
            "read_text",
            "read_bytes",
        ):
            return True
        if ("read" in name and "file" in name) or (
            name.startswith("load") and call.node.args and not call.node.keywords
        ):
            return True
    return False


_REMOVALS = frozenset({"remove", "unlink", "rmdir", "removedirs", "rmfile", "kill", "killpg"})


def _plain_calls(
    model: FileModel, handler: HandlerInfo
) -> list[tuple[ast.Call, ast.Attribute | ast.Name, str]] | None:
    """The try body's calls (call, callee, its last name) when the handler catches only file
    errors and moves on, and the body is nothing but calls of a name or attribute that take no
    lock and do no cleanup; else None."""
    if not _file_errors_only(handler) or not moves_on(handler):
        return None
    body = handler.try_.node.body
    if not body or model.effects_in(body) & (Effect.LOCK | Effect.CLEANUP):
        return None
    calls = []
    for stmt in body:
        if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
            return None
        func = stmt.value.func
        if not isinstance(func, (ast.Attribute, ast.Name)):
            return None
        calls.append((stmt.value, func, func.attr if isinstance(func, ast.Attribute) else func.id))
    return calls


def tolerated_removal(model: FileModel, handler: HandlerInfo) -> bool:
    """Removes files, catching only `OSError` (see the module promise)."""
    calls = _plain_calls(model, handler)
    if calls is None:
        return False
    for call, func, name in calls:
        qual = model.qualify(func) or name
        if isinstance(func, ast.Attribute) and qual.split(".", 1)[0] not in ("os", "shutil"):
            # a method: only `Path.unlink()`-style calls on a path object, no arguments
            if name != "unlink" or call.args:
                return False
        elif name not in _REMOVALS:
            return False
        if name not in _REMOVALS:
            return False
    return True


_RELEASES = frozenset({"close", "stop", "shutdown", "disconnect", "terminate", "unregister"})


def _releases(name: str) -> bool:
    """`close`, `stop`, ..., or a name with a `close` word (`force_close_all`,
    `close_connection`, `_maybe_close_fd`)."""
    return name in _RELEASES or "close" in name.lower().strip("_").split("_")


def release_only(model: FileModel, handler: HandlerInfo) -> bool:
    """One call that releases a resource (see the module promise)."""
    if not moves_on(handler):
        return False
    body = handler.try_.node.body
    if len(body) != 1 or not isinstance(body[0], ast.Expr):
        return False
    value = body[0].value
    if not isinstance(value, ast.Call):
        return False
    calls = list(model.calls_in(body))
    if len(calls) != 1 or calls[0].effects & Effect.LOCK:
        return False
    return _releases(_last(calls[0].qualname, calls[0].attr))


_CONVERSIONS = frozenset(
    {
        "int",
        "float",
        "complex",
        "Decimal",
        "Fraction",
        "strptime",
        "fromisoformat",
        "fromtimestamp",
        "literal_eval",
        "loads",
        "unhexlify",
        "b64decode",
        "strip",
        "split",
        "lower",
        "decode",
    }
)


def lenient_parse(model: FileModel, handler: HandlerInfo) -> bool:
    """Only parses or converts a value, and skips it on failure (see the module promise)."""
    if not moves_on(handler):
        return False
    body = handler.try_.node.body
    calls = list(model.calls_in(body))
    if not calls or model.effects_in(body).state_changing:
        return False
    if any(isinstance(n, (ast.With, ast.AsyncWith)) for n in walk_scope(body)):
        return False
    parses = False
    for call in calls:
        name = _last(call.qualname, call.attr)
        if name.lstrip("_").startswith("parse"):
            parses = True
        elif name in _CONVERSIONS:
            parses = parses or name not in ("strip", "split", "lower", "decode")
        else:
            return False
    return parses


def after_reported_error(model: FileModel, handler: HandlerInfo) -> bool:
    """Inside the handler of an earlier error that was already logged or recorded."""
    outer = model.ctx(handler.try_.node).handler
    if outer is None:
        return False
    facts = outer.facts
    if facts.logs_traceback or facts.records_error:
        return True
    start = handler.try_.node.lineno
    if any(log.call.lineno < start for log in facts.logs):
        return True
    # the component's own logger: `self.log_info(msg, "error")`, `self._log(ERROR, ...)`
    for call in facts.calls:
        if call.lineno >= start or model.ctx(call).handler is not outer:
            continue
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if "log" in name.lower().strip("_").split("_"):
            return True
    return False


_ADMISSION = re.compile(r"TODO|FIXME|XXX|HACK|\?")
_DIRECTIVES = ("errwise:", "noqa", "pragma", "type:", "fmt:", "pylint:", "nosec")


def _comment_block_above(model: FileModel, line: int) -> list[str]:
    """The contiguous comment lines just above line `line` (1-based), nearest last."""
    block: list[str] = []
    index = line - 2
    while index >= 0 and model.lines[index].strip().startswith("#"):
        block.append(model.lines[index].strip().lstrip("#").strip())
        index -= 1
    block.reverse()
    return block


def explained_step(model: FileModel, handler: HandlerInfo) -> bool:
    """One narrow, explained step (see the module promise)."""
    if handler.broad or handler.bare or not moves_on(handler):
        return False
    body = handler.try_.node.body
    if len(body) != 1 or model.effects_in(body) & (Effect.LOCK | Effect.CLEANUP):
        return False
    node = handler.node
    own = model.lines[node.lineno - 1 : node.end_lineno or node.lineno]
    if any(_ADMISSION.search(line.partition("#")[2]) for line in own):
        return False
    if documented(model, handler):
        return True
    block = _comment_block_above(model, handler.try_.node.lineno)
    text = " ".join(block)
    return (
        len(text) >= 8
        and not _ADMISSION.search(text)
        and not any(b.lower().startswith(_DIRECTIVES) for b in block)
    )


_CAPTURING = frozenset({"check_output", "getoutput", "getstatusoutput"})


def _captures_output(call: ast.Call, name: str) -> bool:
    if name in _CAPTURING:
        return True
    for kw in call.keywords:
        if kw.arg == "capture_output" and isinstance(kw.value, ast.Constant) and kw.value.value:
            return True
        if kw.arg == "stdout" and (dotted_name(kw.value) or "").endswith("PIPE"):
            return True
    return False


def dotted_name(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        inner = dotted_name(expr.value)
        return None if inner is None else f"{inner}.{expr.attr}"
    return None


def query_attempt(model: FileModel, handler: HandlerInfo) -> bool:
    """A command run for its output in a first-success search (see the module promise)."""
    if not all(isinstance(s, (ast.Pass, ast.Continue)) for s in handler.node.body):
        return False
    body = handler.try_.node.body
    effects = model.effects_in(body)
    if (
        effects & ~(Effect.PROCESS | Effect.NETWORK) & (Effect.DISK | Effect.LOCK | Effect.CLEANUP)
        or not effects & Effect.PROCESS
    ):
        return False
    for call in model.calls_in(body):
        if call.effects & Effect.PROCESS and not _captures_output(
            call.node, _last(call.qualname, call.attr)
        ):
            return False
    return any(isinstance(n, ast.Return) and n.value is not None for n in walk_scope(body))


def read_only_lookup(model: FileModel, handler: HandlerInfo) -> bool:
    """Catches only file-access errors around code that only reads (see the module promise)."""
    if not _file_errors_only(handler):
        return False
    body = handler.try_.node.body
    effects = model.effects_in(body)
    return bool(body) and not effects.state_changing and not effects & Effect.NETWORK


def ends_processes(model: FileModel, handler: HandlerInfo) -> bool:
    """Signals processes to end, catching only `OSError` (see the module promise)."""
    if not tolerated_removal(model, handler):
        return False
    names: set[str] = set()
    for stmt in handler.try_.node.body:
        if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
            return False
        func = stmt.value.func
        names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names <= {"kill", "killpg"}


def attribute_dump(model: FileModel, handler: HandlerInfo) -> bool:
    """Reads each attribute of `dir(obj)` by name, skipping those that fail (see the module
    promise)."""
    if not moves_on(handler):
        return False
    loop = model.ctx(handler.try_.node).loop
    if loop is None or not isinstance(loop.node, (ast.For, ast.AsyncFor)):
        return False
    it = loop.node.iter
    target = loop.node.target
    if not (
        isinstance(it, ast.Call)
        and isinstance(it.func, ast.Name)
        and it.func.id in ("dir", "vars")
        and len(it.args) == 1
        and isinstance(target, ast.Name)
    ):
        return False
    owner = ast.dump(it.args[0])
    body = handler.try_.node.body
    if model.effects_in(body).state_changing:
        return False
    return any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Name)
        and n.func.id == "getattr"
        and len(n.args) >= 2
        and ast.dump(n.args[0]) == owner
        and isinstance(n.args[1], ast.Name)
        and n.args[1].id == target.id
        for n in walk_scope(body)
    )


_CREATIONS = frozenset({"mkdir", "makedirs"})


def tolerated_creation(model: FileModel, handler: HandlerInfo) -> bool:
    """Creates directories, catching only `OSError` (see the module promise)."""
    calls = _plain_calls(model, handler)
    return calls is not None and all(name in _CREATIONS for _call, _func, name in calls)
