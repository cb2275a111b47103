"""EW115 unguarded-unpack: `a, b = s.split(sep, 1)` that crashes on input without `sep`.

Promise: flags an assignment (or `for` target) unpacking a `str.split`/`rsplit` result into a
fixed number of names (no starred target) when nothing guards the piece count. Guards that
silence it: an enclosing `if`/`while`/conditional expression, or an earlier early-exit `if` /
`assert` in the same block, whose test mentions the split string (a prefix test guards only
the branch where it held) (`if sep in s`,
`if s.count(sep) == 1`, `if line.startswith("key ")`, `if RE.match(s)`); a `try` around it that
catches ValueError; a constant receiver; the code's own data (class literals, UPPER_CASE tables,
strings built with the separator); callers that all catch ValueError or test the argument;
test code; strings not known to come from outside the program (see `_unpack_origin`), unless a
`key=value` pair is split without a limit — and then not when the string is traced to an API
call's result (`api_product`). The `else` branch of a prefix test (`if s[0] == "_": ... else:`,
`s.startswith(...)`) is not guarded by it: failing a prefix test says nothing about the
separator.
`partition`/`rpartition` never fail and are not flagged; module functions (`os.path.split`,
`re.split`) are not `str.split`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from errwise.audit.finding import Finding, Severity
from errwise.audit.model import FileModel
from errwise.audit.names import dotted
from errwise.audit.rule import Rule
from errwise.audit.rules._flow import (
    ancestors,
    assignments,
    enclosing_tries_catching,
    imported_receiver,
    in_test_code,
    mentions_expr,
    same_expr,
)
from errwise.audit.rules._unpack_origin import api_product, outside_origin, regex_token

_JUMPS = (ast.Return, ast.Raise, ast.Continue, ast.Break)


def check(model: FileModel) -> Iterator[Finding]:
    for node in model.nodes(ast.Assign):
        if len(node.targets) == 1:
            yield from _check(model, node, node.targets[0], node.value)
    for loop in model.nodes(ast.For):
        if isinstance(loop.iter, (ast.ListComp, ast.GeneratorExp)):
            yield from _check(model, loop, loop.target, loop.iter.elt)


def _check(
    model: FileModel, stmt: ast.stmt, target: ast.expr, value: ast.expr
) -> Iterator[Finding]:
    if not isinstance(target, (ast.Tuple, ast.List)) or len(target.elts) < 2:
        return
    if any(isinstance(e, ast.Starred) for e in target.elts):
        return
    value = _unwrap(model, value)
    if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Attribute):
        return
    method = value.func.attr
    receiver = value.func.value
    if method not in ("split", "rsplit") or isinstance(receiver, (ast.Constant, ast.JoinedStr)):
        return
    if imported_receiver(model, receiver):
        return  # os.path.split, re.split, shlex.split ...: not str.split
    if _produced_by_api(receiver) or _constant_lines(model, stmt, receiver):
        return
    sep, maxsplit = _split_args(value)
    if maxsplit is False:
        return  # a computed maxsplit: the author reasons about the count
    if sep is not None and not _text_separator(sep):
        return  # `group.split(StopTest)`, `pattern.split(text)`: not str.split
    n = len(target.elts)
    if maxsplit is not None and n != maxsplit + 1:
        return  # not str.split's count (a regex split with groups): the author knows more
    # `k, v = s.split("=")`: the value half of a key/value pair is free text, and a second
    # delimiter in it breaks the unpack whatever the source; a presence test does not bound it.
    free_value = (
        maxsplit is None
        and n == 2
        and isinstance(sep, ast.Constant)
        and sep.value in _KEY_VALUE_DELIMITERS
    )
    if model.function_of(stmt) is None:
        return  # a script's top-level code: its traceback points at this very line
    if free_value and regex_token(model, stmt, receiver):
        return  # `for term in re.findall(...)`: the pattern fixed the token's shape
    if _guarded(model, stmt, receiver, strict=free_value):
        return
    if _shape_is_the_codes_own(model, stmt, receiver, sep):
        return
    if in_test_code(model, stmt) or _callers_guard(model, stmt, receiver):
        return
    origin = outside_origin(model, stmt, receiver)
    if origin is None and not free_value:
        return  # a producer's format (a command's or an API's output, a private helper's input)
    if origin is None and api_product(model, stmt, receiver):
        return  # `k=v` records an API returned (through loops and local helpers): its format
    if origin is not None and _line_break(sep) and not free_value:
        return  # a multi-line message split at its first line: a program's format, not typed
    names = ", ".join(ast.unparse(e) for e in target.elts)
    source = ast.unparse(receiver)
    sep_text = "whitespace" if sep is None else f"`{ast.unparse(sep)}`"
    if maxsplit is not None and maxsplit == n - 1:
        expect = f"assumes `{source}` contains {sep_text}"
        crash = (
            "a value without it raises `ValueError: not enough values to unpack "
            f"(expected {n}, got 1)`"
        )
    else:
        expect = f"assumes `{source}` splits on {sep_text} into exactly {n} pieces"
        crash = "any other count raises `ValueError: ... values to unpack`"
    fix_sep = "sep" if sep is None else ast.unparse(sep)
    part = "rpartition" if method == "rsplit" else "partition"
    if free_value:
        crash = (
            f"a value holding a second {sep_text} or none raises `ValueError: ... values to unpack`"
        )
    where = f" (`{source}` comes from {origin})" if origin else ""
    yield model.finding(
        RULE,
        stmt,
        f"`{names} = {source}.{method}(...)` {expect}{where}: {crash}, which names neither the "
        "input nor the expected format",
        severity=RULE.severity,
        recommendation=(
            f"Check the shape before unpacking: `head, found, rest = {source}.{part}({fix_sep})` "
            f"then `if not found: raise errwise.target(...)` naming the value and the expected "
            f"format — or test `if {fix_sep} in {source}` / the piece count first."
            if n == 2 and sep is not None
            else "Split into a list, check `len(parts)`, and raise a classified error "
            "(`errwise.target(...)` / `errwise.usage(...)`) naming the value and the expected "
            "format when the count is wrong."
        ),
    )


# Calls whose result is still raw input: string transformations and reads.
_RAW_SOURCES = frozenset(
    {
        "strip",
        "lstrip",
        "rstrip",
        "lower",
        "upper",
        "casefold",
        "decode",
        "replace",
        "removeprefix",
        "removesuffix",
        "read",
        "readline",
        "recv",
        "getenv",
        "get",
        "input",
        "str",
        "format",
    }
)


def _produced_by_api(receiver: ast.expr) -> bool:
    """A value returned by some API (`part.get_content_type()`): its format is that API's
    contract, invisible here — unless the call only transforms or reads raw text."""
    if not isinstance(receiver, ast.Call):
        return False
    func = receiver.func
    name = func.attr if isinstance(func, ast.Attribute) else dotted(func) or ""
    return name.rsplit(".", 1)[-1] not in _RAW_SOURCES


_LITERALS = "EW115 module string literals"
"""`FileModel.memo` key: the names the module binds to a string literal at top level."""


def _constant_lines(model: FileModel, stmt: ast.stmt, receiver: ast.expr) -> bool:
    """`for line in TABLE.splitlines(): a, b = line.split()` over a string literal of this
    module: the data is in the source, not input."""
    if not isinstance(receiver, ast.Name):
        return False
    literals: set[str] | None = model.memo.get(_LITERALS)
    if literals is None:
        literals = model.memo[_LITERALS] = {
            t.id
            for node in model.tree.body
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, (str, bytes))
            for t in node.targets
            if isinstance(t, ast.Name)
        }
    for node in ancestors(model, stmt):
        if (
            isinstance(node, ast.For)
            and isinstance(node.target, ast.Name)
            and node.target.id == receiver.id
        ):
            it = node.iter
            return (
                isinstance(it, ast.Call)
                and isinstance(it.func, ast.Attribute)
                and it.func.attr in ("splitlines", "split")
                and (
                    isinstance(it.func.value, ast.Constant)
                    or (isinstance(it.func.value, ast.Name) and it.func.value.id in literals)
                )
            )
    return False


def _unwrap(model: FileModel, value: ast.expr) -> ast.expr:
    """`map(str.strip, s.split("=", 1))`, `tuple(...)`, `list(...)`: the count is the split's."""
    while (
        isinstance(value, ast.Call)
        and model.qualify(value.func) in ("map", "tuple", "list")
        and value.args
        and not value.keywords
    ):
        value = value.args[-1]
    return value


