"""Small shared analyses for several rules: enclosing statements, the exception hierarchy, and
"is this node inside a try that catches X".

Promise: pure functions over a `FileModel`; nothing here walks the whole tree. The exception
hierarchy combines the builtin classes (read from `builtins` at analysis time), a table of
well-known standard-library exceptions, and the classes defined in the audited file itself.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterable, Iterator

from errwise.audit.model import FileModel, TryInfo
from errwise.audit.names import dotted
from errwise.audit.rules._roles import is_test_path

__all__ = [
    "ancestors",
    "same_expr",
    "imported_receiver",
    "mentions_expr",
    "exception_ancestors",
    "canonical_exception",
    "catches",
    "enclosing_tries_catching",
    "in_test_code",
    "assignments",
    "STDLIB_EXCEPTION_PARENTS",
]

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.Module)

# Well-known standard-library exceptions and the class each derives from (or is an alias of).
STDLIB_EXCEPTION_PARENTS: dict[str, str] = {
    "os.error": "OSError",
    "socket.error": "OSError",
    "select.error": "OSError",
    "socket.timeout": "TimeoutError",
    "socket.gaierror": "OSError",
    "socket.herror": "OSError",
    "ssl.SSLError": "OSError",
    "ssl.SSLCertVerificationError": "ssl.SSLError",
    "shutil.Error": "OSError",
    "shutil.SameFileError": "shutil.Error",
    "urllib.error.URLError": "OSError",
    "urllib.error.HTTPError": "urllib.error.URLError",
    "urllib.error.ContentTooShortError": "urllib.error.URLError",
    "json.JSONDecodeError": "ValueError",
    "json.decoder.JSONDecodeError": "ValueError",
    "tomllib.TOMLDecodeError": "ValueError",
    "binascii.Error": "ValueError",
    "binascii.Incomplete": "Exception",
    "subprocess.SubprocessError": "Exception",
    "subprocess.CalledProcessError": "subprocess.SubprocessError",
    "subprocess.TimeoutExpired": "subprocess.SubprocessError",
    "asyncio.TimeoutError": "TimeoutError",
    "asyncio.CancelledError": "BaseException",
    "asyncio.InvalidStateError": "Exception",
    "asyncio.IncompleteReadError": "EOFError",
    "concurrent.futures.TimeoutError": "TimeoutError",
    "concurrent.futures.CancelledError": "Exception",
    "queue.Empty": "Exception",
    "queue.Full": "Exception",
    "http.client.HTTPException": "Exception",
    "http.client.IncompleteRead": "http.client.HTTPException",
    "http.client.RemoteDisconnected": "ConnectionResetError",
    "zipfile.BadZipFile": "Exception",
    "tarfile.TarError": "Exception",
    "tarfile.ReadError": "tarfile.TarError",
    "configparser.Error": "Exception",
    "csv.Error": "Exception",
    "struct.error": "Exception",
    "zlib.error": "Exception",
    "re.error": "Exception",
    "locale.Error": "Exception",
    "pickle.PickleError": "Exception",
    "pickle.PicklingError": "pickle.PickleError",
    "pickle.UnpicklingError": "pickle.PickleError",
    "io.UnsupportedOperation": "OSError",
    "io.BlockingIOError": "BlockingIOError",
    "sqlite3.Error": "Exception",
    "sqlite3.DatabaseError": "sqlite3.Error",
    "sqlite3.OperationalError": "sqlite3.DatabaseError",
    "sqlite3.IntegrityError": "sqlite3.DatabaseError",
    "getopt.GetoptError": "Exception",
    "unittest.SkipTest": "Exception",
    "xml.parsers.expat.ExpatError": "Exception",
    "email.errors.MessageError": "Exception",
    "smtplib.SMTPException": "OSError",
    "ftplib.Error": "Exception",
    "signal.ItimerError": "OSError",
}


def ancestors(model: FileModel, node: ast.AST) -> Iterator[ast.AST]:
    """The nodes enclosing `node`, innermost first, up to (excluding) its scope."""
    cur = model.parents.get(node)
    while cur is not None and not isinstance(cur, _SCOPES):
        yield cur
        cur = model.parents.get(cur)


def imported_receiver(model: FileModel, expr: ast.expr) -> bool:
    """Is `expr` (`os.path`, `path` after `import posixpath as path`) rooted at an imported
    name — a module or an imported object, rather than a local value?"""
    name = dotted(expr)
    return name is not None and model.imports.lookup(name.split(".", 1)[0]) is not None


def same_expr(a: ast.AST, b: ast.AST) -> bool:
    """Structurally the same expression (ignoring positions and load/store context)."""
    return _shape(a) == _shape(b)


def _shape(node: ast.AST) -> str:
    return ast.dump(node, annotate_fields=False, include_attributes=False).replace(
        "Store()", "Load()"
    )


def mentions_expr(tree: ast.AST, expr: ast.AST) -> bool:
    """Does `tree` contain a sub-expression structurally equal to `expr`?"""
    wanted = _shape(expr)
    kind = type(expr)
    return any(type(n) is kind and _shape(n) == wanted for n in ast.walk(tree))


_CLASS_BASES = "class bases"
"""`FileModel.memo` key: the file's classes by qualified name -> their bases."""


