"""Per-file summary: what each function of one file raises locally, and whom it calls.

Promise: `summarize(model, kb)` turns a `FileModel` into a `FileFacts` (no AST inside, picklable),
resolving names locally: import aliases and `from x import y`, module-level and nested
definitions, `self.method()` / `cls.method()` / `super().method()`, variables bound to
`Path(...)`, `open(...)` and other known constructors or literals, annotated parameters
(`p: Path`), and `self.x` attributes whose assignments in the class agree on one type. A call it
cannot name is recorded as UNKNOWN, never dropped; code that defeats inference (dynamic imports,
`getattr` strings, star imports, calls of callables held in variables) therefore yields
*unknown*, not a wrong certainty. Each expression's type is inferred once, and chains
(`a.b.c`, `x.f().g()`, `a + b + c`) innermost first, so the work and the stack depth stay
linear in the code, however long a chain. It never raises for any model the auditor can build
but `RecursionError`, for code whose types depend on each other thousands deep (the engine
reports the file as nested too deeply).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from errwise.audit.handling import verdict
from errwise.audit.infer.facts import (
    Block,
    Call,
    CallKind,
    FileFacts,
    FuncFacts,
    Handler,
    Op,
    Raise,
    Try,
)
from errwise.audit.infer.kb import CallSpec, KnowledgeBase, default_kb
from errwise.audit.model import LOG_METHODS, Ctx, FileModel, FunctionInfo, TryInfo
from errwise.audit.names import BUILTIN_NAMES, dotted

__all__ = ["summarize", "MODULE_CODE"]

MODULE_CODE = "<module>"
"""The pseudo-function holding a module's top-level code (`pkg.mod.<module>`)."""

_BUILTIN_TYPES = frozenset({"str", "bytes", "list", "dict", "set", "frozenset", "tuple"})
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_DIVISION = (ast.Div, ast.FloorDiv, ast.Mod)
_HARMLESS_CLASS_DECORATORS = frozenset(
    {
        "dataclasses.dataclass",
        "functools.total_ordering",
        "typing.final",
        "typing.runtime_checkable",
        "typing_extensions.final",
        "enum.unique",
    }
)
_UNKNOWN_TYPE = ""
"""Marks a name bound to values of different or unknown types."""


def summarize(model: FileModel, kb: KnowledgeBase | None = None) -> FileFacts:
    """The picklable summary of one file (see the module promise)."""
    return _Summarizer(model, kb or default_kb()).run()


