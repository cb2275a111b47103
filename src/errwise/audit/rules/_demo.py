"""Demo code in a library module: the body of `if __name__ == "__main__":` in a module that
belongs to a package (other code imports it), where the block only shows how to use the
module.

Promise: `library_demo(model, node)` is true only for module-level code (not inside a function)
under an `if __name__ == "__main__":` test, in a file whose module name places it inside a
package and that is not itself a `__main__` module. A stand-alone script's main block is its
real entry point and is never demo code. Never raises on any model.
"""

from __future__ import annotations

import ast

from errwise.audit.model import FileModel

__all__ = ["library_demo", "is_main_test"]


def is_main_test(test: ast.expr) -> bool:
    """`__name__ == "__main__"` (either way round)."""
    if not isinstance(test, ast.Compare) or len(test.comparators) != 1:
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    mains = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(names) == 1 and len(mains) == 1


def library_demo(model: FileModel, node: ast.AST) -> bool:
    """Is `node` demo code under a library module's `if __name__ == "__main__":`?"""
    module = model.module_name
    if not module or "." not in module or module.rsplit(".", 1)[-1] == "__main__":
        return False
    if model.function_of(node) is not None:
        return False
    cur = model.parents.get(node)
    while cur is not None:
        if isinstance(cur, ast.If) and is_main_test(cur.test):
            return True
        cur = model.parents.get(cur)
    return False
