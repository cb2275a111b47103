"""Capability probes: a `try` that asks something what it can do, where any failure rightly
means "no" (`fd = sys.__stdin__.fileno()` falling back to `0`, `isatty()`, an `import`).

Promise: `capability_probe(model, handler)` is true only when the clause neither re-raises nor
exits, its outcome is a plain "no" (`pass`, `continue`, returning or assigning a constant, an
empty container or a name, providing a stand-in: an import, a class or function definition),
the guarded code changes no state, and one of these holds:
- every call the `try` makes is a probe of an object's capabilities (`fileno`, `isatty`,
  `seekable`, `getattr`, `len`, `hash`, `iter`, `find_spec`, `os.stat`, ...), or the `try` only
  imports or reads an attribute; a note may then say which fallback is used (a debug, info or
  warning log, a `warnings.warn`);
- the function is a predicate (`is_*`, `has_*`, `supports_*`, `can_*`, `exists`) and the clause
  answers `False`/`None`, noting it at most at debug or info level;
- module-level code binds a constant and the clause binds the same name to a fallback, without
  logging;
- the guarded code is one statement of instant calls (probes, conversions, string methods) and
  a comment explains the choice, without logging.
It never raises on any model.
"""

from __future__ import annotations

import ast

from errwise.audit.model import FileModel, FunctionInfo, HandlerInfo, walk_scope
from errwise.audit.names import dotted
from errwise.audit.rules._handler_context import commented

__all__ = [
    "capability_probe",
    "probe_body",
    "imports_only",
    "is_predicate",
    "predicate_question",
    "PROBE_CALLS",
    "INSTANT_CALLS",
]


def imports_only(body: list[ast.stmt]) -> bool:
    """The guarded code only imports: an import probe."""
    return bool(body) and all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in body)


PROBE_CALLS = frozenset(
    {
        "fileno",
        "isatty",
        "seekable",
        "readable",
        "writable",
        "getattr",
        "hasattr",
        "len",
        "hash",
        "iter",
        "callable",
        "isinstance",
        "issubclass",
        "vars",
        "find_spec",
        "import_module",
        "__import__",
        "version",
        "get_terminal_size",
        "getpreferredencoding",
        "getlocale",
        "get_running_loop",
        "get_event_loop",
        "signature",
        "getfullargspec",
        "getsourcefile",
        "getfile",
        "getmodule",
        "getuid",
        "geteuid",
        "getlogin",
        "getuser",
        "getpid",
        "getppid",
        "getenv",
        "getfqdn",
        "getpeername",
        "getsockname",
        "gethostname",
        "cpu_count",
        "sched_getaffinity",
        "sysconf",
        "ttyname",
        "get_ident",
        "encode",
        "decode",
        "lookup",
        "stat",
        "lstat",
        "fstat",
        "getmtime",
        "getsize",
        "getctime",
        "access",
        "exists",
        "is_file",
        "is_dir",
        "is_symlink",
        "isfile",
        "isdir",
        "islink",
        "joinpath",
    }
)
"""Calls (by their last name) that ask a value, a file's metadata or the platform what it can
do; they change nothing."""

INSTANT_CALLS = PROBE_CALLS | frozenset(
    {
        "int",
        "float",
        "str",
        "bytes",
        "bool",
        "ord",
        "chr",
        "repr",
        "format",
        "round",
        "abs",
        "gmtime",
        "localtime",
        "strftime",
        "mktime",
        "settimeout",
        "setblocking",
        "group",
        "split",
        "strip",
        "lower",
        "upper",
        "startswith",
        "endswith",
        "replace",
    }
)
"""Calls (by their last name) that return at once and run no foreign code: a probe, a
conversion, a string method."""

_NOTES = frozenset({"debug", "info", "warning", "warn", "warnings"})

_PREDICATE_PREFIXES = ("is_", "has_", "can_", "supports_", "exists", "isfile", "isdir")


def predicate_question(model: FileModel, handler: HandlerInfo) -> bool:
    """The clause is in a predicate and guards code that changes nothing: a yes/no question
    whose "could not tell" is "no" (a `-> bool` function that does work is not one)."""
    return (
        is_predicate(handler.function)
        and not model.effects_in(handler.try_.node.body).state_changing
    )


def is_predicate(function: FunctionInfo | None) -> bool:
    """A yes/no question by the convention of its name: `is_*`, `has_*`, `can_*`,
    `supports_*`, `exists`/`*_exists`, `isfile`, `isdir`. (A `-> bool` annotation is not
    enough: "did it work" flags are annotated `-> bool` too, and their `False` is exactly what
    hides errors.)"""
    if function is None:
        return False
    name = function.name.lstrip("_")
    return name.startswith(_PREDICATE_PREFIXES) or name.endswith("_exists")