def _text_separator(sep: ast.expr) -> bool:
    """A literal string/bytes, or a lower-case name (`sep`, `os.sep`) — not a class."""
    if isinstance(sep, ast.Constant):
        return isinstance(sep.value, (str, bytes))
    name = dotted(sep)
    return name is not None and not name.rsplit(".", 1)[-1][:1].isupper()


def _split_args(call: ast.Call) -> tuple[ast.expr | None, int | bool | None]:
    """The separator expression and maxsplit (None: unlimited; False: not a constant)."""
    sep: ast.expr | None = call.args[0] if call.args else None
    count: ast.expr | None = call.args[1] if len(call.args) > 1 else None
    for kw in call.keywords:
        if kw.arg == "sep":
            sep = kw.value
        elif kw.arg == "maxsplit":
            count = kw.value
    if isinstance(sep, ast.Constant) and sep.value is None:
        sep = None
    if count is None:
        return sep, None
    if isinstance(count, ast.Constant) and isinstance(count.value, int):
        return sep, None if count.value < 0 else count.value
    return sep, False


_KEY_VALUE_DELIMITERS = frozenset({"=", ":", b"=", b":"})


def _line_break(sep: ast.expr | None) -> bool:
    return isinstance(sep, ast.Constant) and sep.value in ("\n", b"\n", "\r\n", b"\r\n")


