"""Whether one exception is, or is chained to, another.

Promise: `chained_to(exc, targets)` is True when `exc` or anything reachable from it through
`__cause__`, `__context__`, the members of an exception group, or the error of an errwise `Err`
is one of `targets` (by identity). Cycles are safe.
"""

from __future__ import annotations

from collections.abc import Collection

from errwise.result import Err

__all__ = ["chained_to", "describe"]


def chained_to(exc: object, targets: Collection[BaseException]) -> bool:
    """See the module promise."""
    if not targets:
        return False
    ids = {id(target) for target in targets}
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if id(item) in ids:
            return True
        if isinstance(item, BaseException):
            todo.append(item.__cause__)
            todo.append(item.__context__)
            if isinstance(item, BaseExceptionGroup):
                todo.extend(item.exceptions)
        elif isinstance(item, Err):
            todo.append(item.error)
    return False


def describe(exc: BaseException) -> str:
    """`OSError: [Errno 28] No space left on device: 'x'` (type and text, one line)."""
    text = str(exc).replace("\n", " ")
    name = type(exc).__name__
    return f"{name}: {text}" if text else name
