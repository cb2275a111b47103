"""The per-file model every rule shares: built in one pass over the AST, so rules never re-walk
the whole tree.

Promise: `FileModel.build(tree, ...)` indexes functions, classes, try statements and their
handlers (with what each handler *does*: `HandlerFacts`), calls (qualified name, effects, whether
the result is discarded, which try/handler/loop they sit in), raises, returns, loops, and every
node by type with its `Ctx`. The walk is iterative, so deeply nested code cannot exhaust the
Python stack. Nested functions and classes are separate scopes: a handler's facts never include
code of a function defined inside it.
"""

from __future__ import annotations

import ast
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from errwise.audit.config import AuditConfig
from errwise.audit.effects import Effect, StateChangeMatcher, effects_of_call
from errwise.audit.finding import Finding, Severity
from errwise.audit.names import ImportMap, dotted

if TYPE_CHECKING:
    from errwise.audit.infer.program import Program
    from errwise.audit.rule import Rule

__all__ = [
    "TRACEBACK_PRINT_CALLS",
    "TRACEBACK_TEXT_CALLS",
    "FileModel",
    "Ctx",
    "FunctionInfo",
    "ClassInfo",
    "TryInfo",
    "HandlerInfo",
    "HandlerFacts",
    "CallInfo",
    "RaiseInfo",
    "ReturnInfo",
    "LoopInfo",
    "LogCall",
    "BROAD_EXCEPTIONS",
]

TRACEBACK_PRINT_CALLS = frozenset({"traceback.print_exc", "traceback.print_exception"})
"""Calls that print the error in flight with its traceback (to stderr)."""
TRACEBACK_TEXT_CALLS = frozenset({"traceback.format_exc", "traceback.format_exception"})
"""Calls that return the error in flight with its traceback, as text."""

N = TypeVar("N", bound=ast.AST)

BROAD_EXCEPTIONS = frozenset(
    {"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"}
)
_SCOPE_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_LOOP_TYPES = (ast.For, ast.AsyncFor, ast.While)
_TRY_TYPES = (ast.Try, ast.TryStar)
LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log", "msg"}
)
_RECORD_METHODS = frozenset(
    {
        "append",
        "add",
        "put",
        "put_nowait",
        "extend",
        "insert",
        "appendleft",
        "set_exception",
        "setdefault",
        "send",
        "record",
        "update",
    }
)
TryPart = Literal["body", "orelse", "finally"]


@dataclass(eq=False, slots=True)
class ClassInfo:
    node: ast.ClassDef
    qualname: str
    bases: list[str]


@dataclass(eq=False, slots=True)
class LoopInfo:
    node: ast.For | ast.AsyncFor | ast.While
    function: FunctionInfo | None
    tries: list[TryInfo] = field(default_factory=list)
    """Try statements directly in this loop's body (not inside a nested loop)."""


@dataclass(eq=False, slots=True)
class LogCall:
    call: ast.Call
    level: str
    """A logging level name, or "print" / "stderr" / "warnings"."""
    with_traceback: bool


@dataclass(eq=False, slots=True)
class HandlerFacts:
    """What an except clause does, read from its body (nested scopes excluded)."""

    name: str | None
    pass_only: bool
    raises: list[ast.Raise]
    bare_reraise: bool
    logs: list[LogCall]
    logs_traceback: bool
    returns: list[ast.Return]
    continues: bool
    breaks: bool
    records_error: bool
    """The error is kept where code can act on it: appended/stored/passed to a non-logging call,
    returned, yielded, wrapped in an Err."""
    uses_name: bool
    inspects_error: bool
    """Looks at errno/args/type, or isinstance-checks the bound exception."""
    calls: list[ast.Call]
    exits: bool
    """Calls sys.exit / os._exit / raises SystemExit."""

    @property
    def reraises(self) -> bool:
        return bool(self.raises)

    @property
    def logs_anything(self) -> bool:
        return bool(self.logs) or self.logs_traceback


@dataclass(eq=False, slots=True)
class HandlerInfo:
    node: ast.ExceptHandler
    try_: TryInfo
    index: int
    caught: tuple[str, ...]
    """Qualified names of the caught types; empty for a bare `except:`."""
    facts: HandlerFacts

    @property
    def bare(self) -> bool:
        return self.node.type is None

    @property
    def broad(self) -> bool:
        """Bare, `Exception` or `BaseException`."""
        return self.bare or any(c in BROAD_EXCEPTIONS for c in self.caught)

    @property
    def catches_base(self) -> bool:
        """Bare or `BaseException`: catches KeyboardInterrupt and SystemExit."""
        return self.bare or any(c.endswith("BaseException") for c in self.caught)

    @property
    def function(self) -> FunctionInfo | None:
        return self.try_.function


