"""What surrounds a `raise` statement: the shared judgements of the raise rules (EW112
raise-without-cause, EW119 unclassified-raise) and of any rule that must tell a lost failure
from a kept cause, a shown message or a programmer error.

Promise: each predicate reads only the file's model (the statement, its handler, its enclosing
statements and function, the file's comments and the project's ruff decisions), answers "yes"
only on evidence in the code, and never raises on any model:
- `kept_original(model, info)`: how much of the caught error a `raise` inside a handler passes
  on (the object, its text, its formatted traceback — or it was reported first — or nothing);
- `looks_like_a_bug(name)` / `CONTROL_FLOW`: builtin types the interpreter raises for bugs;
  types raised to steer the program;
- `shown_error(model, name)`: an error type shown to a user as its message (click's
  `ClickException` family, `argparse` errors, `SystemExit`, a class named `...UsageError`, a
  type the file's top level prints and exits on) or sent to a peer as a response (an RPC
  fault, an HTTP exception);
- `lint_decided(model, node, code)`: the project turned that lint code off, for the whole project
  (`[tool.ruff]` ignore) or for this statement (`# noqa: B904` on one of its lines);
- `non_library_path(path)`: tests (`_roles.is_test_path`), benchmarks, build and tool scripts;
- `programmer_error(model, info)`: why a generic raise reports a programmer error (an
  unreachable dispatch default, a check at configuration or decoration time, an API-misuse
  message, a stub, a documented exception) or None;
- `runtime_failure(model, info)`: evidence that the raise reports a failure of the world
  (it translates a caught error, or its guard probed the file system or a process);
- `uses_errwise(model)`: the file already speaks errwise, so recommending it is actionable;
- `runs_chosen_code(model, body)`: the guarded code runs code chosen at run time (a plug-in
  imported by a configured name, a method looked up by a name from data), whose own errors of
  any reason reach the clause.
"""

from __future__ import annotations

import ast
import enum
import posixpath
import re

from errwise.audit.model import (
    TRACEBACK_PRINT_CALLS,
    TRACEBACK_TEXT_CALLS,
    FileModel,
    FunctionInfo,
    RaiseInfo,
)
from errwise.audit.rules._roles import is_test_path

__all__ = [
    "Kept",
    "kept_original",
    "shown_error",
    "lint_decided",
    "non_library_path",
    "programmer_error",
    "runtime_failure",
    "uses_errwise",
    "runs_chosen_code",
    "CONTROL_FLOW",
    "looks_like_a_bug",
]

CONTROL_FLOW = frozenset(
    {"SystemExit", "KeyboardInterrupt", "StopIteration", "StopAsyncIteration", "GeneratorExit"}
)
"""Raised to steer the program (exit, stop an iteration), not to report a failure."""


_BUG_TYPES = frozenset(
    {
        "TypeError",
        "ValueError",
        "AttributeError",
        "NameError",
        "UnboundLocalError",
        "KeyError",
        "IndexError",
        "LookupError",
        "RuntimeError",
        "AssertionError",
        "ZeroDivisionError",
        "RecursionError",
        "NotImplementedError",
        "Exception",
    }
)
"""Builtin types the interpreter itself raises when code is wrong."""


def looks_like_a_bug(name: str | None) -> bool:
    """Is `name` a builtin type the interpreter raises for a programming mistake, so that a
    traceback reading "During handling of the above exception, another exception occurred"
    followed by it looks like a crash of the handler itself? A project's own type (or an
    `OSError`) reads as the deliberate translation it is."""
    return (name or "").removeprefix("builtins.") in _BUG_TYPES


class Kept(enum.Enum):
    """How much of the caught error a `raise` inside the handler passes on."""

    NOTHING = "nothing"
    """Neither the object nor its text: only Python's implicit `__context__` keeps it."""
    TEXT = "text"
    """Its message (`str(exc)`, `f"{exc}"`, `exc.strerror`) is in the new error's arguments."""
    TRACEBACK = "traceback"
    """Its formatted traceback (`traceback.format_exc()`) is in the new error's arguments."""
    OBJECT = "object"
    """The error object itself is an argument of the new error (or of what builds it, like
    `errwise.classify(exc)`, which records it as `__cause__`)."""


