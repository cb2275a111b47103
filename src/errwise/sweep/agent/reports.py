"""Did anyone hear about the error? Logging, warnings, stderr, unraisable hook, `Err` results.

Promise: while `ReportWatch` is started, it sees every log record handled at WARNING or above
(by wrapping `logging.Logger.handle`), every warning shown (by wrapping `warnings._showwarnmsg`,
which pytest's recording goes through too), what Python code writes to `sys.stderr` (a
pass-through proxy, installed by `watch_stderr` and removed by `unwatch_stderr`), and
`sys.unraisablehook` calls (`watch_unraisable` / `unwatch_unraisable`). Once the error is
`tracked` (the fault fired), each one that carries it becomes a `Report`:
- log: the record's exc_info is the error or chained to it ("with its traceback"), or its
  message contains the error's text ("naming the error, without its traceback");
- warning: any warning shown after the fault, except a deprecation warning that neither names
  the error nor is issued while it is being handled;
- stderr: text written to `sys.stderr` after the fault while the error (or one chained to it)
  was being handled, or naming the error: output the test writes anyway is not a report;
- unraisable: any call of the hook after the fault;
- err-result: a traced function returned an errwise `Err`/`Error` chained to the error.
Everything it wraps is put back by `stop()`, also when the test failed; the original functions
are always called, so the program sees no difference.
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from errwise.sweep.agent.chain import chained_to, describe

__all__ = ["Report", "ReportWatch"]

_DETAIL_MAX = 200


@dataclass(frozen=True)
class Report:
    """How the error was made known: `how` is log, warning, stderr, unraisable or err-result."""

    how: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"how": self.how, "detail": self.detail}


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_MAX else text[: _DETAIL_MAX - 1] + "…"


def _texts(errors: Sequence[BaseException]) -> list[str]:
    """The strings that name an error: its str(), and an OSError's strerror."""
    texts: list[str] = []
    for error in errors:
        text = str(error)
        if len(text) >= 4:
            texts.append(text)
        strerror = getattr(error, "strerror", None)
        if isinstance(strerror, str) and len(strerror) >= 4:
            texts.append(strerror)
    return texts


