"""Where a string that code splits comes from: outside the program, or a producer's format.

Promise: `outside_origin(model, stmt, expr)` follows `expr` back through text transformations
(`strip()`, `decode()`, `b64decode(...)`, slicing, formatting), the lines of a text (`for line
in text.splitlines()`, a comprehension over them), the loop that binds it, the local
assignments of its function (also a tuple assignment: a piece of a split string comes from
where the string came from) and the attributes its class's public `__init__` sets, and names
the outside source it reaches: a parameter of a public function or method (its callers pass
whatever they like), a command-line argument, an environment variable, `input()`, a file the
program reads as text (`path.read_text()`, `open(...)`), or git's `--porcelain` output, whose
documented records include bare keywords. Otherwise it returns None — "not known to come from
outside": the output of a command or an API, a private attribute, a private helper's
parameter, a stream the code reads (`readline()`, `next(it)`), whose format is the producer's
contract. A script's top-level code has no origin (its traceback is the line itself).
`regex_token` tells a loop variable of `re.findall`/`finditer`: a token the pattern shaped.
`api_product` tells a string traced (through loops, local assignments and a nested helper's
calls) to an API call's result, not a mapping lookup or a read: records in that API's format.
"""

from __future__ import annotations

import ast

from errwise.audit.model import FileModel
from errwise.audit.names import dotted
from errwise.audit.rules._flow import assignments

_TEXT_TRANSFORMS = frozenset(
    {
        "strip",
        "lstrip",
        "rstrip",
        "lower",
        "upper",
        "casefold",
        "decode",
        "encode",
        "replace",
        "removeprefix",
        "removesuffix",
        "splitlines",
        "split",
        "read",
        "readline",
        "recv",
    }
)
_DECODERS = frozenset(
    {
        "base64.b64decode",
        "base64.urlsafe_b64decode",
        "base64.standard_b64decode",
        "urllib.parse.unquote",
        "urllib.parse.unquote_plus",
        "str",
        "bytes",
    }
)
_FILE_READS = frozenset({"read_text", "read_bytes"})
_MAX_DEPTH = 6


def outside_origin(model: FileModel, stmt: ast.AST, expr: ast.expr) -> str | None:
    """A short description of the outside source of `expr`, or None (see the module doc)."""
    fn = model.function_of(stmt)
    if fn is None or not isinstance(fn.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None  # a script's top-level code: the traceback points at the line itself
    for node in _enclosing_loops(model, stmt):
        target = node.target
        if isinstance(target, ast.Name) and isinstance(expr, ast.Name) and target.id == expr.id:
            # the loop that binds the name here, not another loop reusing it
            return _iter_origin(model, fn.node, node.iter, 0, {expr.id})
    return _origin(model, fn.node, expr, 0, set())


def regex_token(model: FileModel, stmt: ast.AST, expr: ast.expr) -> bool:
    """Is `expr` the loop variable of `for term in re.findall(...)` / `finditer`: a token
    whose shape the pattern already fixed?"""
    for node in _enclosing_loops(model, stmt):
        target = node.target
        if isinstance(target, ast.Name) and isinstance(expr, ast.Name) and target.id == expr.id:
            it = node.iter
            return (
                isinstance(it, ast.Call)
                and isinstance(it.func, ast.Attribute)
                and (it.func.attr in ("findall", "finditer"))
            )
    return False


def _enclosing_loops(
    model: FileModel, stmt: ast.AST
) -> list[ast.For | ast.AsyncFor | ast.comprehension]:
    out: list[ast.For | ast.AsyncFor | ast.comprehension] = []
    node = model.parents.get(stmt)
    while node is not None and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        if isinstance(node, (ast.For, ast.AsyncFor)):
            out.append(node)
        elif isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)):
            out.extend(node.generators)
        node = model.parents.get(node)
    return out


