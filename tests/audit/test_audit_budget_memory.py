"""`budget.memory_cap`: the auditing process's address space capped while it analyses a file."""

from __future__ import annotations

import os
import resource

import pytest

from errwise.audit import budget

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/self/statm"), reason="the cap needs /proc to tell the use"
)


def test_an_allocation_past_the_cap_fails_and_the_limit_comes_back() -> None:
    before = resource.getrlimit(resource.RLIMIT_AS)
    with budget.memory_cap(256 * 1024**2) as capped:
        assert capped and budget.memory_capped()
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        assert soft != resource.RLIM_INFINITY
        with pytest.raises(MemoryError):
            bytearray(soft + 1)
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    assert not budget.memory_capped()
    bytearray(512 * 1024**2)  # no cap any more


def test_a_process_holding_much_already_keeps_some_headroom() -> None:
    used = budget._address_space()
    assert used is not None
    with budget.memory_cap(1):  # far below what the process holds
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        assert soft >= used + budget._HEADROOM
        bytearray(64 * 1024**2)  # within the headroom


def test_a_lower_limit_in_force_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    monkeypatch.setattr(resource, "getrlimit", lambda which: (1024**3, resource.RLIM_INFINITY))
    monkeypatch.setattr(resource, "setrlimit", lambda *args: calls.append(args))
    with budget.memory_cap(4 * 1024**3) as capped:
        assert capped and budget.memory_capped()
    assert calls == []


def test_no_limit_no_cap() -> None:
    with budget.memory_cap(None) as capped:
        assert not capped and not budget.memory_capped()