def capability_probe(model: FileModel, handler: HandlerInfo) -> bool:
    """Is the clause the "no" answer of a capability probe (see the module promise)?"""
    facts = handler.facts
    if facts.reraises or facts.exits or not _answers_no(handler):
        return False
    body = handler.try_.node.body
    if model.effects_in(body).state_changing:
        return False
    if probe_body(model, body) and all(log.level in _NOTES for log in facts.logs):
        return True  # a note (debug, info, a warning) may say which fallback is used
    quiet_notes = not facts.logs_traceback and all(
        log.level in ("debug", "info") for log in facts.logs
    )
    if is_predicate(handler.function) and _answers_false(handler) and quiet_notes:
        return True  # "could not tell" is "no"; a debug note may say why
    if facts.logs_anything:
        return False
    if handler.function is None and _module_constant(handler):
        return True
    # a comment counts as evidence only for one statement of instant calls
    return len(body) == 1 and _instant_calls(model, body) and commented(model, handler)


def _instant_calls(model: FileModel, body: list[ast.stmt]) -> bool:
    return all(
        (c.attr or (c.qualname or "").rsplit(".", 1)[-1]) in INSTANT_CALLS
        for c in model.calls_in(body)
    )


def probe_body(model: FileModel, body: list[ast.stmt]) -> bool:
    """Every call in the guarded code is a probe, or the code only imports (and reads what it
    imported)."""
    if len(body) > 4 or any(isinstance(s, (ast.For, ast.While, ast.With, ast.Try)) for s in body):
        return False
    imports = any(isinstance(s, (ast.Import, ast.ImportFrom)) for s in body)
    raised = {
        id(n.exc)
        for s in body
        for n in walk_scope([s])
        if isinstance(n, ast.Raise) and isinstance(n.exc, ast.Call)
    }
    # constructing the exception a `raise` throws asks nothing and changes nothing
    calls = [c for c in model.calls_in(body) if id(c.node) not in raised]
    if not calls:
        # only imports, or only reads an attribute (`code = meth.func_code`)
        return imports or all(_reads_only(s) for s in body)
    for call in calls:
        name = call.attr or (call.qualname or "").rsplit(".", 1)[-1]
        if name not in PROBE_CALLS:
            return False
    return True


def _reads_only(stmt: ast.stmt) -> bool:
    """`name = obj.attr` / `name = obj.attr.attr`: an attribute probe."""
    return (
        isinstance(stmt, ast.Assign)
        and all(isinstance(t, ast.Name) for t in stmt.targets)
        and isinstance(stmt.value, ast.Attribute)
    )


def _simple_value(expr: ast.expr | None) -> bool:
    if expr is None or isinstance(expr, (ast.Constant, ast.Name)):
        return True
    if isinstance(expr, ast.Attribute):
        return dotted(expr) is not None
    if isinstance(expr, (ast.Tuple, ast.List, ast.Set, ast.Dict)):
        return not any(isinstance(n, ast.Call) for n in ast.walk(expr))
    if isinstance(expr, ast.UnaryOp):
        return isinstance(expr.operand, ast.Constant)
    if isinstance(expr, ast.Call):
        return isinstance(expr.func, ast.Name) and not expr.args and not expr.keywords
    return False


def _note(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)


def _answers_no(handler: HandlerInfo) -> bool:
    """The clause's body is `pass`/`continue`, returns / assigns a plain value, or provides a
    stand-in (an import, a class or function definition); a note may be logged."""
    for stmt in handler.node.body:
        if isinstance(stmt, (ast.Pass, ast.Continue)):
            continue  # no answer, or skip this item
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue
        if _note(stmt) and handler.facts.logs:
            continue  # checked by the caller: only notes may be logged
        if isinstance(stmt, ast.Return) and _simple_value(stmt.value):
            continue
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and _simple_value(stmt.value):
            continue
        if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.ClassDef, ast.FunctionDef)):
            continue  # an import fallback, or a stand-in implementation of the same thing
        if isinstance(stmt, ast.Try) and imports_only(stmt.body):
            continue  # the next import of a chain of fallbacks (its clauses are judged alone)
        return False
    return True


def _answers_false(handler: HandlerInfo) -> bool:
    """Returns `False`/`None`, or returns nothing here (the predicate goes on to its own
    answer)."""
    returns = [r for r in handler.facts.returns]
    return all(
        r.value is None or (isinstance(r.value, ast.Constant) and r.value.value in (None, False))
        for r in returns
    )


def _module_constant(handler: HandlerInfo) -> bool:
    """`try: X = probe() except ...: X = fallback` at module level."""
    # `try: probe  except: from slow import X  else: from fast import X` binds X either way
    bound = _bound_names([*handler.try_.node.body, *handler.try_.node.orelse])
    fallback = _bound_names(handler.node.body)
    return bool(fallback) and fallback <= bound


def _bound_names(stmts: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for node in walk_scope(stmts):
        if isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names