def _origin(
    model: FileModel,
    fn: ast.FunctionDef | ast.AsyncFunctionDef,
    expr: ast.expr,
    depth: int,
    seen: set[str],
) -> str | None:
    if depth > _MAX_DEPTH:
        return None
    qualified = model.qualify(expr.value if isinstance(expr, ast.Subscript) else expr) or ""
    if qualified == "sys.argv":
        return "a command-line argument"
    if qualified == "os.environ":
        return "an environment variable"
    if isinstance(expr, ast.Attribute) and expr.attr in ("stdout", "output"):
        return _origin(model, fn, expr.value, depth + 1, seen)  # a command's captured output
    if isinstance(expr, ast.Subscript):
        return _origin(model, fn, expr.value, depth + 1, seen)
    if (
        isinstance(expr, ast.Attribute)
        and isinstance(expr.value, ast.Name)
        and expr.value.id == "self"
        and not expr.attr.startswith("_")
    ):
        return _init_origin(model, fn, expr.attr, depth, seen)
    if isinstance(expr, ast.Attribute) and _parsed_arguments(model, fn, expr.value):
        return "a command-line argument"
    if isinstance(expr, ast.BinOp):  # `"%s=%s" % (user, password)`, `a + ":" + b`
        parts: list[ast.expr] = [expr.left, expr.right]
        if isinstance(expr.right, ast.Tuple):
            parts[1:] = expr.right.elts
        for part in parts:
            found = _origin(model, fn, part, depth + 1, seen)
            if found:
                return found
        return None
    if isinstance(expr, ast.BoolOp):  # `parsed_args.headers or ()`
        for value in expr.values:
            found = _origin(model, fn, value, depth + 1, seen)
            if found:
                return found
        return None
    if isinstance(expr, ast.JoinedStr):
        for value in expr.values:
            if isinstance(value, ast.FormattedValue):
                found = _origin(model, fn, value.value, depth + 1, seen)
                if found:
                    return found
        return None
    if isinstance(expr, ast.Call):
        return _call_origin(model, fn, expr, depth, seen)
    if isinstance(expr, ast.Name):
        return _name_origin(model, fn, expr.id, depth, seen)
    return None


def _call_origin(
    model: FileModel,
    fn: ast.FunctionDef | ast.AsyncFunctionDef,
    call: ast.Call,
    depth: int,
    seen: set[str],
) -> str | None:
    name = model.qualify(call.func) or dotted(call.func) or ""
    if name in ("os.getenv", "os.environ.get"):
        return "an environment variable"
    if name == "input":
        return "user input"
    if any(_porcelain(arg) for arg in call.args):
        return "`--porcelain` output, whose documented lines include bare keywords"
    if name in _DECODERS and call.args:
        return _origin(model, fn, call.args[0], depth + 1, seen)
    if isinstance(call.func, ast.Attribute):
        method = call.func.attr
        if method in _FILE_READS:
            return "a file the program reads"
        if method in _TEXT_TRANSFORMS:
            return _origin(model, fn, call.func.value, depth + 1, seen)
    return None


