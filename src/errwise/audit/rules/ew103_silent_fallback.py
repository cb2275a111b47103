"""EW103 silent-fallback: a handler swallows the error and the function answers with a hard-coded
default it never checked.

Promise: a finding only for an except clause that neither propagates, logs nor records the error,
catches more than one specific expected condition, and then (a) returns a hard-coded default
itself, (b) assigns one to a variable the try was computing, or (c) falls through so that the
function ends in `return <hard-coded default>` the try would otherwise have bypassed. `None`
and booleans are not "defaults" here (absence and failure flags); a default the code checks
before returning (an `if`/`assert` on it) is not silent. A narrow clause is reported too when
it catches only "malformed input" errors (`ValueError`, a decode or `...ConfigError`) raised
while reading the environment, a file or a configuration: a broken setting dropped without a
word. A fallback the function documents (its `default` parameter, a value its docstring names
for the failure) and a capability probe's "no" are not reported.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator

from errwise.audit.finding import Finding, Severity
from errwise.audit.handling import Verdict, expected_condition, verdict
from errwise.audit.model import FileModel, FunctionInfo, HandlerInfo, walk_scope
from errwise.audit.rule import Rule
from errwise.audit.rules._demo import library_demo
from errwise.audit.rules._fallback import documented_fallback, malformed_input, reads_outside
from errwise.audit.rules._handler_context import documented_choice, reports_elsewhere
from errwise.audit.rules._probe import capability_probe
from errwise.audit.rules._tolerated import read_only_lookup
from errwise.audit.text import call_list, caught_text

__all__ = ["RULE", "hard_default"]


def _module_constants(model: FileModel) -> set[str]:
    names: set[str] = set()
    for stmt in model.tree.body:
        if (
            isinstance(stmt, (ast.Assign, ast.AnnAssign))
            and stmt.value is not None
            and _literal(stmt.value)
        ):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _literal(expr: ast.expr) -> bool:
    if isinstance(expr, ast.Constant):
        return True
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.operand, ast.Constant):
        return True
    if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
        return all(_literal(e) for e in expr.elts)
    if isinstance(expr, ast.Dict):
        return all(k is not None and _literal(k) for k in expr.keys) and all(
            _literal(v) for v in expr.values
        )
    return False


_PLACEHOLDERS = frozenset({"unknown", "<unknown>", "(unknown)", "n/a", "?", "unavailable"})
"""Values that say they are not an answer: a visible placeholder is not a silent fallback."""


_ERROR_TEXT = re.compile(
    r"^\s*(could not|couldn't|cannot|can't|unable to|failed to|error\b)", re.IGNORECASE
)
"""An error message: a string that says something could not be done."""


def _constant_name(name: str) -> bool:
    return len(name) > 1 and name.isupper() and any(c.isalpha() for c in name)


def hard_default(
    expr: ast.expr | None, constants: set[str], source: str | None = None
) -> str | None:
    """The source of `expr` when it is a hard-coded default (a literal other than None and
    booleans, an empty or literal container, or a module-level constant); None otherwise."""
    if expr is None:
        return None
    if isinstance(expr, ast.Constant) and (expr.value is None or isinstance(expr.value, bool)):
        return None
    if isinstance(expr, ast.Constant) and str(expr.value).strip().lower() in _PLACEHOLDERS:
        return None
    if (
        isinstance(expr, ast.Constant)
        and isinstance(expr.value, str)
        and _ERROR_TEXT.search(expr.value)
    ):
        return None  # an error message handed back is a failure result, not a plausible answer
    if isinstance(expr, ast.Name):
        ok = expr.id in constants or _constant_name(expr.id)
    elif isinstance(expr, ast.Attribute):
        ok = _constant_name(expr.attr) and isinstance(expr.value, ast.Name)
    elif isinstance(expr, ast.Call):
        ok = (
            isinstance(expr.func, ast.Name)
            and expr.func.id in ("dict", "list", "set", "tuple")
            and not expr.args
            and not expr.keywords
        )
    else:
        ok = _literal(expr) and not (
            isinstance(expr, ast.Tuple) and any(_is_none_or_bool(e) for e in expr.elts)
        )
    if not ok:
        return None
    text = (ast.unparse(expr) if source is None else _segment(source, expr)) or ast.unparse(expr)
    return text if len(text) <= 40 else text[:39] + "…"


def _segment(source: str, node: ast.expr) -> str | None:
    """`ast.get_source_segment`, without splitting the whole source again on every call."""
    end, end_col = node.end_lineno, node.end_col_offset
    if end is None or end_col is None:
        return None
    lines = _lines(source)
    if end > len(lines):
        return None
    first = lines[node.lineno - 1].encode()
    if node.lineno == end:
        return first[node.col_offset : end_col].decode()
    parts = [first[node.col_offset :].decode(), *lines[node.lineno : end - 1]]
    parts.append(lines[end - 1].encode()[:end_col].decode())
    return "".join(parts)


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


@functools.lru_cache(maxsize=2)
def _lines(source: str) -> list[str]:
    """The lines of `source` with their endings, split where the parser splits them."""
    return _LINE.findall(source)


def _is_none_or_bool(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and (expr.value is None or isinstance(expr.value, bool))


_CONTAINED = frozenset({"__repr__", "__str__", "__format__", "__del__", "__exit__"})
"""Methods that must not raise: a placeholder value there is the correct design."""


def check(model: FileModel) -> Iterator[Finding]:
    constants = _module_constants(model)
    for handler in model.handlers:
        function = handler.function
        if function is None or function.is_generator:
            continue
        if expected_condition(handler) and not malformed_input(model, handler):
            continue  # one expected condition; but a broken setting dropped silently is not
        v = verdict(model, handler)
        if v not in (Verdict.FALLBACK, Verdict.SWALLOWS) or function.name in _CONTAINED:
            continue
        if reports_elsewhere(model, handler) or documented_choice(model, handler):
            continue
        if documented_fallback(model, handler) or capability_probe(model, handler):
            continue  # the fallback is the function's API, or a probe's "no"
        if library_demo(model, handler.node) or _names_its_errors(model, handler):
            continue
        if _pure_computation(model, handler.try_.node.body):
            continue  # nothing outside is read: no real cause to surface later
        found = (
            _returns_default(model, handler, constants)
            or _assigns_default(model, handler, constants)
            or _falls_to_default(model, handler, function, constants)
        )
        if found is None:
            continue
        if _unavailable_answer(model, handler, found[0]):
            continue
        node, value, how = found
        yield _finding(model, handler, node, value, how)


_PURE_PATH = frozenset(
    {"basename", "dirname", "join", "split", "splitext", "normpath", "normcase", "splitdrive"}
)
_PURE_METHODS = frozenset(
    {
        "strip",
        "lstrip",
        "rstrip",
        "split",
        "rsplit",
        "partition",
        "rpartition",
        "lower",
        "upper",
        "startswith",
        "endswith",
        "replace",
        "format",
        "join",
    }
)


def _pure_computation(model: FileModel, body: list[ast.stmt]) -> bool:
    """The guarded code only computes from values in hand: `os.path` string functions and
    string methods, nothing read from the environment, a file or a command. Whatever fails
    there is a bug of this code (broad-catch's concern), not an outside cause hidden behind
    a plausible answer."""
    calls = list(model.calls_in(body))
    if not calls or reads_outside(model, body):
        return False
    for call in calls:
        qual = call.qualname or ""
        if qual.startswith("os.path."):
            if qual.rsplit(".", 1)[-1] not in _PURE_PATH:
                return False
        elif call.attr not in _PURE_METHODS or ("." in qual and qual.split(".", 1)[0] == "os"):
            return False
    return True


def _names_its_errors(model: FileModel, handler: HandlerInfo) -> bool:
    """A broad clause whose own comment names the exceptions it is there for (`# This will
    raise OSError, or this bizarre TypeError`): the breadth is a stated choice."""
    if not handler.broad:
        return False
    node = handler.node
    for line in model.lines[node.lineno - 1 : node.end_lineno or node.lineno]:
        comment = line.partition("#")[2]
        if _ADMITS.search(comment):
            return False
        if _ERROR_CLASS.search(comment):
            return True
    return False


_ERROR_CLASS = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception)\b")
_ADMITS = re.compile(r"TODO|FIXME|XXX|HACK|\?")


def _unavailable_answer(model: FileModel, handler: HandlerInfo, node: ast.AST) -> bool:
    """A read-only lookup catching only file-access errors returns the value the function
    already returns under an `if` for "not available": an unreadable source is answered like
    an absent one, and callers handle that value."""
    if not isinstance(node, ast.Return) or node.value is None:
        return False
    function = handler.function
    if function is None or not read_only_lookup(model, handler):
        return False
    shown = ast.dump(node.value)
    for ret in function.normal_returns():
        if ret.node.value is None or ast.dump(ret.node.value) != shown:
            continue
        cur = model.parents.get(ret.node)
        while cur is not None and cur is not function.node:
            if isinstance(cur, ast.If):
                return True
            cur = model.parents.get(cur)
    return False


def _returns_default(
    model: FileModel, handler: HandlerInfo, constants: set[str]
) -> tuple[ast.AST, str, str] | None:
    for ret in handler.facts.returns:
        where = model.ctx(ret)
        if where.handler is not handler or where.try_ is not handler.try_:
            continue
        value = hard_default(ret.value, constants, model.source)
        if value is not None and not _int_literal(ret.value):
            return ret, value, "returns"
    return None


def _int_literal(expr: ast.expr | None) -> bool:
    """`return 2` / `return -1` from a handler is an error code the caller checks, not a
    plausible answer."""
    if isinstance(expr, ast.UnaryOp):
        expr = expr.operand
    return isinstance(expr, ast.Constant) and isinstance(expr.value, int)


def _assigned_names(stmts: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for node in walk_scope(stmts):
        if isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _assigns_default(
    model: FileModel, handler: HandlerInfo, constants: set[str]
) -> tuple[ast.AST, str, str] | None:
    computed = _assigned_names(handler.try_.node.body)
    for stmt in handler.node.body:
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and stmt.targets[0].id in computed
        ):
            value = hard_default(stmt.value, constants, model.source)
            if value is not None and not _examined_after(model, handler, stmt.targets[0].id):
                return stmt, value, f"sets `{stmt.targets[0].id}` to"
    return None


def _examined_after(model: FileModel, handler: HandlerInfo, name: str) -> bool:
    """Is the variable tested right after the try (`if raw and ...`, `if mtime != cached`)?
    Then the fallback value is looked at before it is used, not silently taken as an answer."""
    try_node = handler.try_.node
    parent = model.parents.get(try_node)
    for field in ("body", "orelse", "finalbody"):
        siblings: list[ast.stmt] = getattr(parent, field, None) or []
        for index, stmt in enumerate(siblings):
            if stmt is not try_node:
                continue
            following = siblings[index + 1 : index + 2]
            if bool(following) and (
                isinstance(following[0], (ast.If, ast.While, ast.Assert))
                and any(
                    isinstance(n, ast.Name) and n.id == name for n in ast.walk(following[0].test)
                )
            ):
                return True
            return _rejected_later(siblings[index + 1 :], name)
    return False


def _rejected_later(following: list[ast.stmt], name: str) -> bool:
    """Later in the same block, a test on the variable raises: `if n < 0: raise EOFError()`.
    The fallback is a marker the code turns into an error, not an answer."""
    for node in walk_scope(following):
        if not isinstance(node, ast.If):
            continue
        if not any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node.test)):
            continue
        if any(isinstance(stmt, ast.Raise) for stmt in node.body):
            return True
    return False


def _falls_to_default(
    model: FileModel, handler: HandlerInfo, function: FunctionInfo, constants: set[str]
) -> tuple[ast.AST, str, str] | None:
    """The handler swallows; the try would have returned; the function ends on a default."""
    if handler.facts.returns or handler.facts.continues or handler.facts.breaks:
        return None
    try_node = handler.try_.node
    if not any(
        isinstance(n, ast.Return) and n.value is not None for n in walk_scope(try_node.body)
    ):
        return None
    node = function.node
    if isinstance(node, ast.Lambda) or not node.body:
        return None
    last = node.body[-1]
    if not isinstance(last, ast.Return) or last.lineno <= (try_node.end_lineno or 0):
        return None
    value = hard_default(last.value, constants, model.source)
    if value is None or last.value is None:
        return None
    # Checked? An `if`/`assert`/call between the try and the return that looks at the default.
    shown = ast.dump(last.value)
    for stmt in node.body:
        if stmt.lineno <= (try_node.end_lineno or 0) or stmt is last:
            continue
        for sub in walk_scope([stmt]):
            tests = (
                [sub.test]
                if isinstance(sub, (ast.If, ast.Assert, ast.While))
                else list(sub.args)
                if isinstance(sub, ast.Call)
                else []
            )
            if any(ast.dump(n) == shown for t in tests for n in ast.walk(t)):
                return None
    return last, value, "lets the function fall through to return"


def _finding(
    model: FileModel, handler: HandlerInfo, node: ast.AST, value: str, how: str
) -> Finding:
    body = handler.try_.node.body
    calls = call_list(model, body)
    clause = "a bare `except`" if handler.bare else f"`except {caught_text(handler)}`"
    line = getattr(node, "lineno", handler.node.lineno)
    where = "" if line == handler.node.lineno else f" (line {line})"
    failure = f"a failure of {calls}" if calls else "the failure"
    message = (
        f"{clause} hides the error and {how} the hard-coded default `{value}`{where}, "
        f"never checked: {failure} becomes a plausible answer, and the real cause surfaces "
        "later, somewhere else"
    )
    return model.finding(
        RULE,
        handler.node,
        message,
        severity=Severity.HIGH if calls else Severity.MEDIUM,
        recommendation=(
            f"Do not answer `{value}` for an error you did not look at: let it propagate "
            "with context (`raise errwise.classify(exc).with_context(...) from exc`) or return "
            "`errwise.Err(...)`. If the default is right for one specific condition, catch only "
            f"that condition, verify `{value}` is valid (e.g. that the branch or file exists) "
            "and log that you fell back."
        ),
        anchor=node,
        claim=handler.node,
    )


RULE = Rule(
    id="EW103",
    name="silent-fallback",
    severity=Severity.HIGH,
    summary="A handler swallows the error, then the function returns a hard-coded default.",
    what="""
An `except` clause that neither re-raises, logs nor records the error and, instead, makes the
function answer with a hard-coded default: it returns a literal or a module constant itself
(`return DEFAULT_BRANCH`, `return {}`), sets the variable the `try` was computing to one, or
swallows so that the function falls through to a final `return DEFAULT_...` that the `try`
would have bypassed. Handlers for one specific expected condition (`except FileNotFoundError:
return default_config()`) are real fallbacks and are not reported — except a clause that
catches only "malformed input" (`ValueError`, a decode error, a project's `ConfigError`) while
reading the environment, a file or a configuration: `except ValueError: return DEFAULT_TTL`
around `int(os.environ["TTL"])` drops a broken setting without a word. Not reported either:
`None`/`False` results (see error-as-sentinel), defaults the code validates before returning, a
fallback that is the function's API (it returns its own `default` parameter, or the value its
docstring documents for the failure), a capability probe's "no", and demo code under
`if __name__ == "__main__":` of a library module. Nor: an error message handed back as the
result (`return "Could not set group id"`: a failure result, not a plausible answer); a marker
the code later rejects with an error (`n = -1` ... `if n < 0: raise EOFError()`); a broad
clause whose own comment names the exceptions it is there for; a read-only lookup catching only
`OSError` that returns the value the function already returns under an `if` for "not
available"; a try that only computes from values in hand (`os.path` string functions, string
methods, nothing read from outside): what fails there is a bug for broad-catch, not an outside
cause hidden behind the default.
""",
    why="""
The default is plausible, so nobody notices: `git` was missing or the repository broken, yet the
tool carries on with branch "main", which may not exist. The error then surfaces far away — a
cryptic "unknown revision" — with the original cause gone from every log.
""",
    example="""
def git_default_branch(root):
    try:
        result = run(["git", "symbolic-ref", "refs/remotes/origin/HEAD"], cwd=root)
        if result.returncode == 0:
            return result.stdout.strip().rsplit("/", 1)[-1]
    except Exception:
        pass
    return DEFAULT_BRANCH          # "main" might not exist
""",
    fix="""
Propagate what you did not expect; validate a fallback before using it:

```python
def git_default_branch(root) -> str:
    result = errwise.run(["git", "symbolic-ref", "--short", "refs/remotes/origin/HEAD"],
                         cwd=root, check=False, timeout=10)
    if result.returncode == 0:
        return result.stdout.strip().rsplit("/", 1)[-1]
    for branch in ("main", "master"):
        if branch_exists(root, branch):
            return branch
    raise errwise.env("ERR_NOT_FOUND", "cannot determine the default branch", root=root)
```
""",
    check=check,
    profile="strict",
    specificity=30,
)
