"""Transaction under injected faults: a failure at every step and every undo, KeyboardInterrupt
and SystemExit at every point (seed 004 CRITICAL-1, MEDIUM-1). After each: no resource leaked
that the report does not name, every outcome reported, the original error chained."""

from __future__ import annotations

import os
import pickle
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest

import errwise
from errwise import RollbackError, Transaction

N = 4


class World:
    """Resources made by `do`s and removed by `undo`s, with injectable failures."""

    def __init__(self) -> None:
        self.resources: set[int] = set()
        self.undo_order: list[int] = []
        self.fail_do: dict[int, BaseException] = {}
        self.fail_undo: dict[int, BaseException] = {}

    def do(self, i: int) -> Callable[[], int]:
        def run() -> int:
            if i in self.fail_do:
                raise self.fail_do[i]
            self.resources.add(i)
            return i * 10

        return run

    def undo(self, i: int) -> Callable[[], None]:
        def run() -> None:
            self.undo_order.append(i)
            if i in self.fail_undo:
                raise self.fail_undo[i]
            self.resources.remove(i)

        return run

    def run(self, *, critical: bool = False, between: Callable[[int], None] | None = None) -> None:
        with Transaction("wo-take") as tx:
            for i in range(N):
                assert (
                    tx.step(
                        f"s{i}",
                        do=self.do(i),
                        undo=self.undo(i),
                        critical=critical,
                        recovery=f"remove resource {i} by hand",
                    )
                    == i * 10
                )
                if between is not None:
                    between(i)


FAULTS: list[Callable[[], BaseException]] = [
    lambda: OSError(28, "No space left on device"),
    lambda: errwise.env("ERR_SUBPROCESS_FAILED", "git worktree add failed"),
    KeyboardInterrupt,
    lambda: SystemExit(3),
]
FAULT_IDS = ["oserror", "errwise", "ctrl-c", "sysexit"]


@pytest.mark.parametrize("make_fault", FAULTS, ids=FAULT_IDS)
@pytest.mark.parametrize("k", range(N))
def test_ops_transaction_faults_do_fails_at_every_step(
    k: int, make_fault: Callable[[], BaseException]
) -> None:
    world = World()
    fault = make_fault()
    world.fail_do[k] = fault
    with pytest.raises(type(fault)) as caught:
        world.run()
    assert caught.value is fault  # the original error itself, not a replacement
    assert world.resources == set()  # nothing leaked
    assert world.undo_order == list(reversed(range(k)))
    assert any("rolled back" in note for note in fault.__notes__)


@pytest.mark.parametrize("make_fault", FAULTS, ids=FAULT_IDS)
@pytest.mark.parametrize("k", range(N))
def test_ops_transaction_faults_body_raises_after_every_step(
    k: int, make_fault: Callable[[], BaseException]
) -> None:
    world = World()
    fault = make_fault()

    def between(i: int) -> None:
        if i == k:
            raise fault

    with pytest.raises(type(fault)) as caught:
        world.run(between=between)
    assert caught.value is fault
    assert world.resources == set()
    assert world.undo_order == list(reversed(range(k + 1)))


@pytest.mark.parametrize("j", range(N - 1))
def test_ops_transaction_faults_noncritical_undo_failure_goes_on(j: int) -> None:
    world = World()
    original = ValueError("checkout failed")
    world.fail_do[N - 1] = original
    world.fail_undo[j] = PermissionError(13, "Permission denied", f"/res/{j}")
    with pytest.raises(RollbackError) as caught:
        world.run()
    err = caught.value
    assert err.__cause__ is original
    assert err.code == "ERR_ROLLBACK_FAILED"
    assert world.undo_order == list(reversed(range(N - 1)))  # every undo attempted
    assert world.resources == {j}  # exactly what the report names as failed
    assert err.done == [f"s{i}" for i in range(N - 1)]
    assert err.undone == [f"s{i}" for i in reversed(range(N - 1)) if i != j]
    assert [f["step"] for f in err.failed] == [f"s{j}"]
    assert "Permission denied" in err.failed[0]["error"]
    assert err.never_undone == []
    assert err.recovery_steps == [f"remove resource {j} by hand"]
    assert err.hints == err.recovery_steps


@pytest.mark.parametrize("j", range(N - 1))
def test_ops_transaction_faults_critical_undo_failure_stops(j: int) -> None:
    world = World()
    original = ValueError("checkout failed")
    world.fail_do[N - 1] = original
    world.fail_undo[j] = OSError(5, "Input/output error")
    with pytest.raises(RollbackError) as caught:
        world.run(critical=True)
    err = caught.value
    assert err.__cause__ is original
    assert world.undo_order == list(reversed(range(j, N - 1)))  # stopped at j
    assert world.resources == set(range(j + 1))
    assert [f["step"] for f in err.failed] == [f"s{j}"]
    assert err.never_undone == [f"s{i}" for i in reversed(range(j))]
    assert err.recovery_steps == [f"remove resource {i} by hand" for i in [j, *reversed(range(j))]]
    assert set(err.undone) | {f["step"] for f in err.failed} | set(err.never_undone) == set(
        err.done
    )