def _walk(nodes: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Walk without entering nested functions, lambdas or classes (iterative)."""
    stack = list(nodes)
    stack.reverse()
    while stack:
        node = stack.pop()
        yield node
        children = [c for c in ast.iter_child_nodes(node) if not isinstance(c, _SCOPES)]
        children.reverse()
        stack.extend(children)


class _Scope:
    """Name bindings of one function (or the module): locals and their inferred types."""

    __slots__ = (
        "annotated",
        "assigns",
        "class_qual",
        "defs",
        "fn",
        "globals",
        "locals",
        "qual",
        "self_name",
        "types",
    )

    def __init__(self, fn: FunctionInfo | None, qual: str) -> None:
        self.fn = fn
        self.qual = qual
        self.locals: set[str] = set()
        self.types: dict[str, str] = {}
        self.self_name: str | None = None
        self.class_qual: str | None = None
        self.defs: dict[str, str] = {}
        self.annotated: set[str] = set()
        self.assigns: dict[str, list[tuple[ast.expr | None, bool]]] = {}
        self.globals: set[str] = set()


class _Summarizer:
    def __init__(self, model: FileModel, kb: KnowledgeBase) -> None:
        self.model = model
        self.kb = kb
        self.module = model.module_name or ""
        self.prefix = f"{self.module}." if self.module else ""
        self.imports = model.imports
        self.kb_types = _kb_types(kb)
        self.local_classes: set[str] = {c.qualname for c in model.classes}
        self.defs: dict[str, dict[str, str]] = {}
        for f in model.functions:
            if isinstance(f.node, ast.Lambda):
                continue
            scope, _, name = f.qualname.rpartition(".")
            self.defs.setdefault(scope, {})[name] = f.qualname
        for c in model.classes:
            scope, _, name = c.qualname.rpartition(".")
            self.defs.setdefault(scope, {})[name] = c.qualname
        self.module_scope = _Scope(None, "")
        self.module_scope.defs = self.defs.get("", {})
        self.class_scope = _Scope(None, "<class body>")
        self.scopes: dict[int, _Scope] = {}
        """By id() of the FunctionInfo: a name may be defined twice (`if x: def f(): ...`)."""
        self.scope_by_qual: dict[str, _Scope] = {}
        self.class_attrs: dict[str, dict[str, str]] = {}
        self.class_assigns: dict[
            str, dict[str, list[tuple[ast.expr | None, _Scope, ast.expr | None]]]
        ] = {}
        self.containers: dict[object, list[Call | Raise | Op | Try]] = {}
        self._call_memo: dict[int, Call] = {}
        self._types: dict[tuple[int, int, bool], str | None] = {}
        """`_type_of` by (id() of the node, id() of the scope, entered): each node is typed once."""
        self._typed_while: list[list[tuple[int, int, bool]]] = []
        """The `_types` keys made while each guard of `_local_type` / `_class_attr_type` is on
        (innermost last): forgotten when it goes off, for they saw the guarded name as
        unknown (see `_guarded`)."""
        self._annotation_memo: dict[int, bool] = {}
        self._max_attribute_links = _max_attribute_links(kb)
        self.property_names: set[str] = set()
        """By id() of the call node (the model keeps the nodes alive)."""

    # -- driver --------------------------------------------------------------------------------

    def run(self) -> FileFacts:
        model = self.model
        for f in model.functions:
            if not isinstance(f.node, ast.Lambda):
                scope = self._function_scope(f)
                self.scopes[id(f)] = scope
                self.scope_by_qual.setdefault(f.qualname, scope)
        self._bind_all()
        self._collect_sources()
        functions = [
            FuncFacts(self.prefix + MODULE_CODE, 1, self._finish(None, model.tries)),
        ]
        tries_of: dict[int, list[TryInfo]] = {}
        merged: dict[str, FuncFacts] = {}
        for t in model.tries:
            owner = self._owner(model.ctx(t.node))
            if owner is not None:
                tries_of.setdefault(id(owner), []).append(t)
        for f in model.functions:
            if isinstance(f.node, ast.Lambda):
                continue
            block = self._finish(f, tries_of.get(id(f), []))
            qual = self.prefix + f.qualname
            previous = merged.get(qual)
            if previous is not None:  # defined twice: either definition may run
                block = previous.block + block
            merged[qual] = FuncFacts(qual, f.node.lineno, block)
        functions.extend(merged.values())
        classes = {
            self.prefix + c.qualname: tuple(
                self._qual_of(b, self._scope_for_class(c.qualname)) or "?" for b in c.node.bases
            )
            + (("?",) if self._class_is_opaque(c.node) else ())
            for c in model.classes
        }
        top = {n.id for n in _top_level_names(model.tree.body)}
        exports = {name: t for name, t in self.imports.bindings().items() if name in top}
        return FileFacts(
            model.path,
            self.module,
            tuple(functions),
            classes,
            exports,
            tuple(self.imports.star_imports),
            frozenset(self.property_names),
            frozenset(
                self.prefix + c.qualname
                for c in model.classes
                if any(
                    (self._qual_of(b, self.module_scope) or "").endswith(".Protocol")
                    for b in c.node.bases
                )
            ),
            frozenset(
                self.prefix + f.qualname
                for f in model.functions
                if f.is_generator and not f.decorators and not isinstance(f.node, ast.Lambda)
            ),
            self._signal_handlers(),
        )

    def _signal_handlers(self) -> tuple[str, ...]:
        """The functions installed by `signal.signal(sig, handler)` ("?" when not nameable;
        `signal.SIG_IGN` / `SIG_DFL` / `default_int_handler` are not code of the program)."""
        found: list[str] = []
        for info in self.model.calls:
            if info.qualname != "signal.signal" or len(info.node.args) < 2:
                continue
            handler = info.node.args[1]
            scope = self._scope_of(info.ctx)
            qual = self._qual_of(handler, scope)
            if qual is not None and qual.startswith("signal."):
                continue
            if isinstance(handler, (ast.Constant, ast.Lambda)):
                continue  # a signal number, or a lambda (its body is analysed where it stands)
            if isinstance(handler, ast.Name) and qual is None:
                continue  # a saved handler put back (`signal.signal(sig, previous)`)
            if (
                qual is None
                and isinstance(handler, ast.Attribute)
                and isinstance(handler.value, ast.Name)
                and handler.value.id == scope.self_name
                and scope.class_qual is not None
            ):
                qual = f"{self.prefix}{scope.class_qual}.{handler.attr}"
            found.append(qual or "?")
        return tuple(dict.fromkeys(found))

    def _class_is_opaque(self, node: ast.ClassDef) -> bool:
        """A metaclass or a class decorator may change what calling the class does."""
        if any(k.arg == "metaclass" for k in node.keywords):
            return True
        for d in node.decorator_list:
            qual = self._qual_of(d.func if isinstance(d, ast.Call) else d, self.module_scope)
            if qual not in _HARMLESS_CLASS_DECORATORS:
                return True
        return False

    def _scope_for_class(self, class_qual: str) -> _Scope:
        parent = class_qual.rpartition(".")[0]
        return self.scope_by_qual.get(parent, self.module_scope)

    @staticmethod
    def _owner(ctx: Ctx) -> FunctionInfo | None:
        """The named function whose code this is (lambda bodies run where they are called,
        usually inline: they count for the enclosing function)."""
        fn = ctx.function
        while fn is not None and isinstance(fn.node, ast.Lambda):
            fn = fn.parent
        return fn

    def _scope_of(self, ctx: Ctx) -> _Scope:
        fn = self._owner(ctx)
        if fn is not None:
            return self.scopes[id(fn)]
        return self.module_scope

    def _binding_scope(self, ctx: Ctx) -> _Scope:
        fn = self._owner(ctx)
        if fn is not None:
            return self.scopes[id(fn)]
        return self.module_scope if ctx.class_name is None else self.class_scope

    # -- scopes and types ----------------------------------------------------------------------

    def _function_scope(self, f: FunctionInfo) -> _Scope:
        scope = _Scope(f, f.qualname)
        scope.defs = self.defs.get(f.qualname, {})
        node = f.node
        assert not isinstance(node, ast.Lambda)
        args = node.args
        params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        if args.vararg:
            params.append(args.vararg)
        if args.kwarg:
            params.append(args.kwarg)
        for a in params:
            scope.locals.add(a.arg)
        positional = [*args.posonlyargs, *args.args]
        if (
            f.class_name is not None
            and positional
            and not any(d.endswith("staticmethod") for d in f.decorators)
        ):
            scope.self_name = positional[0].arg
            scope.class_qual = f.qualname.rpartition(".")[0]
        for a in params:
            if a.arg == scope.self_name:
                continue
            ann = self._annotation_type(a.annotation, scope) if a.annotation is not None else None
            scope.types[a.arg] = ann or _UNKNOWN_TYPE
        if args.vararg is not None:
            scope.types[args.vararg.arg] = "tuple"
        if args.kwarg is not None:
            scope.types[args.kwarg.arg] = "dict"
        return scope

    def _bind_all(self) -> None:
        """Record every binding per scope; types are inferred lazily, when a call needs one."""
        model = self.model
        parents = model.parents
        for name_node in model.nodes(ast.Name):
            if isinstance(name_node.ctx, ast.Load):
                continue
            scope = self._binding_scope(model.ctx(name_node))
            scope.locals.add(name_node.id)
            if isinstance(name_node.ctx, ast.Del):
                continue
            parent = parents.get(name_node)
            value: ast.expr | None = None
            entered = False
            if isinstance(parent, ast.Assign) and parent.targets == [name_node]:
                value = parent.value
            elif isinstance(parent, ast.AnnAssign) and parent.target is name_node:
                ann_type = self._annotation_type(parent.annotation, scope)
                if ann_type:
                    scope.types.setdefault(name_node.id, ann_type)
                    scope.annotated.add(name_node.id)
                    continue
                value = parent.value
            elif isinstance(parent, ast.withitem) and parent.optional_vars is name_node:
                value, entered = parent.context_expr, True
            elif isinstance(parent, ast.NamedExpr) and parent.target is name_node:
                value = parent.value
            scope.assigns.setdefault(name_node.id, []).append((value, entered))
        declarations: list[ast.Global | ast.Nonlocal] = [
            *model.nodes(ast.Global),
            *model.nodes(ast.Nonlocal),
        ]
        for g in declarations:
            scope = self._binding_scope(model.ctx(g))
            scope.locals.difference_update(g.names)
            scope.globals.update(g.names)
        self._collect_class_assigns()

    def _local_type(self, name: str, scope: _Scope) -> str | None:
        """The one type every binding of a local name agrees on (memoised; None: unknown)."""
        known = scope.types.get(name)
        if known is not None or name not in scope.assigns:
            return known or None
        self._type_sources(name, scope)
        scope.types[name] = _UNKNOWN_TYPE  # guards against `x = x + 1` recursion
        result: str | None = None
        with self._guarded():
            for value, entered in scope.assigns[name]:
                bound = self._type_of(value, scope, entered) if value is not None else None
                if bound is None or (result is not None and bound != result):
                    result = None
                    break
                result = bound
        scope.types[name] = result or _UNKNOWN_TYPE
        return result

    def _type_sources(self, name: str, scope: _Scope) -> None:
        """Before typing `name`, type the names a long chain of plain assignments leading to
        it reads (`b = a.f()`, `c = b.g()`, ... `name = y.h()`), the first assigned first:
        typing each then reads the one before it already typed, so the stack does not grow
        with the chain. Only a chain of at least `_CHAIN_TYPED_AHEAD` links, each the one
        assignment of its name, reading no other name, and not reaching back into itself:
        typing those in this order gives every name the type recursion would."""
        chain: list[str] = []
        seen = {name}
        current = name
        while True:
            source = self._sole_source(current, scope)
            if source is None:
                break
            if source in seen:
                return  # a cycle: the guards of `_local_type` settle it, as they always did
            chain.append(source)
            seen.add(source)
            current = source
        if len(chain) < _CHAIN_TYPED_AHEAD:
            return
        first = chain[-1]
        for value, _ in scope.assigns.get(first, ()):
            if value is not None and any(
                isinstance(n, ast.Name) and n.id in seen for n in ast.walk(value)
            ):
                return  # the chain's first name reads the chain: recursion decides
        for link in reversed(chain):
            self._local_type(link, scope)

    def _sole_source(self, name: str, scope: _Scope) -> str | None:
        """The local name `name`'s one assignment reads, when that assignment reads one name
        only, through attributes, method calls and operators (`name = src.attr.f()`), and
        that name's type is not yet known."""
        bindings = scope.assigns.get(name)
        if bindings is None or len(bindings) != 1 or name in scope.annotated:
            return None
        value, entered = bindings[0]
        if value is None or entered:
            return None
        head: ast.expr | None = value
        while head is not None and not isinstance(head, ast.Name):
            head = _chained(head)
        if head is None or head.id == scope.self_name or head.id not in scope.locals:
            return None
        if scope.types.get(head.id) is not None or head.id not in scope.assigns:
            return None
        if any(isinstance(n, ast.Name) and n.id != head.id for n in ast.walk(value)):
            return None
        return head.id

    @contextmanager
    def _guarded(self) -> Iterator[None]:
        """While a name's type is being inferred it reads as unknown, so the node types
        inferred meanwhile hold only until its type is known: they are forgotten then."""
        self._typed_while.append([])
        try:
            yield
        finally:
            for key in self._typed_while.pop():
                self._types.pop(key, None)

    def _collect_class_assigns(self) -> None:
        """`self.x = value` in a class's methods, by class and attribute."""
        model = self.model
        nodes: list[ast.Assign | ast.AnnAssign | ast.AugAssign] = [
            *model.nodes(ast.Assign),
            *model.nodes(ast.AnnAssign),
            *model.nodes(ast.AugAssign),
        ]
        for node in nodes:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)):
                    continue
                scope = self._binding_scope(model.ctx(node))
                if target.value.id != scope.self_name or scope.class_qual is None:
                    continue
                attrs = self.class_assigns.setdefault(scope.class_qual, {})
                entry: tuple[ast.expr | None, _Scope, ast.expr | None]
                if isinstance(node, ast.AugAssign):
                    entry = (None, scope, None)
                elif isinstance(node, ast.AnnAssign):
                    entry = (node.value, scope, node.annotation)
                else:
                    entry = (node.value, scope, None)
                attrs.setdefault(target.attr, []).append(entry)

    def _class_attr_type(self, class_qual: str, attr: str) -> str | None:
        """The one type every `self.attr = ...` of the class agrees on (memoised)."""
        memo = self.class_attrs.setdefault(class_qual, {})
        if attr in memo:
            return memo[attr] or None
        memo[attr] = _UNKNOWN_TYPE
        result: str | None = None
        with self._guarded():
            for value, scope, annotation in self.class_assigns.get(class_qual, {}).get(attr, []):
                if annotation is not None:
                    bound = self._annotation_type(annotation, scope)
                else:
                    bound = self._type_of(value, scope) if value is not None else None
                if bound is None or (result is not None and bound != result):
                    result = None
                    break
                result = bound
        memo[attr] = result or _UNKNOWN_TYPE
        return result

    def _in_annotation(self, node: ast.AST) -> bool:
        """Is the node part of an annotation? (Memoised: a node inside an expression answers
        as its parent does, so a chain of subscripts is walked up once, not once per link.)"""
        parents = self.model.parents
        memo = self._annotation_memo
        path: list[ast.AST] = []
        child: ast.AST = node
        parent = parents.get(node)
        answer: bool | None = None
        while parent is not None and not isinstance(parent, ast.stmt):
            if isinstance(parent, ast.arg):
                answer = True
                break
            answer = memo.get(id(parent))
            if answer is not None:
                break
            path.append(parent)
            child, parent = parent, parents.get(parent)
        if answer is None:
            if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
                answer = child is parent.returns
            else:
                answer = isinstance(parent, ast.AnnAssign) and child is parent.annotation
        for passed in path:
            memo[id(passed)] = answer
        memo[id(node)] = answer
        return answer

    @staticmethod
    def _self_attr(node: ast.AST, scope: _Scope) -> bool:
        return (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == scope.self_name
        )

    def _annotation_type(self, ann: ast.expr, scope: _Scope) -> str | None:
        if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
            try:
                ann = ast.parse(ann.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
            left = self._annotation_type(ann.left, scope)
            right = self._annotation_type(ann.right, scope)
            if _is_none(ann.left):
                return right
            if _is_none(ann.right):
                return left
            return left if left == right else None
        if isinstance(ann, ast.Subscript):
            base = self._qual_of(ann.value, scope)
            if base in ("typing.Optional", "Optional") and not isinstance(ann.slice, ast.Tuple):
                return self._annotation_type(ann.slice, scope)
            return self._known_type(base) if base else None
        name = self._qual_of(ann, scope)
        return self._known_type(name) if name else None

    def _known_type(self, name: str) -> str | None:
        name = self.kb.canonical(name)
        if name in _BUILTIN_TYPES or name in self.kb_types:
            return name
        if self._is_program_class_name(name):
            return name
        return None

    def _is_program_class_name(self, name: str) -> bool:
        if self.prefix and name.startswith(self.prefix):
            return name[len(self.prefix) :] in self.local_classes
        if not self.prefix and name in self.local_classes:
            return True
        last = name.rpartition(".")[2]
        # A CapWords name from another module: a class until the linker says otherwise.
        return "." in name and last[:1].isupper() and not last.isupper()

    def _type_of(self, expr: ast.expr, scope: _Scope, entered: bool = False) -> str | None:
        """The type of an expression's value, or None (memoised per node: see `_types`)."""
        key = (id(expr), id(scope), entered)
        types = self._types
        if key in types:
            return types[key]
        if type(expr) in _CHAIN_LINKS:
            # Type the links of a chain (`a.b.c`, `x.f().g()`, `a + b + c`) innermost first,
            # iteratively: each then finds the one below it typed, so neither the time nor the
            # stack depth grows with the chain's length.
            links: list[ast.expr] = []
            link = _chained(expr)
            while link is not None and (id(link), id(scope), False) not in types:
                links.append(link)
                link = _chained(link)
            for link in reversed(links):
                self._type_of(link, scope)
        result = self._type_uncached(expr, scope, entered)
        types[key] = result
        if self._typed_while:
            self._typed_while[-1].append(key)
        return result

    def _type_uncached(self, expr: ast.expr, scope: _Scope, entered: bool) -> str | None:
        if isinstance(expr, ast.Constant):
            if isinstance(expr.value, str):
                return "str"
            return "bytes" if isinstance(expr.value, bytes) else None
        if isinstance(expr, ast.JoinedStr):
            return "str"
        if isinstance(expr, (ast.List, ast.ListComp)):
            return "list"
        if isinstance(expr, (ast.Dict, ast.DictComp)):
            return "dict"
        if isinstance(expr, (ast.Set, ast.SetComp)):
            return "set"
        if isinstance(expr, ast.Tuple):
            return "tuple"
        if isinstance(expr, ast.Name):
            return self._name_type(expr.id, scope)
        if isinstance(expr, ast.Attribute):
            base = self._type_of(expr.value, scope)
            if base:
                if self._is_local_class(base):
                    return self._class_attr_type(base.removeprefix(self.prefix), expr.attr)
                return self.kb.attribute_type(base, expr.attr)
            if _links(expr, self._max_attribute_links) > self._max_attribute_links:
                return None  # longer than any attribute the knowledge base types
            qual = self._qual_of(expr, scope)
            return self.kb.attributes.get(qual) if qual else None
        if isinstance(expr, ast.Call):
            return self._call_type(expr, scope, entered)
        if isinstance(expr, ast.BinOp):
            left = self._type_of(expr.left, scope)
            if left == "pathlib.Path" and isinstance(expr.op, ast.Div):
                return left
            if left == "str" and isinstance(expr.op, (ast.Add, ast.Mod)):
                return left
            return None
        if isinstance(expr, ast.NamedExpr):
            return self._type_of(expr.value, scope, entered)
        if isinstance(expr, ast.IfExp):
            a, b = self._type_of(expr.body, scope), self._type_of(expr.orelse, scope)
            return a if a == b else None
        return None

    def _is_local_class(self, name: str) -> bool:
        return name.removeprefix(self.prefix) in self.local_classes and (
            not self.prefix or name.startswith(self.prefix)
        )

    def _name_type(self, name: str, scope: _Scope) -> str | None:
        if name == scope.self_name and scope.class_qual is not None:
            return self.prefix + scope.class_qual
        if name in scope.locals or name in scope.types:
            return self._local_type(name, scope)
        fn = scope.fn.parent if scope.fn is not None else None
        while fn is not None:
            outer = self.scopes.get(id(fn))
            if outer is not None and name in outer.locals:
                return self._local_type(name, outer)
            fn = fn.parent
        if name in self.module_scope.locals:
            return self._local_type(name, self.module_scope)
        return None

    def _call_type(self, call: ast.Call, scope: _Scope, entered: bool) -> str | None:
        fact = self._call(call, scope)
        if fact.kind is CallKind.KNOWN:
            spec = self._spec_for(call, scope)
            if spec is None:
                if fact.target and (fact.target in _BUILTIN_TYPES or self.kb.is_class(fact.target)):
                    return fact.target
                return None
            if entered and spec.enter:
                return spec.enter
            if spec.name in _OPENERS:
                mode = _open_mode(call, _OPENERS[spec.name])
                if mode is not None and not set(mode) & set("wax+"):
                    return "io.ReadableFile"
            if spec.returns is None and spec.name in _BUILTIN_TYPES:
                return spec.name
            return spec.returns
        if fact.kind is CallKind.FUNC and fact.target:
            target = fact.target
            if self._is_local_class(target) or (
                "." in target and self._is_program_class_name(target)
            ):
                return target
        return None

    # -- names ---------------------------------------------------------------------------------

    def _resolve_head(self, name: str, scope: _Scope) -> tuple[str, str | None]:
        """("qual", qualified) for a definition, import or builtin; ("var", None) for a variable;
        ("self", class) for the method's self/cls."""
        if name == scope.self_name and scope.class_qual is not None:
            return "self", self.prefix + scope.class_qual
        s: _Scope | None = scope
        while s is not None:
            if name in s.defs:
                return "qual", self.prefix + s.defs[name]
            if name in s.locals:
                return "var", None
            parent = s.fn.parent if s.fn is not None else None
            s = self.scopes.get(id(parent)) if parent is not None else None
        target = self.imports.lookup(name)
        if target is not None:
            return "qual", target
        if name in self.module_scope.defs:
            return "qual", self.prefix + self.module_scope.defs[name]
        if name in self.module_scope.locals:
            return "var", None
        if name in BUILTIN_NAMES:
            return "qual", name
        return "var", None

    def _qual_of(self, expr: ast.expr, scope: _Scope) -> str | None:
        name = dotted(expr)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        kind, qual = self._resolve_head(head, scope)
        if kind != "qual" or qual is None:
            return None
        return self.kb.canonical(f"{qual}.{rest}" if rest else qual)

    # -- calls ---------------------------------------------------------------------------------

    def _spec_for(self, call: ast.Call, scope: _Scope) -> CallSpec | None:
        func = call.func
        qual = self._qual_of(func, scope)
        if qual is not None:
            spec = self.kb.spec(qual)
            if spec is not None:
                return spec
        if isinstance(func, ast.Attribute):
            recv = self._type_of(func.value, scope)
            if recv:
                return self.kb.method(recv, func.attr)
        return None

    def _call(self, call: ast.Call, scope: _Scope) -> Call:
        memo = self._call_memo.get(id(call))
        if memo is None:
            memo = self._call_memo[id(call)] = self._call_uncached(call, scope)
        return memo

    def _call_uncached(self, call: ast.Call, scope: _Scope) -> Call:
        func = call.func
        line, col = call.lineno, call.col_offset
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Call)
            and isinstance(func.value.func, ast.Name)
            and func.value.func.id == "super"
            and scope.class_qual is not None
        ):
            return Call(
                line,
                col,
                f"super().{func.attr}",
                CallKind.SUPER,
                self.prefix + scope.class_qual,
                func.attr,
            )
        qual = self._qual_of(func, scope)
        text = qual or (f"….{func.attr}" if isinstance(func, ast.Attribute) else "<call>")
        if qual is not None:
            spec = self.kb.spec(qual)
            if spec is not None:
                return self._known(call, spec, text, scope)
            if self.kb.is_class(qual):
                return Call(line, col, text, CallKind.KNOWN, qual)
            if qual in BUILTIN_NAMES:
                return Call(line, col, text, CallKind.UNKNOWN, qual)
            return Call(line, col, text, CallKind.FUNC, qual)
        if isinstance(func, ast.Name):
            kind, target = self._resolve_head(func.id, scope)
            if kind == "self" and target is not None:
                return Call(line, col, func.id, CallKind.FUNC, target)  # cls(...)
            return Call(line, col, func.id, CallKind.UNKNOWN)
        if isinstance(func, ast.Attribute):
            recv = self._type_of(func.value, scope)
            shown = f"{_short(dotted(func.value) or recv or '…')}.{func.attr}"
            if recv:
                spec = self.kb.method(recv, func.attr)
                if spec is not None:
                    return self._known(call, spec, shown, scope)
                if recv not in _BUILTIN_TYPES and (
                    self._is_local_class(recv) or self._is_program_class_name(recv)
                ):
                    return Call(line, col, shown, CallKind.METHOD, recv, func.attr)
                return Call(line, col, shown, CallKind.UNKNOWN)
            recv_name = dotted(func.value)
            if (
                func.attr in LOG_METHODS
                and recv_name is not None
                and "log" in recv_name.rpartition(".")[2].lower()
            ):
                return Call(line, col, shown, CallKind.KNOWN)
            return Call(line, col, shown, CallKind.UNKNOWN)
        return Call(line, col, "<call>", CallKind.UNKNOWN)

    def _known(self, call: ast.Call, spec: CallSpec, text: str, scope: _Scope) -> Call:
        true_kws: set[str] = set()
        star_kw = False
        args = call.args
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in _BUILTIN_TYPES
            and spec.name == f"{func.value.id}.{func.attr}"
            and args
        ):
            args = args[1:]  # `dict.pop(self, key)`: the first argument is the instance
        for name, arg in zip(spec.positional, args, strict=False):
            if isinstance(arg, ast.Starred):
                break
            if not (isinstance(arg, ast.Constant) and arg.value in (False, None)):
                true_kws.add(name)
        for kw in call.keywords:
            if kw.arg is None:
                star_kw = True
            elif not (isinstance(kw.value, ast.Constant) and kw.value.value in (False, None)):
                true_kws.add(kw.arg)
        if star_kw:  # **kwargs may pass anything: assume every conditional raise
            true_kws.update(k for k, _ in spec.when_kw)
        starred = any(isinstance(a, ast.Starred) for a in args)
        nargs = 0 if starred else len(args)
        consts = [i for i, a in enumerate(args) if isinstance(a, ast.Constant)]
        items = spec.items(true_kws, nargs, consts)
        if star_kw or starred:
            kws = set(true_kws) - {k for k, _ in spec.unless_kw}
            items = items | spec.items(kws, 0, ()) | spec.items(kws, 99, ())
        incomplete = spec.incomplete
        if spec.name in _OPENERS:
            items = _by_open_mode(items, _open_mode(call, _OPENERS[spec.name]))
        if spec.name in _DUNDER_CALLERS and call.args:
            t = self._type_of(call.args[0], scope)
            if t is None or self._is_program_class_name(t):
                incomplete = True  # runs the object's __str__ / __repr__ / __format__
        if (spec.name == "next" or spec.name in _CONSUMERS) and call.args:
            t = self._type_of(call.args[0], scope)
            nxt = self.kb.method(t, "__next__") if t else None
            if nxt is not None:  # `next(lexer)`, `list(lexer)`: iterating runs its __next__
                items = items | nxt.items((), 0)
                incomplete = incomplete or nxt.incomplete
        return Call(
            call.lineno,
            call.col_offset,
            text,
            CallKind.KNOWN,
            spec.name,
            None,
            items,
            incomplete,
        )

    def _callbacks(self, call: ast.Call, spec: CallSpec, scope: _Scope) -> list[Call]:
        """What the callables a call invokes raise (`map(int, xs)`, `sorted(key=f)`)."""
        out: list[Call] = []
        for where in spec.callbacks:
            arg: ast.expr | None = None
            if where.isdigit():
                index = int(where)
                if index < len(call.args) and not any(
                    isinstance(a, ast.Starred) for a in call.args[: index + 1]
                ):
                    arg = call.args[index]
            else:
                arg = next((k.value for k in call.keywords if k.arg == where), None)
            if arg is None or isinstance(arg, (ast.Lambda, ast.Constant, ast.JoinedStr)):
                continue  # lambda bodies are analysed where they stand
            line, col = arg.lineno, arg.col_offset
            qual = self._qual_of(arg, scope)
            if qual is not None:
                cb_spec = self.kb.spec(qual)
                if cb_spec is not None:
                    out.append(
                        Call(
                            line,
                            col,
                            qual,
                            CallKind.KNOWN,
                            cb_spec.name,
                            None,
                            cb_spec.items((), 1),
                            cb_spec.incomplete,
                        )
                    )
                elif self.kb.is_class(qual):
                    continue
                else:
                    out.append(Call(line, col, qual, CallKind.FUNC, qual))
                continue
            if (
                isinstance(arg, ast.Attribute)
                and isinstance(arg.value, ast.Name)
                and arg.value.id == scope.self_name
                and scope.class_qual is not None
            ):
                out.append(
                    Call(
                        line,
                        col,
                        f"self.{arg.attr}",
                        CallKind.METHOD,
                        self.prefix + scope.class_qual,
                        arg.attr,
                    )
                )
                continue
            out.append(Call(line, col, "<callback>", CallKind.UNKNOWN))
        return out

    # -- blocks --------------------------------------------------------------------------------

    # -- sources and blocks --------------------------------------------------------------------

    def _container(self, ctx: Ctx) -> object:
        """Where a source sits: its function and the innermost try part or except clause."""
        fn = self._owner(ctx)
        key: object = None
        if ctx.try_ is not None and (ctx.function is None or fn is ctx.function):
            handler = ctx.handler
            if handler is not None and handler.try_ is ctx.try_:
                key = (id(ctx.try_.node), handler.index)
            else:
                key = (id(ctx.try_.node), ctx.try_part)
        elif fn is not None and fn is not ctx.function:
            # inside a lambda: the lambda's own position decides
            lam = ctx.function
            while lam is not None and lam.parent is not fn:
                lam = lam.parent
            if lam is not None:
                return self._container(self.model.ctx(lam.node))
        return (id(fn) if fn is not None else None, key)

    def _add(self, ctx: Ctx, source: Call | Raise | Op | Try) -> None:
        self.containers.setdefault(self._container(ctx), []).append(source)

    def _collect_sources(self) -> None:
        model = self.model
        for info in model.calls:
            scope = self._scope_of(info.ctx)
            fact = self._call(info.node, scope)
            self._add(info.ctx, fact)
            if fact.kind is CallKind.KNOWN and fact.target is not None:
                spec = self.kb.calls.get(fact.target)
                if spec is not None and spec.callbacks:
                    for cb in self._callbacks(info.node, spec, scope):
                        self._add(info.ctx, cb)
        self._properties()
        for r in model.raises:
            self._add(r.ctx, self._raise(r.node, r.ctx))
        for sub in model.nodes(ast.Subscript):
            ctx = model.ctx(sub)
            op = self._subscript(sub, self._scope_of(ctx))
            if op is not None:
                self._add(ctx, op)
        for binop in model.nodes(ast.BinOp):
            if isinstance(binop.op, _DIVISION):
                ctx = model.ctx(binop)
                divisor = binop.right
                if isinstance(divisor, ast.Constant) and divisor.value:
                    continue
                formatting = frozenset({"~KeyError", "~ValueError"})
                if isinstance(binop.op, ast.Mod):
                    if isinstance(binop.left, (ast.Constant, ast.JoinedStr)) or self._type_of(
                        binop.left, self._scope_of(ctx)
                    ) in ("str", "bytes"):
                        self._add(ctx, Op(binop.lineno, formatting))  # %-formatting
                        continue
                    self._add(ctx, Op(binop.lineno, formatting))  # maybe formatting
                self._add(ctx, Op(binop.lineno, frozenset({"ZeroDivisionError"})))
        for assign in model.nodes(ast.Assign):
            if any(isinstance(t, (ast.Tuple, ast.List)) for t in assign.targets) and not isinstance(
                assign.value, (ast.Tuple, ast.List)
            ):
                self._add(model.ctx(assign), Op(assign.lineno, frozenset({"~ValueError"})))
        imports: list[ast.Import | ast.ImportFrom] = [
            *model.nodes(ast.Import),
            *model.nodes(ast.ImportFrom),
        ]
        for imp in imports:
            ctx = model.ctx(imp)
            for call in self._import(imp):
                self._add(ctx, call)
        loops: list[ast.For | ast.AsyncFor] = [*model.nodes(ast.For), *model.nodes(ast.AsyncFor)]
        for loop in loops:
            ctx = model.ctx(loop)
            it = self._iteration(loop.iter, self._scope_of(ctx))
            if it is not None:
                self._add(ctx, it)
        for comp in model.nodes(ast.comprehension):
            ctx = model.ctx(comp.iter)  # `[w for w in lexer]`: iterated where it stands
            it = self._iteration(comp.iter, self._scope_of(ctx))
            if it is not None:
                self._add(ctx, it)
        withs: list[ast.With | ast.AsyncWith] = [
            *model.nodes(ast.With),
            *model.nodes(ast.AsyncWith),
        ]
        for w in withs:
            ctx = model.ctx(w)
            for item in w.items:
                for call in self._context_manager(item.context_expr, self._scope_of(ctx)):
                    self._add(ctx, call)

    def _properties(self) -> None:
        """`self.x` where x is a property of the class runs the property's code; reading an
        attribute of an object of unknown type may run a property of that name anywhere in
        the program (recorded as an `@name` item, decided when the program is linked)."""
        props: dict[str, set[str]] = {}
        for f in self.model.functions:
            if f.class_name is not None and any(
                d.endswith(("property", "cached_property")) for d in f.decorators
            ):
                cls, _, name = f.qualname.rpartition(".")
                props.setdefault(name, set()).add(cls)
        self.property_names = set(props) | self._assigned_properties()
        reads: dict[object, tuple[int, set[str]]] = {}
        parents = self.model.parents
        imports = self.imports
        for attr in self.model.nodes(ast.Attribute):
            if attr.attr.startswith("__"):
                continue
            if isinstance(attr.ctx, ast.Store):
                self._attribute_store(attr, reads)
                continue
            if not isinstance(attr.ctx, ast.Load):
                continue
            parent = parents.get(attr)
            if isinstance(parent, ast.Call) and parent.func is attr:
                continue  # a method call: resolved as a call
            value = attr.value
            if isinstance(value, ast.Name) and imports.lookup(value.id) is not None:
                continue  # most likely a module attribute
            ctx = self.model.ctx(attr)
            scope = self._scope_of(ctx)
            if isinstance(value, ast.Name) and value.id == scope.self_name:
                if scope.class_qual is None:
                    continue
                if attr.attr not in props:
                    # maybe a property inherited from a class in another file
                    key = self._container(ctx)
                    reads.setdefault(key, (attr.lineno, set()))[1].add("@" + attr.attr)
                    continue
            else:
                if isinstance(value, ast.Name) and self._resolve_head(value.id, scope)[0] == "qual":
                    continue  # a module or class attribute
                t = self._type_of(value, scope)
                if t is not None and not self._is_program_class_name(t):
                    spec = self.kb.method(t, attr.attr)
                    if spec is not None:  # a documented attribute that raises
                        self._add(
                            ctx,
                            Call(
                                attr.lineno,
                                attr.col_offset,
                                f"{_short(t)}.{attr.attr}",
                                CallKind.KNOWN,
                                spec.name,
                                None,
                                spec.items((), 0),
                                spec.incomplete,
                            ),
                        )
                    continue  # otherwise a builtin or library type's data attribute
                key = self._container(ctx)
                entry = reads.setdefault(key, (attr.lineno, set()))
                entry[1].add(f"@{t}:{attr.attr}" if t else "@?" + attr.attr)
                continue
            self._add(
                ctx,
                Call(
                    attr.lineno,
                    attr.col_offset,
                    f"self.{attr.attr}",
                    CallKind.METHOD,
                    self.prefix + scope.class_qual,
                    attr.attr,
                ),
            )
        for key, (line, names) in reads.items():
            self.containers.setdefault(key, []).append(Op(line, frozenset(names)))

    def _assigned_properties(self) -> set[str]:
        """Properties bound by assignment in a class body: `ref = property(_get_ref, _set_ref)`
        and aliases of them (`reference = ref`)."""
        names: set[str] = set()
        for cls in self.model.classes:
            for stmt in cls.node.body:
                if not (isinstance(stmt, ast.Assign) and stmt.targets):
                    continue
                value = stmt.value
                is_property = (
                    isinstance(value, ast.Call)
                    and (dotted(value.func) or "").endswith(("property", "cached_property"))
                ) or (isinstance(value, ast.Name) and value.id in names)
                if is_property:
                    names.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
        return names

    def _attribute_store(
        self, attr: ast.Attribute, reads: dict[object, tuple[int, set[str]]]
    ) -> None:
        """`obj.x = v` on an object of unknown type may run a property setter, `__setattr__`
        or a proxy's check (a dead `weakref.proxy` raises ReferenceError): unknown code, like
        an unknown attribute read. `self.x = v` is that only when x is one of the file's
        properties."""
        value = attr.value
        ctx = self.model.ctx(attr)
        scope = self._scope_of(ctx)
        if isinstance(value, ast.Name):
            if value.id == scope.self_name:
                if attr.attr in self.property_names:
                    key = self._container(ctx)
                    reads.setdefault(key, (attr.lineno, set()))[1].add("@" + attr.attr)
                return
            if self.imports.lookup(value.id) is not None:
                return  # a module attribute
            if self._resolve_head(value.id, scope)[0] == "qual":
                return  # a module or class attribute
        t = self._type_of(value, scope)
        if t is not None and not self._is_program_class_name(t):
            return  # a library type's data attribute
        key = self._container(ctx)
        reads.setdefault(key, (attr.lineno, set()))[1].add(
            f"@{t}:{attr.attr}" if t else "@?" + attr.attr
        )

    def _finish(self, fn: FunctionInfo | None, tries: list[TryInfo]) -> Block:
        """Assemble one function's block: nested tries bottom-up (model order is pre-order)."""
        qual = id(fn) if fn is not None else None
        model = self.model
        for t in reversed(tries):
            ctx = model.ctx(t.node)
            if fn is None and self._owner(ctx) is not None:
                continue
            tid = id(t.node)
            scope = self._scope_of(ctx)

            def part(key: object, tid: int = tid) -> Block:
                return tuple(self.containers.pop((qual, (tid, key)), ()))

            handlers = tuple(
                Handler(
                    h.node.lineno,
                    h.node.col_offset,
                    self._caught(h.node, scope),
                    part(h.index),
                    verdict(model, h).value,
                )
                for h in t.handlers
            )
            fact = Try(
                t.node.lineno,
                t.node.col_offset,
                t.node.end_lineno or t.node.lineno,
                part("body"),
                handlers,
                part("orelse"),
                part("finally"),
            )
            self._add(ctx, fact)
        return tuple(self.containers.pop((qual, None), ()))

    def _subscript(self, node: ast.Subscript, scope: _Scope) -> Op | Call | None:
        if isinstance(node.slice, ast.Slice) or self._in_annotation(node):
            return None
        t = self._type_of(node.value, scope)
        qual = self._qual_of(node.value, scope)
        if t is None and qual is not None and _looks_like_type(qual):
            return None  # a generic alias: list[int], Optional[str], MyGeneric[T]
        parent = self.model.parents.get(node)
        augmented = isinstance(parent, ast.AugAssign) and parent.target is node
        store = isinstance(node.ctx, ast.Store) and not augmented
        if t is not None and t not in _BUILTIN_TYPES and self._is_program_class_name(t):
            dunder = {ast.Load: "__getitem__", ast.Store: "__setitem__"}.get(
                type(node.ctx), "__delitem__"
            )
            return Call(
                node.lineno, node.col_offset, f"{_short(t)}.{dunder}", CallKind.METHOD, t, dunder
            )
        if t is None and store and qual is None:
            # storing into an object of unknown type runs its __setitem__ (array: OverflowError,
            # a DataFrame: ValueError, ...)
            return Call(node.lineno, node.col_offset, "…[…] = …", CallKind.UNKNOWN)
        if t == "dict" or qual == "os.environ":
            return None if store else Op(node.lineno, frozenset({"KeyError"}))
        if t in ("list", "tuple", "str", "bytes"):
            return Op(node.lineno, frozenset({"IndexError"}))
        if t is not None:
            return None if store else Op(node.lineno, frozenset({"~KeyError", "~IndexError"}))
        if store:
            return Op(node.lineno, frozenset({"~IndexError"}))
        return Op(node.lineno, frozenset({"KeyError", "IndexError"}))

    def _iteration(self, iterable: ast.expr, scope: _Scope) -> Call | None:
        t = self._type_of(iterable, scope)
        spec = self.kb.method(t, "__next__") if t else None
        if t is None or spec is None:
            return None
        return Call(
            iterable.lineno,
            iterable.col_offset,
            f"iteration over {_short(t)}",
            CallKind.KNOWN,
            spec.name,
            None,
            spec.items((), 0),
            spec.incomplete,
        )

    def _context_manager(self, expr: ast.expr, scope: _Scope) -> list[Call]:
        if not isinstance(expr, ast.Call):
            return []
        t = self._type_of(expr, scope)
        if not t or not self._is_local_class(t):
            return []
        return [
            Call(expr.lineno, expr.col_offset, f"{_short(t)}.{a}", CallKind.METHOD, t, a)
            for a in ("__enter__", "__exit__")
        ]

    def _import(self, stmt: ast.Import | ast.ImportFrom) -> list[Call]:
        items = frozenset({"ModuleNotFoundError", "ImportError"})
        out: list[Call] = []
        modules: list[str] = []
        if isinstance(stmt, ast.Import):
            modules = [a.name for a in stmt.names]
        else:
            base = stmt.module or ""
            if stmt.level:
                package = self.module.rsplit(".", stmt.level)[0] if "." in self.module else ""
                base = f"{package}.{base}".strip(".") if base else package
            modules = [base] if base else []
            if any(a.name == "*" for a in stmt.names):
                out.append(
                    Call(stmt.lineno, stmt.col_offset, f"from {base} import *", CallKind.UNKNOWN)
                )
        out.extend(
            Call(stmt.lineno, stmt.col_offset, f"import {m}", CallKind.MODULE, m, None, items)
            for m in modules
        )
        return out

    def _raise(self, stmt: ast.Raise, ctx: Ctx) -> Raise:
        exc = stmt.exc
        handler = ctx.handler
        if exc is None:
            return Raise(stmt.lineno, (), reraise=handler is not None)
        if isinstance(exc, ast.Name) and handler is not None and exc.id == handler.node.name:
            return Raise(stmt.lineno, (), reraise=True)
        scope = self._scope_of(ctx)
        names: list[str] = []
        t = self._type_of(exc, scope)
        if t and t not in _BUILTIN_TYPES:
            names.append(t)
        target = exc.func if isinstance(exc, ast.Call) else exc
        qual = self._qual_of(target, scope)
        if qual is not None and qual not in names:
            names.append(qual)
        return Raise(stmt.lineno, tuple(names))

    def _caught(self, handler: ast.ExceptHandler, scope: _Scope) -> tuple[str, ...]:
        if handler.type is None:
            return ()
        elts = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        return tuple(self._qual_of(e, scope) or "?" for e in elts)


