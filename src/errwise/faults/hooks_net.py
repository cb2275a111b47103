"""Interceptors for sockets and sqlite3.

Promise: socket.socket's connect/send/sendall/sendto/recv/recv_into are shadowed on the Python
class (restored exactly afterwards); a short send/recv does a real, shorter call. sqlite3.connect
made while a plan is active returns a real `sqlite3.Connection` of a subclass whose execute*,
commit and cursors' execute* ask the dispatcher first (your own `factory=` is kept as the base).
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Callable
from types import TracebackType
from typing import Any

from errwise.faults.dispatch import STATE, busy, dispatch, is_busy
from errwise.faults.errors import make_error
from errwise.faults.hooks_fs import pathname

__all__ = ["wrap_socket_method", "wrap_sqlite_connect"]

AnyFunc = Callable[..., Any]
_SHORT_SIZE = {"recv": 0, "recv_into": 1}


def _address(value: object) -> str | None:
    if isinstance(value, tuple) and len(value) >= 2:
        return f"{value[0]}:{value[1]}"
    return pathname(value)


def wrap_socket_method(original: AnyFunc, operation: str) -> AnyFunc:
    """A socket.socket method; path = the address for connect/sendto."""
    method = operation.rsplit(".", 1)[1]

    def call(self: socket.socket, *args: Any, **kwargs: Any) -> Any:
        if not STATE.active or is_busy():
            return original(self, *args, **kwargs)
        target = None
        if method == "connect" and args:
            target = _address(args[0])
        elif method == "sendto" and args:
            target = _address(args[-1])
        # A socket without a timeout blocks; it never raises socket.timeout.
        excluded = () if self.gettimeout() is not None else ("timeout",)
        injection = dispatch(operation, target, build=_bare(operation), exclude=excluded)
        if injection is not None:
            if injection.exception is not None:
                raise injection.exception
            args = _shorten(method, args)
        with busy():
            return original(self, *args, **kwargs)

    call.__wrapped__ = original  # type: ignore[attr-defined]
    call.__name__ = method
    call.__qualname__ = f"socket.{method}"
    return call


def _bare(operation: str) -> Callable[[str], BaseException | None]:
    """Socket errors name no file."""
    return lambda fault: None if fault == "short" else make_error(operation, fault)


def _shorten(method: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    if not args:
        return args
    first = args[0]
    if method in ("send", "sendto"):
        view = memoryview(first).cast("B")
        return (view[: len(view) // 2], *args[1:])
    if method == "recv":
        return (max(1, int(first) // 2), *args[1:])
    if method == "recv_into":
        view = memoryview(first).cast("B")
        return (view[: max(1, len(view) // 2)], *args[1:])
    return args


def _sql_fault(operation: str, database: str | None) -> None:
    injection = dispatch(operation, database, exclude=("short",))
    if injection is not None and injection.exception is not None:
        raise injection.exception


_cursor_classes: dict[Any, type] = {}
_connection_classes: dict[Any, type] = {}


def _cursor_class(base: Any) -> type:
    found = _cursor_classes.get(base)
    if found is not None:
        return found

    def execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        if STATE.active and not is_busy():
            _sql_fault("sqlite3.execute", getattr(self.connection, "_errwise_database", None))
        with busy():
            return base.execute(self, *args, **kwargs)

    def executemany(self: Any, *args: Any, **kwargs: Any) -> Any:
        if STATE.active and not is_busy():
            _sql_fault("sqlite3.execute", getattr(self.connection, "_errwise_database", None))
        with busy():
            return base.executemany(self, *args, **kwargs)

    def executescript(self: Any, *args: Any, **kwargs: Any) -> Any:
        if STATE.active and not is_busy():
            _sql_fault("sqlite3.execute", getattr(self.connection, "_errwise_database", None))
        with busy():
            return base.executescript(self, *args, **kwargs)

    found = type(
        base.__name__,
        (base,),
        {
            "execute": execute,
            "executemany": executemany,
            "executescript": executescript,
            "__module__": base.__module__,
        },
    )
    _cursor_classes[base] = found
    return found


def _connection_class(base: Any) -> type:
    found = _connection_classes.get(base)
    if found is not None:
        return found

    def database(self: Any) -> str | None:
        return getattr(self, "_errwise_database", None)

    def cursor(self: Any, factory: Any = sqlite3.Cursor) -> Any:
        return base.cursor(self, _cursor_class(factory))

    def make(name: str, operation: str) -> AnyFunc:
        real = getattr(base, name)

        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            if STATE.active and not is_busy():
                _sql_fault(operation, database(self))
            with busy():
                return real(self, *args, **kwargs)

        method.__name__ = name
        return method

    def __exit__(
        self: Any,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Any:
        if exc_type is None and STATE.active and not is_busy():
            injection = dispatch("sqlite3.commit", database(self), exclude=("short",))
            if injection is not None and injection.exception is not None:
                with busy():
                    base.rollback(self)
                raise injection.exception
        with busy():
            return base.__exit__(self, exc_type, exc, tb)

    found = type(
        base.__name__,
        (base,),
        {
            "cursor": cursor,
            "execute": make("execute", "sqlite3.execute"),
            "executemany": make("executemany", "sqlite3.execute"),
            "executescript": make("executescript", "sqlite3.execute"),
            "commit": make("commit", "sqlite3.commit"),
            "__exit__": __exit__,
            "__module__": base.__module__,
        },
    )
    _connection_classes[base] = found
    return found


def wrap_sqlite_connect(original: AnyFunc, operation: str) -> AnyFunc:
    """sqlite3.connect: fail it, or hand back a connection whose queries can be failed."""

    def connect(database: Any, *args: Any, **kwargs: Any) -> Any:
        if not STATE.active or is_busy():
            return original(database, *args, **kwargs)
        name = pathname(database)
        _sql_fault(operation, name)
        if len(args) >= 5:  # factory given positionally: leave the call alone
            with busy():
                return original(database, *args, **kwargs)
        kwargs["factory"] = _connection_class(kwargs.get("factory", sqlite3.Connection))
        with busy():
            connection = original(database, *args, **kwargs)
        connection._errwise_database = name
        return connection

    connect.__wrapped__ = original  # type: ignore[attr-defined]
    connect.__name__ = "connect"
    connect.__doc__ = original.__doc__
    return connect
