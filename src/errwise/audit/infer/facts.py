"""The compact, picklable per-file summary the inference links across files.

Promise: a `FileFacts` holds no AST and no model — only tuples, strings and frozensets — so
worker processes can build it (`summarize(model)`) and send it to the process that links all files
into a `Program`. A function's body is a `Block`: its raise sources in order (`Call`, `Raise`,
`Op`) and its `Try` statements with their handlers, nested as in the code.
`interface_digest` names what other files' name resolution can see of a file (everything but
its functions' bodies and lines), `shape_digest` the same but for the names of its functions and
properties; `edited_functions` tells which functions two versions of a file define differently.
"""

from __future__ import annotations

import dataclasses
import hashlib
import operator
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TypeVar

__all__ = [
    "Block",
    "Call",
    "CallKind",
    "FileFacts",
    "FuncFacts",
    "Handler",
    "Op",
    "Raise",
    "Try",
    "edited_functions",
    "interface_digest",
    "shape_digest",
]


T = TypeVar("T")


def _by_fields(cls: type[T]) -> type[T]:
    """Pickle instances as a call of the class with their fields: about half the bytes and
    half the time of a slotted dataclass's default (the summaries of a large tree are
    megabytes, sent from every worker and kept in the cache)."""
    get = operator.attrgetter(*(f.name for f in dataclasses.fields(cls)))  # type: ignore[arg-type]

    def __reduce__(self: T) -> tuple[type[T], tuple[object, ...]]:
        return cls, get(self)

    cls.__reduce__ = __reduce__  # type: ignore[assignment,method-assign]
    return cls


class CallKind(IntEnum):
    KNOWN = 0
    """Resolved by the knowledge base: `items` is what it raises."""
    FUNC = 1
    """`target` names a function or class of the program (a class: its constructor)."""
    METHOD = 2
    """`target` is a program class, `attr` the method (dispatch over subclasses)."""
    SUPER = 3
    """`super().attr(...)` in class `target`."""
    MODULE = 4
    """`import target`: runs the module's top-level code when it is part of the program."""
    UNKNOWN = 5
    """Cannot be resolved statically."""


@_by_fields
@dataclass(frozen=True, slots=True)
class Call:
    line: int
    col: int
    text: str
    """How the code names the call (`subprocess.run`, `p.unlink`), for messages."""
    kind: CallKind
    target: str | None = None
    attr: str | None = None
    items: frozenset[str] = frozenset()
    """For KNOWN: the knowledge base's raise-set items; for others: extra known items
    (an import's ImportError)."""
    incomplete: bool = False
    """For KNOWN: the entry says it may raise more than listed."""


@_by_fields
@dataclass(frozen=True, slots=True)
class Raise:
    line: int
    names: tuple[str, ...]
    """Candidate qualified names of the raised class (the first that resolves wins);
    empty with reraise=False: unknown."""
    reraise: bool = False
    """Bare `raise` or `raise <the handler's name>`: re-raises what the handler caught."""


@_by_fields
@dataclass(frozen=True, slots=True)
class Op:
    line: int
    items: frozenset[str]
    """What a built-in operation may raise (`d[k]`: KeyError, `a / b`: ZeroDivisionError).
    Items starting with `@` name attributes read from objects of unknown type: when the
    program defines a property of that name, the read may run it (unknown code)."""


@_by_fields
@dataclass(frozen=True, slots=True)
class Handler:
    line: int
    col: int
    caught: tuple[str, ...]
    """Canonical qualified names; empty for a bare `except:`; "?" for an unresolvable one."""
    body: Block
    verdict: str = ""
    """How the clause treats the error (`handling.Verdict` value: "swallows", "logs", ...)."""


@_by_fields
@dataclass(frozen=True, slots=True)
class Try:
    line: int
    col: int
    end_line: int
    body: Block
    handlers: tuple[Handler, ...]
    orelse: Block
    final: Block


Block = tuple["Call | Raise | Op | Try", ...]


