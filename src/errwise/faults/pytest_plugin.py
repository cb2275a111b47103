"""The pytest plugin (entry point `pytest11: errwise`): the `faults` fixture.

Promise: `faults` is a `FaultPlan` active for the test that asks for it (setup of later
fixtures, the test, their teardown), undone when the fixture is torn down, also when the test
fails. Its site filter passes the code under test but not pytest's own machinery, so a fault
never lands in pytest's reporting. Loading the plugin patches nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from errwise.faults.plan import FaultPlan
from errwise.faults.site import default_filter

__all__ = ["faults", "test_filter"]


def _package_dir(module: object) -> str:
    return os.path.join(os.path.dirname(os.path.realpath(str(getattr(module, "__file__", "")))), "")


def _harness_dirs() -> tuple[str, ...]:
    import _pytest
    import pluggy

    return (_package_dir(_pytest), _package_dir(pluggy), _package_dir(pytest))


_HARNESS = _harness_dirs()


def test_filter(path: str) -> bool:
    """The fixture's site filter: `default_filter`, minus pytest and pluggy."""
    return default_filter(path) and not path.startswith(_HARNESS)


test_filter.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture
def faults() -> Iterator[FaultPlan]:
    """An active `errwise.faults.FaultPlan` for this test: `faults.fail("os.replace", "ENOSPC")`."""
    with FaultPlan(site_filter=test_filter) as plan:
        yield plan