_DUNDER_CALLERS = frozenset({"str", "repr", "format", "ascii"})
_CONSUMERS = frozenset(
    {"list", "tuple", "set", "frozenset", "sorted", "sum", "min", "max", "any", "all", "dict"}
)
"""Builtins that iterate their first argument to the end before they return."""
_OPENERS = {
    "open": 1,
    "io.open": 1,
    "builtins.open": 1,
    "codecs.open": 1,
    "os.fdopen": 1,
    "pathlib.Path.open": 0,
}
"""Calls whose failures depend on the file mode, and the position of their mode argument."""
_WRITE_ONLY = frozenset({"E:ENOSPC", "E:EROFS", "E:EDQUOT", "UnicodeEncodeError"})


_CHAIN_TYPED_AHEAD = 32
"""Chains of assignments shorter than this are typed by plain recursion (see `_type_sources`)."""
_CHAIN_LINKS = frozenset({ast.Attribute, ast.Call, ast.BinOp, ast.NamedExpr, ast.IfExp})


def _chained(expr: ast.expr) -> ast.expr | None:
    """The sub-expression `_type_of` types first for `expr` along a chain (what an attribute
    or method is taken from, a left operand, the `else` of a conditional), or None."""
    kind = type(expr)
    if kind is ast.Attribute or kind is ast.NamedExpr:
        return expr.value  # type: ignore[attr-defined, no-any-return]
    if kind is ast.Call:
        func = expr.func  # type: ignore[attr-defined]
        return func.value if isinstance(func, ast.Attribute) else None
    if kind is ast.BinOp:
        return expr.left  # type: ignore[attr-defined, no-any-return]
    if kind is ast.IfExp:
        return expr.orelse  # type: ignore[attr-defined, no-any-return]
    return None


