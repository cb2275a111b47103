"""In-place rewrites of state files: a write that truncates a file the program itself keeps.

Promise: `state_rewrites(model, function)` lists the writes of one function, on its normal path,
that open an existing file for writing in place (`open(p, "w")`, `p.open("w")`,
`p.write_text(...)`, `p.write_bytes(...)`) and put data in it, when the evidence says the file
is *state* the program maintains rather than an output the user asked for:

- the function read the same path before writing it (a read-modify-write), or another function
  of the module reads it (the same attribute or module-level name);
- or a word of the path, of the data written, or of the function's or class's name says so
  (index, state, manifest, registry, lock, pid, cache, status, metadata, db, journal,
  checkpoint...), and no word says it is an output (report, export, output, download, log...).

Only serialised structure is listed (`json.dump`, `json.dumps`, `yaml.safe_dump`, `pickle`,
`...serialize`): a torn copy of it fails to parse on every later run. Never listed: plain text
(a pid, a one-line description, a user's lines rewritten as text), and a text file the caller
names (the path comes from a parameter) edited as text with no state word (a source or config
file the user owns: `update_file(fname, pattern)`; serialised data, `json.dump`..., to such a
path is still state); writes to a temporary path
(`tempfile`, a name with tmp/temp); a path the function later renames or replaces
(write-temp-then-rename); writes inside a `with` of an atomic or transaction helper or inside a
`try` whose `except`/`finally` undoes (restores a backup); files opened for writing but left
empty (`open(lock, "w")` to create it); and test or build code (`setup.py`, `noxfile.py`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from errwise.audit.effects import Effect
from errwise.audit.model import CallInfo, FileModel, FunctionInfo, HandlerInfo, walk_scope
from errwise.audit.names import dotted
from errwise.audit.rules._flow import ancestors, imported_receiver, same_expr
from errwise.audit.rules._roles import is_test_or_tooling_path

__all__ = ["StateRewrite", "state_rewrites", "path_words"]

STATE_WORDS = frozenset(
    {
        "index",
        "state",
        "manifest",
        "registry",
        "lock",
        "lockfile",
        "pid",
        "pidfile",
        "cache",
        "status",
        "metadata",
        "db",
        "database",
        "journal",
        "ledger",
        "checkpoint",
        "progress",
        "inventory",
        "catalog",
        "session",
        "sessions",
    }
)
_OUTPUT_WORDS = frozenset(
    {
        "report",
        "export",
        "output",
        "out",
        "outfile",
        "download",
        "log",
        "html",
        "dest",
        "destination",
        "result",
        "results",
        "coverage",
        "sink",
        "devnull",
    }
)
_GENERIC_VERBS = frozenset(
    {"write", "save", "dump", "flush", "store", "persist", "update", "sync", "to", "file", "disk"}
)
_ATOMIC_WORDS = ("transaction", "atomic", "staged", "rollback")
_TEMP_FACTORIES = ("tempfile.", "mkstemp", "NamedTemporaryFile")
_READ_METHODS = frozenset({"read_text", "read_bytes"})
_MOVE_FUNCS = frozenset({"os.rename", "os.replace", "shutil.move", "os.renames"})
_SERIALIZERS = ("dump", "dumps", "write", "writelines", "save", "to_json", "serialize")


@dataclass(frozen=True, slots=True)
class StateRewrite:
    """One in-place write of a state file."""

    call: CallInfo
    path: ast.expr
    how: str
    """How the code writes it: `open(p, 'w')`, `p.write_text(…)`."""
    read_line: int | None
    """The line where the program reads the same file (a read-modify-write), if it does."""
    word: str | None
    """The word that names the file as state, when that is the evidence."""


def path_words(text: str) -> set[str]:
    """The lower-case words of an expression's text (snake_case and camelCase split)."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return {w for w in re.split(r"[^a-zA-Z0-9]+|_", spaced.lower()) if w}