def _guarded(model: FileModel, stmt: ast.stmt, receiver: ast.expr, *, strict: bool) -> bool:
    if enclosing_tries_catching(model, stmt, "ValueError"):
        return True
    return any(
        _guarded_by_test(model, stmt, subject, strict=strict) for subject in _subjects(receiver)
    )


def _subjects(receiver: ast.expr) -> list[ast.expr]:
    """The receiver and the strings it was made from by text transformations:
    `if " " in policy: policy.strip().split(" ", 1)` is guarded by a test of `policy`."""
    out = [receiver]
    while (
        isinstance(receiver, ast.Call)
        and isinstance(receiver.func, ast.Attribute)
        and receiver.func.attr in _TRANSFORMS
    ):
        receiver = receiver.func.value
        out.append(receiver)
    return out


_TRANSFORMS = frozenset({"strip", "lstrip", "rstrip", "lower", "upper", "casefold"})


def _guarded_by_test(
    model: FileModel, stmt: ast.AST, receiver: ast.expr, *, strict: bool = False
) -> bool:
    child: ast.AST = stmt
    for node in ancestors(model, stmt):
        if (
            isinstance(node, (ast.If, ast.While, ast.IfExp))
            and not _failed_prefix_test(node, child, receiver)
        ) and (
            _tests_shape(node.test, receiver, strict=strict)
            or _tests_through_a_name(model, stmt, node.test, receiver, strict=strict)
        ):
            return True
        if isinstance(node, ast.comprehension) and any(
            _tests_shape(cond, receiver, strict=strict) for cond in node.ifs
        ):
            return True
        if _earlier_exit_guard(node, child, receiver, strict=strict):
            return True
        child = node
    return _earlier_exit_guard(model.parents.get(child), child, receiver, strict=strict)