@dataclass(eq=False, slots=True)
class TryInfo:
    node: ast.Try | ast.TryStar
    function: FunctionInfo | None
    loop: LoopInfo | None
    handlers: list[HandlerInfo] = field(default_factory=list)
    body_calls: list[CallInfo] = field(default_factory=list)
    finally_calls: list[CallInfo] = field(default_factory=list)

    @property
    def has_finally(self) -> bool:
        return bool(self.node.finalbody)


@dataclass(eq=False, slots=True)
class CallInfo:
    node: ast.Call
    qualname: str | None
    attr: str | None
    effects: Effect
    discarded: bool
    """The call is a whole expression statement: its result is dropped."""
    ctx: Ctx


@dataclass(eq=False, slots=True)
class RaiseInfo:
    node: ast.Raise
    ctx: Ctx
    exc_name: str | None
    """Qualified name of the raised class (`raise X(...)` or `raise X`), None when unknown."""


@dataclass(eq=False, slots=True)
class ReturnInfo:
    node: ast.Return
    ctx: Ctx


@dataclass(eq=False, slots=True)
class FunctionInfo:
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    qualname: str
    class_name: str | None
    parent: FunctionInfo | None
    decorators: list[str]
    returns: list[ReturnInfo] = field(default_factory=list)
    raises: list[RaiseInfo] = field(default_factory=list)
    calls: list[CallInfo] = field(default_factory=list)
    tries: list[TryInfo] = field(default_factory=list)
    is_generator: bool = False

    @property
    def name(self) -> str:
        return self.node.name if not isinstance(self.node, ast.Lambda) else "<lambda>"

    @property
    def return_annotation(self) -> ast.expr | None:
        return None if isinstance(self.node, ast.Lambda) else self.node.returns

    def normal_returns(self) -> list[ReturnInfo]:
        """Returns not inside any except clause of this function."""
        return [r for r in self.returns if r.ctx.handler is None]


@dataclass(frozen=True, slots=True)
class Ctx:
    """Where a node sits: its function, class, innermost try part, handler and loop."""

    function: FunctionInfo | None
    class_name: str | None
    try_: TryInfo | None
    try_part: TryPart | None
    handler: HandlerInfo | None
    """The innermost except clause the node sits in (within this scope), if any."""
    loop: LoopInfo | None
    scope: str
    """Qualified name of the enclosing scope ("" at module level)."""


_MODULE_CTX = Ctx(None, None, None, None, None, None, "")