_TRACE_CALLS = TRACEBACK_TEXT_CALLS | {"traceback.format_exception_only", "traceback.format_tb"}


def kept_original(model: FileModel, info: RaiseInfo) -> Kept:
    """What of the caught error `info` (a raise inside an except clause) passes on. A name
    assigned in the clause from the error (`msg = str(exc)`, `tb = traceback.format_exc()`)
    carries what its value carried; a clause that logged or printed the traceback before the
    raise (`log.exception(...)`, `traceback.print_exc()`, a logged `format_exc()`) kept it."""
    handler = info.ctx.handler
    exc = info.node.exc
    if handler is None or exc is None:
        return Kept.NOTHING
    line = info.node.lineno
    facts = handler.facts
    earlier = [log for log in facts.logs if log.call.lineno < line]
    traced = any(log.with_traceback for log in earlier) or (facts.logs_traceback and earlier)
    if traced or any(
        (model.qualify(c.func) or "") in TRACEBACK_PRINT_CALLS and c.lineno < line
        for c in facts.calls
    ):
        return Kept.TRACEBACK  # the clause reported the original with its traceback first
    carriers: dict[str, Kept] = {}
    if handler.node.name:
        carriers[handler.node.name] = Kept.OBJECT
    for stmt in ast.walk(handler.node):
        if isinstance(stmt, ast.Assign) and stmt.lineno < info.node.lineno:
            value = stmt.value
            if isinstance(value, ast.Name) and value.id in carriers:
                kept = carriers[value.id]  # `err = exc`: the same object
            else:
                kept = _kept_in(model, value, carriers)
            if kept is not Kept.NOTHING:
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        carriers[target.id] = kept
    return _kept_in(model, exc, carriers)


_RANK = {Kept.NOTHING: 0, Kept.TEXT: 1, Kept.TRACEBACK: 2, Kept.OBJECT: 3}


def _kept_in(model: FileModel, expr: ast.expr, carriers: dict[str, Kept]) -> Kept:
    """What `expr` carries: a carrier passed straight to the call that builds the error (the
    constructor, or `classify(exc)` in `classify(exc).with_context(...)`) as itself; anywhere
    else (`str(exc)`, `f"{exc}"`, `describe(exc)`, `exc.strerror`) as text."""
    best = Kept.NOTHING

    def note(kept: Kept) -> None:
        nonlocal best
        if _RANK[kept] > _RANK[best]:
            best = kept

    for call in _builders(expr):
        for given in [*call.args, *(k.value for k in call.keywords)]:
            arg = given.value if isinstance(given, ast.Starred) else given
            if isinstance(arg, ast.Name) and arg.id in carriers:
                note(carriers[arg.id])
    for node in ast.walk(expr):
        if isinstance(node, ast.Call):
            name = model.qualify(node.func) or ""
            if name in _TRACE_CALLS:
                note(Kept.TRACEBACK)
            elif name == "sys.exc_info":
                note(Kept.TEXT)
        elif isinstance(node, ast.Name) and node.id in carriers:
            kept = carriers[node.id]
            note(Kept.TEXT if kept is Kept.OBJECT else kept)
    return best


def _builders(expr: ast.expr) -> list[ast.Call]:
    """The calls that build the raised error: the outermost call, and the calls its method
    chain starts from (`errwise.classify(exc)` in `errwise.classify(exc).with_context(x=1)`)."""
    found: list[ast.Call] = []
    node: ast.expr | None = expr
    while isinstance(node, ast.Call):
        found.append(node)
        func = node.func
        while isinstance(func, ast.Attribute):
            func = func.value
        node = func if isinstance(func, ast.Call) else None
    return found


# -- errors shown, not traced ----------------------------------------------------------------

