"""Where an injected error stopped: a tracer armed only once the fault fires.

Promise: `HandlerTracker.arm(exc, frame)` is called just before the injected `exc` is raised (from
the fault plan's `on_inject`). It installs `sys.settrace` in that thread and sets `f_trace` on the
frames of the current stack, from the fault outwards to the outermost project frame (never errwise's
own), so no frame is traced before a fault and only the unwinding is traced after it. When the fault
fires in a worker thread, the frames of the test's own thread (`watch()`: an idle global trace
function installed there up front) are traced the same way, so a handler around `future.result()` is
found too. From each frame's 'exception' event and the events that follow it, it records every place
the error, or any exception chained to it, was caught: an `except` clause (the first line run in its
body) or a `with` statement whose `__exit__` suppressed it (the frame went on past the `with`, or
returned normally). A `finally` body is not a handler. Each traced frame's normal return value is
offered to `on_return` (to spot an errwise `Err`/`Error` built from the error). `stop()` puts back
the previous global trace function and every frame's previous `f_trace`, so a coverage tool running
underneath keeps working; the previous tracer is also called for every event meanwhile. The tracer's
own work (reading a file's clause map) is never intercepted by the fault plan, so it is neither a
site nor failed. The tracer never raises into the traced program: an internal failure is recorded in
`errors` and tracing stops.
"""

from __future__ import annotations

import dis
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from errwise.faults.dispatch import busy
from errwise.sweep.agent.chain import chained_to, describe
from errwise.sweep.agent.clauses import Clause, clauses_of
from errwise.sweep.agent.paths import ProjectFiles

__all__ = ["Catch", "HandlerTracker"]

_TraceFn = Callable[[FrameType, str, Any], Any]
_NORMAL_EXIT = frozenset(
    dis.opmap[name] for name in ("RETURN_VALUE", "RETURN_CONST", "YIELD_VALUE") if name in dis.opmap
)
_ERRWISE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass(frozen=True)
class Catch:
    """One place the error (or one chained to it) was caught: `path` absolute, `line` the
    except clause or `with` line, `header` its source (`except OSError`)."""

    path: str
    line: int
    function: str
    kind: str
    header: str
    error: str


@dataclass
class _Pending:
    exc: BaseException
    line: int
    except_candidate: Clause | None = None
    with_candidate: Clause | None = None


class _FrameTracer:
    """The local trace function of one frame: ours, then the frame's previous one."""

    __slots__ = ("old", "tracker")

    def __init__(self, tracker: HandlerTracker, old: _TraceFn | None) -> None:
        self.tracker = tracker
        self.old = old

    def __call__(self, frame: FrameType, event: str, arg: Any) -> Any:
        self.tracker.event(frame, event, arg)
        if self.old is not None:
            self.old = self.old(frame, event, arg)
        return self


def _is_errwise(path: str) -> bool:
    return os.path.abspath(path).startswith(_ERRWISE_DIR + os.sep)