class FileModel:
    """Everything the rules need to know about one file."""

    def __init__(
        self,
        tree: ast.Module,
        path: str,
        source: str,
        module_name: str | None,
        state_matcher: StateChangeMatcher | None = None,
    ) -> None:
        self.tree = tree
        self.path = path
        self.source = source
        self.lines = source.splitlines()
        self.module_name = module_name
        self.imports = ImportMap()
        self.state_matcher = state_matcher
        self.config = AuditConfig()
        self.program: Program | None = None
        """Program-wide exception facts, set by the runner when it links several files; rules
        read them through `errwise.audit.infer.program_for(model)` (a one-file Program if unset)."""
        self.functions: list[FunctionInfo] = []
        self.classes: list[ClassInfo] = []
        self.tries: list[TryInfo] = []
        self.handlers: list[HandlerInfo] = []
        self.calls: list[CallInfo] = []
        self.raises: list[RaiseInfo] = []
        self.returns: list[ReturnInfo] = []
        self.loops: list[LoopInfo] = []
        self.parents: dict[ast.AST, ast.AST] = {}
        self._ctx: dict[ast.AST, Ctx] = {}
        self._by_type: dict[type[ast.AST], list[ast.AST]] = defaultdict(list)
        self._functions_by_node: dict[ast.AST, FunctionInfo] = {}
        self._try_of: dict[ast.AST, TryInfo] = {}
        self._handler_of: dict[ast.AST, HandlerInfo] = {}
        self._call_index: dict[ast.AST, int] | None = None
        """Position of each call node in `calls` (built on the first `calls_in`)."""
        self.memo: dict[str, Any] = {}
        """What a rule computes once per file rather than once per finding (its key names the
        rule and the value); emptied by `release`."""

    # -- building ------------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        tree: ast.Module,
        path: str,
        source: str,
        module_name: str | None = None,
        state_matcher: StateChangeMatcher | None = None,
    ) -> FileModel:
        model = cls(tree, path, source, module_name, state_matcher)
        model._walk()
        model._resolve_names()
        for handler in model.handlers:
            handler.facts = _handler_facts(handler.node, model)
        return model

    def _walk(self) -> None:
        """One iterative pass: contexts, indexes and infos (names are resolved afterwards, once
        every import — wherever it sits — is known)."""
        ctx_of = self._ctx
        parents = self.parents
        split = self._split_children
        enterers = self._enterers()
        plans: dict[type[ast.AST], _Plan] = {}
        """By node class: the index list its nodes go to, what entering one records, and
        which fields hold its children (or `_SPLIT`, `_GENERIC`)."""
        # Two parallel stacks (node, its context): no tuple per node.
        nodes: list[ast.AST] = [self.tree]
        ctxs: list[Ctx] = [_MODULE_CTX]
        pop_node, pop_ctx = nodes.pop, ctxs.pop
        push_node, push_ctx = nodes.append, ctxs.append
        while nodes:
            node = pop_node()
            ctx = pop_ctx()
            kind = type(node)
            ctx_of[node] = ctx
            plan = plans.get(kind)
            if plan is None:
                plan = plans[kind] = (self._by_type[kind], enterers.get(kind), _walk_fields(kind))
            same_kind, enter, fields = plan
            same_kind.append(node)
            child_ctx = ctx if enter is None else enter(node, ctx)
            if fields is _SPLIT:
                for child, cctx in reversed(split(node, ctx, child_ctx)):
                    parents[child] = node
                    push_node(child)
                    push_ctx(cctx)
                continue
            if fields is _GENERIC:
                for child in reversed(_generic_children(node)):
                    parents[child] = node
                    push_node(child)
                    push_ctx(child_ctx)
                continue
            for name in fields:  # last field first: the stack pops in source order
                value = getattr(node, name, None)
                if value is None:
                    continue
                if type(value) is list:
                    for child in reversed(value):
                        if child is not None:
                            parents[child] = node
                            push_node(child)
                            push_ctx(child_ctx)
                else:
                    parents[value] = node
                    push_node(value)
                    push_ctx(child_ctx)

    def _split_children(self, node: ast.AST, ctx: Ctx, inner: Ctx) -> list[tuple[ast.AST, Ctx]]:
        """Children of nodes whose parts sit in different contexts, in source order."""
        if isinstance(node, _TRY_TYPES):
            info = self._try_of[node]
            fn, cls, loop, scope = ctx.function, ctx.class_name, ctx.loop, ctx.scope
            handler = ctx.handler
            body = Ctx(fn, cls, info, "body", handler, loop, scope)
            pairs: list[tuple[ast.AST, Ctx]] = [(c, body) for c in node.body]
            handler_of = self._handler_of
            pairs += [
                (h, Ctx(fn, cls, info, None, handler_of[h], loop, scope)) for h in node.handlers
            ]
            if node.orelse:
                orelse = Ctx(fn, cls, info, "orelse", handler, loop, scope)
                pairs += [(c, orelse) for c in node.orelse]
            if node.finalbody:
                fin = Ctx(fn, cls, info, "finally", handler, loop, scope)
                pairs += [(c, fin) for c in node.finalbody]
            return pairs
        if isinstance(node, _LOOP_TYPES):
            # The target, iterable and test are evaluated outside the loop body.
            head: list[tuple[ast.AST, Ctx]] = (
                [(node.test, ctx)]
                if isinstance(node, ast.While)
                else [(node.target, ctx), (node.iter, ctx)]
            )
            return head + [(c, inner) for c in node.body] + [(c, inner) for c in node.orelse]
        if isinstance(node, ast.ClassDef):
            pairs = [(c, ctx) for c in node.decorator_list]
            pairs += [(c, ctx) for c in node.bases]
            pairs += [(k.value, ctx) for k in node.keywords]
            return pairs + [(c, inner) for c in node.body]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            # Decorators and defaults are evaluated in the enclosing scope.
            args = node.args
            pairs = [(c, ctx) for c in node.decorator_list]
            pairs += [(c, ctx) for c in args.defaults]
            pairs += [(d, ctx) for d in args.kw_defaults if d is not None]
            return pairs + [(c, inner) for c in node.body]
        return [(c, inner) for c in _generic_children(node)]

    def _resolve_names(self) -> None:
        imports: list[ast.Import | ast.ImportFrom] = [*self.nodes(ast.Import)]
        imports += self.nodes(ast.ImportFrom)
        for imp in imports:
            self.imports.add(imp, self.module_name)
        for call in self.calls:
            call.qualname = self.qualify(call.node.func)
            call.effects = effects_of_call(call.qualname, call.attr, call.node, self.state_matcher)
        for function in self.functions:
            fnode = function.node
            if not isinstance(fnode, ast.Lambda):
                function.decorators = [
                    self.qualify(d.func if isinstance(d, ast.Call) else d) or "?"
                    for d in fnode.decorator_list
                ]
        for info in self.classes:
            info.bases = [self.qualify(b) or "?" for b in info.node.bases]
        for handler in self.handlers:
            handler.caught = self._caught(handler.node)
        for raise_info in self.raises:
            exc = raise_info.node.exc
            target = exc.func if isinstance(exc, ast.Call) else exc
            raise_info.exc_name = self.qualify(target) if target is not None else None

    def _enterers(self) -> dict[type[ast.AST], Callable[[Any, Ctx], Ctx]]:
        """What entering a node of each kind records, and the context of its children (the
        kinds not listed record nothing and keep the context)."""
        return {
            ast.FunctionDef: self._enter_function,
            ast.AsyncFunctionDef: self._enter_function,
            ast.Lambda: self._enter_function,
            ast.ClassDef: self._enter_class,
            ast.Try: self._enter_try,
            ast.TryStar: self._enter_try,
            ast.For: self._enter_loop,
            ast.AsyncFor: self._enter_loop,
            ast.While: self._enter_loop,
            ast.Call: self._enter_call,
            ast.Raise: self._enter_raise,
            ast.Return: self._enter_return,
            ast.Yield: self._enter_yield,
            ast.YieldFrom: self._enter_yield,
        }

    def _enter_function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, ctx: Ctx
    ) -> Ctx:
        name = node.name if not isinstance(node, ast.Lambda) else "<lambda>"
        qual = f"{ctx.scope}.{name}" if ctx.scope else name
        decorators: list[str] = []  # resolved after the walk
        info = FunctionInfo(
            node,
            qual,
            ctx.class_name if ctx.function is None else None,
            ctx.function,
            decorators,
        )
        self.functions.append(info)
        self._functions_by_node[node] = info
        return Ctx(info, None, None, None, None, None, qual)

    def _enter_class(self, node: ast.ClassDef, ctx: Ctx) -> Ctx:
        cqual = f"{ctx.scope}.{node.name}" if ctx.scope else node.name
        self.classes.append(ClassInfo(node, cqual, []))  # bases resolved after the walk
        return Ctx(None, node.name, None, None, None, None, cqual)

    def _enter_try(self, node: ast.Try | ast.TryStar, ctx: Ctx) -> Ctx:
        try_info = TryInfo(node, ctx.function, ctx.loop)
        self._try_of[node] = try_info
        for index, h in enumerate(node.handlers):
            handler = HandlerInfo(h, try_info, index, (), _EMPTY_FACTS)
            try_info.handlers.append(handler)
            self.handlers.append(handler)
            self._handler_of[h] = handler
        self.tries.append(try_info)
        if ctx.function is not None:
            ctx.function.tries.append(try_info)
        if ctx.loop is not None:  # the innermost loop of this scope
            ctx.loop.tries.append(try_info)
        return ctx

    def _enter_loop(self, node: ast.For | ast.AsyncFor | ast.While, ctx: Ctx) -> Ctx:
        loop = LoopInfo(node, ctx.function)
        self.loops.append(loop)
        return Ctx(
            ctx.function, ctx.class_name, ctx.try_, ctx.try_part, ctx.handler, loop, ctx.scope
        )

    def _enter_call(self, node: ast.Call, ctx: Ctx) -> Ctx:
        func = node.func
        attr = (
            func.attr
            if isinstance(func, ast.Attribute)
            else (func.id if isinstance(func, ast.Name) else None)
        )
        parent = self.parents.get(node)
        # qualname and effects are filled in once every import is known
        info_call = CallInfo(node, None, attr, Effect.NONE, isinstance(parent, ast.Expr), ctx)
        self.calls.append(info_call)
        if ctx.function is not None:
            ctx.function.calls.append(info_call)
        if ctx.try_ is not None:
            if ctx.try_part == "body":
                ctx.try_.body_calls.append(info_call)
            elif ctx.try_part == "finally":
                ctx.try_.finally_calls.append(info_call)
        return ctx

    def _enter_raise(self, node: ast.Raise, ctx: Ctx) -> Ctx:
        raise_info = RaiseInfo(node, ctx, None)  # exc_name resolved after the walk
        self.raises.append(raise_info)
        if ctx.function is not None:
            ctx.function.raises.append(raise_info)
        return ctx

    def _enter_return(self, node: ast.Return, ctx: Ctx) -> Ctx:
        ret = ReturnInfo(node, ctx)
        self.returns.append(ret)
        if ctx.function is not None:
            ctx.function.returns.append(ret)
        return ctx

    def _enter_yield(self, node: ast.Yield | ast.YieldFrom, ctx: Ctx) -> Ctx:
        if ctx.function is not None:
            ctx.function.is_generator = True
        return ctx

    def _caught(self, handler: ast.ExceptHandler) -> tuple[str, ...]:
        if handler.type is None:
            return ()
        elts = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        return tuple(self.qualify(e) or "?" for e in elts)

    # -- queries -------------------------------------------------------------------------------

    def qualify(self, expr: ast.expr) -> str | None:
        """The qualified dotted name of an expression, resolving import aliases."""
        return self.imports.qualify(expr)

    def ctx(self, node: ast.AST) -> Ctx:
        """Where `node` sits (module level for a node the model did not see)."""
        return self._ctx.get(node, _MODULE_CTX)

    def nodes(self, node_type: type[N]) -> list[N]:
        """Every node of exactly this type, in source order."""
        return self._by_type.get(node_type, [])  # type: ignore[return-value]

    def is_boundary(self, function: FunctionInfo | None) -> bool:
        """Is this function (or one enclosing it) a documented top-level boundary?"""
        while function is not None:
            if self.config.is_boundary(function.qualname, function.decorators):
                return True
            function = function.parent
        return False

    def function_of(self, node: ast.AST) -> FunctionInfo | None:
        return self.ctx(node).function

    def function_info(self, node: ast.AST) -> FunctionInfo | None:
        """The FunctionInfo of a def node."""
        return self._functions_by_node.get(node)

    def segment(self, node: ast.AST) -> str:
        """The source text of a node (first line only when it spans more than 6 lines)."""
        start = getattr(node, "lineno", 1)
        end = getattr(node, "end_lineno", start) or start
        return "\n".join(self.lines[start - 1 : end])

    def calls_in(self, nodes: Iterable[ast.AST]) -> Iterator[CallInfo]:
        """Calls within the given statements (nested function bodies excluded)."""
        index = self._call_index
        if index is None:
            index = self._call_index = {call.node: i for i, call in enumerate(self.calls)}
        found: set[int] = set()

        def seen(node: ast.AST) -> bool:
            """Note a call; True when it was noted before: its subtree was walked then."""
            if not isinstance(node, ast.Call):
                return False
            position = index.get(node)
            if position is None:
                return False
            if position in found:
                return True
            found.add(position)
            return False

        for _ in _walk_scope(nodes, seen):
            pass
        calls = self.calls
        for position in sorted(found):
            yield calls[position]

    def effects_in(self, nodes: Iterable[ast.AST]) -> Effect:
        """The union of the effects of the calls within the given statements."""
        effect = Effect.NONE
        for call in self.calls_in(nodes):
            effect |= call.effects
        return effect

    # -- reporting -----------------------------------------------------------------------------

    def finding(
        self,
        rule: Rule,
        node: ast.AST,
        message: str,
        *,
        recommendation: str,
        severity: Severity | None = None,
        hidden_errors: Sequence[str] = (),
        suppress_lines: Iterable[int] = (),
        anchor: ast.AST | None = None,
        claim: ast.ExceptHandler | None = None,
    ) -> Finding:
        """A finding of `rule` at `node`; `anchor` (default `node`) and the `claim`ed except
        clause are what its fingerprint hashes, so the fingerprint survives line shifts and edits
        elsewhere but changes when that code (the handler it judges included) changes."""
        line = getattr(node, "lineno", 1)
        ctx = self.ctx(node)
        function = ctx.function.qualname if ctx.function else (ctx.scope or None)
        shape = ast.dump(anchor or node, annotate_fields=False, include_attributes=False)
        if claim is not None and claim is not (anchor or node):
            shape += "\0" + ast.dump(claim, annotate_fields=False, include_attributes=False)
        digest = hashlib.sha256(
            f"{rule.id}\0{self.path}\0{function}\0{shape}".encode()
        ).hexdigest()[:20]
        return Finding(
            rule=rule.id,
            name=rule.name,
            severity=severity or rule.severity,
            path=self.path,
            line=line,
            col=getattr(node, "col_offset", 0) + 1,
            end_line=getattr(node, "end_lineno", line) or line,
            end_col=(getattr(node, "end_col_offset", 0) or 0) + 1,
            function=function,
            message=message,
            recommendation=recommendation,
            fingerprint=digest,
            hidden_errors=list(hidden_errors),
            suppress_lines=tuple(suppress_lines),
            claim=None if claim is None else (claim.lineno, claim.col_offset),
            specificity=rule.specificity,
        )

    def release(self) -> None:
        """Break the model's reference cycles (a function's infos point back at it, a try's
        handlers at the try) so that dropping the model frees it and its syntax tree at once,
        without waiting for the cyclic garbage collector to traverse them. The model is empty
        of infos afterwards."""
        for fn in self.functions:
            fn.returns.clear()
            fn.raises.clear()
            fn.calls.clear()
            fn.tries.clear()
        for t in self.tries:
            t.handlers.clear()
            t.body_calls.clear()
            t.finally_calls.clear()
        for loop in self.loops:
            loop.tries.clear()
        for name in ("functions", "classes", "tries", "handlers", "calls", "raises"):
            getattr(self, name).clear()
        self.returns.clear()
        self.loops.clear()
        self.parents.clear()
        self._ctx.clear()
        self._by_type.clear()
        self._functions_by_node.clear()
        self._try_of.clear()
        self._handler_of.clear()
        self._call_index = None
        self.memo.clear()
        self.program = None