_SHOWN_BASES = frozenset(
    {
        "SystemExit",
        "argparse.ArgumentTypeError",
        "argparse.ArgumentError",
        "click.ClickException",
        "click.UsageError",
        "click.BadParameter",
        "click.BadOptionUsage",
        "click.BadArgumentUsage",
        "click.MissingParameter",
        "click.NoSuchOption",
        "click.FileError",
        "click.Abort",
        "click.exceptions.ClickException",
        "click.exceptions.UsageError",
        "click.exceptions.BadParameter",
        "click.exceptions.BadOptionUsage",
        "click.exceptions.BadArgumentUsage",
        "click.exceptions.MissingParameter",
        "click.exceptions.NoSuchOption",
        "click.exceptions.FileError",
        "click.exceptions.Abort",
        "click.exceptions.Exit",
        "typer.Exit",
        "typer.Abort",
        "typer.BadParameter",
        "xmlrpc.client.Fault",
        "django.http.Http404",
        "fastapi.HTTPException",
        "starlette.exceptions.HTTPException",
    }
)
"""Error types whose consumer prints `str(err)` and exits without a traceback (click's,
argparse's, the interpreter's top level), or turns the error into a response to a peer (an
RPC fault, an HTTP status): no traceback reaches anyone who would read the chain."""
_SHOWN_MODULES = ("werkzeug.exceptions.", "aiohttp.web_exceptions.", "click.exceptions.")
_SHOWN_SUFFIXES = ("UsageError", "CommandError", "UserError", "Fault", "RPCError")
"""A project's own error class named for the user's mistake (its CLI shows it as a message), or
for a fault sent back to a remote caller."""
_SHOWN_NAMES = frozenset({"Exit"})
"""A project's stand-in for `SystemExit` (`raise Exit("message")`)."""


def shown_error(model: FileModel, name: str | None) -> bool:
    """Is `name` (a qualified class name from the model) an error a CLI shows as its message:
    one of the known shown types, a class named `...UsageError` / `...CommandError` /
    `...UserError` or `Exit`, a type this file's own top level shows as a message and exits on
    (`except AppError as e: print(e); sys.exit(1)`), or a class of this file deriving from one
    of those?"""
    if not name:
        return False
    here = _shown_here(model)
    bases: dict[str, list[str]] | None = model.memo.get("raise context bases")
    if bases is None:
        bases = model.memo["raise context bases"] = {c.qualname: c.bases for c in model.classes}
    todo, seen = [name.removeprefix("builtins.")], set[str]()
    while todo:
        cur = todo.pop()
        if cur in seen:
            continue
        seen.add(cur)
        short = cur.rpartition(".")[2]
        if (
            cur in _SHOWN_BASES
            or cur in here
            or cur.startswith(_SHOWN_MODULES)
            or short in _SHOWN_NAMES
            or short.endswith(_SHOWN_SUFFIXES)
        ):
            return True
        todo.extend(b.removeprefix("builtins.") for b in bases.get(cur, []))
    return False


def _shown_here(model: FileModel) -> frozenset[str]:
    """The types an except clause of this file reports as a message (printed or logged without
    a traceback) and then ends the program on (`sys.exit`, `raise SystemExit`, `return 1`)."""
    shown: frozenset[str] | None = model.memo.get("shown error types")
    if shown is None:
        names: set[str] = set()
        for handler in model.handlers:
            facts = handler.facts
            if not facts.logs or facts.logs_traceback or not handler.caught:
                continue
            if facts.exits or any(_status(r.value) for r in facts.returns):
                names.update(c.removeprefix("builtins.") for c in handler.caught if c != "?")
        names -= {"Exception", "BaseException"}  # a catch-all says nothing about one type
        shown = model.memo["shown error types"] = frozenset(names)
    return shown


def _status(value: ast.expr | None) -> bool:
    """An exit status: a non-zero int literal (`return 1`)."""
    return (
        isinstance(value, ast.Constant)
        and isinstance(value.value, int)
        and not isinstance(value.value, bool)
        and value.value != 0
    )


