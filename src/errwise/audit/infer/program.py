"""Link per-file summaries into one program and compute every function's raise-set.

Promise: `Program(facts_list)` resolves calls across files (following re-exports of
`from x import y` in package `__init__`s), dispatches `self.method()` over the subclasses that
override it, and iterates raise-sets to a fixpoint over the call graph: a function's raise-set is
its explicit raises, its callees' raise-sets and its operations' errors, minus what its own
handlers catch (respecting the class hierarchy; a bare `raise` or `raise e` re-raises what the
handler caught, `raise X from e` raises X). Recursion and import cycles terminate (the sets only
grow, over a finite universe). A raise-set is *complete* only when every call it depends on was
resolved; unknown calls make it incomplete, never silently empty.

Queries: `raise_set(qualname)`, `handler(path, line, col)` (what a try body raises and what one
except clause receives), `hidden_errors(path, line)` and `errnos(path, line)`. Every query by
place is a lookup in a table built once per file (clauses by line, tries and functions by the
lines they span), so a file's queries cost what its size does, not its size squared.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from errwise.audit.infer.facts import (
    Block,
    Call,
    CallKind,
    FileFacts,
    FuncFacts,
    Handler,
    Raise,
    Try,
)
from errwise.audit.infer.hierarchy import Hierarchy, errnos_of, item_class
from errwise.audit.infer.kb import KnowledgeBase, default_kb
from errwise.audit.infer.summarize import MODULE_CODE
from errwise.audit.spans import Innermost
from errwise.error import usage

__all__ = ["CallSite", "Flow", "HandlerResult", "Program", "Reads"]


def _callees_first(nodes: Iterable[str], callees: Mapping[str, Sequence[str]]) -> list[str]:
    """A depth-first post-order of the call graph: callees before their callers where the
    graph allows it, so most raise-sets are computed once (iterative, any depth)."""
    order: list[str] = []
    seen: set[str] = set()
    for root in nodes:
        if root in seen:
            continue
        seen.add(root)
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            node, index = stack[-1]
            succ = callees.get(node, ())
            if index < len(succ):
                stack[-1] = (node, index + 1)
                nxt = succ[index]
                if nxt not in seen and nxt in callees:
                    seen.add(nxt)
                    stack.append((nxt, 0))
            else:
                stack.pop()
                order.append(node)
    return order


def _line_owners(functions: Iterable[FuncFacts]) -> dict[int, FuncFacts]:
    """For each line holding a statement of some function, the function `line_flow` reads it
    from: of those starting on or before the line, the one starting last (the innermost)."""
    owners: dict[int, FuncFacts] = {}
    for fn in functions:
        stack: list[Block] = [fn.block]
        while stack:
            for s in stack.pop():
                if isinstance(s, Try):
                    stack.extend((s.body, s.orelse, s.final, *(h.body for h in s.handlers)))
                elif fn.line <= s.line:
                    best = owners.get(s.line)
                    if best is None or fn.line >= best.line:
                        owners[s.line] = fn
    return owners


_BROAD = frozenset({"Exception", "BaseException"})
UNKNOWN_ATTRIBUTE_READ = "~?attribute"
"""A quiet item: the code reads an attribute of an object of unknown type, whose descriptor
may raise (`cell.cell_contents`: ValueError). Never listed; only broad clauses catch it."""
_PARTS = re.compile(r"[.:@?]+")
"""What separates the parts of the names code mentions (`pkg.mod.f`, `@?attr`, `@pkg.C:attr`)."""
_LOOKED_UP = frozenset({CallKind.FUNC, CallKind.METHOD, CallKind.SUPER, CallKind.MODULE})
"""The calls whose targets are looked up among the program's names (a call the knowledge base
answers, or on an object of unknown type, names nothing there)."""
_FORMED = frozenset({"__init__", "__new__", "__post_init__", MODULE_CODE})
"""Function names lookups form without the code naming them (a class's constructor, a
module's top-level code)."""
_MAX_ROUNDS = 200
"""Safety net: evaluations per function before its set is declared incomplete."""


@dataclass(frozen=True, slots=True)
class Flow:
    """What may escape a piece of code: raise-set items, and whether more may (unknown code)."""

    items: frozenset[str] = frozenset()
    unknown: bool = False

    def __or__(self, other: Flow) -> Flow:
        if not other.items and not other.unknown:
            return self
        return Flow(self.items | other.items, self.unknown or other.unknown)


_EMPTY = Flow()
_UNKNOWN = Flow(frozenset(), True)


@dataclass(frozen=True, slots=True)
class HandlerResult:
    """One except clause, after inference."""

    path: str
    line: int
    col: int
    caught: tuple[str, ...]
    body: Flow
    """What the try body can raise (before any clause catches)."""
    received: frozenset[str]
    """What this clause catches (earlier clauses already took their part)."""
    complete: bool
    """`received` is complete: every call in the body resolved and every ancestry known."""
    unresolved: tuple[str, ...]
    """The calls of the try body (directly, or through audited code) that could not be resolved."""


@dataclass(frozen=True, slots=True)
class CallSite:
    """Where a program function is called from."""

    caller: str
    path: str
    line: int
    guards: tuple[Handler, ...]
    """The except clauses of the try bodies around the call, innermost try first."""
    on_error_path: bool = False
    """The call sits in an except clause or finally block (handling another failure)."""


@dataclass(slots=True)
class Reads:
    """What the program was asked while `Program.reading` was on: enough to tell, once some
    files change, whether the answers could differ (see `Program.depends`)."""

    functions: set[str] = field(default_factory=set)
    """Functions whose raise-sets or per-clause and per-line flows were read: each answer
    depends on the function's body and on everything it calls."""
    sites: set[str] = field(default_factory=set)
    """Functions whose call sites were listed: the answer depends on every file calling them."""
    paths: set[str] = field(default_factory=set)
    """Files whose clauses, lines, tries or calls were looked up, and the files of the call
    sites listed."""


@dataclass(slots=True)
class _Record:
    handlers: dict[tuple[int, int], HandlerResult]
    lines: dict[int, Flow]
    path: str


class Program:
    """All files' summaries linked; raise-sets solved lazily, each query solving only what its
    answer depends on."""

    def __init__(self, facts: Iterable[FileFacts], kb: KnowledgeBase | None = None) -> None:
        self.kb = kb or default_kb()
        self.files: dict[str, FileFacts] = {}
        self.functions: dict[str, FuncFacts] = {}
        self._path_of: dict[str, str] = {}
        self.classes: dict[str, tuple[str, ...]] = {}
        self._canonical: dict[str, str] = {}
        self._exports: dict[str, dict[str, str]] = {}
        for f in facts:
            if not isinstance(f, FileFacts):
                raise usage("ERR_USAGE", f"Program() takes FileFacts, got {type(f).__name__}")
            self.files[f.path] = f
            self._exports[f.module] = f.exports
            for fn in f.functions:
                self.functions[fn.qualname] = fn
                self._path_of[fn.qualname] = f.path
        for f in self.files.values():
            for cls, bases in f.classes.items():
                self.classes[cls] = tuple(self._canonical_uncached(b) for b in bases)
        self.hierarchy = Hierarchy(self.classes, self.kb)
        self._property_reads = frozenset(
            "@" + name for f in self.files.values() for name in f.properties
        )
        self._protocols = frozenset(p for f in self.files.values() for p in f.protocols)
        self._subclasses: dict[str, list[str]] = {}
        for cls, bases in self.classes.items():
            for base in bases:
                self._subclasses.setdefault(base, []).append(cls)
        self._resolved: dict[int, tuple[tuple[str, ...], Flow]] = {}
        self._flows: dict[Flow, Flow] = {}
        """One shared instance per distinct flow kept (resolutions, block constants, raise-sets):
        a program repeats a few thousand of them tens of thousands of times."""
        self._resolutions: dict[tuple[tuple[str, ...], Flow], tuple[tuple[str, ...], Flow]] = {}
        self._mros: dict[str, list[str | None]] = {}
        self._compiled: dict[int, tuple[Flow, tuple[str, ...], tuple[Try, ...], bool]] = {}
        self._keep: list[Block] = []
        """Blocks whose id() keys `_compiled` (kept alive so ids are not reused)."""
        self._state: dict[str, Flow] = {}
        """Raise-sets computed so far (see `_solve_for`)."""
        self._records: dict[str, _Record] = {}
        self._handler_index: dict[str, dict[tuple[int, int], str]] = {}
        self._try_index: dict[str, dict[tuple[int, int], Try]] = {}
        self._clauses_on: dict[str, dict[int, list[int]]] = {}
        """Path -> line -> the (0-based) columns of the except clauses on it, sorted."""
        self._sites: dict[str, list[tuple[str, str, int, tuple[Handler, ...], bool]]] | None = None
        self._calls_at: dict[str, dict[tuple[int, int], Call]] = {}
        self._line_owners: dict[str, dict[int, FuncFacts]] = {}
        self._tries_in: dict[str, list[tuple[int, int, Try]]] = {}
        self._tries_around: dict[str, Innermost[Try]] = {}
        self.reads: Reads | None = None
        """Where the queries are noted while `reading` is on."""
        self._bits = {path: 1 << n for n, path in enumerate(self.files)}
        self._reach: dict[str, int] = {}
        """Function -> the files (as `_bits`) of it and everything it calls, transitively."""
        self._callee_lists: dict[str, tuple[str, ...]] = {}

    # -- names ---------------------------------------------------------------------------------

    def canonical_name(self, name: str) -> str:
        """Follow re-exports (`pkg.X` where pkg/__init__ does `from ._impl import X`)."""
        cached = self._canonical.get(name)
        if cached is None:
            cached = self._canonical[name] = self._canonical_uncached(name)
        return cached

    def _canonical_uncached(self, name: str) -> str:
        for _ in range(16):
            if name in self.functions or name in self.classes:
                return name
            parts = name.split(".")
            moved = False
            for cut in range(len(parts) - 1, 0, -1):
                module = ".".join(parts[:cut])
                exports = self._exports.get(module)
                if exports is not None and parts[cut] in exports:
                    target = exports[parts[cut]]
                    rest = parts[cut + 1 :]
                    new = ".".join([target, *rest])
                    if new != name:
                        name, moved = new, True
                    break
            if not moved:
                return self.kb.canonical(name)
        return name

    def _mro(self, cls: str) -> list[str | None]:
        """Classes in method-resolution order (depth-first, left to right): program classes
        by name, None for a base that is neither a program class, a known exception nor
        `object` (its methods, or its metaclass, are unknown)."""
        cached = self._mros.get(cls)
        if cached is not None:
            return cached
        order: list[str | None] = []
        stack = [cls]
        seen: set[str] = set()
        while stack:
            current = stack.pop(0)
            if current in seen:
                continue
            seen.add(current)
            if current in self.classes:
                order.append(current)
                stack = list(self.classes[current]) + stack
            elif current != "object" and not self.hierarchy.known(current):
                order.append(None)
        self._mros[cls] = order  # stored whole: a failure halfway leaves nothing behind
        return order

    def _is_protocol(self, cls: str) -> bool:
        """A typing.Protocol (or a class deriving one): implementations need not subclass it,
        so its methods' bodies say nothing about what a call dispatches to."""
        return any(c in self._protocols for c in self._mro(cls) if c is not None)

    def _method(self, cls: str, attr: str, skip_self: bool = False) -> tuple[str | None, bool]:
        """(the function `cls.attr` resolves to, whether the lookup is certain)."""
        order = self._mro(cls)
        for c in order[1:] if skip_self else order:
            if c is None:
                return None, False
            qual = f"{c}.{attr}"
            if qual in self.functions:
                return qual, True
        return None, True

    def _overrides(self, cls: str, attr: str) -> list[str]:
        found: list[str] = []
        todo = list(self._subclasses.get(cls, ()))
        seen: set[str] = set()
        while todo:
            sub = todo.pop()
            if sub in seen:
                continue
            seen.add(sub)
            qual = f"{sub}.{attr}"
            if qual in self.functions:
                found.append(qual)
            todo.extend(self._subclasses.get(sub, ()))
        return found

    # -- resolution ----------------------------------------------------------------------------

    def _resolve(self, call: Call) -> tuple[tuple[str, ...], Flow]:
        cached = self._resolved.get(id(call))
        if cached is not None:
            return cached
        targets, flow = self._resolve_uncached(call)
        shared = (targets, self._shared(flow))
        result = self._resolutions.setdefault(shared, shared)
        self._resolved[id(call)] = result
        return result

    def _shared(self, flow: Flow) -> Flow:
        """The program's one instance of this flow value."""
        return self._flows.setdefault(flow, flow)

    def _resolve_uncached(self, call: Call) -> tuple[tuple[str, ...], Flow]:
        kind = call.kind
        if kind is CallKind.KNOWN:
            return (), Flow(call.items, call.incomplete)
        if kind is CallKind.UNKNOWN or call.target is None:
            return (), _UNKNOWN
        if kind is CallKind.MODULE:
            module_code = f"{call.target}.{MODULE_CODE}"
            if module_code in self.functions:
                return (module_code,), Flow(call.items)
            return (), Flow(call.items, True)
        target = self.canonical_name(call.target)
        if kind is CallKind.FUNC:
            if target in self.functions:
                return (target,), _EMPTY
            if target in self.classes:
                if None in self._mro(target):
                    return (), _UNKNOWN  # an unknown base or metaclass takes part
                ctors = [
                    self._method(target, m)[0] for m in ("__init__", "__new__", "__post_init__")
                ]
                return tuple(q for q in ctors if q is not None), _EMPTY
            if self.hierarchy.known(target):
                return (), _EMPTY  # constructing a known exception
            return (), _UNKNOWN
        attr = call.attr or ""
        if target not in self.classes or self._is_protocol(target):
            return (), _UNKNOWN
        if kind is CallKind.SUPER:
            base_method, complete = self._method(target, attr, skip_self=True)
            if base_method is not None:
                return (base_method,), _EMPTY
            if attr == "__init__" and complete:
                return (), _EMPTY
            return (), _UNKNOWN
        found, certain = self._method(target, attr)
        overrides = self._overrides(target, attr)
        if found is None or not certain:
            return tuple(overrides), _UNKNOWN
        return (found, *overrides), _EMPTY

    # -- fixpoint ------------------------------------------------------------------------------

    def calls(self, block: Block) -> Iterable[Call]:
        """Every call recorded in a block, nested tries included."""
        return self._calls(block)

    def resolved(self, call: Call) -> tuple[tuple[str, ...], Flow]:
        """(program functions it may run, what it raises besides them)."""
        return self._resolve(call)

    def _calls(self, block: Block) -> Iterable[Call]:
        stack: list[Block] = [block]
        while stack:
            for s in stack.pop():
                if isinstance(s, Call):
                    yield s
                elif isinstance(s, Try):
                    stack.append(s.body)
                    stack.append(s.orelse)
                    stack.append(s.final)
                    stack.extend(h.body for h in s.handlers)

    def solve(self) -> None:
        """Compute every function's raise-set (idempotent). Queries need not call it: each
        solves just the functions its answer depends on (`_solve_for`)."""
        self._solve_for(self.functions)

    def _solve_for(self, roots: Iterable[str]) -> None:
        """Compute the raise-sets of `roots` and of everything they call, transitively. A set
        once computed is final, so solving the rest later starts from it: the least fixpoint
        over the functions reached is the whole program's, restricted to them (what a function
        raises depends only on what it calls). On the standard library the audit's queries
        reach about a third of the functions."""
        final = self._state
        start = [q for q in roots if q not in final and q in self.functions]
        if not start:
            return
        callers: dict[str, set[str]] = {}
        callees: dict[str, list[str]] = {}
        stack = list(start)
        while stack:
            qual = stack.pop()
            if qual in callees:
                continue
            out = callees[qual] = []
            for call in self._calls(self.functions[qual].block):
                for callee in self._resolve(call)[0]:
                    out.append(callee)
                    if callee not in final:
                        callers.setdefault(callee, set()).add(qual)
                        if callee not in callees:
                            stack.append(callee)
        final.update(dict.fromkeys(callees, _EMPTY))  # read by `_eval`; final once solved
        try:
            self._iterate(start, callees, callers)
        except BaseException:
            for qual in callees:  # half-solved sets must not pass for final ones
                del final[qual]
            raise

    def _iterate(
        self, start: list[str], callees: dict[str, list[str]], callers: dict[str, set[str]]
    ) -> None:
        """The worklist fixpoint over the functions of `callees` (see `_solve_for`)."""
        final = self._state
        rounds: dict[str, int] = {}
        queue = deque(_callees_first(start, callees))
        queued = set(queue)
        while queue:
            qual = queue.popleft()
            queued.discard(qual)
            rounds[qual] = rounds.get(qual, 0) + 1
            new = self._eval(self.functions[qual].block, [], None)
            if rounds[qual] > _MAX_ROUNDS:
                new = Flow(new.items, True)
            if new != final[qual]:
                final[qual] = self._shared(new)
                for caller in callers.get(qual, ()):
                    if caller not in queued:
                        queued.add(caller)
                        queue.append(caller)

    def _compile(self, block: Block) -> tuple[Flow, tuple[str, ...], tuple[Try, ...], bool]:
        """A block's constant part (known calls, operations, explicit raises), the program
        functions it calls, its tries, and whether it re-raises."""
        key = id(block)
        cached = self._compiled.get(key)
        if cached is not None:
            return cached
        const = _EMPTY
        callees: list[str] = []
        tries: list[Try] = []
        reraises = False
        for s in block:
            if isinstance(s, Call):
                targets, flow = self._resolve(s)
                const = const | flow
                callees.extend(targets)
            elif isinstance(s, Try):
                tries.append(s)
            elif isinstance(s, Raise):
                if s.reraise:
                    reraises = True
                else:
                    const = const | self._raise_flow(s, [])
            else:
                const = const | self._op_flow(s.items)
        result = (self._shared(const), tuple(dict.fromkeys(callees)), tuple(tries), reraises)
        self._compiled[key] = result
        self._keep.append(block)
        return result

    def _op_flow(self, items: frozenset[str]) -> Flow:
        """An operation's items; attribute reads (`@name`) are unknown code when the program
        has a property of that name."""
        if not any(i.startswith("@") for i in items):
            return Flow(items)
        unknown = False
        for item in items:
            if not item.startswith("@"):
                continue
            cls, sep, attr = item[1:].rpartition(":")
            if not sep:
                unknown = unknown or "@" + item.removeprefix("@").removeprefix("?") in (
                    self._property_reads
                )
            elif self.canonical_name(cls) in self.classes:
                unknown = unknown or "@" + attr in self._property_reads
            else:
                unknown = True  # an attribute of a class outside the program: maybe a property
        kept = {i for i in items if not i.startswith("@")}
        if any(i.startswith("@?") for i in items):
            kept.add(UNKNOWN_ATTRIBUTE_READ)
        return Flow(frozenset(kept), unknown)

    def _eval(
        self,
        block: Block,
        active: list[Flow],
        record: _Record | None,
    ) -> Flow:
        if record is None:
            const, callees, tries, reraises = self._compile(block)
            items = set(const.items)
            unknown = const.unknown
            state = self._state
            for callee in callees:
                flow = state.get(callee, _EMPTY)
                items.update(flow.items)
                unknown = unknown or flow.unknown
            for t in tries:
                flow = self._eval_try(t, active, None)
                items.update(flow.items)
                unknown = unknown or flow.unknown
            if reraises:
                flow = active[-1] if active else _UNKNOWN
                items.update(flow.items)
                unknown = unknown or flow.unknown
            return Flow(frozenset(items), unknown)
        return self._eval_slow(block, active, record)

    def _eval_slow(
        self,
        block: Block,
        active: list[Flow],
        record: _Record | None,
    ) -> Flow:
        items: set[str] = set()
        unknown = False
        state = self._state
        for s in block:
            if isinstance(s, Call):
                callees, const = self._resolve(s)
                flow = const
                for callee in callees:
                    flow = flow | state.get(callee, _EMPTY)
            elif isinstance(s, Try):
                flow = self._eval_try(s, active, record)
            elif isinstance(s, Raise):
                flow = self._raise_flow(s, active)
            else:
                flow = self._op_flow(s.items)
            items |= flow.items
            unknown = unknown or flow.unknown
            if record is not None and not isinstance(s, Try):
                line = s.line
                record.lines[line] = record.lines.get(line, _EMPTY) | flow
        return Flow(frozenset(items), unknown)

    def _raise_flow(self, s: Raise, active: list[Flow]) -> Flow:
        if s.reraise:
            return active[-1] if active else _UNKNOWN
        for name in s.names:
            canon = self.canonical_name(name)
            if canon in self.functions:
                continue  # a factory function: its result's class is not known here
            if canon in self.classes or self.hierarchy.known(canon):
                return Flow(frozenset({canon}))
        for name in s.names:
            last = name.rpartition(".")[2]
            if last[:1].isupper() and self.canonical_name(name) not in self.functions:
                return Flow(frozenset({self.canonical_name(name)}))
        return _UNKNOWN

    def _eval_try(self, t: Try, active: list[Flow], record: _Record | None) -> Flow:
        body = self._eval(t.body, active, record)
        remaining = body.items
        escaping_unknown = body.unknown
        out: set[str] = set()
        out_unknown = False
        for h in t.handlers:
            if "?" in h.caught:
                received: frozenset[str] = frozenset()
                complete = False
                h_active = Flow(remaining, True)
            else:
                received, remaining, uncertain = self.hierarchy.split(remaining, h.caught)
                complete = not body.unknown and not uncertain
                h_active = Flow(received, not complete)
                if not h.caught or _BROAD & set(h.caught):
                    escaping_unknown = False
            flow = self._eval(h.body, [*active, h_active], record)
            out |= flow.items
            out_unknown = out_unknown or flow.unknown
            if record is not None:
                shown = received
                if not h.caught or "BaseException" in h.caught:
                    shown = received | {"KeyboardInterrupt"}  # Ctrl-C can land anywhere
                record.handlers[(h.line, h.col)] = HandlerResult(
                    record.path,
                    h.line,
                    h.col,
                    h.caught,
                    body,
                    shown,
                    complete,
                    self._unresolved(t.body),
                )
        rest = self._eval(t.orelse, active, record) | self._eval(t.final, active, record)
        return Flow(
            frozenset(remaining | out | rest.items),
            escaping_unknown or out_unknown or rest.unknown,
        )

    def _unresolved(self, block: Block) -> tuple[str, ...]:
        names: list[str] = []
        seen: set[str] = set()
        todo = [block]
        while todo and len(names) < 8:
            current = todo.pop()
            for call in self._calls(current):
                callees, const = self._resolve(call)
                if const.unknown or any(self._state.get(c, _EMPTY).unknown for c in callees):
                    if const.unknown and not callees:
                        text = call.text
                    else:
                        text = f"{call.text} (calls unresolved code)"
                    if text not in seen:
                        seen.add(text)
                        names.append(text)
        return tuple(names)

    # -- queries -------------------------------------------------------------------------------

    def raise_set(self, qualname: str) -> tuple[list[str], bool]:
        """(exception names most specific first, complete) of a program function."""
        qual = self.canonical_name(qualname)
        self._note_function(qual)
        self._solve_for((qual,))
        flow = self._state.get(qual)
        if flow is None:
            return [], False
        return self.hierarchy.ordered(flow.items), not flow.unknown

    def errnos_of_function(self, qualname: str) -> list[str]:
        """The errno names a program function's raise-set carries."""
        flow = self.flow(qualname)
        return [] if flow is None else errnos_of(flow.items)

    def flow(self, qualname: str) -> Flow | None:
        """The raw raise-set items of a function (errno and quiet items included)."""
        qual = self.canonical_name(qualname)
        self._note_function(qual)
        self._solve_for((qual,))
        return self._state.get(qual)

    def _record(self, qual: str) -> _Record:
        self._note_function(qual)
        rec = self._records.get(qual)
        if rec is None:
            self._solve_for((qual,))
            rec = _Record({}, {}, self._path_of.get(qual, ""))
            self._eval(self.functions[qual].block, [], rec)
            self._records[qual] = rec
        return rec

    def _index(self, path: str) -> dict[tuple[int, int], str]:
        self._note_path(path)
        index = self._handler_index.get(path)
        if index is None:
            index = {}
            tries: dict[tuple[int, int], Try] = {}
            facts = self.files.get(path)
            for fn in facts.functions if facts is not None else ():
                stack: list[Block] = [fn.block]
                while stack:
                    for s in stack.pop():
                        if isinstance(s, Try):
                            for h in s.handlers:
                                index[(h.line, h.col)] = fn.qualname
                                tries[(h.line, h.col)] = s
                                stack.append(h.body)
                            stack.extend((s.body, s.orelse, s.final))
            on_line: dict[int, list[int]] = {}
            for line, col in sorted(index):
                on_line.setdefault(line, []).append(col)
            self._handler_index[path] = index
            self._try_index[path] = tries
            self._clauses_on[path] = on_line
        return index

    def _clause_at(self, path: str, line: int, col: int | None) -> tuple[int, int] | None:
        """The key of the except clause at `line` (and `col`): the first on the line."""
        self._index(path)
        cols = self._clauses_on.get(path, {}).get(line)
        if not cols:
            return None
        if col is None:
            return line, cols[0]
        return (line, col) if col in cols else None

    def handler_positions(self, path: str) -> list[tuple[int, int]]:
        """(line, col) of every except clause of a file, sorted."""
        return sorted(self._index(path))

    def try_of(self, path: str, line: int, col: int | None = None) -> Try | None:
        """The try statement owning the except clause at `line` (and `col`)."""
        key = self._clause_at(path, line, col)
        return None if key is None else self._try_index[path][key]

    def handler(self, path: str, line: int, col: int | None = None) -> HandlerResult | None:
        """The except clause at `line` (and `col`, 0-based, when several share the line)."""
        key = self._clause_at(path, line, col)
        if key is None:
            return None
        return self._record(self._handler_index[path][key]).handlers.get(key)

    def hidden_errors(self, path: str, line: int, col: int | None = None) -> tuple[list[str], bool]:
        """What the except clause at `line` hides: names most specific first, and whether
        the list is complete. ([], False) when there is no clause there."""
        result = self.handler(path, line, col)
        if result is None:
            return [], False
        return self.hierarchy.ordered(result.received), result.complete

    def errnos(self, path: str, line: int, col: int | None = None) -> list[str]:
        """The errno names the except clause at `line` receives (EEXIST, EXDEV, ...)."""
        result = self.handler(path, line, col)
        return [] if result is None else errnos_of(result.received)

    def line_flow(self, path: str, line: int) -> Flow | None:
        """What the code on one line may raise (its calls and operations), or None."""
        self._note_path(path)
        owners = self._line_owners.get(path)
        if owners is None:
            facts = self.files.get(path)
            if facts is None:
                return None
            owners = self._line_owners[path] = _line_owners(facts.functions)
        best = owners.get(line)
        if best is None:
            return None
        return self._record(best.qualname).lines.get(line)

    def tries_in(self, path: str) -> list[tuple[int, int, Try]]:
        """Every try statement of a file as (first line, line of its first except clause or
        the line after it, the try), each function's outermost first."""
        self._note_path(path)
        tries = self._tries_in.get(path)
        if tries is None:
            tries = self._tries_in[path] = []
            facts = self.files.get(path)
            stack: list[Block] = [fn.block for fn in facts.functions] if facts else []
            while stack:
                for s in stack.pop():
                    if isinstance(s, Try):
                        first = min((h.line for h in s.handlers), default=s.end_line + 1)
                        tries.append((s.line, first, s))
                        stack.extend((s.body, s.orelse, s.final, *(h.body for h in s.handlers)))
        return tries

    def try_around(self, path: str, line: int) -> Try | None:
        """The try statement whose body holds `line` (from its first line to the line before
        its first except clause) and that starts last: the innermost."""
        table = self._tries_around.get(path)
        if table is None:
            table = self._tries_around[path] = Innermost(
                (start, first - 1, t) for start, first, t in self.tries_in(path)
            )
        else:
            self._note_path(path)
        return table.at(line)

    def call_sites(self, qualname: str) -> list[CallSite]:
        """Every place the program calls this function, with the except clauses around it."""
        if self._sites is None:
            # Plain tuples here, CallSites for the few functions asked about: the program has
            # hundreds of thousands of call edges.
            sites: dict[str, list[tuple[str, str, int, tuple[Handler, ...], bool]]] = {}
            for qual, fn in self.functions.items():
                path = self._path_of.get(qual, "")
                todo: list[tuple[Block, tuple[Handler, ...], bool]] = [(fn.block, (), False)]
                while todo:
                    block, guards, error_path = todo.pop()
                    for s in block:
                        if isinstance(s, Call):
                            for callee in self._resolve(s)[0]:
                                sites.setdefault(callee, []).append(
                                    (qual, path, s.line, guards, error_path)
                                )
                        elif isinstance(s, Try):
                            todo.append((s.body, (*s.handlers, *guards), error_path))
                            todo.extend((h.body, guards, True) for h in s.handlers)
                            todo.append((s.orelse, guards, error_path))
                            todo.append((s.final, guards, True))
            self._sites = sites
        qual = self.canonical_name(qualname)
        found = [CallSite(*site) for site in self._sites.get(qual, ())]
        if self.reads is not None:
            self.reads.sites.add(qual)
            self.reads.paths.update(site.path for site in found)
        return found

    def handler_calls_raising_code(self, handler: Handler) -> bool:
        """Does the clause call audited (or unresolved) code that may raise — a helper like
        `manager.extraction_error()` that reports by raising?"""
        called = [c for call in self._calls(handler.body) for c in self._resolve(call)[0]]
        if self.reads is not None:
            self.reads.functions.update(called)
        self._solve_for(called)
        for call in self._calls(handler.body):
            callees, const = self._resolve(call)
            if call.kind is not CallKind.KNOWN and const.unknown:
                return True
            for callee in callees:
                flow = self._state.get(callee, _EMPTY)
                if flow.items or flow.unknown:
                    return True
        return False

    def failure_result(self, qualname: str) -> tuple[str, str, bool] | None:
        """How a program function reports failure through its return value (`FileFacts.results`),
        or None when it does not (or is not a program function)."""
        qual = self.canonical_name(qualname)
        path = self._path_of.get(qual)
        if path is None:
            return None
        self._note_path(path)
        return self.files[path].results.get(qual)

    def call_at(self, path: str, line: int, col: int) -> Call | None:
        """The call recorded at this position of a file (col 0-based)."""
        self._note_path(path)
        index = self._calls_at.get(path)
        if index is None:
            index = {}
            facts = self.files.get(path)
            for fn in facts.functions if facts is not None else ():
                for call in self._calls(fn.block):
                    index.setdefault((call.line, call.col), call)
            self._calls_at[path] = index
        return index.get((line, col))

    def classes_of(self, items: Iterable[str]) -> list[str]:
        return self.hierarchy.ordered(item_class(i) for i in items)

    # -- dependencies --------------------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[Reads]:
        """Note what the queries inside the block read (nested: the inner block notes)."""
        reads, outer = Reads(), self.reads
        self.reads = reads
        try:
            yield reads
        finally:
            self.reads = outer

    def _note_function(self, qual: str) -> None:
        if self.reads is not None:
            self.reads.functions.add(qual)

    def _note_path(self, path: str) -> None:
        if self.reads is not None:
            self.reads.paths.add(path)

    @property
    def linked(self) -> tuple[str, ...]:
        """The files linked, in order: bit n of `depends`' masks stands for the n-th."""
        return tuple(self.files)

    def depends(self, reads: Reads) -> tuple[int, int]:
        """(the files whose function bodies the answers noted in `reads` depend on, the files
        they looked at), each as a mask over `linked`. Name resolution depends only on every
        file's interface (`interface_digest`), so while no interface changes, answers that
        depend on none of the changed files are the same."""
        looked = 0
        for path in reads.paths:
            looked |= self._bits.get(path, 0)
        return self._reach_of(reads.functions), looked

    def mentioning(self, names: set[str], attributes: set[str]) -> dict[str, set[str]] | None:
        """The functions, by file, that name one of `names` (the short names of functions or
        properties some file added or removed) as a part of a dotted name in a call's target,
        a raise or an attribute read, or one of `attributes` (those of methods and
        properties) as the attribute a call resolves; None when an import or a class base
        names one, or a name is one a lookup forms by itself (constructors, module code):
        then any resolution may move.

        Every lookup of a function by name is formed from the text of the code resolved (the
        target and attribute of a call resolved among the program's names, a raised name, an
        attribute read) or from imports and class bases, so code naming none of `names`
        resolves as before."""
        if names & _FORMED:
            return None

        def named(text: str | None) -> bool:
            if text is None or not any(n in text for n in names):
                return False
            return not names.isdisjoint(_PARTS.split(text))

        def attribute(text: str | None) -> bool:
            return text in attributes

        found: dict[str, set[str]] = {}
        for path, facts in self.files.items():
            if any(named(v) for v in facts.exports.values()) or any(
                named(b) for bases in facts.classes.values() for b in bases
            ):
                return None
            naming = {
                fn.qualname for fn in facts.functions if self._names(fn.block, named, attribute)
            }
            if naming:
                found[path] = naming
        return found

    @staticmethod
    def _names(
        block: Block, named: Callable[[str | None], bool], attribute: Callable[[str | None], bool]
    ) -> bool:
        stack: list[Block] = [block]
        while stack:
            for s in stack.pop():
                if isinstance(s, Call):
                    if s.kind in _LOOKED_UP and (named(s.target) or attribute(s.attr)):
                        return True
                elif isinstance(s, Raise):
                    if any(named(n) for n in s.names):
                        return True
                elif isinstance(s, Try):
                    stack.extend((s.body, s.orelse, s.final, *(h.body for h in s.handlers)))
                elif any(named(i) for i in s.items):
                    return True
        return False

    def callees_of(self, functions: Iterable[str]) -> set[str]:
        """The program functions these functions call."""
        found: set[str] = set()
        for qual in functions:
            if qual in self.functions:
                found.update(self._callees(qual))
        return found

    def reaching(
        self,
        groups: Mapping[str, Iterable[str]],
        targets: set[str],
        known: Mapping[str, tuple[str, ...]] | None = None,
    ) -> set[str]:
        """The keys of `groups` whose functions call one of `targets`, or one of them is
        one, directly or through other functions. `known` may give the callees of functions
        outside `targets` (`callee_graph` of an earlier program whose changes `targets`
        holds): they are not resolved again."""
        known = known or {}
        found = {key for key, roots in groups.items() if not targets.isdisjoint(roots)}
        graph: dict[str, tuple[str, ...]] = {}
        stack = [q for key, roots in groups.items() if key not in found for q in roots]
        while stack:
            qual = stack.pop()
            if qual in graph or qual in targets or qual not in self.functions:
                continue
            out = known.get(qual)
            graph[qual] = out = self._callees(qual) if out is None else out
            stack.extend(c for c in out if c not in graph)
        callers: dict[str, list[str]] = {}
        for qual, out in graph.items():
            for callee in out:
                callers.setdefault(callee, []).append(qual)
        marked = set(targets)
        todo = [t for t in targets if t in callers]
        while todo:
            for caller in callers.get(todo.pop(), ()):
                if caller not in marked:
                    marked.add(caller)
                    todo.append(caller)
        found.update(key for key, roots in groups.items() if not marked.isdisjoint(roots))
        return found

    def callee_graph(self) -> dict[str, tuple[str, ...]]:
        """The callees of every function `depends` went through."""
        return {qual: self._callees(qual) for qual in self._reach}

    def _callees(self, qual: str) -> tuple[str, ...]:
        found = self._callee_lists.get(qual)
        if found is None:
            calls = self._calls(self.functions[qual].block)
            found = tuple(dict.fromkeys(c for call in calls for c in self._resolve(call)[0]))
            self._callee_lists[qual] = found
        return found

    def _reach_of(self, roots: Iterable[str]) -> int:
        """The files of `roots` and of everything they call, transitively, as a mask."""
        reach = self._reach
        roots = [q for q in roots if q in self.functions]
        graph: dict[str, tuple[str, ...]] = {}
        stack = [q for q in roots if q not in reach]
        while stack:
            qual = stack.pop()
            if qual in graph:
                continue
            out = graph[qual] = self._callees(qual)
            stack.extend(c for c in out if c not in graph and c not in reach)
        if graph:
            order = _callees_first(graph, graph)
            bits = {q: self._bits.get(self._path_of.get(q, ""), 0) for q in graph}
            changed = True
            while changed:  # a mask only grows: cycles settle in a few passes
                changed = False
                for qual in order:
                    mask = bits[qual]
                    for callee in graph[qual]:
                        mask |= bits[callee] if callee in bits else reach[callee]
                    if mask != bits[qual]:
                        bits[qual] = mask
                        changed = True
            reach.update(bits)
        mask = 0
        for qual in roots:
            mask |= reach[qual]
        return mask