_SKIP_CHILD_TYPES = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)
_SPLIT_TYPES = frozenset(
    {
        ast.FunctionDef,
        ast.AsyncFunctionDef,
        ast.ClassDef,
        ast.Try,
        ast.TryStar,
        ast.For,
        ast.AsyncFor,
        ast.While,
    }
)


_SCALAR_FIELD_TYPES = frozenset({"identifier", "string", "int", "constant"})
_SINGLETON_FIELD_TYPES = frozenset({"expr_context", "operator", "boolop", "unaryop", "cmpop"})
_GENERIC: tuple[str, ...] = ("<generic>",)
"""Marks a node class whose fields are not known: its children are found by inspecting values."""
_SPLIT: tuple[str, ...] = ("<split>",)
"""Marks a node class whose children `FileModel._split_children` places."""
_Plan = tuple[list[ast.AST], "Callable[[Any, Ctx], Ctx] | None", tuple[str, ...]]


def _signature_fields(kind: type[ast.AST]) -> list[tuple[str, str]] | None:
    """(field, ASDL type) of a node class, read from its signature docstring
    (`Call(expr func, expr* args, keyword* keywords)`); None when it has none."""
    doc = (kind.__doc__ or "").strip()
    head, sep, rest = doc.partition("(")
    if head != kind.__name__ or not sep or not rest.endswith(")"):
        return None
    fields: list[tuple[str, str]] = []
    for part in filter(None, (p.strip() for p in rest[:-1].split(","))):
        type_name, _, field_name = part.partition(" ")
        fields.append((field_name, type_name.rstrip("*?")))
    if tuple(name for name, _ in fields) != kind._fields:
        return None
    return fields