# -- decisions the project made ---------------------------------------------------------------

_NOQA = re.compile(r"#\s*noqa(?P<codes>:\s*[A-Za-z0-9]+(?:\s*,\s*[A-Za-z0-9]+)*)?", re.I)


def lint_decided(model: FileModel, node: ast.stmt, code: str) -> bool:
    """Did the project turn the lint `code` (e.g. `B904`) off for this statement: in its ruff
    configuration (an explicit ignore), or by a noqa comment naming the code (or a prefix of
    it) on one of the statement's lines? A bare noqa names nothing; a file-wide `# ruff: noqa`
    is not a decision about a statement (it keeps a linter quiet on a whole file, often one that
    is wrong on purpose)."""
    if model.config.lint_decided(code):
        return True
    end = getattr(node, "end_lineno", None) or node.lineno
    for line in model.lines[node.lineno - 1 : end]:
        if "#" in line:
            match = _NOQA.search(line)
            if match and _names_code(match.group("codes"), code):
                return True
    return False


def _names_code(codes: str | None, code: str) -> bool:
    if codes is None:
        return False  # a bare noqa: for a long line as likely as for this code; not a decision
    items = [c.strip().upper() for c in codes.lstrip(":").split(",")]
    return any(c and code.upper().startswith(c) for c in items)


# -- where the code runs ----------------------------------------------------------------------

_SCRIPT_DIRS = frozenset(
    {
        "benchmark",
        "benchmarks",
        "bench",
        "ci",
        "tools",
        "scripts",
        "script",
        "docs",
        "doc",
    }
)
_SCRIPT_FILES = frozenset({"setup.py", "noxfile.py", "fabfile.py", "__main__.py", "conftest.py"})


def non_library_path(path: str) -> bool:
    """Code that is not an API anyone calls: tests, `__main__.py`, build and task files
    (`setup.py`, `noxfile.py`), and files under benchmarks, docs, CI or tool scripts
    directories (not examples: an example package is code users copy). A raise there talks
    to the developer running it."""
    norm = path.replace("\\", "/")
    if is_test_path(norm) or posixpath.basename(norm) in _SCRIPT_FILES:
        return True
    return any(part in _SCRIPT_DIRS for part in norm.split("/")[:-1])


def uses_errwise(model: FileModel) -> bool:
    """Does the file import errwise (so its classified errors are the project's vocabulary)?"""
    known: bool | None = model.memo.get("imports errwise")
    if known is None:
        known = model.memo["imports errwise"] = _imports_errwise(model)
    return known


