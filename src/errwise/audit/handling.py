"""How an except clause treats the error it caught: the shared judgement behind the rules of
the "lost error" family, so that each handler is reported once, by the most specific rule.

Promise: `verdict(model, handler)` returns exactly one `Verdict`:
- PROPAGATES: re-raises (bare, new type, or conditionally after inspecting the error) or exits;
- RECORDS: turns the error into a value code can act on (Err, stored, returned, passed on) or
  logs it *with* its traceback;
- LOGS: logs or prints it without the traceback and carries on;
- FALLBACK: produces a value instead (returns something, or assigns a name) without logging;
- SWALLOWS: does nothing with it (pass, continue, break, a bare return).
`expected_condition(handler)` is true for narrow exception types that name one specific,
expected situation (FileNotFoundError, KeyError, ImportError, ...): silence there is a choice.
"""

from __future__ import annotations

import ast
import enum

from errwise.audit.model import FileModel, HandlerInfo, walk_scope

__all__ = [
    "Verdict",
    "verdict",
    "expected_condition",
    "documented",
    "FAMILY_EXCEPTIONS",
    "short",
]


class Verdict(enum.Enum):
    PROPAGATES = "propagates"
    RECORDS = "records"
    LOGS = "logs"
    FALLBACK = "fallback"
    SWALLOWS = "swallows"

    @property
    def loses_error(self) -> bool:
        return self in (Verdict.LOGS, Verdict.FALLBACK, Verdict.SWALLOWS)


# Exceptions that each name one specific, expected condition.
_EXPECTED = frozenset(
    {
        "FileNotFoundError",
        "FileExistsError",
        "NotADirectoryError",
        "IsADirectoryError",
        "ProcessLookupError",
        "ChildProcessError",
        "InterruptedError",
        "BlockingIOError",
        "KeyError",
        "IndexError",
        "AttributeError",
        "ImportError",
        "ModuleNotFoundError",
        "StopIteration",
        "StopAsyncIteration",
        "GeneratorExit",
        "NotImplementedError",
        "UnicodeDecodeError",
        "UnicodeEncodeError",
        "UnicodeError",
        "ValueError",
        "TypeError",
        "OverflowError",
        "ZeroDivisionError",
        "LookupError",
        "EOFError",
        "ArithmeticError",
        "queue.Empty",
        "queue.Full",
        "asyncio.CancelledError",
        "asyncio.TimeoutError",
        "asyncio.QueueEmpty",
        "asyncio.QueueFull",
        "json.JSONDecodeError",
        "subprocess.TimeoutExpired",
        "TimeoutError",
        "socket.timeout",
        "socket.gaierror",
        "socket.herror",
        "BrokenPipeError",
        "ConnectionResetError",
        "ConnectionRefusedError",
        "ConnectionAbortedError",
        "UnsupportedOperation",
        "io.UnsupportedOperation",
        "KeyboardInterrupt",
        "SystemExit",
        "tomllib.TOMLDecodeError",
        "binascii.Error",
        "struct.error",
        "zlib.error",
        "locale.Error",
        "re.error",
        "csv.Error",
        "pickle.UnpicklingError",
        "ssl.SSLError",
        "http.client.IncompleteRead",
        "select.error",
        "signal.ItimerError",
        "PermissionError",
    }
)

# Exceptions that stand for a whole family of distinct failures.
FAMILY_EXCEPTIONS = frozenset(
    {
        "OSError",
        "IOError",
        "EnvironmentError",
        "socket.error",
        "shutil.Error",
        "subprocess.SubprocessError",
        "subprocess.CalledProcessError",
        "requests.RequestException",
        "requests.exceptions.RequestException",
        "httpx.HTTPError",
        "httpx.RequestError",
        "urllib.error.URLError",
        "yaml.YAMLError",
        "sqlite3.Error",
        "sqlite3.DatabaseError",
        "ConnectionError",
        "RuntimeError",
        "Warning",
    }
)


def short(name: str) -> str:
    """`builtins.X` -> `X`; other qualified names unchanged."""
    return name.removeprefix("builtins.")


def expected_condition(handler: HandlerInfo) -> bool:
    """Does the handler catch only narrow, specific exception types?"""
    if handler.bare or not handler.caught:
        return False
    return all(short(c) in _EXPECTED or _user_specific(c) for c in handler.caught)


def _user_specific(name: str) -> bool:
    """A project's own exception class (not a family of the stdlib or a known library)."""
    last = name.rsplit(".", 1)[-1].lstrip("_")
    if name in FAMILY_EXCEPTIONS or last in ("Exception", "BaseException", "Error"):
        return False
    return last not in {short(f) for f in FAMILY_EXCEPTIONS} and last[:1].isupper()


def verdict(model: FileModel, handler: HandlerInfo) -> Verdict:
    facts = handler.facts
    if facts.reraises or facts.exits:
        return Verdict.PROPAGATES
    if facts.records_error or facts.logs_traceback:
        return Verdict.RECORDS
    if facts.logs:
        return Verdict.LOGS
    if any(r.value is not None for r in facts.returns) or _assigns(handler):
        return Verdict.FALLBACK
    if _does_work(model, handler):
        # Calls something other than logging (a cleanup, a retry): not a plain swallow.
        return Verdict.FALLBACK
    return Verdict.SWALLOWS


def _assigns(handler: HandlerInfo) -> bool:
    return any(
        isinstance(n, (ast.Assign, ast.AnnAssign, ast.AugAssign))
        for n in walk_scope(handler.node.body)
    )


def _does_work(model: FileModel, handler: HandlerInfo) -> bool:
    return any(
        model.qualify(c.func) not in ("print", "str", "repr", "len") for c in handler.facts.calls
    )


_TOOL_COMMENTS = ("errwise:", "noqa", "pragma", "type:", "fmt:", "pylint:", "nosec")


def documented(model: FileModel, handler: HandlerInfo) -> bool:
    """Does a comment on the `except` line or in the handler body explain the choice?

    Tool directives (`# noqa`, `# pragma: no cover`, `# errwise: ignore`, ...) do not count.
    """
    node = handler.node
    end = node.end_lineno or node.lineno
    for line in model.lines[node.lineno - 1 : end]:
        _, hash_, comment = line.partition("#")
        if not hash_:
            continue
        text = comment.strip().lower()
        if len(text) >= 8 and not text.startswith(_TOOL_COMMENTS):
            return True
    return False