class _StderrProxy:
    """`sys.stderr` with every write also reported to the watch."""

    def __init__(self, target: TextIO, watch: ReportWatch) -> None:
        self._target = target
        self._watch = watch

    def write(self, text: str) -> int:
        self._watch.stderr_written(text)
        return self._target.write(text)

    def writelines(self, lines: Sequence[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


class ReportWatch:
    """See the module promise. `tracked` is shared with the handler tracker."""

    def __init__(self, tracked: list[BaseException]) -> None:
        self.tracked = tracked
        self.reports: list[Report] = []
        self.fired = False
        self._handle: Callable[..., Any] | None = None
        self._show: Callable[..., Any] | None = None
        self._stderr: _StderrProxy | None = None
        self._stderr_text: list[str] = []
        self._stderr_other: list[str] = []
        self._unraisable: Callable[[Any], Any] | None = None
        self._hook: Callable[[Any], Any] | None = None

    # -- lifetime -----------------------------------------------------------------------------

    def start(self) -> None:
        """Wrap logging and warnings."""
        watch = self
        original_handle = logging.Logger.handle
        self._handle = original_handle

        def handle(logger: logging.Logger, record: logging.LogRecord) -> None:
            watch.log_record(record)
            original_handle(logger, record)

        logging.Logger.handle = handle  # type: ignore[method-assign,assignment]
        original_show = warnings._showwarnmsg  # type: ignore[attr-defined]
        self._show = original_show

        def show(message: warnings.WarningMessage) -> None:
            watch.warning_shown(message)
            original_show(message)

        warnings._showwarnmsg = show  # type: ignore[attr-defined]

    def stop(self) -> None:
        """Put back everything wrapped (see the module promise)."""
        self.unwatch_stderr()
        self.unwatch_unraisable()
        if self._handle is not None:
            logging.Logger.handle = self._handle  # type: ignore[method-assign]
            self._handle = None
        if self._show is not None:
            warnings._showwarnmsg = self._show  # type: ignore[attr-defined]
            self._show = None
        self.flush_stderr()

    def watch_stderr(self) -> None:
        """Proxy the current `sys.stderr` (pytest replaces it per phase: call per phase)."""
        if self._stderr is None and sys.stderr is not None:
            self._stderr = _StderrProxy(sys.stderr, self)
            sys.stderr = self._stderr

    def unwatch_stderr(self) -> None:
        proxy, self._stderr = self._stderr, None
        if proxy is not None and sys.stderr is proxy:
            sys.stderr = proxy._target  # the stream it wrapped

    def watch_unraisable(self) -> None:
        """Wrap the current `sys.unraisablehook` (pytest replaces it per phase: call per phase)."""
        if self._hook is not None:
            return
        previous = sys.unraisablehook
        self._unraisable = previous
        watch = self

        def hook(unraisable: Any) -> None:
            watch.unraisable(unraisable)
            previous(unraisable)

        self._hook = hook
        sys.unraisablehook = hook

    def unwatch_unraisable(self) -> None:
        hook, self._hook = self._hook, None
        if hook is not None and sys.unraisablehook is hook and self._unraisable is not None:
            sys.unraisablehook = self._unraisable

    # -- observations -------------------------------------------------------------------------

    def _handling(self) -> bool:
        current = sys.exception()
        return current is not None and chained_to(current, self.tracked)

    def log_record(self, record: logging.LogRecord) -> None:
        if not self.fired or record.levelno < logging.WARNING:
            return
        level = record.levelname
        exc_info = record.exc_info
        if exc_info and exc_info[1] is not None and chained_to(exc_info[1], self.tracked):
            self.reports.append(
                Report(
                    "log",
                    f"logger {record.name!r} logged at {level} with the error's traceback "
                    f"(exc_info: {_clip(describe(exc_info[1]))})",
                )
            )
            return
        try:
            message = record.getMessage()
        except (TypeError, ValueError) as exc:  # a bad format string: the raw message then
            message = f"{record.msg} ({describe(exc)})"
        if any(text in message for text in _texts(self.tracked)):
            self.reports.append(
                Report(
                    "log",
                    f"logger {record.name!r} logged at {level} a message naming the error, "
                    f"without its traceback: {_clip(message)!r}",
                )
            )

    def warning_shown(self, message: warnings.WarningMessage) -> None:
        if not self.fired:
            return
        text = str(message.message)
        names = any(t in text for t in _texts(self.tracked))
        deprecation = issubclass(message.category, (DeprecationWarning, PendingDeprecationWarning))
        if deprecation and not names and not self._handling():
            return
        self.reports.append(
            Report("warning", f"{message.category.__name__} issued: {_clip(text)!r}")
        )

    def stderr_written(self, text: str) -> None:
        if self.fired and text:
            (self._stderr_text if self._handling() else self._stderr_other).append(text)

    def flush_stderr(self) -> None:
        """Turn what was written to stderr since the fault, while the error was being handled
        or naming it, into one report (the test's other output is not a report)."""
        handling = "".join(self._stderr_text)
        other = "".join(self._stderr_other)
        self._stderr_text.clear()
        self._stderr_other.clear()
        if handling.strip():
            detail = f"written to stderr while handling the error: {_clip(handling)!r}"
            self.reports.append(Report("stderr", detail))
        elif any(text in other for text in _texts(self.tracked)):
            detail = f"written to stderr, naming the error: {_clip(other)!r}"
            self.reports.append(Report("stderr", detail))

    def unraisable(self, unraisable: Any) -> None:
        if not self.fired:
            return
        value = getattr(unraisable, "exc_value", None)
        what = describe(value) if isinstance(value, BaseException) else "an exception"
        self.reports.append(Report("unraisable", f"sys.unraisablehook received {_clip(what)}"))

    def returned(self, value: object) -> None:
        from errwise.error import Error
        from errwise.result import Err

        if isinstance(value, Err):
            inner = value.error
            what = describe(inner) if isinstance(inner, BaseException) else repr(inner)
            self.reports.append(
                Report("err-result", f"returned Err({_clip(what)}) chained to the error")
            )
        elif isinstance(value, Error):
            self.reports.append(
                Report("err-result", f"returned {_clip(describe(value))} chained to the error")
            )
