"""The exception class hierarchy the inference reasons with.

Promise: a `Hierarchy` knows the builtin exceptions of the running interpreter (introspected from
`builtins`, never by importing audited code), the standard-library and third-party classes of the
knowledge base, and the audited program's own classes (`{qualname: bases}`). It answers
`is_subclass`, `may_be_subclass` (true also when an ancestry is partly unknown), orders names most
specific first (`ordered`), and splits raise-set items by the clauses of an `except`
(`split` / `subtract`). Items are class names or errno items (`"E:EXDEV"`, see `kb.errno_token`),
which behave like their PEP 3151 class; a `~` prefix marks a *quiet* item (possible, but not
worth listing: `~IndexError` for a store into a container of unknown type).

For the shadowed-handler and conflated-errno rules: `Hierarchy.for_program(program)` (or
`Program.hierarchy`) covers user-defined classes; `errnos_of(items)` names the errnos at stake.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from errwise.audit.infer.kb import BUILTIN_EXCEPTIONS, KnowledgeBase, default_kb, token_errno

__all__ = ["Hierarchy", "item_class", "is_quiet", "errnos_of", "NEVER_DEAD"]

_QUIET = "~"

NEVER_DEAD = frozenset(
    {
        "TypeError",
        "AttributeError",
        "NameError",
        "RecursionError",
        "MemoryError",
        "KeyboardInterrupt",
        "SystemExit",
        "GeneratorExit",
        "AssertionError",
        "SystemError",
        "OverflowError",
    }
)
"""Exceptions any code may raise (wrong types, bugs, signals): a handler catching one of these, a
subclass or a superclass (Exception, RuntimeError) is never judged dead."""


def is_quiet(item: str) -> bool:
    return item.startswith(_QUIET)


def item_class(item: str) -> str:
    """The class of a raise-set item (errno items map to their PEP 3151 class)."""
    from errwise.audit.infer.kb import token_class

    return token_class(item.removeprefix(_QUIET))


def errnos_of(items: Iterable[str]) -> list[str]:
    """The errno names among raise-set items, sorted."""
    return sorted({e for i in items if (e := token_errno(i.removeprefix(_QUIET))) is not None})


class Hierarchy:
    """Builtins + knowledge-base classes + the audited program's classes."""

    __slots__ = ("_ancestors", "_bases", "_kb", "_splits")

    def __init__(
        self,
        user_classes: Mapping[str, Iterable[str]] | None = None,
        kb: KnowledgeBase | None = None,
    ) -> None:
        self._kb = kb or default_kb()
        self._bases: dict[str, tuple[str, ...]] = dict(BUILTIN_EXCEPTIONS)
        for name, bases in self._kb.classes.items():
            self._bases[name] = tuple(self._kb.canonical(b) for b in bases)
        for name, user_bases in (user_classes or {}).items():
            self._bases.setdefault(name, tuple(self._kb.canonical(b) for b in user_bases))
        self._ancestors: dict[str, tuple[frozenset[str], bool]] = {}
        self._splits: dict[
            tuple[frozenset[str], tuple[str, ...]],
            tuple[frozenset[str], frozenset[str], bool],
        ] = {}

    def canonical(self, name: str) -> str:
        return self._kb.canonical(name)

    def known(self, name: str) -> bool:
        """Is the class's whole ancestry known?"""
        return self._lineage(self.canonical(name))[1]

    def ancestors(self, name: str) -> frozenset[str]:
        """The class and every known ancestor."""
        return self._lineage(self.canonical(name))[0]

    def _lineage(self, name: str) -> tuple[frozenset[str], bool]:
        cached = self._ancestors.get(name)
        if cached is not None:
            return cached
        seen: set[str] = set()
        complete = True
        todo = [name]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            if current == "object":
                continue
            bases = self._bases.get(current)
            if bases is None:
                complete = False
                continue
            todo.extend(bases)
        if any(name in self._bases.get(c, ()) for c in seen):
            complete = False  # a cyclic hierarchy (broken code): nothing is certain
        result = (frozenset(seen), complete)
        self._ancestors[name] = result
        return result

    def is_exception(self, name: str) -> bool:
        return "BaseException" in self.ancestors(name)

    def is_subclass(self, name: str, base: str) -> bool:
        """Certainly a subclass (or the same class)."""
        return self.canonical(base) in self.ancestors(name)

    def may_be_subclass(self, name: str, base: str) -> bool:
        """A subclass, or possibly one because part of `name`'s ancestry is unknown."""
        if self.is_subclass(name, base):
            return True
        return not self.known(name)

    def related(self, a: str, b: str) -> bool:
        """One is (or may be) a subclass of the other."""
        return self.may_be_subclass(a, b) or self.is_subclass(b, a)

    def depth(self, name: str) -> int:
        """Length of the longest known chain up to BaseException (0 for BaseException)."""
        depth = 0
        frontier = {self.canonical(name)}
        seen: set[str] = set()
        while frontier and depth < 64:
            nxt: set[str] = set()
            for cls in frontier:
                if cls in seen:
                    continue
                seen.add(cls)
                nxt.update(b for b in self._bases.get(cls, ()) if b != "object")
            if not nxt:
                break
            frontier = nxt
            depth += 1
        return depth if self.known(name) else depth + 2

    def ordered(self, items: Iterable[str], include_quiet: bool = False) -> list[str]:
        """Class names of the items, deduplicated, most specific first (deeper classes first,
        then by name)."""
        names = {item_class(i) for i in items if include_quiet or not is_quiet(i)}
        names = {self.canonical(n) for n in names}
        return sorted(names, key=lambda n: (-self.depth(n), n))

    def catches(self, caught: Iterable[str], item: str) -> bool:
        """Does an except clause for `caught` (empty: bare) certainly catch this item?"""
        cls = item_class(item)
        caught = tuple(caught)
        if not caught:
            return True
        return any(self.is_subclass(cls, c) for c in caught)

    def split(
        self, items: Iterable[str], caught: Iterable[str]
    ) -> tuple[frozenset[str], frozenset[str], bool]:
        """(received, escaping, uncertain) for an except clause catching `caught`.

        received: items the clause certainly catches, plus the caught classes that are narrower
        than an item (an `OSError` item with `except FileNotFoundError` receives
        FileNotFoundError and keeps escaping as OSError). uncertain: some item's ancestry is
        unknown, so the clause may catch it too."""
        caught = tuple(caught)
        items = frozenset(items)
        key = (items, caught)
        cached = self._splits.get(key)
        if cached is None:
            cached = self._split(items, tuple(self.canonical(c) for c in caught))
            self._splits[key] = cached
        return cached

    def _split(
        self, items: frozenset[str], caught: tuple[str, ...]
    ) -> tuple[frozenset[str], frozenset[str], bool]:
        received: set[str] = set()
        escaping: set[str] = set()
        uncertain = False
        for item in items:
            if item.startswith("~?"):  # a marker, not a class: only broad clauses take it
                if not caught or any(c in ("Exception", "BaseException") for c in caught):
                    continue
                escaping.add(item)
                continue
            cls = item_class(item)
            if not caught or any(self.is_subclass(cls, c) for c in caught):
                received.add(item)
                continue
            escaping.add(item)
            for c in caught:
                if self.is_subclass(c, cls):
                    received.add(_QUIET + c if is_quiet(item) else c)
            if not self.known(cls):
                uncertain = True
        return frozenset(received), frozenset(escaping), uncertain

    def subtract(self, items: Iterable[str], caught: Iterable[str]) -> frozenset[str]:
        """The items an `except caught` clause lets escape (`except OSError` removes
        FileNotFoundError and every errno item)."""
        return self.split(items, caught)[1]