def _shape_is_the_codes_own(
    model: FileModel, stmt: ast.stmt, receiver: ast.expr, sep: ast.expr | None
) -> bool:
    """The split string is the code's own data, not input: a class attribute bound to a string
    literal (`cls.conf_encoding`), an element of a constant table the code iterates
    (`for spec in self.OPTIONS: spec[1].split(":")`), or a string the same function built
    with the separator (`key = f"{a}:{b}"`, `"%s:%s" % (a, b)`, `sep.join(...)`)."""
    root = receiver
    while isinstance(root, ast.Subscript):
        root = root.value
    if (
        isinstance(root, ast.Attribute)
        and isinstance(root.value, ast.Name)
        and root.value.id in ("self", "cls")
        and _class_literal(model, stmt, root.attr)
    ):
        return True
    if not isinstance(root, ast.Name):
        return False
    for node in ancestors(model, stmt):
        if (
            isinstance(node, ast.For)
            and isinstance(node.target, ast.Name)
            and node.target.id == root.id
        ):
            table = dotted(node.iter) or ""
            last = table.rsplit(".", 1)[-1]
            return bool(last) and last.isupper()
    fn = model.function_of(stmt)
    return (
        fn is not None
        and isinstance(fn.node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and sep is not None
        and _built_with(model, fn.node, root.id, sep)
    )


def _class_literal(model: FileModel, stmt: ast.stmt, attr: str) -> bool:
    node = model.parents.get(stmt)
    while node is not None and not isinstance(node, ast.ClassDef):
        node = model.parents.get(node)
    if not isinstance(node, ast.ClassDef):
        return False
    return any(
        isinstance(item, (ast.Assign, ast.AnnAssign))
        and isinstance(item.value, ast.Constant)
        and isinstance(item.value.value, (str, bytes))
        and any(
            isinstance(t, ast.Name) and t.id == attr
            for t in (item.targets if isinstance(item, ast.Assign) else [item.target])
        )
        for item in node.body
    )


def _built_with(
    model: FileModel, function: ast.FunctionDef | ast.AsyncFunctionDef, name: str, sep: ast.expr
) -> bool:
    """Every assignment of `name` in the function builds it from a template holding `sep`."""
    if not isinstance(sep, ast.Constant) or not isinstance(sep.value, (str, bytes)):
        return False
    values = assignments(model, function).get(name, [])
    if not values:
        return False
    token = sep.value

    def holds(value: ast.expr) -> bool:
        if isinstance(value, ast.JoinedStr):
            return any(
                isinstance(v, ast.Constant) and _contains(v.value, token) for v in value.values
            )
        if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mod):
            left = value.left
            return isinstance(left, ast.Constant) and _contains(left.value, token)
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
            base = value.func.value
            if value.func.attr == "join" and isinstance(base, ast.Constant):
                return base.value == token
            if value.func.attr == "format" and isinstance(base, ast.Constant):
                return _contains(base.value, token)
        return False

    return all(holds(v) for v in values)


def _contains(text: object, token: str | bytes) -> bool:
    return type(text) is type(token) and token in text  # type: ignore[operator]


def _callers_guard(model: FileModel, stmt: ast.stmt, receiver: ast.expr) -> bool:
    """The unpack's function is called in this file, and every call sits in a try that catches
    ValueError (`try: self._parse(line) except ValueError: continue`) or under a test of the
    argument the split string is (`if tag[:1] == "{": fixtag(tag)`, `if "/" in key: ...`)."""
    fn = model.function_of(stmt)
    if fn is None or isinstance(fn.node, ast.Lambda):
        return False
    root = receiver
    while isinstance(root, (ast.Subscript, ast.Call)):
        root = root.value if isinstance(root, ast.Subscript) else root.func
        if isinstance(root, ast.Attribute):
            root = root.value
    params = [a.arg for a in (*fn.node.args.posonlyargs, *fn.node.args.args)]
    index = params.index(root.id) if isinstance(root, ast.Name) and root.id in params else None
    by_name: dict[str, list[ast.Call]] | None = model.memo.get(_CALLS_BY_NAME)
    if by_name is None:
        by_name = model.memo[_CALLS_BY_NAME] = {}
        for c in model.calls:
            func = c.node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if isinstance(called, str):
                by_name.setdefault(called, []).append(c.node)
    calls = by_name.get(fn.node.name, [])
    bound = 1 if params[:1] in (["self"], ["cls"]) else 0

    def guarded(call: ast.Call) -> bool:
        if enclosing_tries_catching(model, call, "ValueError"):
            return True
        if index is None:
            return False
        at = index - (bound if isinstance(call.func, ast.Attribute) else 0)
        return 0 <= at < len(call.args) and _guarded_by_test(model, call, call.args[at])

    return bool(calls) and all(guarded(c) for c in calls)


_CALLS_BY_NAME = "EW115 calls by called name"
"""`FileModel.memo` key: the calls of the file by the name they call (`f(...)`, `x.f(...)`)."""