@pytest.mark.parametrize(
    "interrupt", [KeyboardInterrupt, lambda: SystemExit(2)], ids=["ki", "exit"]
)
@pytest.mark.parametrize("j", range(N - 1))
def test_ops_transaction_faults_interrupt_in_undo_rollback_finishes_then_reraises(
    j: int, interrupt: Callable[[], BaseException]
) -> None:
    world = World()
    original = ValueError("checkout failed")
    world.fail_do[N - 1] = original
    raised = interrupt()
    world.fail_undo[j] = raised
    with pytest.raises(type(raised)) as caught:
        world.run()
    assert caught.value is raised
    assert world.undo_order == list(reversed(range(N - 1)))  # the rollback went on
    assert world.resources == {j}
    report = caught.value.__cause__
    assert isinstance(report, RollbackError)
    assert [f["step"] for f in report.failed] == [f"s{j}"]
    assert report.__cause__ is original
    assert any("incomplete" in note for note in caught.value.__notes__)


def test_ops_transaction_faults_real_sigint_during_rollback_is_held_back() -> None:
    world = World()
    original = ValueError("checkout failed")
    world.fail_do[N - 1] = original
    finished: list[int] = []
    slow_undo = world.undo(1)

    def undo_hit_by_ctrl_c() -> None:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # a default handler would have raised KeyboardInterrupt by now
        slow_undo()
        finished.append(1)

    with pytest.raises(KeyboardInterrupt) as caught, Transaction("t") as tx:
        for i in range(N):
            tx.step(f"s{i}", do=world.do(i), undo=undo_hit_by_ctrl_c if i == 1 else world.undo(i))
    assert finished == [1]
    assert world.resources == set()
    assert world.undo_order == [2, 1, 0]
    assert caught.value.__cause__ is original
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_ops_transaction_faults_undo_if_do_fails() -> None:
    made: list[str] = []

    def create_then_fail() -> None:
        made.append("branch")  # part of the work happened before the failure
        raise OSError(2, "checkout failed")

    with pytest.raises(OSError, match="checkout failed"), Transaction("t") as tx:
        tx.step("a", do=lambda: made.append("a"), undo=lambda: made.remove("a"))
        tx.step(
            "branch+checkout",
            do=create_then_fail,
            undo=lambda: made.remove("branch"),
            undo_if_do_fails=True,
        )
    assert made == []
    assert tx.steps == [("a", "undone"), ("branch+checkout", "undone")]


def test_ops_transaction_faults_failed_do_without_flag_is_not_undone() -> None:
    undone: list[str] = []

    def fail() -> None:
        raise ValueError("x")

    with pytest.raises(ValueError, match="x"), Transaction("t") as tx:
        tx.step("a", do=lambda: None, undo=lambda: undone.append("a"))
        tx.step("b", do=fail, undo=lambda: undone.append("b"))
    assert undone == ["a"]
    assert tx.steps == [("a", "undone"), ("b", "do_failed")]


def test_ops_transaction_faults_step_without_undo() -> None:
    # No undo, no recovery: declared side-effect free, nothing to report.
    with pytest.raises(ValueError, match="late"), Transaction("t") as tx:
        tx.step("validate", do=lambda: True)
        raise ValueError("late")
    assert tx.state == "rolled_back"
    # No undo but a manual recovery: it is never undone, so the rollback is incomplete.
    with pytest.raises(RollbackError) as caught, Transaction("t2") as tx2:
        tx2.step("notify", do=lambda: None, recovery="tell the team the WO is not taken")
        raise ValueError("late")
    assert caught.value.never_undone == ["notify"]
    assert caught.value.recovery_steps == ["tell the team the WO is not taken"]


def test_ops_transaction_faults_default_recovery_text_names_the_step() -> None:
    def bad_undo() -> None:
        raise OSError(1, "nope")

    with pytest.raises(RollbackError) as caught, Transaction("t") as tx:
        tx.step("a", do=lambda: None, undo=bad_undo)
        raise ValueError("x")
    assert "undo step 'a' of transaction 't' by hand" in caught.value.recovery_steps[0]


def test_ops_transaction_faults_swallowed_failure_still_rolls_back() -> None:
    undone: list[str] = []

    def boom() -> None:
        raise ValueError("swallowed")

    with (
        pytest.raises(errwise.UsageError, match="swallowed inside the with block"),
        Transaction("t") as tx,
    ):
        tx.step("a", do=lambda: None, undo=lambda: undone.append("a"))
        try:
            tx.step("b", do=boom)
        except ValueError:
            pass
    assert undone == ["a"]


def test_ops_transaction_faults_rollback_error_is_a_classified_error() -> None:
    def bad_undo() -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(RollbackError) as caught, Transaction("t") as tx:
        tx.step("a", do=lambda: None, undo=bad_undo, recovery="rm -rf /tmp/wo-1")
        raise KeyboardInterrupt
    err = caught.value
    assert isinstance(err, errwise.Error) and isinstance(err, errwise.EnvError)
    assert isinstance(err.__cause__, KeyboardInterrupt)
    assert err.exit_code == 10
    data: dict[str, Any] = err.to_dict()
    assert data["code"] == "ERR_ROLLBACK_FAILED"
    assert data["context"]["failed"][0]["step"] == "a"
    assert data["context"]["recovery_steps"] == ["rm -rf /tmp/wo-1"]
    assert data["cause"]["type"] == "KeyboardInterrupt"
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is RollbackError
    assert copy.failed == err.failed and copy.recovery_steps == err.recovery_steps