def _links(expr: ast.expr, limit: int) -> int:
    """How many attributes `expr` takes from the innermost name (`a.b.c`: 2), counted up to
    one past `limit`."""
    count = 0
    while isinstance(expr, ast.Attribute) and count <= limit:
        count += 1
        expr = expr.value
    return count


def _max_attribute_links(kb: KnowledgeBase) -> int:
    """A bound on the attributes of an expression whose qualified name can be a key of
    `kb.attributes`: the name's parts, plus what resolving it can remove (`builtins.`, an
    alias shorter than what it stands for), plus the dotted import it may start with."""
    parts = max((k.count(".") + 1 for k in kb.attributes), default=0)
    aliases = max((k.count(".") + 1 for k in kb.aliases), default=0)
    shrink = max((k.count(".") - v.count(".") for k, v in kb.aliases.items()), default=0)
    return max(parts, aliases) + max(shrink, 0) + 1


def _open_mode(call: ast.Call, position: int) -> str | None:
    mode: ast.expr | None = call.args[position] if len(call.args) > position else None
    for kw in call.keywords:
        if kw.arg == "mode":
            mode = kw.value
        elif kw.arg is None:
            return None
    if any(isinstance(a, ast.Starred) for a in call.args[: position + 1]):
        return None
    if mode is None:
        return "r"
    if isinstance(mode, ast.Constant) and isinstance(mode.value, str):
        return mode.value
    return None