def _imports_errwise(model: FileModel) -> bool:
    for node in ast.walk(model.tree):
        if isinstance(node, ast.Import) and any(
            a.name.split(".")[0] == "errwise" for a in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "errwise":
            return True
    return False


# -- programmer errors and failures of the world ----------------------------------------------

_CONFIG_TIME = frozenset(
    {"__init__", "__new__", "__init_subclass__", "__set_name__", "__post_init__"}
)
"""Methods that run when an object, a class or a decorated function is set up: a check there
rejects how the API is used, before any operation runs."""

_MISUSE = re.compile(
    r"\bmust\b|\bcalled\b|\btwice\b|\balready\b|not (?:yet )?implemented|notyetimplemented"
    r"|not supported|unsupported|\bcan only\b|not allowed"
    r"|\bcan(?:not|'t| not) (?:be (?:used|called|combined|mixed|nested|reused)|reuse|call|use)\b"
    r"|\bnot (?:been |yet )?(?:configured|initiali[sz]ed|initiated|prepared|bound|running"
    r"|started|open|opened|enabled|set up|provided|registered)\b"
    r"|\bunknown\b|\bunexpected\b|\bunhandled\b|\binvalid\b|\billegal\b|\bimpossible\b"
    r"|\bunreachable\b|\bdon'?t know\b|\bshould(?:n'?t| not| never)\b|\brequired?\b"
    r"|\bno longer\b|\bbug\b|\boutside of\b",
    re.I,
)
"""Words of a message that tells the programmer they used the API wrongly, or that the code
reached a case it does not handle."""

_PROBES = frozenset(
    {
        "exists",
        "lexists",
        "isdir",
        "isfile",
        "islink",
        "ismount",
        "is_dir",
        "is_file",
        "is_symlink",
        "access",
        "is_alive",
        "poll",
        "which",
        "returncode",
        "stat",
        "lstat",
    }
)
"""Calls and attributes that ask the world (the file system, a process) a question."""


STUB = "a stub for subclasses to override"


def programmer_error(model: FileModel, info: RaiseInfo) -> str | None:
    """Why this raise reports a programmer error rather than a failure a caller handles, or
    None: the default of a dispatch (`elif ... else: raise`, `case _:`), a check at
    configuration or decoration time, an API-misuse message, a stub to override, or an
    exception the function's docstring documents."""
    node = info.node
    if _dispatch_default(model, node):
        return "the default branch of a dispatch: a case the code does not handle"
    fn = info.ctx.function
    if fn is not None:
        if fn.name in _CONFIG_TIME:
            return f"a check in `{fn.name}`, at set-up time"
        if _in_decorator(model, fn):
            return "a check of a decorator: it rejects how the decorated API is used"
        if _stub(fn, node):
            return STUB
        if _documents(fn, (info.exc_name or "").rpartition(".")[2]):
            return "the exception the function documents: callers rely on it"
    if _MISUSE.search(_message(model, info.node.exc, fn)[:_MAX_TEXT]):
        return "its message reports a misuse of the API or a case the code does not handle"
    return None


def runtime_failure(model: FileModel, info: RaiseInfo) -> bool:
    """Evidence that the raise reports a failure of the world: it translates a caught error
    (other than a missing key, index or attribute), or the `if` guarding it probed the file
    system or a process (`os.path.exists(p)`, `t.is_alive()`, `proc.returncode`), directly or
    through a name assigned from a probe."""
    handler = info.ctx.handler
    if handler is not None:
        # A missing key or attribute turned into an error is a precondition, not a failure.
        return handler.bare or not all(
            c.removeprefix("builtins.") in _LOOKUPS for c in handler.caught
        )
    guard = _guard(model, info.node)
    if guard is None:
        return False
    if _probes(guard.test):
        return True
    fn = info.ctx.function
    if fn is None or isinstance(fn.node, ast.Lambda):
        return False
    assigns = _assignments(model, fn)
    names = {n.id for n in ast.walk(guard.test) if isinstance(n, ast.Name)}
    return any(
        line < guard.lineno and _probes(value)
        for name in names
        for line, value in assigns.get(name, ())
    )


def _assignments(model: FileModel, fn: FunctionInfo) -> dict[str, list[tuple[int, ast.expr]]]:
    """`name = value` statements of the function (its nested scopes included), by name: read
    once per function, not once per raise."""
    memo: dict[int, dict[str, list[tuple[int, ast.expr]]]] = model.memo.setdefault(
        "raise context assignments", {}
    )
    found = memo.get(id(fn.node))
    if found is None:
        found = memo[id(fn.node)] = {}
        for stmt in ast.walk(fn.node):
            if isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        found.setdefault(target.id, []).append((stmt.lineno, stmt.value))
    return found


_LOOKUPS = frozenset(
    {"KeyError", "IndexError", "LookupError", "AttributeError", "NameError", "TypeError"}
)


def _probes(expr: ast.AST) -> bool:
    for node in ast.walk(expr):
        if isinstance(node, ast.Attribute) and node.attr in _PROBES:
            return True
        func = node.func if isinstance(node, ast.Call) else None
        if isinstance(func, ast.Name) and func.id in _PROBES:
            return True
    return False


def _guard(model: FileModel, node: ast.AST) -> ast.If | None:
    """The innermost `if` of the same scope whose branches hold `node`."""
    cur = model.parents.get(node)
    while cur is not None and not isinstance(
        cur, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.Module)
    ):
        if isinstance(cur, ast.If):
            return cur
        cur = model.parents.get(cur)
    return None