def _name_origin(
    model: FileModel,
    fn: ast.FunctionDef | ast.AsyncFunctionDef,
    name: str,
    depth: int,
    seen: set[str],
) -> str | None:
    if name in seen:
        return None
    seen.add(name)
    params = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)]
    if name in params and name not in ("self", "cls"):
        if not _public(model, fn):
            return None
        outer = model.parents.get(fn)
        if isinstance(outer, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return f"a parameter of `{fn.name}`, a helper of the public `{outer.name}`"
        return f"a parameter of the public `{fn.name}`"
    for value in assignments(model, fn).get(name, []) + _unpacked_into(fn, name):
        found = _origin(model, fn, value, depth + 1, seen)
        if found:
            return found
    for node in ast.walk(fn):
        if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            target = node.target
            if isinstance(target, ast.Name) and target.id == name:
                found = _iter_origin(model, fn, node.iter, depth, seen)
                if found:
                    return found
        elif isinstance(node, ast.withitem):
            var = node.optional_vars
            if (
                isinstance(var, ast.Name)
                and var.id == name
                and _opens_file(model, node.context_expr)
            ):
                return "a file the program reads"
    return None


def _unpacked_into(fn: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> list[ast.expr]:
    """The values a tuple assignment gives `name`: the matching element of a tuple display
    (`ns, key = namespace, key[1:]`), or the whole value otherwise (`key, value =
    arg.split("=", 1)`: a piece of a string comes from where the string came from)."""
    out: list[ast.expr] = []
    for node in ast.walk(fn):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if not isinstance(target, (ast.Tuple, ast.List)):
                continue
            for i, element in enumerate(target.elts):
                if isinstance(element, ast.Name) and element.id == name:
                    value = node.value
                    if isinstance(value, (ast.Tuple, ast.List)):
                        if len(value.elts) == len(target.elts):
                            out.append(value.elts[i])
                    else:
                        out.append(value)
    return out


def _parsed_arguments(
    model: FileModel, fn: ast.FunctionDef | ast.AsyncFunctionDef, expr: ast.expr
) -> bool:
    """`args` from `parser.parse_args()`, or a parameter annotated `argparse.Namespace`."""
    if not isinstance(expr, ast.Name):
        return False
    for arg in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs):
        if arg.arg == expr.id and arg.annotation is not None:
            return (dotted(arg.annotation) or "").endswith("Namespace")
    return any(
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr in ("parse_args", "parse_known_args")
        for value in assignments(model, fn).get(expr.id, [])
    )


def _init_origin(
    model: FileModel,
    fn: ast.FunctionDef | ast.AsyncFunctionDef,
    attr: str,
    depth: int,
    seen: set[str],
) -> str | None:
    """`self.raw` that the class's public `__init__` sets from its own parameter."""
    cls = model.parents.get(fn)
    if not isinstance(cls, ast.ClassDef):
        return None
    for init in cls.body:
        if isinstance(init, ast.FunctionDef) and init.name == "__init__":
            for node in ast.walk(init):
                if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Attribute)
                    and isinstance(t.value, ast.Name)
                    and t.value.id == "self"
                    and t.attr == attr
                    for t in node.targets
                ):
                    found = _origin(model, init, node.value, depth + 1, set())
                    if found:
                        return found
    return None


def _iter_origin(
    model: FileModel,
    fn: ast.FunctionDef | ast.AsyncFunctionDef,
    it: ast.expr,
    depth: int,
    seen: set[str],
) -> str | None:
    """The lines of a text, the items of a comprehension over them, or an open file."""
    if isinstance(it, (ast.ListComp, ast.GeneratorExp)) and it.generators:
        return _iter_origin(model, fn, it.generators[0].iter, depth + 1, seen)
    if _opens_file(model, it):
        return "a file the program reads"
    if isinstance(it, ast.Name):
        for value in assignments(model, fn).get(it.id, []):
            found = _iter_origin(model, fn, value, depth + 1, seen)
            if found:
                return found
        return _origin(model, fn, it, depth + 1, seen)
    return _origin(model, fn, it, depth + 1, seen)


def _porcelain(arg: ast.expr) -> bool:
    """A command line asking git for porcelain output: `key value` records in which some
    attributes are a bare keyword (`bare`, `detached`, `locked` in `worktree list`)."""
    return isinstance(arg, (ast.List, ast.Tuple)) and any(
        isinstance(e, ast.Constant)
        and isinstance(e.value, str)
        and e.value.startswith("--porcelain")
        for e in arg.elts
    )


def _opens_file(model: FileModel, expr: ast.expr) -> bool:
    if not isinstance(expr, ast.Call):
        return False
    name = model.qualify(expr.func) or ""
    return name in ("open", "io.open") or (
        isinstance(expr.func, ast.Attribute) and expr.func.attr == "open" and not expr.args
    )


