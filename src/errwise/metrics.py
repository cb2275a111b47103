"""In-process error counters, by (code, kind), with export hooks.

Promise:
- `count(code, kind)` is thread-safe; `snapshot()` returns a consistent copy of every counter.
- Labels are the error code name and the kind value only: never a message, a path or a context
  value, so the label set stays small and carries no user data.
- Export hooks receive `(code, kind, delta)` after each count, outside the registry lock. A failing
  hook is contained: it is logged and counted under ERR_INTERNAL (without calling the hooks again),
  and never breaks the code that counted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from errwise.codes import is_registered
from errwise.error import Error, usage
from errwise.kind import Kind

__all__ = [
    "ExportHook",
    "add_export_hook",
    "count",
    "count_error",
    "remove_export_hook",
    "reset",
    "snapshot",
]

ExportHook = Callable[[str, str, int], object]
"""An export hook: called as `hook(code, kind, delta)`, e.g. to bump a Prometheus counter."""

_counts: dict[tuple[str, str], int] = {}
_hooks: tuple[ExportHook, ...] = ()
_lock = threading.Lock()
_KINDS = frozenset(k.value for k in Kind)
_COUNTED_MARK = "_errwise_counted"
_log = logging.getLogger("errwise.metrics")


def count(code: str, kind: str | Kind, delta: int = 1) -> None:
    """Add `delta` to the counter of (code, kind) and tell the export hooks."""
    if type(code) is not str or not is_registered(code):
        raise usage("ERR_USAGE", "count() takes a registered error code name", got=repr(code))
    kind_value = kind.value if isinstance(kind, Kind) else kind
    if kind_value not in _KINDS:
        raise usage("ERR_USAGE", "count() takes an errwise.Kind or its value", got=repr(kind))
    if type(delta) is not int or delta < 1:
        raise usage("ERR_USAGE", "count() delta must be a positive int", got=repr(delta))
    _add(code, kind_value, delta, notify=True)


def count_error(err: Error) -> bool:
    """Count `err` once: returns False (and counts nothing) when it was counted before.

    Guards and `run_main` both call this, so an error that a guard re-raises and `run_main` then
    reports is counted once.
    """
    if not isinstance(err, Error):
        raise usage("ERR_USAGE", "count_error() takes an errwise.Error", got=type(err).__name__)
    with _lock:
        if err.__dict__.get(_COUNTED_MARK):
            return False
        err.__dict__[_COUNTED_MARK] = True
    _add(err.code, err.kind.value, 1, notify=True)
    return True


def _add(code: str, kind: str, delta: int, *, notify: bool) -> None:
    key = (code, kind)
    with _lock:
        _counts[key] = _counts.get(key, 0) + delta
        hooks = _hooks
    if notify:
        for hook in hooks:
            _call_hook(hook, code, kind, delta)


def _call_hook(hook: ExportHook, code: str, kind: str, delta: int) -> None:
    try:
        hook(code, kind, delta)
    # errwise: ignore[broad-catch] -- a failing export hook must never break the counting host
    except Exception as exc:
        _add("ERR_INTERNAL", Kind.INTERNAL.value, 1, notify=False)
        _log.error(
            "metrics export hook %r failed; the count was kept in-process",
            hook,
            exc_info=exc,
            extra={"error_code": "ERR_INTERNAL", "error_kind": Kind.INTERNAL.value},
        )


def snapshot() -> dict[tuple[str, str], int]:
    """A copy of every counter: {(code, kind): count}."""
    with _lock:
        return dict(_counts)


def add_export_hook(hook: ExportHook) -> None:
    """Call `hook(code, kind, delta)` after every count from now on (adding twice is a no-op)."""
    global _hooks  # noqa: PLW0603 - replaced whole, so readers need no lock
    if not callable(hook):
        raise usage("ERR_USAGE", "an export hook must be callable", got=type(hook).__name__)
    with _lock:
        if hook not in _hooks:
            _hooks = (*_hooks, hook)


def remove_export_hook(hook: ExportHook) -> None:
    """Stop calling `hook`; a usage error when it was not added."""
    global _hooks  # noqa: PLW0603 - replaced whole, so readers need no lock
    with _lock:
        if hook not in _hooks:
            raise usage("ERR_USAGE", "remove_export_hook(): this hook was never added")
        _hooks = tuple(h for h in _hooks if h is not hook and h != hook)


def reset() -> None:
    """Clear every counter (for tests and long-running services that export deltas)."""
    with _lock:
        _counts.clear()