def _dispatch_default(model: FileModel, node: ast.stmt) -> bool:
    """`node` is a statement of the final `else` of an `if`/`elif` chain, or of `case _:`."""
    parent = model.parents.get(node)
    if isinstance(parent, ast.match_case):
        pattern = parent.pattern
        return isinstance(pattern, ast.MatchAs) and pattern.pattern is None and parent.guard is None
    if not isinstance(parent, ast.If) or node not in parent.orelse:
        return False
    above = model.parents.get(parent)
    return isinstance(above, ast.If) and above.orelse == [parent]


def _in_decorator(model: FileModel, fn: FunctionInfo) -> bool:
    """`fn` or a function enclosing it returns a function it defines (a decorator or a
    decorator factory)."""
    memo: dict[int, bool] = model.memo.setdefault("raise context decorators", {})
    cur: FunctionInfo | None = fn
    while cur is not None:
        node = cur.node
        known = memo.get(id(node))
        if known is None:
            known = memo[id(node)] = _returns_inner(node)
        if known:
            return True
        cur = cur.parent
    return False


def _returns_inner(node: ast.AST) -> bool:
    if isinstance(node, ast.Lambda):
        return False
    inner = {
        s.name
        for s in ast.walk(node)
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s is not node
    }
    return bool(inner) and any(
        isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Name) and stmt.value.id in inner
        for stmt in ast.walk(node)
    )


def _stub(fn: FunctionInfo, node: ast.stmt) -> bool:
    """The function's body is only (a docstring and) this raise."""
    if isinstance(fn.node, ast.Lambda):
        return False
    body = list(fn.node.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return body == [node]


_MAX_TEXT = 4000
"""Only this much of a docstring or a message is read (they are prose, not data)."""

_RAISES_WORDS = re.compile(r"\braises?\b[^.\n]*\b(?:exception|error)\b", re.I)


def _documents(fn: FunctionInfo, short_name: str) -> bool:
    """The function's docstring names the raised type or says it raises an exception."""
    if isinstance(fn.node, ast.Lambda):
        return False
    doc = (ast.get_docstring(fn.node, clean=False) or "")[:_MAX_TEXT]
    if not doc:
        return False
    if short_name and re.search(rf"\b{re.escape(short_name)}\b", doc):
        return True
    return bool(_RAISES_WORDS.search(doc))


def _message(model: FileModel, exc: ast.expr | None, fn: FunctionInfo | None) -> str:
    """The literal text of the raised error's first argument (f-string and `%`/`+`/`.format`
    pieces included, a local name assigned a literal in the function; empty when none)."""
    if not isinstance(exc, ast.Call) or not exc.args:
        return ""
    first = exc.args[0]
    text = _literal(first)
    if fn is not None and not isinstance(fn.node, ast.Lambda):
        assigns = _assignments(model, fn)
        for name in {n.id for n in ast.walk(first) if isinstance(n, ast.Name)}:
            for _, value in assigns.get(name, ())[:8]:
                text += " " + _literal(value)
    return text


def _literal(expr: ast.expr) -> str:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.JoinedStr):
        return " ".join(_literal(v) for v in expr.values)
    if isinstance(expr, ast.BinOp):
        return f"{_literal(expr.left)} {_literal(expr.right)}"
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
        return _literal(expr.func.value)  # "...".format(...)
    return ""


# -- code chosen at run time ------------------------------------------------------------------

_DYNAMIC_IMPORTS = frozenset(
    {
        "importlib.import_module",
        "__import__",
        "builtins.__import__",
        "importlib.__import__",
        "pkg_resources.EntryPoint.parse",
        "pkg_resources.load_entry_point",
        "runpy.run_path",
        "runpy.run_module",
        "werkzeug.utils.import_string",
        "django.utils.module_loading.import_string",
    }
)
"""Calls that import (and run) a module named by data: a configured plug-in, an entry point."""


