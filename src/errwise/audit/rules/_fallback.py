"""When a fallback value is the function's API, and when it hides a broken input.

Promise:
- `documented_fallback(model, handler)` is true when the clause answers with the function's own
  `default`/`fallback` parameter (`return default`), or with a value its docstring documents
  for a failure ("returns None if the file cannot be read"): the fallback is the contract.
- `malformed_input(model, handler)` is true when the clause catches only "this input is
  malformed" errors (`ValueError`, a decode error, a project's `...ConfigError`/`...ParseError`)
  raised while reading a value from outside the program — the environment, a file, a
  configuration — so that a silent fallback drops a broken setting without a word.
Both never raise on any model.
"""

from __future__ import annotations

import ast
import re

from errwise.audit.handling import short
from errwise.audit.model import FileModel, FunctionInfo, HandlerInfo, walk_scope
from errwise.audit.names import dotted

__all__ = ["documented_fallback", "malformed_input", "reads_outside"]

_FALLBACK_PARAM = re.compile(r"default|fallback|otherwise|if_missing|on_error", re.IGNORECASE)


def _parameters(function: FunctionInfo) -> set[str]:
    args = function.node.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    if args.vararg is not None:
        every.append(args.vararg)
    if args.kwarg is not None:
        every.append(args.kwarg)
    return {a.arg for a in every}


def _answers(model: FileModel, handler: HandlerInfo) -> list[ast.expr | None]:
    """The values the clause answers with: its own returns, and its assignments to a name the
    try was computing."""
    out: list[ast.expr | None] = [
        ret.value for ret in handler.facts.returns if model.ctx(ret).handler is handler
    ]
    out.extend(
        stmt.value
        for stmt in handler.node.body
        if isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets)
    )
    return out


def documented_fallback(model: FileModel, handler: HandlerInfo) -> bool:
    """Does the clause answer with the function's fallback parameter or a documented value?"""
    function = handler.function
    if function is None or isinstance(function.node, ast.Lambda):
        return False
    answers = _answers(model, handler)
    if not answers:
        return False
    params = {p for p in _parameters(function) if _FALLBACK_PARAM.search(p)}
    for value in answers:
        if (
            value is not None
            and params
            and any(isinstance(n, ast.Name) and n.id in params for n in ast.walk(value))
        ):
            return True
    doc = ast.get_docstring(function.node)
    if not doc:
        return False
    return all(_documented(doc, value) for value in answers)


_CONDITION = re.compile(
    r"\b(if|when|unless|otherwise|on failure|fails?|failed|cannot|can't|could not|couldn't|"
    r"not found|missing|invalid|unavailable|error)\b",
    re.IGNORECASE,
)


def _words(value: ast.expr | None) -> tuple[str, ...]:
    """How a docstring would name this value."""
    if value is None:
        return ("none", "nothing")
    if isinstance(value, ast.Constant):
        if value.value is None:
            return ("none",)
        if isinstance(value.value, bool):
            return (str(value.value).lower(),)
        if value.value == "":
            return ("empty", '""', "''")
        return (repr(value.value).lower(), str(value.value).lower())
    if isinstance(value, (ast.Dict, ast.List, ast.Tuple, ast.Set)) and not (
        value.keys if isinstance(value, ast.Dict) else value.elts
    ):
        return ("empty", ast.unparse(value))
    if isinstance(value, ast.Call) and not value.args and not value.keywords:
        return ("empty", ast.unparse(value))
    name = dotted(value) if isinstance(value, (ast.Name, ast.Attribute)) else None
    if name is not None:
        return (name.rsplit(".", 1)[-1].lower(),)
    return ()


def _documented(doc: str, value: ast.expr | None) -> bool:
    """Does a sentence of the docstring name `value` together with the condition it is for?"""
    words = _words(value)
    if not words:
        return False
    for sentence in re.split(r"(?<=[.;:])\s+|\n\s*\n", doc):
        lowered = sentence.lower()
        if not _CONDITION.search(sentence):
            continue
        if any(re.search(rf"(?<![\w]){re.escape(w)}(?![\w])", lowered) for w in words):
            return True
    return False


# -- malformed input ------------------------------------------------------------------------------

_MALFORMED = frozenset(
    {
        "ValueError",
        "UnicodeDecodeError",
        "UnicodeError",
        "json.JSONDecodeError",
        "json.decoder.JSONDecodeError",
        "tomllib.TOMLDecodeError",
        "configparser.Error",
        "configparser.ParsingError",
        "yaml.YAMLError",
    }
)
_MALFORMED_WORDS = ("config", "parse", "decode", "format", "syntax", "invalid", "settings")

_OUTSIDE_CALLS = frozenset(
    {
        "os.getenv",
        "os.environ.get",
        "open",
        "io.open",
        "json.load",
        "tomllib.load",
        "yaml.safe_load",
        "yaml.load",
    }
)
_OUTSIDE_METHODS = frozenset({"read_text", "read_bytes", "read", "readline", "readlines"})
_OUTSIDE_WORDS = frozenset(
    {"config", "configuration", "settings", "conf", "env", "environ", "load", "read", "parse"}
)


def _malformed_class(name: str) -> bool:
    if name in _MALFORMED:
        return True
    last = name.rsplit(".", 1)[-1].lower()
    return last.endswith("error") and any(w in last for w in _MALFORMED_WORDS)


def malformed_input(model: FileModel, handler: HandlerInfo) -> bool:
    """Does the clause catch only "malformed input" errors raised while reading a value from
    the environment, a file or a configuration?"""
    if handler.bare or not handler.caught:
        return False
    if not all(_malformed_class(short(c)) for c in handler.caught):
        return False
    return reads_outside(model, handler.try_.node.body)


def reads_outside(model: FileModel, body: list[ast.stmt]) -> bool:
    """Do these statements read from the environment, a file or a configuration?"""
    for node in walk_scope(body):
        if isinstance(node, (ast.Attribute, ast.Name)) and dotted(node) == "os.environ":
            return True
        if isinstance(node, ast.Subscript) and (model.qualify(node.value) or "") == "os.environ":
            return True
    for call in model.calls_in(body):
        qual = call.qualname or ""
        if qual in _OUTSIDE_CALLS or call.attr in _OUTSIDE_METHODS:
            return True
        name = (call.attr or qual.rsplit(".", 1)[-1]).lower().strip("_")
        if set(name.split("_")) & _OUTSIDE_WORDS or name.startswith(("load", "read", "parse")):
            return True
    return False
