"""Fixtures for the boundary tests: every test starts with the default policy, empty counters
and no errwise log handler, and leaves them that way."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import errwise
from errwise import diagnostics, metrics, policy


@pytest.fixture(autouse=True)
def clean_boundary_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in policy.ENV_VARS.values():
        monkeypatch.delenv(name, raising=False)
    previous = policy.set_current(errwise.Policy())
    metrics.reset()
    yield
    diagnostics.remove_logging()
    policy.set_current(previous)
    metrics.reset()