def state_rewrites(model: FileModel, fn: FunctionInfo) -> list[StateRewrite]:
    """The in-place writes of state files in `fn` (see the module promise)."""
    if isinstance(fn.node, ast.Lambda) or is_test_or_tooling_path(model.path):
        return []
    found: list[StateRewrite] = []
    for call in fn.calls:
        site = _write_site(model, call)
        if site is None or not _normal(call):
            continue
        path, how = site
        if _temporary(model, fn, path) or _renamed_later(fn, call, path) or _atomic(model, call):
            continue
        if not _puts_data(model, call) or _named_output(fn, path):
            continue
        reads = _reads_of(model, fn, call, path)
        if any(_tolerant(model, r) for r in reads):
            continue  # the reader recovers from a torn file
        word = _state_word(model, fn, call, path)
        if reads and word is None and _removed_elsewhere(model, fn, path):
            continue  # a scratch file: written, read back once, removed
        if word is None and _callers_document(fn, path) and not _serialized(model, call):
            continue  # a text file the caller names, edited as text: theirs, not our state
        if not reads and word is None:
            continue
        if not _serialized(model, call):
            continue  # plain text (a pid, a one-line description, edited lines): a torn copy
            # is no worse than a missing one, and nothing parses it into a crash
        read_line = reads[0].node.lineno if reads else None
        found.append(StateRewrite(call, path, how, read_line, word))
    return found


def _named_output(fn: FunctionInfo, path: ast.expr) -> bool:
    """The path's name says it is an output (report, results, export...), even when the code
    reads it back to add to it."""
    target = _resolved(fn, path)
    if _too_big(target):
        return False
    return bool(path_words(ast.unparse(path) + " " + ast.unparse(target)) & _OUTPUT_WORDS)


def _callers_document(fn: FunctionInfo, path: ast.expr) -> bool:
    """The path comes from a parameter (not `self`): a file the caller names."""
    node = fn.node
    if isinstance(node, ast.Lambda):
        return False
    params = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)} - {"self", "cls"}
    target = _resolved(fn, path)
    return any(isinstance(n, ast.Name) and n.id in params for n in ast.walk(target))


def _serialized(model: FileModel, call: CallInfo) -> bool:
    """The data written is serialised structure (`json.dump`, `yaml.safe_dump`, `pickle`...)."""
    exprs: list[ast.AST] = list(_data_written(model, call))
    parent = model.parents.get(call.node)
    if isinstance(parent, ast.Call) and _dumper(parent):
        return True  # `yaml.safe_dump(manifest, open(path, "w"))`
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1:
        target = parent.targets[0]
        fn = model.function_of(call.node)
        if isinstance(target, ast.Name) and fn is not None:
            # `fh = open(path, "w")` ... `json.dump(index, fh)`
            return any(
                isinstance(node, ast.Call)
                and _dumper(node)
                and any(isinstance(a, ast.Name) and a.id == target.id for a in node.args)
                for node in ast.walk(fn.node)
            )
    if isinstance(parent, ast.withitem):
        with_node = model.parents.get(parent)
        if isinstance(with_node, (ast.With, ast.AsyncWith)):
            exprs.extend(with_node.body)
    for expr in exprs:
        for node in ast.walk(expr):
            if isinstance(node, ast.Call) and _dumper(node):
                return True
    return False


def _dumper(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return isinstance(name, str) and name.endswith(
        ("dump", "dumps", "serialize", "to_json", "to_yaml", "to_toml")
    )


def _write_site(model: FileModel, call: CallInfo) -> tuple[ast.expr, str] | None:
    node, qual = call.node, call.qualname or ""
    func = node.func
    if qual in ("open", "io.open", "codecs.open") and node.args and _truncates(node, 1):
        return node.args[0], f"`open({ast.unparse(node.args[0])}, 'w')`"
    if not isinstance(func, ast.Attribute) or imported_receiver(model, func.value):
        return None
    if isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
        return None  # the object's own method (`self.write_text(path, text)`), not a path's
    if func.attr == "open" and _path_open(node) and _truncates(node, 0):
        return func.value, f"`{_short(func)}('w')`"
    if func.attr in ("write_text", "write_bytes") and len(node.args) == 1:
        return func.value, f"`{_short(func)}(…)`"  # Path.write_text(data): one positional
    return None


def _short(expr: ast.expr) -> str:
    return "…" if _too_big(expr) else ast.unparse(expr)


def _path_open(call: ast.Call) -> bool:
    """`path.open(mode)`: no positional argument but the mode (not `fs.open(path, "w")`)."""
    return not call.args or (
        len(call.args) <= 2
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)
    )


