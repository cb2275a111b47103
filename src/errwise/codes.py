"""The registry of stable error codes.

Promise: every code has a unique `ERR_…` name, one default kind, a one-line title, a default
`recoverable` flag and documentation. Built-in codes never change meaning; applications add their
own with `register()` and get the same guarantees. Module attributes named after the built-in codes
(`errwise.codes.ERR_DISK_FULL`) are the `Code` objects themselves.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from errwise.kind import Kind

__all__ = ["Code", "register", "lookup", "resolve", "all_codes", "is_registered"]

_NAME_RE = re.compile(r"^ERR_[A-Z0-9]+(?:_[A-Z0-9]+)*$")


@dataclass(frozen=True, slots=True)
class Code:
    """A stable error code: what went wrong, independent of the message wording."""

    name: str
    kind: Kind
    title: str
    recoverable: bool = False
    doc: str = ""

    def __str__(self) -> str:
        return self.name


_registry: dict[str, Code] = {}
_lock = threading.Lock()


def _usage(message: str, **context: object) -> Exception:
    from errwise.error import usage

    return usage("ERR_USAGE", message, **context)


def register(name: str, kind: Kind, title: str, *, doc: str, recoverable: bool = False) -> Code:
    """Register an application error code and return it.

    Registering the same definition twice is allowed (modules may be reloaded); registering a
    different definition under an existing name is a usage error.
    """
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise _usage("error code names are ERR_ followed by SCREAMING_SNAKE_CASE", got=repr(name))
    if not isinstance(kind, Kind):
        raise _usage("kind must be an errwise.Kind", code=name, got=type(kind).__name__)
    if not isinstance(title, str) or not title.strip() or "\n" in title:
        raise _usage("title must be one non-empty line", code=name)
    if not isinstance(doc, str) or not doc.strip():
        raise _usage("every error code must be documented: pass doc=", code=name)
    if not isinstance(recoverable, bool):
        raise _usage("recoverable must be a bool", code=name, got=type(recoverable).__name__)
    code = Code(name, kind, title.strip(), recoverable, doc.strip())
    with _lock:
        existing = _registry.get(name)
        if existing is not None and existing != code:
            raise _usage("error code already registered with a different definition", code=name)
        _registry[name] = code
    return code


_get = _registry.get
"""The unchecked lookup for hot paths inside errwise (error.py): `_get(name)` or None."""


def lookup(name: str) -> Code | None:
    """The registered code called `name`, or None."""
    if not isinstance(name, str):
        raise _usage("lookup() takes a code name (str)", got=type(name).__name__)
    return _registry.get(name)


def is_registered(name: str) -> bool:
    """Is `name` a registered code?"""
    return lookup(name) is not None


def resolve(code: Code | str) -> Code:
    """Return the registered `Code` for a `Code` or a code name; a usage error otherwise."""
    if isinstance(code, str):
        found = _registry.get(code)
        if found is None:
            raise _usage(
                f"unregistered error code {code!r}; register it with errwise.codes.register()",
                code=code,
            )
        return found
    if isinstance(code, Code):
        registered = _registry.get(code.name)
        if registered != code:
            raise _usage(
                f"error code {code.name!r} is not registered (or registered differently); "
                "register it with errwise.codes.register()",
                code=code.name,
            )
        return registered
    raise _usage("code must be an errwise.Code or a registered code name", got=type(code).__name__)


def all_codes() -> Iterator[Code]:
    """Every registered code, sorted by name."""
    return iter(sorted(_registry.values(), key=lambda c: c.name))


_E, _U, _T, _I = Kind.ENVIRONMENT, Kind.USAGE, Kind.TARGET, Kind.INTERNAL

ERR_INTERNAL = register(
    "ERR_INTERNAL",
    _I,
    "internal error (a bug)",
    doc="An error the program did not expect: a bug. Report it with the traceback from the log.",
)
ERR_USAGE = register(
    "ERR_USAGE",
    _U,
    "invalid usage",
    doc="The caller passed an invalid argument, flag or value. The message names it.",
)
ERR_INVALID_POLICY_VALUE = register(
    "ERR_INVALID_POLICY_VALUE",
    _U,
    "invalid policy value",
    doc="A policy setting (API, flag or ERRWISE_* variable) has a value outside the allowed set.",
)
ERR_IO = register(
    "ERR_IO",
    _E,
    "input/output error",
    doc="An operating-system call failed for a reason without a more specific code.",
)
ERR_NOT_FOUND = register(
    "ERR_NOT_FOUND",
    _E,
    "not found",
    doc="A file, directory or resource does not exist (ENOENT).",
)
ERR_ALREADY_EXISTS = register(
    "ERR_ALREADY_EXISTS",
    _E,
    "already exists",
    doc="A file or directory that must be new already exists (EEXIST).",
)
ERR_PERMISSION_DENIED = register(
    "ERR_PERMISSION_DENIED",
    _E,
    "permission denied",
    doc="The process lacks the permission for an operation (EACCES, EPERM).",
)
ERR_DISK_FULL = register(
    "ERR_DISK_FULL",
    _E,
    "no space left on device",
    doc="The device holding the path is full (ENOSPC) or over quota (EDQUOT).",
)
ERR_READ_ONLY_FS = register(
    "ERR_READ_ONLY_FS",
    _E,
    "read-only file system",
    doc="The path lies on a file system mounted read-only (EROFS).",
)
ERR_NOT_A_DIRECTORY = register(
    "ERR_NOT_A_DIRECTORY",
    _E,
    "not a directory",
    doc="A component of the path that must be a directory is not one (ENOTDIR).",
)
ERR_IS_A_DIRECTORY = register(
    "ERR_IS_A_DIRECTORY",
    _E,
    "is a directory",
    doc="A path that must be a file is a directory (EISDIR).",
)
ERR_DIRECTORY_NOT_EMPTY = register(
    "ERR_DIRECTORY_NOT_EMPTY",
    _E,
    "directory not empty",
    doc="A directory that must be empty (to remove or replace it) is not (ENOTEMPTY).",
)
ERR_TIMEOUT = register(
    "ERR_TIMEOUT",
    _E,
    "timed out",
    recoverable=True,
    doc="An operation did not finish within its time limit (ETIMEDOUT, a subprocess timeout).",
)
ERR_COMMAND_NOT_FOUND = register(
    "ERR_COMMAND_NOT_FOUND",
    _E,
    "command not found",
    doc="An executable to run was not found on PATH or at the given path.",
)
ERR_SUBPROCESS_FAILED = register(
    "ERR_SUBPROCESS_FAILED",
    _T,
    "command failed",
    doc="A command that was run exited with a non-zero status. Context holds the command, "
    "its return code and the tail of its stderr.",
)
ERR_LOCK_HELD = register(
    "ERR_LOCK_HELD",
    _E,
    "lock held by another owner",
    recoverable=True,
    doc="A lock is held by a live owner; wait or retry later.",
)
ERR_LOCK_STALE = register(
    "ERR_LOCK_STALE",
    _E,
    "stale lock",
    recoverable=True,
    doc="A lock's owner is dead or its lease expired; it may be broken safely.",
)
ERR_LOCK_CORRUPT = register(
    "ERR_LOCK_CORRUPT",
    _E,
    "corrupt lock file",
    doc="A lock file exists but cannot be parsed; inspect it before removing it by hand.",
)
ERR_LOCK_LOST = register(
    "ERR_LOCK_LOST",
    _E,
    "lock lost",
    doc="A held lock's lease could not be renewed in time; the owner no longer holds it.",
)
ERR_ROLLBACK_FAILED = register(
    "ERR_ROLLBACK_FAILED",
    _E,
    "rollback failed",
    doc="Undoing a failed transaction did not complete; manual recovery steps are listed.",
)
ERR_JOURNAL_CORRUPT = register(
    "ERR_JOURNAL_CORRUPT",
    _E,
    "corrupt transaction journal",
    doc="A transaction journal cannot be read (not JSON, wrong format, invalid step records); "
    "the steps it lists must be checked and undone by hand.",
)
ERR_INTERRUPTED = register(
    "ERR_INTERRUPTED",
    _E,
    "interrupted",
    recoverable=True,
    doc="The run was interrupted (Ctrl-C / SIGINT, SIGTERM) before it finished.",
)
ERR_TARGET_RAISED = register(
    "ERR_TARGET_RAISED",
    _T,
    "guarded code raised",
    doc="Code run under a guard (a callback, a plugin, a traced program) raised an exception.",
)
ERR_PARSE = register(
    "ERR_PARSE",
    _E,
    "cannot parse file",
    doc="A source file could not be parsed (a syntax error, or syntax newer than this Python).",
)
ERR_DECODE = register(
    "ERR_DECODE",
    _E,
    "file is not valid text",
    doc="A file could not be decoded as text in its declared (or the default UTF-8) encoding.",
)
ERR_SWEEP_AGENT_MISSING = register(
    "ERR_SWEEP_AGENT_MISSING",
    _E,
    "sweep agent never reported",
    doc="`errwise sweep` ran the command but errwise's agent never loaded inside it (no report "
    "appeared): the command's Python cannot import errwise, or the command drops the agent.",
)
ERR_SWEEP_BAD_BENIGN = register(
    "ERR_SWEEP_BAD_BENIGN",
    _U,
    "bad benign declaration",
    doc="An entry of `[tool.errwise.sweep] benign` is malformed: it must name one handler or "
    'site as "path:line" and give a reason.',
)
ERR_SWEEP_CORRUPT = register(
    "ERR_SWEEP_CORRUPT",
    _E,
    "unreadable sweep file",
    doc="A sweep state, baseline, report or agent file is not what errwise wrote (not JSON, "
    "wrong version or shape); the message names the file.",
)
ERR_SWEEP_MERGE = register(
    "ERR_SWEEP_MERGE",
    _U,
    "sweep reports do not belong together",
    doc="`errwise sweep merge` was given reports of different sweeps (root, command, baseline "
    "or faults differ).",
)
del _E, _U, _T, _I