_SHAPE_METHODS = frozenset(
    {"count", "startswith", "endswith", "find", "rfind", "index", "rindex", "__contains__"}
)
_NOT_SHAPE_FUNCS = frozenset({"bool", "str", "repr", "isinstance", "print", "type", "id"})


def _tests_shape(test: ast.expr, receiver: ast.expr, *, strict: bool = False) -> bool:
    """Does the test constrain the string's content (not just its truth)? `sep in s`,
    `s.count(sep) == 1`, `s.startswith(...)`, `s[:1] == "{"`, `RE.match(s)`,
    `len(s.split(sep)) == 2`. `strict`: only tests that bound the piece count (`count`, a
    regex, `len(...)`) — a presence or prefix test does not."""
    for node in ast.walk(test):
        if isinstance(node, ast.Compare) and any(
            isinstance(op, (ast.In, ast.NotIn)) for op in node.ops
        ):
            if not strict and mentions_expr(node, receiver):
                return True
        elif isinstance(node, ast.Compare) and not strict and _prefix_test(node, receiver):
            return True
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and same_expr(func.value, receiver):
                if func.attr == "count" or (not strict and func.attr in _SHAPE_METHODS):
                    return True
            elif (dotted(func) or "") not in _NOT_SHAPE_FUNCS and any(
                mentions_expr(arg, receiver) for arg in node.args
            ):
                return True
    return False


def _tests_through_a_name(
    model: FileModel, stmt: ast.AST, test: ast.expr, receiver: ast.expr, *, strict: bool
) -> bool:
    """The test checks a name the function derived from the string: a flag holding a shape
    test (`needs = ":" in name` ... `if needs:`), or a piece of it (`scheme, _, _ =
    url.partition("://")` ... `if "+" in scheme:`)."""
    fn = model.function_of(stmt)
    if fn is None or isinstance(fn.node, ast.Lambda):
        return False
    tested = {n.id for n in ast.walk(test) if isinstance(n, ast.Name)}
    for node in ast.walk(fn.node):
        if not isinstance(node, ast.Assign) or not mentions_expr(node.value, receiver):
            continue
        for target in node.targets:
            for name in ast.walk(target):
                if not isinstance(name, ast.Name) or name.id not in tested:
                    continue
                if _tests_shape(node.value, receiver, strict=strict):
                    return True  # a flag: `needs = ":" in name`
                if not strict and _tests_shape(
                    test, ast.Name(id=name.id, ctx=ast.Load()), strict=strict
                ):
                    return True  # a piece of the string tested for the separator
    return False


def _failed_prefix_test(node: ast.AST, child: ast.AST, receiver: ast.expr) -> bool:
    """`if key[0] == "_": ... else: ns, key = key.split("_", 1)`: the `else` branch knows only
    that the string does not start (or end) with something, which says nothing about the
    separator it splits on — no guard there. A test of the separator itself (`if sep not in
    s: ... else:`) still guards both branches."""
    if isinstance(node, ast.If):
        in_else = child in node.orelse
    elif isinstance(node, ast.IfExp):
        in_else = child is node.orelse
    else:
        return False
    test = node.test
    if not in_else:
        return False
    if isinstance(test, ast.Compare):
        return (
            len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq) and _prefix_test(test, receiver)
        )
    return (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Attribute)
        and test.func.attr in ("startswith", "endswith")
        and same_expr(test.func.value, receiver)
    )


def _prefix_test(node: ast.Compare, receiver: ast.expr) -> bool:
    """`s[:1] == "{"`, `s[0] != "#"`: a comparison of a slice or character of the string with
    a literal."""
    sides = [node.left, *node.comparators]
    return any(
        isinstance(side, ast.Subscript) and same_expr(side.value, receiver) for side in sides
    ) and any(isinstance(side, ast.Constant) for side in sides)


