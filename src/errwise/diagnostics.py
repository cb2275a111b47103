"""Structured diagnostics: errors as log records, a JSON log formatter, logging setup.

Promise:
- `log_error(err)` writes one record carrying the code, kind, context, run id and cause chain of
  the error; the traceback (with its chained causes) is attached the first time an error is
  logged and never again, so a re-logged error does not repeat it.
- `JsonFormatter` renders every record as one JSON line with `run_id`, `error_code` and
  `error_kind` (null for records that are not about an error); it never raises on odd values.
- `configure_logging(policy)` installs one errwise handler on the root logger, writing to the
  policy's `log_file` or to stderr, never to stdout; calling it again replaces that handler.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
import time
import traceback
from typing import Any

from errwise._jsonable import jsonable, safe_str
from errwise.classify import classify
from errwise.error import Error, usage
from errwise.policy import Policy
from errwise.runid import run_id

__all__ = [
    "JsonFormatter",
    "TextFormatter",
    "cause_chain",
    "configure_logging",
    "log_error",
    "remove_logging",
]

_LOGGED_MARK = "_errwise_logged"
_CHAIN_LIMIT = 16
_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}
_default_logger = logging.getLogger("errwise")


def cause_chain(exc: BaseException) -> list[dict[str, str]]:
    """The exceptions behind `exc`, nearest first, as `{"type", "message"}` (at most 16)."""
    if not isinstance(exc, BaseException):
        raise usage("ERR_USAGE", "cause_chain() takes an exception", got=type(exc).__name__)
    chain: list[dict[str, str]] = []
    seen = {id(exc)}
    current = _next_in_chain(exc)
    while current is not None and id(current) not in seen and len(chain) < _CHAIN_LIMIT:
        seen.add(id(current))
        chain.append({"type": _type_name(current), "message": safe_str(current)})
        current = _next_in_chain(current)
    return chain


def _next_in_chain(exc: BaseException) -> BaseException | None:
    if exc.__cause__ is not None:
        return exc.__cause__
    return None if exc.__suppress_context__ else exc.__context__


def _type_name(exc: BaseException) -> str:
    cls = type(exc)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def log_error(
    err: BaseException,
    logger: logging.Logger | None = None,
    *,
    level: int = logging.ERROR,
    message: str | None = None,
    **extra: object,
) -> Error:
    """Log `err` (classified first when foreign) as one structured record; return the `Error`.

    `message` prefixes the error's own text; `extra` adds record attributes (e.g. `guard=name`).
    """
    if not isinstance(err, BaseException):
        raise usage("ERR_USAGE", "log_error() takes an exception", got=type(err).__name__)
    if logger is None:
        logger = _default_logger
    elif not isinstance(logger, logging.Logger):
        raise usage("ERR_USAGE", "log_error() logger must be a logging.Logger", got=repr(logger))
    if type(level) is not int or level not in logging.getLevelNamesMapping().values():
        raise usage("ERR_USAGE", "log_error() level must be a logging level", got=repr(level))
    if message is not None and type(message) is not str:
        raise usage("ERR_USAGE", "log_error() message must be a str", got=type(message).__name__)
    error = classify(err)
    first_time = not error.__dict__.get(_LOGGED_MARK)
    error.__dict__[_LOGGED_MARK] = True
    text = str(error) if message is None else f"{message}: {error}"
    if not first_time:
        text += " (traceback logged earlier)"
    record_extra: dict[str, object] = {
        "run_id": run_id(),
        "error_code": error.code,
        "error_kind": error.kind.value,
        "error_context": jsonable(error.context),
        "error_hints": list(error.hints),
        "cause_chain": cause_chain(error),
        **extra,
    }
    exc_info = (type(error), error, error.__traceback__) if first_time else None
    logger.log(level, "%s", text, exc_info=exc_info, extra=record_extra)
    return error


# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_OWN_FIELDS = ("run_id", "error_code", "error_kind")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, message, run_id, error_code, error_kind,
    any `extra=` fields, and `traceback` when the record carries exception info."""

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        # errwise: ignore[broad-catch] -- a bad %-format in someone's log call must not kill logging
        except Exception as exc:
            message = f"{safe_str(record.msg)} (formatting failed: {type(exc).__name__})"
        data: dict[str, Any] = {
            "ts": _iso_time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": message,
            "run_id": getattr(record, "run_id", None) or run_id(),
            "error_code": getattr(record, "error_code", None),
            "error_kind": getattr(record, "error_kind", None),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key not in data:
                data[key] = jsonable(value)
        if record.exc_info and record.exc_info[1] is not None:
            if not record.exc_text:
                record.exc_text = self.formatException(record.exc_info)
            data["traceback"] = record.exc_text
            if data["error_code"] is None:
                error = classify(record.exc_info[1])
                data["error_code"], data["error_kind"] = error.code, error.kind.value
        elif record.exc_text:
            data["traceback"] = record.exc_text
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=safe_str)


