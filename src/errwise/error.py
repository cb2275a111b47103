"""The error façade: one exception base with a kind, a stable code, context, hints and a
recoverable flag; one subclass per kind; constructors that make the right way the easy way.

Promise:
- `str(err)` reads `[ERR_DISK_FULL] cannot write report.json: no space left (path=/tmp/x)`.
- `err.to_dict()` is the JSON form of ../shared/design.md and never fails, whatever the context.
- Errors pickle and copy with every attribute, their notes and their cause (when the cause cannot
  cross a process boundary, a summary of it does); an application code travels with its error.
  They are not frozen, and work with `add_note`, exception groups and `except*`.
- Bad input (an unknown code, a non-str context key, a wrong type) is a `UsageError` at the call.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, NoReturn, Self, TypeVar

from errwise._jsonable import jsonable, safe_repr, safe_str
from errwise.codes import Code, resolve
from errwise.codes import _get as _registry_get
from errwise.kind import Kind
from errwise.runid import run_id

__all__ = [
    "Error",
    "UsageError",
    "EnvError",
    "TargetError",
    "InternalError",
    "usage",
    "env",
    "target",
    "bug",
    "ensure",
    "ensure_usage",
    "ensure_env",
    "ensure_target",
    "ensure_internal",
    "never",
]


class Error(Exception):
    """The one base of every classified error.

    Construct it with a registered code (a `Code` or its name). When constructed as `Error(...)`
    directly, the instance becomes the subclass matching the code's default kind, so
    `except errwise.EnvError` catches every environment error however it was made. The context
    mapping passed in is copied; `with_context` adds to the error's own copy.
    """

    __slots__ = ("_spec", "code", "context", "hints", "kind", "message", "recoverable")

    fixed_kind: ClassVar[Kind | None] = None
    """Set by the per-kind subclasses: the kind every instance of the class has."""

    _spec: Code
    code: str
    kind: Kind
    message: str
    context: dict[str, object]
    hints: list[str]
    recoverable: bool

    def __init__(
        self,
        code: Code | str,
        message: str,
        *,
        context: Mapping[str, object] | None = None,
        hints: Iterable[str] = (),
        recoverable: bool | None = None,
    ) -> None:
        # Hot path: kept flat; every check is a type() identity test or one dict lookup.
        spec = _registry_get(code) if type(code) is str else None
        if spec is None:
            spec = resolve(code)
        if type(message) is not str:
            raise usage("ERR_USAGE", "error message must be a str", got=type(message).__name__)
        cls = type(self)
        if cls is Error:
            cls = _BY_KIND[spec.kind]
            self.__class__ = cls
        self._spec = spec
        self.code = spec.name
        self.kind = cls.fixed_kind or spec.kind
        self.message = message
        if context is None:
            self.context = {}
        else:
            if type(context) is not dict and not isinstance(context, Mapping):
                raise usage("ERR_USAGE", "context must be a mapping", got=type(context).__name__)
            for key in context:
                if type(key) is not str:
                    raise usage("ERR_USAGE", "context keys must be str", key=safe_repr(key))
            self.context = dict(context)
        if type(hints) is tuple or type(hints) is list:
            self.hints = [_check_hint(h) for h in hints] if hints else []
        elif isinstance(hints, (str, bytes)) or not isinstance(hints, Iterable):
            raise usage("ERR_USAGE", "hints must be an iterable of str", got=type(hints).__name__)
        else:
            self.hints = [_check_hint(h) for h in hints]
        if recoverable is None:
            self.recoverable = spec.recoverable
        elif type(recoverable) is bool:
            self.recoverable = recoverable
        else:
            raise usage("ERR_USAGE", "recoverable must be a bool", got=type(recoverable).__name__)

    # -- reading -------------------------------------------------------------------------------

    @property
    def title(self) -> str:
        """The code's one-line title."""
        return self._spec.title

    @property
    def spec(self) -> Code:
        """The registered `Code` of this error."""
        return self._spec

    @property
    def exit_code(self) -> int:
        """The process exit code for this error's kind."""
        return self.kind.exit_code

    def __str__(self) -> str:
        text = f"[{self.code}] {self.message}"
        if self.context:
            text += " (" + ", ".join(f"{k}={safe_str(v)}" for k, v in self.context.items()) + ")"
        return text

    def __repr__(self) -> str:
        context = ", ".join(f"{k!r}: {safe_repr(v)}" for k, v in self.context.items())
        return f"{type(self).__name__}({self.code!r}, {self.message!r}, context={{{context}}})"

    # -- enriching -----------------------------------------------------------------------------

    def with_context(self, **context: object) -> Self:
        """Add context entries (later ones win) and return this error, for chaining."""
        self.context.update(context)
        return self

    def add_hint(self, text: str) -> Self:
        """Add a recovery step a human can follow and return this error, for chaining."""
        self.hints.append(_check_hint(text))
        return self

    # -- serialising ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ../shared/design.md (never fails: unknown values become repr)."""
        cause = self.__cause__
        return {
            "code": self.code,
            "kind": self.kind.value,
            "title": self.title,
            "message": safe_str(self.message),
            "context": jsonable(self.context),
            "hints": [safe_str(hint) for hint in self.hints],
            "recoverable": self.recoverable,
            "cause": None
            if cause is None
            else {"type": _qualname(type(cause)), "message": safe_str(cause)},
            "exit_code": self.exit_code,
            "run_id": run_id(),
        }

    def to_json(self) -> str:
        """`to_dict()` as one line of JSON, always encodable as UTF-8.

        Non-ASCII text stays readable; if some string holds lone surrogates (an undecodable file
        name, decoded with `os.fsdecode`), the whole line is ASCII-escaped instead.
        """
        data = self.to_dict()
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = json.dumps(data, separators=(",", ":"))
        return text

    # -- copying and pickling: every attribute, the notes (`__dict__`) and the cause -------------

    def _state(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for name in _STATE_SLOTS:
            state[name] = getattr(self, name)
        return state

    def __reduce__(self) -> tuple[Any, ...]:
        state = self._state()
        cause = self.__cause__
        if cause is not None:
            state["__cause__"] = travelling = _picklable_cause(cause)
            # After `raise classify(exc) from exc` inside `except ...: exc` the cause is also the
            # context; keep that too (process pools overwrite `__cause__` with their traceback).
            if self.__context__ is cause:
                state["__context__"] = travelling
        return (_rebuild, (type(self), self.code, self.message), state)

    def __copy__(self) -> Self:
        new = _rebuild(type(self), self.code, self.message)
        new.__setstate__(self._state())
        new.__cause__ = self.__cause__
        new.__context__ = self.__context__
        new.__suppress_context__ = self.__suppress_context__
        return new

    def __setstate__(self, state: dict[str, Any] | None) -> None:
        state = dict(state or {})
        cause = state.pop("__cause__", None)
        context = state.pop("__context__", None)
        for name in _STATE_SLOTS:
            setattr(self, name, state.pop(name))
        self.__dict__.update(state)
        # The receiving process may not have registered an application code: keep the carried one.
        registered = _registry_get(self.code)
        self._spec = registered if registered is not None else self._spec
        if cause is not None:
            self.__cause__ = cause
        if context is not None:
            self.__context__ = context


class UsageError(Error):
    """The caller asked for something invalid (exit code 2)."""

    __slots__ = ()

    fixed_kind = Kind.USAGE


class EnvError(Error):
    """The environment failed: I/O, permissions, disk, missing tools, timeouts (exit code 10)."""

    __slots__ = ()

    fixed_kind = Kind.ENVIRONMENT


class TargetError(Error):
    """The guarded or run code raised or misbehaved (exit code 20)."""

    __slots__ = ()

    fixed_kind = Kind.TARGET


class InternalError(Error):
    """A bug (exit code 70)."""

    __slots__ = ()

    fixed_kind = Kind.INTERNAL


_E = TypeVar("_E", bound=Error)

_STATE_SLOTS = ("_spec", "code", "kind", "message", "context", "hints", "recoverable")

_BY_KIND: dict[Kind, type[Error]] = {
    Kind.USAGE: UsageError,
    Kind.ENVIRONMENT: EnvError,
    Kind.TARGET: TargetError,
    Kind.INTERNAL: InternalError,
}


def _rebuild(cls: type[_E], code: str, message: str) -> _E:
    err = Exception.__new__(cls)
    err.args = (code, message)
    return err


def _picklable_cause(cause: BaseException) -> BaseException:
    """The cause itself when it survives a pickle round trip, else a summary of it."""
    try:
        pickle.loads(pickle.dumps(cause))
    # errwise: ignore[broad-catch] -- any failure (a lambda attribute, an __init__ that unpickling
    # cannot call) means "does not travel"; the summary below keeps what a reader needs.
    except Exception:
        return Exception(f"{_qualname(type(cause))}: {safe_str(cause)}")
    return cause


def _qualname(cls: type) -> str:
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def _check_hint(text: object) -> str:
    if type(text) is not str or not text.strip():
        raise usage("ERR_USAGE", "a hint must be a non-empty str", got=type(text).__name__)
    return text


# -- constructors: return the error, so `raise errwise.env(...)` points at the caller's line ---


def _make(cls: type[_E], code: Code | str, message: str, context: dict[str, object]) -> _E:
    """Build an error whose context came from `**kwargs` (so its keys are str): the fast path."""
    if type(code) is str:
        spec = _registry_get(code)
    elif type(code) is Code and _registry_get(code.name) is code:
        spec = code
    else:
        spec = None
    if spec is None or type(message) is not str:
        return cls(code, message, context=context)  # the checked path: raises the UsageError
    if cls is Error:
        cls = _BY_KIND[spec.kind]  # type: ignore[assignment]
    err = cls.__new__(cls, code, message)
    err._spec = spec
    err.code = spec.name
    err.kind = cls.fixed_kind or spec.kind
    err.message = message
    err.context = context
    err.hints = []
    err.recoverable = spec.recoverable
    return err


def _check_args(code: Code | str, message: str) -> None:
    """Reject a bad code or message even when an `ensure*` condition holds, so a typo in an
    error path fails on its first run, not on the day the condition first turns false."""
    if type(code) is not str or _registry_get(code) is None:
        resolve(code)
    if type(message) is not str:
        raise usage("ERR_USAGE", "error message must be a str", got=type(message).__name__)


def usage(code: Code | str, message: str, /, **context: object) -> UsageError:
    """A usage error: the caller asked for something invalid."""
    return _make(UsageError, code, message, context)


def env(code: Code | str, message: str, /, **context: object) -> EnvError:
    """An environment error: I/O, permissions, disk, missing tools, timeouts."""
    return _make(EnvError, code, message, context)


def target(code: Code | str, message: str, /, **context: object) -> TargetError:
    """A target error: the guarded or run code raised or misbehaved."""
    return _make(TargetError, code, message, context)


def bug(message: str, /, **context: object) -> InternalError:
    """An internal error (ERR_INTERNAL): something that cannot happen did."""
    return _make(InternalError, "ERR_INTERNAL", message, context)


def ensure(cond: object, code: Code | str, message: str, /, **context: object) -> None:
    """Raise an error of `code`'s default kind when `cond` is false.

    The code and message are checked on every call, so a bad one fails at once, not later.
    """
    if not cond:
        raise _make(Error, code, message, context)
    _check_args(code, message)


def ensure_usage(cond: object, code: Code | str, message: str, /, **context: object) -> None:
    """Raise a `UsageError` when `cond` is false (arguments checked on every call)."""
    if not cond:
        raise _make(UsageError, code, message, context)
    _check_args(code, message)


def ensure_env(cond: object, code: Code | str, message: str, /, **context: object) -> None:
    """Raise an `EnvError` when `cond` is false (arguments checked on every call)."""
    if not cond:
        raise _make(EnvError, code, message, context)
    _check_args(code, message)


def ensure_target(cond: object, code: Code | str, message: str, /, **context: object) -> None:
    """Raise a `TargetError` when `cond` is false (arguments checked on every call)."""
    if not cond:
        raise _make(TargetError, code, message, context)
    _check_args(code, message)


def ensure_internal(cond: object, message: str, /, **context: object) -> None:
    """Raise an `InternalError` (ERR_INTERNAL) when `cond` is false: an invariant broke."""
    if not cond:
        raise _make(InternalError, "ERR_INTERNAL", message, context)
    if type(message) is not str:
        raise usage("ERR_USAGE", "error message must be a str", got=type(message).__name__)


def never(value: NoReturn, /) -> NoReturn:
    """Mark an exhaustive match: mypy proves it unreachable; at run time it is a bug."""
    raise bug("unreachable code reached", value=safe_repr(value))