def _public(model: FileModel, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A function or method callers outside the module may call: its name and its class's
    name are not private — or a helper nested in such a function, which gets its inputs."""
    parent = model.parents.get(fn)
    if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return _public(model, parent)
    if fn.name.startswith("_") and not (fn.name.startswith("__") and fn.name.endswith("__")):
        return False
    if isinstance(parent, ast.ClassDef):
        if parent.name.startswith("_"):
            return False
        parent = model.parents.get(parent)
    return isinstance(parent, ast.Module)


# Calls whose result is still raw text or a lookup in data that may come from anywhere (a
# request's headers, a config mapping, a stream): not an API's own format.
_LOOKUPS = frozenset(
    {
        "get",
        "getall",
        "getlist",
        "getone",
        "get_all",
        "getheader",
        "getheaders",
        "pop",
        "setdefault",
        "items",
        "values",
        "keys",
        "readlines",
        "getenv",
        "input",
        "format",
        "join",
        "parse_args",
        "parse_known_args",
        *_FILE_READS,
    }
)


def api_product(model: FileModel, stmt: ast.AST, expr: ast.expr) -> bool:
    """Is `expr` the result of an API call, followed back through text transformations, the
    loops over its pieces or lines, the local assignments of its function, and — for a
    parameter of a helper nested in another function — the arguments of every call of that
    helper in its enclosing function? `for existing in client.get_partition_names(...)` then
    `_parse(existing)` with `name, value = part.split("=")`: records in the format the API
    returns. A lookup in a mapping (`headers.get(...)`, `.getlist(...)`), a read, `input()`,
    a command-line or environment value, or any name not traced to such a call: False."""
    fn = model.function_of(stmt)
    if fn is None or not isinstance(fn.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    return _product(model, fn.node, expr, 0, set())


def _product(
    model: FileModel,
    fn: ast.FunctionDef | ast.AsyncFunctionDef,
    expr: ast.expr,
    depth: int,
    seen: set[tuple[int, str]],
) -> bool:
    if depth > _MAX_DEPTH:
        return False
    if isinstance(expr, ast.Subscript):
        return _product(model, fn, expr.value, depth + 1, seen)
    if isinstance(expr, ast.Call):
        if not isinstance(expr.func, ast.Attribute):
            return False  # `str(x)`, `input()`, a function of this module: not followed
        method = expr.func.attr
        if method in _TEXT_TRANSFORMS:
            if method in ("read", "readline", "recv"):
                return False
            return _product(model, fn, expr.func.value, depth + 1, seen)
        name = model.qualify(expr.func) or ""
        return method not in _LOOKUPS and not name.startswith(("os.", "sys."))
    if not isinstance(expr, ast.Name) or (id(fn), expr.id) in seen:
        return False
    seen.add((id(fn), expr.id))
    name = expr.id
    params = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)]
    if name in params:
        return _helper_arguments(model, fn, params.index(name), depth, seen)
    sources: list[ast.expr] = [
        *assignments(model, fn).get(name, []),
        *(
            node.iter
            for node in ast.walk(fn)
            if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension))
            and isinstance(node.target, ast.Name)
            and node.target.id == name
        ),
    ]
    return bool(sources) and all(_product(model, fn, s, depth + 1, seen) for s in sources)


def _helper_arguments(
    model: FileModel,
    fn: ast.FunctionDef | ast.AsyncFunctionDef,
    index: int,
    depth: int,
    seen: set[tuple[int, str]],
) -> bool:
    """Every call of the nested helper `fn` in its enclosing function passes, at `index`, an
    API's product."""
    outer = model.parents.get(fn)
    if not isinstance(outer, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False  # a module function or a method: its callers are anywhere
    args = [
        node.args[index]
        for node in ast.walk(outer)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == fn.name
        and len(node.args) > index
        and not node.keywords
    ]
    calls = [
        node
        for node in ast.walk(outer)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == fn.name
    ]
    return (
        bool(args)
        and len(args) == len(calls)
        and all(_product(model, outer, a, depth + 1, seen) for a in args)
    )
