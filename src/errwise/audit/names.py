"""Resolve the names a module uses to dotted, fully qualified names, from its imports alone.

Promise: `ImportMap.qualify(expr)` turns `sp.run` (after `import subprocess as sp`) into
`subprocess.run`, `run` (after `from subprocess import run`) into `subprocess.run`, and an
unimported builtin such as `open` into `open`; it returns None for anything it cannot name
statically (calls on call results, subscripts, lambdas). It never guesses a module it did not see
imported: `p.unlink` stays `p.unlink` for a local variable `p`.
"""

from __future__ import annotations

import ast
import builtins

__all__ = ["ImportMap", "dotted", "BUILTIN_NAMES"]

BUILTIN_NAMES = frozenset(dir(builtins))


def dotted(expr: ast.expr) -> str | None:
    """`a.b.c` for a chain of attributes on a name; None for anything else."""
    if isinstance(expr, ast.Name):  # the common shapes first: `f`, `a.f`
        return expr.id
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        return f"{expr.value.id}.{expr.attr}"
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        parts.append(expr.id)
        return ".".join(reversed(parts))
    return None


class ImportMap:
    """The names bound by the import statements of one module (all scopes folded together)."""

    __slots__ = ("_aliases", "star_imports")

    def __init__(self) -> None:
        self._aliases: dict[str, str] = {}
        self.star_imports: list[str] = []

    def add(self, node: ast.Import | ast.ImportFrom, module_name: str | None = None) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self._aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".", 1)[0]
                    self._aliases[top] = top
            return
        base = node.module or ""
        if node.level and module_name is not None:
            package = module_name.rsplit(".", node.level)[0] if "." in module_name else ""
            base = f"{package}.{base}".strip(".") if base else package
        for alias in node.names:
            if alias.name == "*":
                self.star_imports.append(base)
                continue
            self._aliases[alias.asname or alias.name] = (
                f"{base}.{alias.name}" if base else alias.name
            )

    def lookup(self, name: str) -> str | None:
        """The qualified name an imported local name stands for, or None."""
        return self._aliases.get(name)

    def qualify(self, expr: ast.expr) -> str | None:
        """The qualified dotted name of `expr` (see the module promise)."""
        name = dotted(expr)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        target = self._aliases.get(head)
        if target is None:
            return name
        return f"{target}.{rest}" if rest else target

    def bindings(self) -> dict[str, str]:
        """Every local name bound by an import -> the qualified name it stands for (a copy)."""
        return dict(self._aliases)

    def imported_modules(self) -> set[str]:
        return {v.split(".", 1)[0] for v in self._aliases.values()}
