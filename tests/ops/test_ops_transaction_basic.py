"""Transaction happy path and bad input: steps run in order and commit; misuse is a UsageError."""

from __future__ import annotations

from typing import Any

import pytest

import errwise
from errwise import Transaction


def test_ops_transaction_basic_commit_runs_steps_in_order() -> None:
    order: list[str] = []
    undone: list[str] = []
    with Transaction("t") as tx:
        assert tx.state == "open"
        assert tx.step("a", do=lambda: order.append("a") or 1, undo=lambda: undone.append("a")) == 1
        assert tx.step("b", do=lambda: order.append("b") or "x") == "x"
    assert order == ["a", "b"]
    assert undone == []
    assert tx.state == "committed"
    assert tx.steps == [("a", "done"), ("b", "done")]
    assert [(e["event"], e["step"]) for e in tx.journal] == [
        ("begin", None),
        ("do_started", "a"),
        ("done", "a"),
        ("do_started", "b"),
        ("done", "b"),
        ("commit", None),
    ]
    assert [e["seq"] for e in tx.journal] == list(range(6))


def test_ops_transaction_basic_rollback_journal_records_every_outcome() -> None:
    def bad_undo() -> None:
        raise OSError(5, "Input/output error")

    with pytest.raises(errwise.RollbackError), Transaction("t") as tx:
        tx.step("a", do=lambda: None, undo=lambda: None)
        tx.step("b", do=lambda: None, undo=bad_undo)
        raise ValueError("x")
    events = [(e["event"], e["step"]) for e in tx.journal]
    assert events[-5:] == [
        ("undo_started", "b"),
        ("undo_failed", "b"),
        ("undo_started", "a"),
        ("undone", "a"),
        ("rollback_failed", None),
    ]
    assert "Input/output error" in tx.journal[-4]["error"]
    assert tx.state == "rollback_failed"


def test_ops_transaction_basic_step_outside_with_and_after_end() -> None:
    tx = Transaction("t")
    with pytest.raises(errwise.UsageError, match="open transaction"):
        tx.step("a", do=lambda: None)
    with tx:
        pass
    with pytest.raises(errwise.UsageError):
        tx.step("a", do=lambda: None)
    with pytest.raises(errwise.UsageError, match="entered once"), tx:
        pass


def test_ops_transaction_basic_nested_step_is_refused() -> None:
    with pytest.raises(errwise.UsageError, match="inside another step"), Transaction("t") as tx:
        tx.step("outer", do=lambda: tx.step("inner", do=lambda: None))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": ""},
        {"name": 3},
        {"do": "not callable"},
        {"undo": 5},
        {"critical": 1},
        {"undo_if_do_fails": "yes"},
        {"undo_if_do_fails": True, "undo": None},
        {"recovery": ""},
        {"recovery": 7},
        {"data": [1, 2]},
        {"data": {"x": object()}},
    ],
)
def test_ops_transaction_basic_bad_step_arguments(kwargs: dict[str, Any]) -> None:
    ran: list[int] = []
    args: dict[str, Any] = {"name": "s", "do": lambda: ran.append(1), "undo": lambda: None}
    args.update(kwargs)
    with pytest.raises(errwise.UsageError), Transaction("t") as tx:
        tx.step(**args)
    assert ran == []


def test_ops_transaction_basic_duplicate_step_names() -> None:
    with pytest.raises(errwise.UsageError, match="used twice"), Transaction("t") as tx:
        tx.step("a", do=lambda: None)
        tx.step("a", do=lambda: None)


def test_ops_transaction_basic_bad_constructor_and_recover_arguments() -> None:
    with pytest.raises(errwise.UsageError):
        Transaction("")
    with pytest.raises(errwise.UsageError):
        Transaction("t", journal_path=3)  # type: ignore[arg-type]
    with pytest.raises(errwise.UsageError):
        Transaction.recover(3, {})  # type: ignore[arg-type]
    with pytest.raises(errwise.UsageError):
        Transaction.recover("j.json", [])  # type: ignore[arg-type]
