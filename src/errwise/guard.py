"""Guards: boundaries that never let an error unwind into their host.

`errwise.guard(...)` returns one `Guard`, usable as a decorator and as a context manager.

Promise, for an exception raised inside a guard:
- `KeyboardInterrupt`, `SystemExit` and every other non-`Exception` (GeneratorExit,
  asyncio.CancelledError) propagate untouched: a guard never swallows control flow.
- Any other exception is classified (`errwise.classify`; unknown ones become ERR_INTERNAL with
  the original as `__cause__`), counted once in `errwise.metrics`, and handled by the guard's own
  policy or else the process policy (`errwise.policy.current()`), read at the time of the error:
  - `abort`: the classified error is raised (an `errwise.Error` raised by the body is re-raised
    as is, with its traceback);
  - `disable`: the guard detaches. The first time, it calls `on_disable(error)` once and logs one
    structured warning. The decorated function returns `fallback`; from then on calls through the
    disabled guard return `fallback` at once without running the body, until `reset()`.
- A failing `on_disable` hook is itself contained: logged and counted, never raised.

Context-manager form (`with guard:`): Python cannot skip a `with` body or make it return a value,
so under `disable` the error is suppressed and recorded (`guard.error`, `guard.disabled`) and
`fallback` is not used; a body entered after the guard was disabled still runs (test
`guard.disabled` to skip work). Under `abort` the classified error propagates from the block.

One guard is one switch: decorating several callbacks with the same guard disables them together
(a tracer's global and local trace functions, say). The success path costs one attribute read and
a zero-cost `try` on top of the call.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, ParamSpec, TypeVar, overload

from errwise import policy as _policy
from errwise.classify import classify
from errwise.diagnostics import log_error
from errwise.error import Error, usage
from errwise.metrics import count_error

__all__ = ["Guard", "OnDisable", "guard"]

P = ParamSpec("P")
R = TypeVar("R")
F = TypeVar("F")

OnDisable = Callable[[Error], object]
"""A hook called once, with the error, when a guard disables itself (e.g. to unhook a tracer)."""

_log = logging.getLogger("errwise.guard")


class Guard(Generic[F]):
    """A decorator and context manager that contains errors per policy (see the module doc)."""

    __slots__ = ("_lock", "_on_disable", "_policy", "disabled", "error", "fallback", "name")

    fallback: F
    """Returned by a decorated function when the guard is (or becomes) disabled."""
    disabled: bool
    """True once an error disabled the guard, until `reset()`."""
    error: Error | None
    """The last error this guard handled under `disable` (None when armed)."""
    name: str | None

    def __init__(
        self,
        *,
        policy: _policy.Policy | _policy.OnError | None,
        fallback: F,
        on_disable: OnDisable | None,
        name: str | None,
    ) -> None:
        if isinstance(policy, str):
            if policy not in _policy.ON_ERROR_VALUES:
                raise usage(
                    "ERR_INVALID_POLICY_VALUE",
                    f"guard(policy=...): invalid value {policy!r}; allowed: "
                    + " | ".join(_policy.ON_ERROR_VALUES)
                    + " or an errwise.Policy",
                    source="guard(policy=...)",
                )
            policy = _policy.Policy(on_error=policy)
        elif policy is not None and not isinstance(policy, _policy.Policy):
            raise usage(
                "ERR_USAGE",
                "guard(policy=...) takes an errwise.Policy, 'abort', 'disable' or None",
                got=type(policy).__name__,
            )
        if on_disable is not None:
            _check_on_disable(on_disable)
        if name is not None and (type(name) is not str or not name.strip()):
            raise usage("ERR_USAGE", "guard(name=...) must be a non-empty str", got=repr(name))
        self._policy = policy
        self._on_disable = on_disable
        self._lock = threading.Lock()
        self.fallback = fallback
        self.name = name
        self.disabled = False
        self.error = None

    # -- decorator ----------------------------------------------------------------------------

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R | F]:
        if not callable(fn):
            raise usage("ERR_USAGE", "a guard decorates a callable", got=type(fn).__name__)
        if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
            raise usage(
                "ERR_USAGE",
                "guard cannot decorate an async function: it would guard only the creation of "
                "the coroutine, not its run; use `with guard:` inside it",
                function=getattr(fn, "__qualname__", repr(fn)),
            )
        if inspect.isgeneratorfunction(fn):
            raise usage(
                "ERR_USAGE",
                "guard cannot decorate a generator function: it would guard only the creation "
                "of the generator; use `with guard:` inside it",
                function=getattr(fn, "__qualname__", repr(fn)),
            )
        guard = self
        where = self.name or getattr(fn, "__qualname__", None) or repr(fn)

        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | F:
            if guard.disabled:
                return guard.fallback
            try:
                # Not re-packing an empty kwargs dict saves ~30% of the guard's overhead.
                if kwargs:
                    return fn(*args, **kwargs)
                return fn(*args)  # type: ignore[call-arg]  # kwargs is empty here
            # errwise: ignore[broad-catch] -- containment is the purpose of a guard
            except Exception as exc:
                err = guard._handle(exc, where)
                if err is None:
                    return guard.fallback
                if err is exc:
                    raise
                raise err from exc

        functools.update_wrapper(guarded, fn)
        guarded.__errwise_guard__ = self  # type: ignore[attr-defined]
        return guarded

    # -- context manager ----------------------------------------------------------------------

    def __enter__(self) -> Guard[F]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False
        err = self._handle(exc, self.name or "with-block")
        if err is None:
            return True
        if err is exc:
            return False
        raise err from exc

    # -- state --------------------------------------------------------------------------------

    @property
    def policy(self) -> _policy.Policy | None:
        """The guard's own policy, or None when it follows the process policy."""
        return self._policy

    def reset(self) -> None:
        """Re-arm a disabled guard: the body runs again and the next error is handled anew."""
        with self._lock:
            self.disabled = False
            self.error = None

    def __repr__(self) -> str:
        state = "disabled" if self.disabled else "armed"
        policy = self._policy.on_error if self._policy is not None else "process"
        return f"<errwise.Guard name={self.name!r} policy={policy} {state}>"

    # -- the slow path ------------------------------------------------------------------------

    def _handle(self, exc: Exception, where: str) -> Error | None:
        """Classify and count `exc`; return the error to raise (abort) or None (disabled)."""
        err = classify(exc)
        if err is not exc:
            err.context.setdefault("guard", where)
        count_error(err)
        on_error = (self._policy or _policy.current()).on_error
        if on_error == "abort":
            return err
        with self._lock:
            first = not self.disabled
            self.disabled = True
            self.error = err
        if not first:
            # A with-block entered after the guard was disabled, or a racing thread: the
            # warning and the hook happened already; keep a trace at debug level only.
            _log.debug("disabled guard %s contained another error: %s", where, err)
            return None
        if self._on_disable is not None:
            self._call_on_disable(err, where)
        log_error(
            err,
            _log,
            level=logging.WARNING,
            message=f"guard {where} disabled after an error; it returns its fallback from now on",
            guard=where,
        )
        return None

    def _call_on_disable(self, err: Error, where: str) -> None:
        hook = self._on_disable
        assert hook is not None  # checked by the caller
        try:
            hook(err)
        # errwise: ignore[broad-catch] -- a failing on_disable hook must never break the host
        except Exception as hook_exc:
            hook_err = classify(hook_exc).with_context(guard=where, hook=_describe(hook))
            count_error(hook_err)
            log_error(
                hook_err,
                _log,
                level=logging.ERROR,
                message=f"the on_disable hook of guard {where} failed",
                guard=where,
            )


