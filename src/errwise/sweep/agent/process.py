"""The sweep agent for a command that is not pytest: the whole run is one pseudo-test.

Promise: `start(cfg)` arms the run at interpreter start-up (all threads), and its report is
written at interpreter exit (atexit): one test with nodeid null, outcome "passed" when the
process exits 0 and "failed" otherwise, as far as Python code can see it (an unhandled
exception, or `sys.exit` with a non-zero status; the exception in flight when `sys.exit` was
called is the failure, so `except OSError: sys.exit(1)` is a failure chained to the error; a
`SystemExit` chained to the error that the tracer saw raised counts too). The orchestrator,
which sees the real exit status, may correct an outcome Python could not see (`os._exit`).
`cancel()` stops it without a report (the pytest plugin takes over when pytest runs in-process).
"""

from __future__ import annotations

import atexit
import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any, NoReturn

from errwise.sweep.agent.config import AgentConfig
from errwise.sweep.agent.output import write_report
from errwise.sweep.agent.paths import ProjectFiles
from errwise.sweep.agent.session import TestRun

__all__ = ["start", "cancel"]


class _ProcessAgent:
    def __init__(self, cfg: AgentConfig) -> None:
        self.cfg = cfg
        self.run = TestRun(cfg, ProjectFiles(cfg.root), all_threads=True)
        self.failure: BaseException | None = None
        self.status = 0
        self.done = False
        self._exit: Callable[[str | int | None], NoReturn] = sys.exit
        self._excepthook = sys.excepthook

    def start(self) -> None:
        sys.exit = self._sys_exit
        sys.excepthook = self._unhandled
        atexit.register(self.finish)
        self.run.start()

    def _sys_exit(self, status: str | int | None = None) -> NoReturn:
        code = status if isinstance(status, int) or status is None else 1
        if code:
            self.status = int(code)
            self.failure = sys.exception()
        self._exit(status)

    def _unhandled(
        self, kind: type[BaseException], value: BaseException, tb: TracebackType | None
    ) -> Any:
        self.status = 1
        self.failure = value
        return self._excepthook(kind, value, tb)

    def _restore(self) -> None:
        if sys.exit == self._sys_exit:
            sys.exit = self._exit  # type: ignore[assignment]
        if sys.excepthook == self._unhandled:
            sys.excepthook = self._excepthook

    def cancel(self) -> None:
        self.done = True
        self._restore()
        self.run.stop()
        atexit.unregister(self.finish)

    def finish(self) -> None:
        if self.done:
            return
        self.done = True
        self._restore()
        self.run.phase_end()
        self.run.stop()
        if not self.status:
            # `raise SystemExit(1)` in a handler never calls sys.exit: the tracer saw it leave
            for exc in self.run.tracker.tracked:
                if isinstance(exc, SystemExit) and exc.code not in (None, 0):
                    self.status = exc.code if isinstance(exc.code, int) else 1
                    self.failure = exc
        outcome = "failed" if self.status else "passed"
        entry = self.run.entry(None, outcome, failure=self.failure)
        if self.failure is None and self.status:
            entry["failure"] = f"exit status {self.status}"
        write_report(self.cfg, [entry], pytest=False)


_agents: list[_ProcessAgent] = []


def start(cfg: AgentConfig) -> None:
    """Arm the whole run (see the module promise); a second call does nothing."""
    if not _agents:
        agent = _ProcessAgent(cfg)
        _agents.append(agent)
        agent.start()


def cancel() -> None:
    """Stop the whole-run agent without a report, if one runs."""
    for agent in _agents:
        if not agent.done:
            agent.cancel()
