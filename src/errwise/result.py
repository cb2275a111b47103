"""A typed `Result`: `Ok[T] | Err[E]`, for operations whose failure is an ordinary outcome.

Promise: `Ok` and `Err` are immutable (read-only `value`/`error`, no other attributes), hashable
when their payload is, picklable, `match`-able (`case Ok(value)`, `case Err(error)`), final (so a
`match` over both is exhaustive for mypy), and as cheap as a one-slot object. A method given a
non-callable is a `UsageError` on either side, not only when it would be called. `unwrap()` on an
`Err` raises the carried exception, or an `ERR_INTERNAL` error when the payload is not one.
`as_result(*types)` turns only the named exception types into `Err(classified error)`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Generic, Literal, NoReturn, ParamSpec, TypeAlias, TypeVar, final

from errwise._jsonable import safe_repr
from errwise.classify import classify
from errwise.error import Error, InternalError, usage

__all__ = ["Ok", "Err", "Result", "as_result"]

T = TypeVar("T")
U = TypeVar("U")
F = TypeVar("F")
T_co = TypeVar("T_co", covariant=True)
E_co = TypeVar("E_co", covariant=True)
P = ParamSpec("P")


@final
class Ok(Generic[T_co]):
    """A success carrying `value`."""

    __slots__ = ("_value",)
    __match_args__ = ("value",)

    def __init__(self, value: T_co) -> None:
        self._value = value

    @property
    def value(self) -> T_co:
        return self._value

    def __repr__(self) -> str:
        return f"Ok({self._value!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is Ok and self._value == other._value

    def __hash__(self) -> int:
        return hash((Ok, self._value))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Ok, (self._value,))

    def is_ok(self) -> Literal[True]:
        return True

    def is_err(self) -> Literal[False]:
        return False

    def map(self, fn: Callable[[T_co], U]) -> Ok[U]:
        """`Ok(fn(value))`."""
        # A try block costs nothing until it catches; a non-callable `fn` is reported here.
        try:
            value = fn(self._value)
        except TypeError:
            if callable(fn):
                raise
            raise _not_callable("map", fn) from None
        # object.__new__ + one slot store: cheaper than a second trip through Ok.__init__.
        new: Ok[U] = _new(Ok)
        new._value = value
        return new

    def map_err(self, fn: Callable[[Any], object]) -> Ok[T_co]:
        """This `Ok` unchanged (`fn` is checked, not called)."""
        if not callable(fn):
            raise _not_callable("map_err", fn)
        return self

    def and_then(self, fn: Callable[[T_co], Result[U, F]]) -> Result[U, F]:
        """`fn(value)`: chain a step that may fail."""
        try:
            return fn(self._value)
        except TypeError:
            if callable(fn):
                raise
            raise _not_callable("and_then", fn) from None

    def unwrap(self) -> T_co:
        """The value."""
        return self._value

    def unwrap_or(self, default: object) -> T_co:
        """The value (`default` is for an `Err`)."""
        return self._value

    def unwrap_or_else(self, fn: Callable[[Any], object]) -> T_co:
        """The value (`fn` is checked, not called)."""
        if not callable(fn):
            raise _not_callable("unwrap_or_else", fn)
        return self._value

    def expect(self, message: str) -> T_co:
        """The value (`message` is for an `Err`)."""
        if type(message) is not str:
            raise usage("ERR_USAGE", "expect() takes a str message", got=type(message).__name__)
        return self._value


@final
class Err(Generic[E_co]):
    """A failure carrying `error` (usually an `errwise.Error`)."""

    __slots__ = ("_error",)
    __match_args__ = ("error",)

    def __init__(self, error: E_co) -> None:
        self._error = error

    @property
    def error(self) -> E_co:
        return self._error

    def __repr__(self) -> str:
        return f"Err({self._error!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is Err and self._error == other._error

    def __hash__(self) -> int:
        return hash((Err, self._error))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Err, (self._error,))

    def is_ok(self) -> Literal[False]:
        return False

    def is_err(self) -> Literal[True]:
        return True

    def map(self, fn: Callable[[Any], object]) -> Err[E_co]:
        """This `Err` unchanged (`fn` is checked, not called)."""
        if not callable(fn):
            raise _not_callable("map", fn)
        return self

    def map_err(self, fn: Callable[[E_co], F]) -> Err[F]:
        """`Err(fn(error))`."""
        if not callable(fn):
            raise _not_callable("map_err", fn)
        return Err(fn(self._error))

    def and_then(self, fn: Callable[[Any], object]) -> Err[E_co]:
        """This `Err` unchanged (`fn` is checked, not called)."""
        if not callable(fn):
            raise _not_callable("and_then", fn)
        return self

    def unwrap(self) -> NoReturn:
        """Raise the carried exception, or an ERR_INTERNAL error describing the payload."""
        error: object = self._error
        if isinstance(error, BaseException):
            raise error
        raise InternalError(
            "ERR_INTERNAL", "unwrap() called on an Err", context={"error": safe_repr(error)}
        )

    def unwrap_or(self, default: U) -> U:
        """`default`."""
        return default

    def unwrap_or_else(self, fn: Callable[[E_co], U]) -> U:
        """`fn(error)`."""
        if not callable(fn):
            raise _not_callable("unwrap_or_else", fn)
        return fn(self._error)

    def expect(self, message: str) -> NoReturn:
        """Raise an ERR_INTERNAL error with `message`, chained to the carried exception."""
        error: object = self._error
        err = InternalError("ERR_INTERNAL", message, context={"error": safe_repr(error)})
        if isinstance(error, BaseException):
            raise err from error
        raise err


_new = object.__new__


def _not_callable(method: str, fn: object) -> Error:
    return usage("ERR_USAGE", f"{method}() takes a callable", got=type(fn).__name__)


Result: TypeAlias = Ok[T] | Err[F]
"""`Ok[T] | Err[E]`: narrow with `match`, `isinstance` or `is_ok()`."""


def as_result(
    *exception_types: type[BaseException],
) -> Callable[[Callable[P, T]], Callable[P, Result[T, Error]]]:
    """Decorate a function so that the named exception types come back as `Err(classified)`.

    Every other exception propagates unchanged: name the failures you expect.
    """
    if not exception_types:
        raise usage("ERR_USAGE", "as_result() needs at least one exception type to catch")
    for exc_type in exception_types:
        if not (isinstance(exc_type, type) and issubclass(exc_type, BaseException)):
            raise usage("ERR_USAGE", "as_result() takes exception classes", got=repr(exc_type))
    caught = tuple(exception_types)

    def decorate(fn: Callable[P, T]) -> Callable[P, Result[T, Error]]:
        if not callable(fn):
            raise usage("ERR_USAGE", "as_result(...) decorates a function", got=type(fn).__name__)
        if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
            # The body would run only when awaited, outside this wrapper: nothing would be caught.
            raise usage(
                "ERR_USAGE", "as_result() cannot wrap an async function", function=_name(fn)
            )
        if inspect.isgeneratorfunction(fn):
            raise usage(
                "ERR_USAGE", "as_result() cannot wrap a generator function", function=_name(fn)
            )

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Result[T, Error]:
            try:
                return Ok(fn(*args, **kwargs))
            except caught as exc:
                return Err(classify(exc))

        return wrapper

    return decorate


def _name(fn: object) -> str:
    return str(getattr(fn, "__qualname__", None) or safe_repr(fn))