class HandlerTracker:
    """See the module promise."""

    def __init__(self, files: ProjectFiles, on_return: Callable[[object], None]) -> None:
        self.files = files
        self.on_return = on_return
        self.tracked: list[BaseException] = []
        self.catches: list[Catch] = []
        self.errors: list[str] = []
        self._pending: dict[FrameType, _Pending] = {}
        self._frames: dict[FrameType, _FrameTracer] = {}
        self._thread: int | None = None  # the first thread a fault fired in
        self._home: int | None = None  # the test's own thread (see `watch`)
        self._installed: dict[int, Any] = {}  # thread -> the trace function ours replaced
        self._stopped = False
        self._global_fn = self._global  # one bound method: `sys.gettrace() is` works on it

    # -- arming and disarming -----------------------------------------------------------------

    def watch(self) -> None:
        """Called in the test's own thread before it runs: install this thread's (idle) global
        trace function now, since no other thread can install it later. A fault fired in a
        worker thread then also traces the test thread's frames, where `future.result()`
        re-raises the error and the project may catch it."""
        self._home = threading.get_ident()
        self._install()

    def _install(self) -> None:
        current = sys.gettrace()
        if current is not self._global_fn:
            self._installed[threading.get_ident()] = current
            sys.settrace(self._global_fn)

    def arm(self, exc: BaseException | None, frame: FrameType | None) -> None:
        """Track `exc` from `frame` (the innermost frame at the fault) outwards."""
        if exc is None or frame is None or self.errors:
            return
        self.tracked.append(exc)
        ident = threading.get_ident()
        if self._thread is None:
            self._thread = ident
            self._install()
        elif ident != self._thread:
            return  # tracing belongs to the first faulting thread; later faults elsewhere: no trace
        self._trace_stack(frame)
        if self._home is not None and self._home != ident:
            home = sys._current_frames().get(self._home)
            if home is not None:
                self._trace_stack(home)

    def _trace_stack(self, frame: FrameType) -> None:
        stack: list[FrameType] = []
        walk: FrameType | None = frame
        while walk is not None:
            stack.append(walk)
            walk = walk.f_back
        outermost = max(
            (i for i, f in enumerate(stack) if self.files.is_project(f.f_code.co_filename)),
            default=-1,
        )
        for each in stack[: outermost + 1]:
            if each in self._frames or _is_errwise(each.f_code.co_filename):
                continue
            tracer = _FrameTracer(self, each.f_trace)
            self._frames[each] = tracer
            each.f_trace = tracer

    def stop(self) -> None:
        """Put every trace function back as it was (see the module promise). A thread other
        than the caller's puts its own back at its next call."""
        self._stopped = True
        ident = threading.get_ident()
        if ident in self._installed and sys.gettrace() is self._global_fn:
            sys.settrace(self._installed[ident])
        for frame, tracer in self._frames.items():
            if frame.f_trace is tracer:
                frame.f_trace = tracer.old
        self._frames.clear()
        self._pending.clear()

    def _global(self, frame: FrameType, event: str, arg: Any) -> Any:
        previous = self._installed.get(threading.get_ident())
        if self._stopped:  # stopped from another thread: this thread puts its tracer back
            sys.settrace(previous)
        return previous(frame, event, arg) if previous is not None else None

    # -- events -------------------------------------------------------------------------------

    def event(self, frame: FrameType, event: str, arg: Any) -> None:
        """One trace event of a traced frame."""
        if self.errors:
            return
        try:
            with busy():  # the tracer's own reads (clause maps) are never intercepted or failed
                if event == "exception":
                    self._on_exception(frame, arg[1])
                elif event == "line":
                    self._on_line(frame)
                elif event == "return":
                    self._on_return(frame, arg)
        # errwise: ignore[broad-catch] -- a tracer must never raise into the traced program:
        # the failure is kept in `errors` and reported in the agent's output
        except Exception as failure:
            self.errors.append(f"the handler tracer failed: {describe(failure)}")
            self._pending.clear()

    def _on_exception(self, frame: FrameType, value: BaseException) -> None:
        if not any(value is t for t in self.tracked):
            if not chained_to(value, self.tracked):
                return
            self.tracked.append(value)
        self._pending[frame] = _Pending(value, frame.f_lineno)

    def _on_line(self, frame: FrameType) -> None:
        pending = self._pending.get(frame)
        if pending is None:
            return
        clauses = clauses_of(frame.f_code.co_filename)
        if clauses is None:
            return
        line = frame.f_lineno
        header = clauses.except_header(line)
        if header is not None:
            pending.except_candidate = header
            return
        body = clauses.except_body(line)
        if body is not None and pending.except_candidate is not None:
            self._caught(frame, body, pending)
            return
        with_clause = clauses.with_header(line, pending.line)
        if with_clause is not None:
            pending.with_candidate = with_clause
            return
        if clauses.in_finally(line):
            return
        # Execution went on past the handler: the `with` suppressed it, or the except clause
        # (a one-line `except OSError: pass` runs no line of its own) caught it.
        clause = pending.with_candidate or pending.except_candidate
        if clause is not None:
            self._caught(frame, clause, pending)

    def _on_return(self, frame: FrameType, value: Any) -> None:
        pending = self._pending.pop(frame, None)
        normal = frame.f_code.co_code[frame.f_lasti] in _NORMAL_EXIT
        if not normal:
            return
        if pending is not None:
            clause = pending.with_candidate or pending.except_candidate
            if clause is not None:
                self._caught(frame, clause, pending)
            else:
                self._record(frame, "unknown", pending.line, "", pending)
        if value is not None and chained_to(value, self.tracked):
            self.on_return(value)

    def _caught(self, frame: FrameType, clause: Clause, pending: _Pending) -> None:
        self._record(frame, clause.kind, clause.line, clause.header, pending)

    def _record(
        self, frame: FrameType, kind: str, line: int, header: str, pending: _Pending
    ) -> None:
        self._pending.pop(frame, None)
        self.catches.append(
            Catch(
                path=os.path.abspath(frame.f_code.co_filename),
                line=line,
                function=frame.f_code.co_name,
                kind=kind,
                header=header,
                error=describe(pending.exc),
            )
        )