def exception_ancestors(model: FileModel, name: str) -> frozenset[str] | None:
    """The names of `name` and every class it derives from (short builtin names), or None when
    the class is unknown (neither builtin, nor a known stdlib class, nor defined in this file)."""
    seen: set[str] = set()
    todo = [name]
    local: dict[str, list[str]] | None = model.memo.get(_CLASS_BASES)
    if local is None:
        local = model.memo[_CLASS_BASES] = {c.qualname: c.bases for c in model.classes}
    known = False
    while todo:
        cur = todo.pop().removeprefix("builtins.")
        if cur in seen:
            continue
        seen.add(cur)
        builtin = getattr(builtins, cur, None) if "." not in cur else None
        if isinstance(builtin, type) and issubclass(builtin, BaseException):
            known = True
            seen.update(c.__name__ for c in builtin.__mro__ if issubclass(c, BaseException))
        elif cur in STDLIB_EXCEPTION_PARENTS:
            known = True
            todo.append(STDLIB_EXCEPTION_PARENTS[cur])
        elif cur in local:
            bases = [b for b in local[cur] if b != "?"]
            if not bases or len(bases) != len(local[cur]):
                return None
            todo.extend(bases)
        else:
            return None
    return frozenset(seen) if known else None


def canonical_exception(name: str) -> str:
    """`IOError`/`EnvironmentError` -> `OSError` (builtin aliases); other names unchanged."""
    short = name.removeprefix("builtins.")
    builtin = getattr(builtins, short, None) if "." not in short else None
    if isinstance(builtin, type) and issubclass(builtin, BaseException):
        return builtin.__name__
    return short


def catches(model: FileModel, caught: tuple[str, ...], wanted: str) -> bool:
    """Does a clause catching `caught` (empty: bare except) catch `wanted` (a builtin name)?"""
    if not caught:
        return True
    ancestry = exception_ancestors(model, wanted) or frozenset({wanted})
    return any(canonical_exception(c) in ancestry for c in caught)


def enclosing_tries_catching(model: FileModel, node: ast.AST, wanted: str) -> list[TryInfo]:
    """The try statements (in this scope) whose body holds `node` and that catch `wanted`."""
    found: list[TryInfo] = []
    ctx = model.ctx(node)
    try_, part = ctx.try_, ctx.try_part
    while try_ is not None:
        if part == "body" and any(catches(model, h.caught, wanted) for h in try_.handlers):
            found.append(try_)
        outer = model.ctx(try_.node)
        if outer.function is not ctx.function:
            break
        try_, part = outer.try_, outer.try_part
    return found


def in_test_code(model: FileModel, node: ast.AST) -> bool:
    """Is the node test code — a file `test_*.py` / `*_test.py` / `conftest.py` or one under a
    `tests`/`test`/`testing` directory, or a function `test*` or class `Test*`? There an unexpected
    exception is the test failing, which is what the test is for."""
    if is_test_path(model.path):
        return True
    cur = model.parents.get(node)
    while cur is not None:
        if (
            isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef)) and cur.name.startswith("test")
        ) or (isinstance(cur, ast.ClassDef) and cur.name.startswith("Test")):
            return True
        cur = model.parents.get(cur)
    return False


_ASSIGNMENTS = "flow: assignments by scope"


def assignments(model: FileModel, scope: ast.AST) -> dict[str, list[ast.expr]]:
    """Name -> assigned values in a function (anywhere in it) or the module (top level only),
    computed once per scope."""
    memo: dict[int, dict[str, list[ast.expr]]] = model.memo.setdefault(_ASSIGNMENTS, {})
    found = memo.get(id(scope))
    if found is None:
        found = memo[id(scope)] = {}
        if isinstance(scope, ast.Module):
            nodes: Iterable[ast.AST] = scope.body
        elif isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            nodes = (n for stmt in scope.body for n in ast.walk(stmt))
        else:
            nodes = ()
        for node in nodes:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Name):
                        found.setdefault(t.id, []).append(node.value)
    return found
