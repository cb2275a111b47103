"""The sweep agent as a pytest plugin (`-p errwise.sweep.agent.plugin`).

Promise: inert unless `errwise sweep` started this process (see `config.load`). Then, per test
(setup, call and teardown, in every thread the test starts) it records the sites reached, the
outcome, the duration and the failure; in fault mode only the requested node id runs (the rest
are deselected), the fault is armed around it, and its verdict is proven (see `session`,
`verdict`). The report is written when the session finishes. It never writes inside the project
(`-p no:cacheprovider` is passed with it), keeps pytest-xdist from distributing the tests
(`-n 0`, whatever the user's addopts say), and stops a whole-process agent the bootstrap may have
started in this interpreter.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from errwise.sweep.agent import config as agent_config
from errwise.sweep.agent.chain import describe
from errwise.sweep.agent.config import AgentConfig
from errwise.sweep.agent.output import write_report
from errwise.sweep.agent.paths import ProjectFiles
from errwise.sweep.agent.session import TestRun

__all__ = ["SweepPlugin"]

_NAME = "errwise-sweep-agent"


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own configure reads `dist`
def pytest_configure(config: pytest.Config) -> None:
    cfg = agent_config.load()
    if cfg is None or config.pluginmanager.has_plugin(_NAME):
        return
    from errwise.error import Error
    from errwise.sweep.agent import process

    process.cancel()
    plugin = SweepPlugin(cfg)
    try:
        TestRun(cfg, plugin.files, all_threads=True)  # a request faults cannot arm: say so now
    except Error as exc:
        write_report(cfg, [], pytest=True, errors=[f"cannot arm the fault: {exc}"])
        raise pytest.UsageError(f"errwise sweep agent: cannot arm the fault: {exc}") from exc
    if getattr(config.option, "numprocesses", None) or getattr(config.option, "dist", "no") != "no":
        # pytest-xdist would scatter the tests into worker processes the agent does not follow
        # (a user's `-n auto` in addopts): run them here. `-p no:xdist` would not do: the user's
        # `-n` would then be an unknown option.
        config.option.numprocesses = 0
        config.option.dist = "no"
    config.pluginmanager.register(plugin, _NAME)


class SweepPlugin:
    """The per-session state of the agent."""

    def __init__(self, cfg: AgentConfig) -> None:
        self.cfg = cfg
        self.files = ProjectFiles(cfg.root)
        self.tests: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.run: TestRun | None = None
        self._phases: list[tuple[str, str, float, BaseException | None, str | None]] = []

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        self.files.add_tests(str(item.path) for item in items)
        wanted = self.cfg.test
        if wanted is None:
            return
        keep = [item for item in items if item.nodeid == wanted]
        gone = [item for item in items if item.nodeid != wanted]
        if gone:
            items[:] = keep
            config.hook.pytest_deselected(items=gone)

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, Any, None]:
        run = TestRun(self.cfg, self.files, all_threads=True)
        self.run = run
        self._phases = []
        run.start()
        escaped: BaseException | None = None
        try:
            result = yield
            excinfo = result.excinfo
            escaped = excinfo[1] if excinfo is not None else None
        finally:
            run.stop()
            self.run = None
            self.tests.append(self._entry(item.nodeid, run, escaped))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        excinfo = call.excinfo
        failure = excinfo.value if excinfo is not None and report.failed else None
        text = None
        if report.failed:
            text = describe(failure) if failure is not None else _first_line(report)
        self._phases.append((report.when or "call", report.outcome, report.duration, failure, text))

    def _phase(self) -> Generator[None, Any, None]:
        run = self.run
        if run is not None:
            run.phase_start()
        try:
            yield
        finally:
            if run is not None:
                run.phase_end()

    @pytest.hookimpl(hookwrapper=True, trylast=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, Any, None]:
        yield from self._phase()

    @pytest.hookimpl(hookwrapper=True, trylast=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, None]:
        yield from self._phase()

    @pytest.hookimpl(hookwrapper=True, trylast=True)
    def pytest_runtest_teardown(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, Any, None]:
        yield from self._phase()

    def _entry(self, nodeid: str, run: TestRun, escaped: BaseException | None) -> dict[str, Any]:
        outcome = "passed"
        failure: BaseException | None = None
        text: str | None = None
        if escaped is not None:  # KeyboardInterrupt or pytest.exit() ended the session in it
            outcome, failure = "failed", escaped
        for when, result, _, exc, message in self._phases:
            if result == "failed":
                if outcome not in ("failed", "error"):
                    outcome = "failed" if when == "call" else "error"
                    failure, text = exc, message
            elif result == "skipped" and outcome == "passed":
                outcome = "skipped"
        duration = sum(phase[2] for phase in self._phases)
        return run.entry(nodeid, outcome, duration=duration, failure=failure, failure_text=text)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        errors = list(self.errors)
        if self.cfg.test is not None and not self.tests:
            errors.append(f"the test {self.cfg.test!r} was not collected, or did not run")
        write_report(self.cfg, self.tests, pytest=True, errors=errors)


def _first_line(report: pytest.TestReport) -> str:
    text = str(report.longrepr or "").strip().splitlines()
    for line in reversed(text):
        if line.startswith("E "):
            return line[2:].strip()
    return text[-1] if text else "failed"