def _walk_fields(kind: type[ast.AST]) -> tuple[str, ...]:
    """The fields of a node class that may hold child nodes (the context and operator
    singletons excluded), last field first; `_SPLIT` for the classes whose parts sit in
    different contexts, `_GENERIC` when the class does not say."""
    found = _WALK_FIELDS.get(kind)
    if found is not None:
        return found
    fields = _signature_fields(kind)
    if kind in _SPLIT_TYPES:
        found = _SPLIT
    elif fields is None:
        found = _GENERIC
    else:
        skip = _SCALAR_FIELD_TYPES | _SINGLETON_FIELD_TYPES
        found = tuple(name for name, type_name in reversed(fields) if type_name not in skip)
    _WALK_FIELDS[kind] = found
    return found


_WALK_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}


def _generic_children(node: ast.AST) -> list[ast.AST]:
    """Child nodes in source order, without the context and operator singletons, found by
    looking at every field's value."""
    out: list[ast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if type(value) is list:
            out.extend(
                v for v in value if isinstance(v, ast.AST) and not isinstance(v, _SKIP_CHILD_TYPES)
            )
        elif isinstance(value, ast.AST) and not isinstance(value, _SKIP_CHILD_TYPES):
            out.append(value)
    return out


def _scope_fields(kind: type[ast.AST]) -> tuple[str, ...]:
    """The fields of a node class that may hold nodes (singletons included, as in
    `ast.iter_child_nodes`), in order; `_GENERIC` when the class does not say."""
    found = _SCOPE_FIELDS.get(kind)
    if found is not None:
        return found
    fields = _signature_fields(kind)
    if fields is None:
        found = _GENERIC
    else:
        found = tuple(name for name, type_name in fields if type_name not in _SCALAR_FIELD_TYPES)
    _SCOPE_FIELDS[kind] = found
    return found


_SCOPE_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}