_IMPORT_MISSES = frozenset({"ImportError", "ModuleNotFoundError"})
_CALL_MISSES = frozenset({"TypeError"})
_ANY = frozenset({"Exception", "BaseException"})
_PLUGIN_REASONS = "a missing dependency of the plug-in, a bug in its module code"
_METHOD_REASONS = "a bug inside the method"


def runs_chosen_code(
    model: FileModel, body: list[ast.stmt], caught: tuple[str, ...]
) -> tuple[str, str] | None:
    """Does the guarded code run code chosen at run time — a plug-in imported by a name from
    configuration (`importlib.import_module(spec)`, an entry point, a helper of this file that
    does so) or a method looked up by a name from data (`func = getattr(obj, name)` then
    `func(...)`) — and does the clause catch (`caught`, qualified names; empty for a bare
    `except`) the error that operation raises for "not found" / "called wrongly"
    (`ImportError`, `TypeError`) or any error? That error is then also what the chosen code
    raises for its own reasons (a missing dependency of the plug-in, a bug in the method), and
    the clause cannot tell them apart. Returns a short description of the call and of the
    chosen code's own reasons, or None."""
    short = {c.removeprefix("builtins.") for c in caught}
    imports = not caught or bool(short & (_IMPORT_MISSES | _ANY))
    calls = not caught or bool(short & (_CALL_MISSES | _ANY))
    fn_assigns: dict[str, list[tuple[int, ast.expr]]] = {}
    for node in ast.walk(ast.Module(body=list(body), type_ignores=[])):
        if not isinstance(node, ast.Call):
            continue
        name = model.qualify(node.func) or ""
        text = ast.unparse(node.func)
        if len(text) > 40:
            text = "…" + text[-39:]
        if imports and name in _DYNAMIC_IMPORTS:
            return f"`{text}()` imports a module named by data", _PLUGIN_REASONS
        helper = _local_function(model, node.func) if imports else None
        if helper is not None and _imports_dynamically(model, helper):
            return f"`{text}()` imports a module named by data", _PLUGIN_REASONS
        if not calls:
            continue
        if _looked_up_by_name(node.func):
            return f"`{text}()` calls a method looked up by name", _METHOD_REASONS
        if isinstance(node.func, ast.Name):
            fn = model.function_of(node)
            if fn is not None and not isinstance(fn.node, ast.Lambda):
                if not fn_assigns:
                    fn_assigns = _assignments(model, fn)
                values = [v for line, v in fn_assigns.get(node.func.id, ()) if line < node.lineno]
                if values and all(_looked_up_by_name(v) for v in values):
                    return (
                        f"`{text}()` calls a method looked up by a name from data",
                        _METHOD_REASONS,
                    )
    return None


def _looked_up_by_name(expr: ast.expr) -> bool:
    """`getattr(obj, name)` with a name that is not a literal (or a call of one)."""
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Call):
        expr = expr.func
    return (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id == "getattr"
        and len(expr.args) >= 2
        and not isinstance(expr.args[1], ast.Constant)
    )


def _local_function(model: FileModel, func: ast.expr) -> FunctionInfo | None:
    """The function of this file that `func` calls: `name(...)` of a module-level function, or
    `self.name(...)` of a method (of any class of the file: no inheritance is resolved)."""
    if isinstance(func, ast.Name):
        wanted, method = func.id, False
    elif (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in ("self", "cls")
    ):
        wanted, method = func.attr, True
    else:
        return None
    for fn in model.functions:
        if fn.name == wanted and (fn.class_name is not None) == method:
            return fn
    return None


def _imports_dynamically(model: FileModel, fn: FunctionInfo) -> bool:
    for node in ast.walk(fn.node):
        if isinstance(node, ast.Call) and (model.qualify(node.func) or "") in _DYNAMIC_IMPORTS:
            return True
    return False