def _truncates(call: ast.Call, index: int) -> bool:
    mode: ast.expr | None = call.args[index] if len(call.args) > index else None
    for kw in call.keywords:
        if kw.arg == "mode":
            mode = kw.value
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and "w" in mode.value


def _normal(call: CallInfo) -> bool:
    """Not in an except clause or a finally block of its function."""
    return call.ctx.handler is None and call.ctx.try_part != "finally"


def _temporary(model: FileModel, fn: FunctionInfo, path: ast.expr) -> bool:
    text = ast.unparse(path).lower()
    if "tmp" in text or "temp" in text or "devnull" in text:
        return True
    names = {n.id for n in ast.walk(path) if isinstance(n, ast.Name)}
    for value in _assigned_values(fn, names):
        if _too_big(value):
            continue  # not a path expression; and unparsing it would recurse that deep
        shown = ast.unparse(value)
        if any(t in shown for t in _TEMP_FACTORIES) or "tmp" in shown.lower():
            return True
        if "temp" in shown.lower():
            return True
    return False


def _assigned_values(fn: FunctionInfo, names: set[str]) -> list[ast.expr]:
    """The values the function assigns to any of `names` (plain and `with ... as` bindings)."""
    if not names or isinstance(fn.node, ast.Lambda):
        return []
    values: list[ast.expr] = []
    for node in walk_scope(fn.node.body):
        if isinstance(node, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id in names for t in node.targets):
                values.append(node.value)
        elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)):
            target = node.target
            if node.value is not None and isinstance(target, ast.Name) and target.id in names:
                values.append(node.value)
        elif isinstance(node, ast.withitem):
            var = node.optional_vars
            if isinstance(var, ast.Name) and var.id in names:
                values.append(node.context_expr)
    return values


def _too_big(expr: ast.expr) -> bool:
    """More than a path or a data expression is made of (walked without recursion)."""
    return any(n > 200 for n, _ in enumerate(ast.walk(expr)))


def _renamed_later(fn: FunctionInfo, write: CallInfo, path: ast.expr) -> bool:
    """The written file is moved afterwards (write-then-rename: the atomic pattern)."""
    for call in fn.calls:
        if call.node.lineno < write.node.lineno:
            continue
        node, qual = call.node, call.qualname or ""
        source: ast.expr | None = None
        if qual in _MOVE_FUNCS and node.args:
            source = node.args[0]
        elif isinstance(node.func, ast.Attribute) and node.func.attr in ("rename", "replace"):
            source = node.func.value
        if source is not None and same_expr(source, path):
            return True
    return False


def _atomic(model: FileModel, call: CallInfo) -> bool:
    """Inside a `with` of an atomic/transaction helper, or a try that undoes on failure."""
    for node in ancestors(model, call.node):
        if isinstance(node, (ast.Try, ast.TryStar)):
            undo = [*node.finalbody, *(s for h in node.handlers for s in h.body)]
            if model.effects_in(undo) & (Effect.DISK | Effect.CLEANUP):
                return True
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                expr = item.context_expr
                if expr is call.node:
                    continue
                name = (dotted(expr.func if isinstance(expr, ast.Call) else expr) or "").lower()
                if any(w in name for w in _ATOMIC_WORDS):
                    return True
    return False