class TextFormatter(logging.Formatter):
    """`prog: level: message` for humans on stderr; then `hint: …` lines, or the traceback when
    the record carries one (whoever reports the error last repeats its hints)."""

    def __init__(self, prog: str | None = None) -> None:
        super().__init__()
        self._prog = prog or os.path.basename(sys.argv[0] or "python") or "python"

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        # errwise: ignore[broad-catch] -- a bad %-format in someone's log call must not kill logging
        except Exception as exc:
            message = f"{safe_str(record.msg)} (formatting failed: {type(exc).__name__})"
        text = f"{self._prog}: {record.levelname.lower()}: {message}"
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            return text + "\n" + record.exc_text.rstrip("\n")
        for hint in getattr(record, "error_hints", None) or ():
            text += f"\nhint: {hint}"
        return text

    def formatException(self, ei: Any) -> str:
        return "".join(traceback.format_exception(ei[1]))


def _iso_time(created: float) -> str:
    seconds = int(created)
    millis = int((created - seconds) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


class _Installed:
    """What `configure_logging` changed, so `remove_logging` can undo exactly that."""

    handler: logging.Handler | None = None
    root_level_before: int = logging.WARNING


_installed = _Installed()
_setup_lock = threading.RLock()


def configure_logging(
    policy: Policy | None = None, *, json_format: bool | None = None, prog: str | None = None
) -> logging.Handler:
    """Install the errwise handler on the root logger per `policy` (default: the current one).

    Logs go to `policy.log_file` (appended, JSON lines) or to stderr (human text, or JSON when
    `json_format=True`). The root level becomes `policy.log_level`. A log file that cannot be
    opened is an environment error. Returns the handler; `remove_logging()` undoes this.
    """
    from errwise import policy as policy_mod

    if policy is None:
        policy = policy_mod.current()
    elif not isinstance(policy, Policy):
        raise usage("ERR_USAGE", "configure_logging() takes an errwise.Policy", got=repr(policy))
    if json_format is not None and type(json_format) is not bool:
        raise usage("ERR_USAGE", "json_format must be a bool or None", got=repr(json_format))
    handler: logging.Handler
    if policy.log_file is not None:
        try:
            handler = logging.FileHandler(policy.log_file, mode="a", encoding="utf-8")
        except OSError as exc:
            raise classify(exc).with_context(log_file=policy.log_file, setting="log_file") from exc
        use_json = True if json_format is None else json_format
    else:
        handler = logging.StreamHandler(sys.stderr)
        use_json = bool(json_format)
    handler.setFormatter(JsonFormatter() if use_json else TextFormatter(prog))
    handler.set_name("errwise")
    root = logging.getLogger()
    with _setup_lock:
        remove_logging()
        _installed.root_level_before = root.level
        root.addHandler(handler)
        root.setLevel(_LEVELS[policy.log_level])
        _installed.handler = handler
    return handler


def remove_logging() -> None:
    """Flush, close and remove the handler `configure_logging` installed (if any), and restore
    the root logger's level."""
    with _setup_lock:
        handler, _installed.handler = _installed.handler, None
        if handler is None:
            return
        root = logging.getLogger()
        root.removeHandler(handler)
        root.setLevel(_installed.root_level_before)
    try:
        handler.flush()
        handler.close()
    except (OSError, ValueError) as exc:  # ValueError: the stream was closed under us
        # The log destination failed at the very end; stderr is the last place to say so.
        # If stderr is gone too there is nowhere left to report; that is the one loss accepted.
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(f"errwise: cannot flush the log: {classify(exc)}\n")