@_by_fields
@dataclass(frozen=True, slots=True)
class FuncFacts:
    qualname: str
    """Fully qualified: `module.Class.method`; a module's top-level code is `module.<module>`."""
    line: int
    block: Block


@_by_fields
@dataclass(slots=True)
class FileFacts:
    path: str
    module: str
    functions: tuple[FuncFacts, ...]
    classes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Qualified class name -> qualified base names."""
    exports: dict[str, str] = field(default_factory=dict)
    """Top-level names bound by imports: name -> qualified target (for re-exports)."""
    star_imports: tuple[str, ...] = ()
    properties: frozenset[str] = frozenset()
    """Names of the properties the file defines."""
    protocols: frozenset[str] = frozenset()
    """Qualified names of its typing.Protocol classes (their methods dispatch structurally)."""
    generators: frozenset[str] = frozenset()
    """Qualified names of its undecorated generator functions: calling one runs none of its
    body (its errors come while the result is iterated)."""
    signal_handlers: tuple[str, ...] = ()
    """Qualified names of the functions it installs with `signal.signal` ("?" for a handler it
    cannot name): what they raise can arrive in any code of the program."""
    results: dict[str, tuple[str, str, bool]] = field(default_factory=dict)
    """Its functions that report failure through their return value: qualified name -> (kind:
    "value" for a sentinel or `False`, "none" for `None`; how, in words; whether the guarded
    code changes disk or lock state). Filled by the engine from
    `ew108_ignored_error_result.failure_results`; read through `Program.failure_result`."""


def interface_digest(facts: FileFacts | None) -> str:
    """A digest of what linking reads of a file besides its functions' bodies and lines:
    its module, the names it defines (functions, classes with their bases, properties,
    protocols) and the names it imports. Equal digests: every call in the program resolves
    the same way (`Program` resolves by these alone); None (no facts) has its own digest."""
    if facts is None:
        return _digest(None)
    return _digest(
        (
            _shape(facts),
            tuple(fn.qualname for fn in facts.functions),
            sorted(facts.properties),
        )
    )


def shape_digest(facts: FileFacts | None) -> str:
    """`interface_digest` without the function names and the properties: equal shapes, and
    the interfaces differ only by functions or properties added or removed."""
    return _digest(None if facts is None else _shape(facts))


def _shape(facts: FileFacts) -> object:
    return (
        facts.path,
        facts.module,
        sorted(facts.classes.items()),
        sorted(facts.exports.items()),
        facts.star_imports,
        sorted(facts.protocols),
        sorted(facts.generators),
        facts.signal_handlers,
    )


def _digest(shape: object) -> str:
    text = repr(shape).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=20).hexdigest()


def edited_functions(old: FileFacts, new: FileFacts) -> set[str]:
    """The functions of either version whose bodies differ, positions aside (a function whose
    code only moved raises what it raised, calling what it called), or that only one defines."""
    before = {fn.qualname: fn for fn in old.functions}
    after = {fn.qualname: fn for fn in new.functions}
    if len(before) != len(old.functions) or len(after) != len(new.functions):
        return set(before) | set(after)  # a name defined twice: compare them all as edited
    edited = set(before) ^ set(after)
    for qual in before.keys() & after.keys():
        if _unplaced(before[qual].block) != _unplaced(after[qual].block):
            edited.add(qual)
    return edited


def _unplaced(block: Block) -> tuple[object, ...]:
    """A block without its lines and columns."""
    out: list[object] = []
    for s in block:
        if isinstance(s, Call):
            out.append((s.text, s.kind, s.target, s.attr, s.items, s.incomplete))
        elif isinstance(s, Raise):
            out.append((s.names, s.reraise))
        elif isinstance(s, Try):
            handlers = tuple((h.caught, _unplaced(h.body), h.verdict) for h in s.handlers)
            out.append((_unplaced(s.body), handlers, _unplaced(s.orelse), _unplaced(s.final)))
        else:
            out.append(s.items)
    return tuple(out)