def _puts_data(model: FileModel, call: CallInfo) -> bool:
    """The write puts data in the file (not an `open(p, "w")` that only creates it)."""
    node = call.node
    if isinstance(node.func, ast.Attribute) and node.func.attr in ("write_text", "write_bytes"):
        return True
    parent = model.parents.get(node)
    if isinstance(parent, ast.Attribute):
        return parent.attr in ("write", "writelines")  # open(p, "w").write(data)
    if isinstance(parent, ast.Call) and node in parent.args:
        func = parent.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name.endswith(_SERIALIZERS)  # yaml.safe_dump(data, open(p, "w"))
    if (
        isinstance(parent, ast.Assign)
        and len(parent.targets) == 1
        and isinstance(parent.targets[0], ast.Name)
    ):
        return _handle_written(model, call, parent.targets[0].id)  # fh = open(p, "w")
    if isinstance(parent, ast.withitem):
        handle = parent.optional_vars
        with_node = model.parents.get(parent)
        if not isinstance(with_node, (ast.With, ast.AsyncWith)):
            return False
        for inner in walk_scope(with_node.body):
            if isinstance(inner, ast.Call):
                name = inner.func.attr if isinstance(inner.func, ast.Attribute) else None
                if name is None and isinstance(inner.func, ast.Name):
                    name = inner.func.id
                if name is not None and name.endswith(_SERIALIZERS):
                    return True
                if handle is not None and any(same_expr(a, handle) for a in inner.args):
                    return True
        return False
    return False


def _handle_written(model: FileModel, call: CallInfo, handle: str) -> bool:
    """The function writes through the file object bound to `handle` after opening it."""
    fn = call.ctx.function
    if fn is None or isinstance(fn.node, ast.Lambda):
        return False
    for node in walk_scope(fn.node.body):
        if not isinstance(node, ast.Call) or node.lineno < call.node.lineno:
            continue
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ("write", "writelines")
            and isinstance(func.value, ast.Name)
            and func.value.id == handle
        ):
            return True
        if any(isinstance(a, ast.Name) and a.id == handle for a in node.args):
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name.endswith(_SERIALIZERS):
                return True
    return False


def _read_path(model: FileModel, call: CallInfo) -> ast.expr | None:
    """The path `call` reads, when it opens a file for reading or reads one whole."""
    node, qual = call.node, call.qualname or ""
    func = node.func
    if qual in ("open", "io.open", "codecs.open") and node.args:
        return None if _writes_mode(node, 1) else node.args[0]
    if isinstance(func, ast.Attribute) and not imported_receiver(model, func.value):
        if func.attr in _READ_METHODS:
            return func.value
        if func.attr == "open" and _path_open(node) and not _writes_mode(node, 0):
            return func.value
    return None


def _writes_mode(call: ast.Call, index: int) -> bool:
    mode: ast.expr | None = call.args[index] if len(call.args) > index else None
    for kw in call.keywords:
        if kw.arg == "mode":
            mode = kw.value
    if mode is None:
        return False
    return not (isinstance(mode, ast.Constant) and isinstance(mode.value, str)) or bool(
        set(mode.value) & set("wax+")
    )


def _resolved(fn: FunctionInfo, path: ast.expr) -> ast.expr:
    """A local name assigned once in the function stands for the value assigned to it."""
    if isinstance(path, ast.Name):
        values = _assigned_values(fn, {path.id})
        if len(values) == 1:
            return values[0]
    return path


def _reads_of(
    model: FileModel, fn: FunctionInfo, write: CallInfo, path: ast.expr
) -> list[CallInfo]:
    """The reads of the written file: before the write in the function, or — when the path is
    named the same way in every function (`_stable`) — anywhere in the module."""
    target = _resolved(fn, path)
    stable = _stable(model, fn, target)
    found: list[CallInfo] = []
    for other in model.functions:
        if other is not fn and not stable:
            continue
        for call in other.calls:
            if other is fn and call.node.lineno > write.node.lineno:
                continue
            read = _read_path(model, call)
            if read is not None and (
                same_expr(read, path) or same_expr(_resolved(other, read), target)
            ):
                found.append(call)
    return found


_TOLERATED = frozenset(
    {
        "Exception",
        "BaseException",
        "ValueError",
        "EOFError",
        "UnicodeDecodeError",
        "UnicodeError",
    }
)