def _earlier_exit_guard(
    parent: ast.AST | None, child: ast.AST, receiver: ast.expr, *, strict: bool = False
) -> bool:
    """An earlier statement of the same block that checks the receiver: an `assert`, or an
    `if` that leaves the block (`if sep not in s: continue`) — also one inside an earlier
    `try` (`except ImportError: if "." not in name: raise`)."""
    if parent is None:
        return False
    for field in ("body", "orelse", "finalbody"):
        block = getattr(parent, field, None)
        if not isinstance(block, list) or child not in block:
            continue
        for earlier in block[: block.index(child)]:
            if isinstance(earlier, ast.Assert) and _tests_shape(
                earlier.test, receiver, strict=strict
            ):
                return True
            candidates = [earlier]
            if isinstance(earlier, ast.Try):
                candidates += [s for h in earlier.handlers for s in h.body]
            for candidate in candidates:
                branch: ast.stmt = candidate
                while isinstance(branch, ast.If):  # `if ...: elif sep not in s: return None`
                    if (
                        _tests_shape(branch.test, receiver, strict=strict)
                        and branch.body
                        and isinstance(branch.body[-1], _JUMPS)
                    ):
                        return True
                    if len(branch.orelse) != 1:
                        break
                    branch = branch.orelse[0]
    return False


RULE = Rule(
    id="EW115",
    name="unguarded-unpack",
    severity=Severity.LOW,
    summary="`a, b = s.split(sep, 1)` with no guard on the piece count.",
    what="""
Unpacking `s.split(...)` / `s.rsplit(...)` into a fixed number of names (`key, value =
line.split(" ", 1)`, also `for k, v in (x.split("=") for x in items)`) when nothing checks that
the string has the expected shape. Silent when guarded: an enclosing `if`/`while`/conditional
expression or an earlier `if ...: continue`/`return`/`raise` or `assert` that tests the same
string (`if sep in s`, `s.count(sep)`, `s.startswith(...)` — a prefix test only in the branch
where it held, not its `else` — a regex match), a `try` catching
`ValueError`, a starred target (`a, *rest = ...`), `partition`/`rpartition`, and module
functions such as `os.path.split`.

Deliberately not reported, because the format is already guaranteed or a failure is already
handled: a guard on the string before a `strip()`/`lower()` (`if " " in s:
s.strip().split(" ", 1)`), an `elif ...: return` guard of an earlier if-chain, the code's own
data (a class attribute bound to a string literal, an element of an UPPER_CASE table the code
iterates, a string the same function built with the separator: `"%s:%s" % (a, b)`, an
f-string, `sep.join(...)`), a function whose every caller in the file catches ValueError, and
test code (`test_*.py`, `test*` functions, `Test*` classes), where a crash is the test failing.

Reported only when the string comes from outside the program — a parameter of a public function
or method or of a helper nested in one (or an attribute its public `__init__` sets from one), a
command-line argument (also `parse_args()` results and `argparse.Namespace` attributes), an
environment variable, `input()`, a file the program reads, git's `--porcelain` output (whose
records include bare keywords) — or when a `key=value` / `key:value` pair is split without a
limit, so a second delimiter in the value breaks it whatever the source. Not reported: lines of
a command's or an API's output and other producer formats, a private helper's parameter, a
private attribute, a multi-line message split at its first line break, a token a regex already
shaped (`for term in re.findall(...)`), a test through a name derived from the string (a flag
`needs = ":" in name`, a piece `scheme, _, _ = url.partition("://")` tested for the
separator), `key=value` records traced through loops and a local helper's calls to an API
call's result (`for r in client.get_partition_names(...)`), a prefix test of the argument at
every call site
(`if tag[:1] == "{": fixtag(tag)`), a guard inside an earlier `try` (`except ImportError: if
"." not in name: raise`), and a script's top-level code, whose traceback is the line itself.
""",
    why="""
Input from a file, a command or a user sooner or later lacks the separator. The program then
dies with `ValueError: not enough values to unpack (expected 2, got 1)` — a message that names
neither the offending line nor the format it expected, far from the code that produced the
input.
""",
    example="""
def read_state(path):
    state = {}
    for line in path.read_text().splitlines():
        key, value = line.split(":", 1)     # a hand-edited line without ":": crash
        state[key] = value
    return state
""",
    fix="""
Make the shape explicit and fail with a message that names the input:

```python
for line in path.read_text().splitlines():
    key, found, value = line.partition(":")
    if not found:
        raise errwise.target("ERR_PARSE", f"{path}: expected 'key: value', got {line!r}")
    state[key] = value
```
""",
    check=check,
    profile="strict",
)