def _by_open_mode(items: frozenset[str], mode: str | None) -> frozenset[str]:
    """Only mode "x" raises FileExistsError; only writing modes fill the disk."""
    if mode is None:
        return items
    drop: set[str] = set()
    if "x" not in mode:
        drop |= {"FileExistsError", "E:EEXIST"}
    if not set(mode) & set("wax+"):
        drop |= _WRITE_ONLY
    return items - drop


def _looks_like_type(qual: str) -> bool:
    last = qual.rpartition(".")[2]
    return (
        last in _BUILTIN_TYPES
        or last in ("type", "object")
        or qual.startswith(("typing.", "collections.abc.", "typing_extensions."))
        or (last[:1].isupper() and not last.isupper())
    )


_KB_TYPES: dict[int, tuple[KnowledgeBase, frozenset[str]]] = {}


def _kb_types(kb: KnowledgeBase) -> frozenset[str]:
    """The type names the knowledge base knows methods or results of (cached per base)."""
    cached = _KB_TYPES.get(id(kb))
    if cached is not None and cached[0] is kb:
        return cached[1]
    types = _compute_kb_types(kb)
    _KB_TYPES[id(kb)] = (kb, types)
    return types


def _compute_kb_types(kb: KnowledgeBase) -> frozenset[str]:
    types = {name.rpartition(".")[0] for name in kb.calls if "." in name}
    types.update(s.returns for s in kb.calls.values() if s.returns)
    types.update(kb.classes)
    return frozenset(types)


def _is_none(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


def _short(name: str) -> str:
    return name.rpartition(".")[2] if name.count(".") > 1 else name


def _top_level_names(body: list[ast.stmt]) -> Iterator[ast.Name]:
    for stmt in body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                yield ast.Name((alias.asname or alias.name).partition(".")[0])
        elif isinstance(stmt, (ast.If, ast.Try)):
            yield from _top_level_names([*stmt.body, *stmt.orelse])
            if isinstance(stmt, ast.Try):
                for h in stmt.handlers:
                    yield from _top_level_names(h.body)