def _tolerant(model: FileModel, call: CallInfo) -> bool:
    """The read sits in a try that catches what a torn file raises when parsed (`ValueError`,
    a decode error, `Exception`): the reader already recovers from a half-written file."""
    ctx = call.ctx
    try_, part = ctx.try_, ctx.try_part
    while try_ is not None:
        if part == "body":
            for h in try_.handlers:
                if (h.bare or any(_tolerates(c) for c in h.caught)) and _recovers(h):
                    return True
        outer = model.ctx(try_.node)
        if outer.function is not ctx.function:
            break
        try_, part = outer.try_, outer.try_part
    return False


def _recovers(handler: HandlerInfo) -> bool:
    """The clause falls back (starts over, resets) rather than handing the error on."""
    facts = handler.facts
    return not (
        facts.raises
        or facts.bare_reraise
        or facts.inspects_error
        or facts.records_error
        or facts.uses_name
    )


def _tolerates(caught: str) -> bool:
    name = caught.removeprefix("builtins.")
    last = name.rsplit(".", 1)[-1]
    return name in _TOLERATED or last.endswith(("DecodeError", "YAMLError", "UnpicklingError"))


def _removed_elsewhere(model: FileModel, fn: FunctionInfo, path: ast.expr) -> bool:
    """The module deletes the same file: a scratch file written, read and removed again."""
    target = _resolved(fn, path)
    if not _stable(model, fn, target):
        return False
    for other in model.functions:
        for call in other.calls:
            node, qual = call.node, call.qualname or ""
            removed: ast.expr | None = None
            if qual in ("os.remove", "os.unlink") and node.args:
                removed = node.args[0]
            elif isinstance(node.func, ast.Attribute) and node.func.attr == "unlink":
                removed = node.func.value
            if removed is not None and same_expr(_resolved(other, removed), target):
                return True
    return False


def _stable(model: FileModel, fn: FunctionInfo, path: ast.expr) -> bool:
    """Built only from attributes, module-level names and constants: it names the same file
    in every function of the module."""
    params = set()
    if not isinstance(fn.node, ast.Lambda):
        params = {a.arg for a in ast.walk(fn.node.args) if isinstance(a, ast.arg)}
    has_attribute = False
    for node in ast.walk(path):
        if isinstance(node, ast.Name) and (
            node.id in params - {"self", "cls"} or _assigned_values(fn, {node.id})
        ):
            return False
        if isinstance(node, ast.Attribute):
            has_attribute = True
    return has_attribute or isinstance(path, ast.Name)


def _state_word(model: FileModel, fn: FunctionInfo, call: CallInfo, path: ast.expr) -> str | None:
    names = {n.id for n in ast.walk(path) if isinstance(n, ast.Name)}
    values = [v for v in _assigned_values(fn, names) if not _too_big(v)]
    texts = [ast.unparse(path), *(ast.unparse(v) for v in values)]
    words = set().union(*(path_words(t) for t in texts))
    if words & _OUTPUT_WORDS:
        return None
    for word in sorted(words & STATE_WORDS):
        return word
    data_words: set[str] = set()
    for expr in _data_written(model, call):
        if not _too_big(expr):
            data_words |= path_words(ast.unparse(expr))
    owner = path_words(fn.name)
    if owner <= _GENERIC_VERBS:
        owner |= path_words(fn.class_name or "")  # `PipxMetadata.write`: the class names it
    if (data_words | owner) & _OUTPUT_WORDS:
        return None
    for word in sorted((data_words | owner) & STATE_WORDS):
        return word
    return None


def _data_written(model: FileModel, call: CallInfo) -> list[ast.expr]:
    """The expressions written: `write_text`'s argument, what a `with` body dumps or writes."""
    node = call.node
    if isinstance(node.func, ast.Attribute) and node.func.attr in ("write_text", "write_bytes"):
        return list(node.args[:1])
    parent = model.parents.get(node)
    if isinstance(parent, ast.Attribute):
        grand = model.parents.get(parent)
        return list(grand.args[:1]) if isinstance(grand, ast.Call) else []
    if isinstance(parent, ast.withitem):
        with_node = model.parents.get(parent)
        if isinstance(with_node, (ast.With, ast.AsyncWith)):
            return [
                inner.args[0]
                for inner in walk_scope(with_node.body)
                if isinstance(inner, ast.Call) and inner.args
            ]
    return []