def _walk_scope(
    nodes: Iterable[ast.AST], prune: Callable[[ast.AST], bool] | None = None
) -> Iterator[ast.AST]:
    """Walk statements without entering nested functions, lambdas or classes, nor the nodes
    `prune` says to skip (with what is under them)."""
    stack = list(nodes)
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if prune is not None and prune(node):
            continue
        yield node
        kind = type(node)
        fields = _SCOPE_FIELDS.get(kind)
        if fields is None:
            fields = _scope_fields(kind)
        if fields is _GENERIC:
            stack.extend(c for c in ast.iter_child_nodes(node) if not isinstance(c, _SCOPE_TYPES))
            continue
        for name in fields:
            value = getattr(node, name, None)
            if value is None:
                continue
            if type(value) is list:
                for child in value:
                    if child is not None and not isinstance(child, _SCOPE_TYPES):
                        push(child)
            elif not isinstance(value, _SCOPE_TYPES):
                push(value)


def walk_scope(nodes: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Public form of the scope-local walk (rules use it on handler and try bodies)."""
    return _walk_scope(nodes)


_EMPTY_FACTS = HandlerFacts(
    None, True, [], False, [], False, [], False, False, False, False, False, [], False
)


def _is_logger_receiver(expr: ast.expr) -> bool:
    name = dotted(expr)
    if name is None:
        return False
    last = name.rsplit(".", 1)[-1].lower()
    return "log" in last


def _log_call(call: ast.Call, model: FileModel) -> LogCall | None:
    func = call.func
    qual = model.qualify(func) or ""
    if (
        isinstance(func, ast.Attribute)
        and func.attr in LOG_METHODS
        and (_is_logger_receiver(func.value) or qual.startswith("logging."))
    ):
        tb = func.attr == "exception" or any(
            kw.arg in ("exc_info", "stack_info")
            and not (isinstance(kw.value, ast.Constant) and not kw.value.value)
            for kw in call.keywords
        )
        return LogCall(call, func.attr, tb)
    if qual == "print":
        return LogCall(call, "print", False)
    if qual in ("sys.stderr.write", "sys.stdout.write"):
        return LogCall(call, "stderr", False)
    if qual in ("warnings.warn",):
        return LogCall(call, "warnings", False)
    if qual in TRACEBACK_PRINT_CALLS:
        return LogCall(call, "stderr", True)
    if (
        isinstance(func, ast.Attribute)
        and func.attr in ("echo", "secho", "print")
        and any(kw.arg == "err" for kw in call.keywords)
    ):
        return LogCall(call, "stderr", False)
    return None


def _mentions(node: ast.AST, name: str | None) -> bool:
    if name is None:
        return False
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


_NO_HANDLER_FACTS = frozenset(
    {
        *(c for base in _SKIP_CHILD_TYPES for c in base.__subclasses__()),
        ast.Constant,
        ast.Expr,
        ast.keyword,
        ast.JoinedStr,
        ast.FormattedValue,
        ast.Compare,
        ast.BoolOp,
        ast.BinOp,
        ast.UnaryOp,
        ast.If,
        ast.IfExp,
        ast.Pass,
        ast.Tuple,
        ast.List,
        ast.Dict,
        ast.Subscript,
        ast.Starred,
        ast.Slice,
    }
)
"""Node classes (exactly these, not subclasses) no branch of `_handler_facts` looks at."""


def _handler_facts(handler: ast.ExceptHandler, model: FileModel) -> HandlerFacts:
    name = handler.name
    body = handler.body
    pass_only = all(
        isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        for s in body
    )
    raises: list[ast.Raise] = []
    logs: list[LogCall] = []
    returns: list[ast.Return] = []
    calls: list[ast.Call] = []
    continues = breaks = records = uses = inspects = exits = tb = False
    for node in _walk_scope(body):
        if type(node) in _NO_HANDLER_FACTS:
            continue
        if isinstance(node, ast.Raise):
            raises.append(node)
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if target is not None and (model.qualify(target) or "").endswith("SystemExit"):
                exits = True
        elif isinstance(node, ast.Return):
            returns.append(node)
            if node.value is not None and (
                _mentions(node.value, name) or _is_err_value(node.value, model)
            ):
                records = True
        elif isinstance(node, ast.Continue):
            continues = True
        elif isinstance(node, ast.Break):
            breaks = True
        elif isinstance(node, (ast.Yield, ast.YieldFrom)):
            if node.value is not None and _mentions(node.value, name):
                records = True
        elif isinstance(node, ast.Name) and name is not None and node.id == name:
            uses = True
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (
                node.value.id == name
                and node.attr
                in (
                    "errno",
                    "winerror",
                    "args",
                    "returncode",
                    "code",
                    "status",
                    "response",
                    "reason",
                )
            )
        ):
            inspects = True
        elif isinstance(node, ast.Call):
            calls.append(node)
            qual = model.qualify(node.func) or ""
            log = _log_call(node, model)
            if log is not None:
                logs.append(log)
                tb = tb or log.with_traceback
                continue
            if qual in TRACEBACK_TEXT_CALLS:
                tb = True
            elif qual in ("sys.exit", "os._exit", "exit", "quit"):
                exits = True
            elif (
                qual in ("isinstance", "issubclass", "type")
                and node.args
                and _mentions(node.args[0], name)
            ):
                # `type(exc)` inspects only when compared; `type(exc).__name__` in a message
                # does not tell failures apart.
                if qual != "type" or isinstance(model.parents.get(node), ast.Compare):
                    inspects = True
            elif _is_err_value(node, model):
                records = True
            elif isinstance(node.func, ast.Attribute) and node.func.attr in _RECORD_METHODS:
                if any(
                    _mentions(a, name) or _is_exc_info(a, model)
                    for a in [*node.args, *(k.value for k in node.keywords)]
                ):
                    records = True
            elif any(
                _mentions(a, name) for a in [*node.args, *(k.value for k in node.keywords)]
            ) and qual not in ("str", "repr", "format", "type", "len", "print"):
                records = True  # handed to another function that can act on it
            elif any(_is_exc_info(a, model) for a in node.args):
                records = True  # `onerror(func, path, sys.exc_info())`: handed on
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.value
            if (
                value is not None
                and _mentions(value, name)
                and any(isinstance(t, (ast.Attribute, ast.Subscript)) for t in targets)
            ):
                records = True
            elif value is not None and _is_exc_info(
                value.value if isinstance(value, ast.Subscript) else value, model
            ):
                records = True  # `details = sys.exc_info()`: kept to be re-raised or shown
    return HandlerFacts(
        name,
        pass_only,
        raises,
        any(r.exc is None for r in raises),
        logs,
        tb,
        returns,
        continues,
        breaks,
        records,
        uses,
        inspects,
        calls,
        exits,
    )


def _is_exc_info(node: ast.expr, model: FileModel) -> bool:
    if isinstance(node, (ast.Starred, ast.Subscript)):
        node = node.value  # `*sys.exc_info()`, `sys.exc_info()[2]`
    return isinstance(node, ast.Call) and model.qualify(node.func) in (
        "sys.exc_info",
        "sys.exception",
    )


def _is_err_value(node: ast.expr, model: FileModel) -> bool:
    if not isinstance(node, ast.Call):
        return False
    qual = model.qualify(node.func) or ""
    last = qual.rsplit(".", 1)[-1]
    return last in ("Err", "Failure", "Error") or last.endswith(("Error", "Exception"))