def _check_on_disable(hook: object) -> None:
    """A hook that cannot take the error would fail only when the guard disables: say so now."""
    if not callable(hook):
        raise usage(
            "ERR_USAGE",
            "guard(on_disable=...) must be callable (it receives the error)",
            got=type(hook).__name__,
        )
    try:
        signature = inspect.signature(hook)
    except (TypeError, ValueError):
        return  # a builtin without a signature: nothing to check
    try:
        signature.bind(None)
    except TypeError:
        raise usage(
            "ERR_USAGE",
            "guard(on_disable=...) is called with one argument, the error; "
            "write `def hook(err): ...` (or `lambda err: ...`)",
            hook=_describe(hook),
        ) from None


def _describe(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


@overload
def guard(
    *,
    policy: _policy.Policy | _policy.OnError | None = None,
    on_disable: OnDisable | None = None,
    name: str | None = None,
) -> Guard[None]: ...


@overload
def guard(
    *,
    policy: _policy.Policy | _policy.OnError | None = None,
    fallback: F,
    on_disable: OnDisable | None = None,
    name: str | None = None,
) -> Guard[F]: ...


def guard(
    _misuse: object = None,
    /,
    *,
    policy: _policy.Policy | _policy.OnError | None = None,
    fallback: Any = None,
    on_disable: OnDisable | None = None,
    name: str | None = None,
) -> Guard[Any]:
    """A guard: `@guard(fallback=None, on_disable=unhook)` or `with guard(policy="disable"):`.

    `policy` is the guard's own policy (a `Policy`, or `"abort"`/`"disable"`), else the process
    policy applies at the time of each error. See the module doc for the full contract.
    """
    if _misuse is not None:
        raise usage(
            "ERR_USAGE",
            "guard takes keyword arguments only; write @errwise.guard() with parentheses",
            got=type(_misuse).__name__,
        )
    return Guard(policy=policy, fallback=fallback, on_disable=on_disable, name=name)
