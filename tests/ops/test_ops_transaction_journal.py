"""Transaction journals: written before and after every step, and `Transaction.recover` finishing a
rollback after a crash (a SIGKILLed child), plus journal failures and the commit path."""

from __future__ import annotations

import errno
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import errwise
from errwise import RollbackError, Transaction
from errwise.ops import transaction as tx_mod

_CRASHER = """
import os, signal, sys
from pathlib import Path
from errwise import Transaction

root = Path(sys.argv[1])
with Transaction("wo-take", journal_path=root / "journal.json") as tx:
    for name in ("worktree", "branch", "wo-file"):
        path = root / name
        tx.step(
            name,
            do=lambda p=path: p.write_text("made"),
            undo=lambda p=path: p.unlink(),
            data={"path": str(path)},
            recovery=f"rm {path}",
        )
    tx.step("crash", do=lambda: os.kill(os.getpid(), signal.SIGKILL), undo=lambda: None)
"""


def _crash(root: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _CRASHER, str(root)], capture_output=True, timeout=60, check=False
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr


def _unlink(undone: list[str]) -> Any:
    def undo(data: dict[str, Any]) -> None:
        Path(data["path"]).unlink()
        undone.append(Path(data["path"]).name)

    return undo


def test_ops_transaction_journal_recover_after_crash(tmp_path: Path) -> None:
    _crash(tmp_path)
    made = sorted(p.name for p in tmp_path.iterdir() if p.name != "journal.json")
    assert made == ["branch", "wo-file", "worktree"]  # the crash left them behind
    journal = json.loads((tmp_path / "journal.json").read_text())
    assert journal["status"] == "open"
    assert [(s["name"], s["state"]) for s in journal["steps"]] == [
        ("worktree", "done"),
        ("branch", "done"),
        ("wo-file", "done"),
        ("crash", "running"),
    ]
    undone: list[str] = []
    registry = {n: _unlink(undone) for n in ("worktree", "branch", "wo-file", "crash")}
    report = Transaction.recover(tmp_path / "journal.json", registry)
    assert report.transaction == "wo-take"
    assert report.status_found == "open"
    assert report.undone == ("wo-file", "branch", "worktree")
    assert undone == ["wo-file", "branch", "worktree"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["journal.json"]
    assert json.loads((tmp_path / "journal.json").read_text())["status"] == "rolled_back"
    again = Transaction.recover(tmp_path / "journal.json", registry)  # idempotent
    assert again.undone == ()
    assert again.status_found == "rolled_back"


def test_ops_transaction_journal_recover_needs_every_undo_first(tmp_path: Path) -> None:
    _crash(tmp_path)
    undone: list[str] = []
    with pytest.raises(errwise.UsageError, match="worktree"):
        Transaction.recover(tmp_path / "journal.json", {"branch": _unlink(undone)})
    assert undone == []  # nothing was undone before the registry was found lacking
    assert (tmp_path / "branch").exists()


def test_ops_transaction_journal_recover_failure_raises_rollback_error(tmp_path: Path) -> None:
    _crash(tmp_path)

    def broken(data: dict[str, Any]) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", data["path"])

    undone: list[str] = []
    registry = {"worktree": _unlink(undone), "branch": broken, "wo-file": _unlink(undone)}
    with pytest.raises(RollbackError) as caught:
        Transaction.recover(tmp_path / "journal.json", registry)
    assert [f["step"] for f in caught.value.failed] == ["branch"]
    assert caught.value.recovery_steps == [f"rm {tmp_path / 'branch'}"]
    assert caught.value.context["journal_path"] == str(tmp_path / "journal.json")
    assert json.loads((tmp_path / "journal.json").read_text())["status"] == "rollback_failed"
    # Once the cause is fixed, recovery can be run again and finishes the job.
    report = Transaction.recover(tmp_path / "journal.json", {"branch": _unlink(undone)})
    assert report.undone == ("branch",)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["journal.json"]


def test_ops_transaction_journal_unfinished_journal_blocks_a_new_transaction(
    tmp_path: Path,
) -> None:
    _crash(tmp_path)
    with (
        pytest.raises(errwise.EnvError) as caught,
        Transaction("again", journal_path=tmp_path / "journal.json"),
    ):
        pass
    assert caught.value.code == "ERR_ALREADY_EXISTS"
    assert "recover" in caught.value.hints[0]


def test_ops_transaction_journal_written_around_every_step(tmp_path: Path) -> None:
    path = tmp_path / "j.json"
    seen: list[list[tuple[str, str]]] = []

    def snapshot() -> None:
        doc = json.loads(path.read_text())
        seen.append([(s["name"], s["state"]) for s in doc["steps"]])

    with Transaction("t", journal_path=path) as tx:
        tx.step("a", do=snapshot, undo=lambda: None)
        tx.step("b", do=snapshot, undo=lambda: None)
    assert seen == [[("a", "running")], [("a", "done"), ("b", "running")]]
    doc = json.loads(path.read_text())
    assert doc["status"] == "committed"
    assert [e["event"] for e in doc["events"]] == [
        "begin",
        "do_started",
        "done",
        "do_started",
        "done",
        "commit",
    ]
    assert Transaction.recover(path, {}).undone == ()
    with Transaction("next", journal_path=path):  # a finished journal does not block
        pass


def test_ops_transaction_journal_write_failure_fails_the_step_and_rolls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tx_mod.atomic_json_write
    calls = [0]

    def full_after_three(path: str, obj: object, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] >= 4:
            raise OSError(errno.ENOSPC, "No space left on device", path)
        return real(path, obj, **kwargs)

    monkeypatch.setattr(tx_mod, "atomic_json_write", full_after_three)
    made: list[str] = []
    with (
        pytest.raises(errwise.EnvError) as caught,
        Transaction("t", journal_path=tmp_path / "j.json") as tx,
    ):
        tx.step("a", do=lambda: made.append("a"), undo=lambda: made.remove("a"))  # writes 2, 3
        tx.step("b", do=lambda: made.append("b"), undo=lambda: made.remove("b"))  # 4 fails
    assert caught.value.code == "ERR_DISK_FULL"
    assert caught.value.context["journal_path"] == str(tmp_path / "j.json")
    assert made == []  # b never ran; a was undone
    assert any("journal could not be kept up to date" in n for n in caught.value.__notes__)


def test_ops_transaction_journal_commit_failure_removes_the_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = tx_mod.atomic_json_write
    path = tmp_path / "j.json"

    def fail_commit(p: str, obj: Any, **kwargs: Any) -> Any:
        if obj["status"] == "committed":
            raise OSError(errno.EIO, "Input/output error", p)
        return real(p, obj, **kwargs)

    monkeypatch.setattr(tx_mod, "atomic_json_write", fail_commit)
    with Transaction("t", journal_path=path) as tx:
        tx.step("a", do=lambda: None, undo=lambda: None)
    assert tx.state == "committed"
    assert not path.exists()  # an "open" journal must not survive a commit: recover would undo
    assert any("could not be updated" in r.message for r in caplog.records)


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (None, "ERR_NOT_FOUND"),
        ("{broken", "ERR_JOURNAL_CORRUPT"),
        (json.dumps({"format": "other"}), "ERR_JOURNAL_CORRUPT"),
        (
            json.dumps(
                {
                    "format": "errwise.journal/1",
                    "transaction": "t",
                    "status": "open",
                    "steps": [{"name": 1}],
                    "events": [],
                }
            ),
            "ERR_JOURNAL_CORRUPT",
        ),
    ],
)
def test_ops_transaction_journal_unreadable_journals(
    tmp_path: Path, content: str | None, code: str
) -> None:
    path = tmp_path / "j.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(errwise.EnvError) as caught:
        Transaction.recover(path, {})
    assert caught.value.code == code


def test_ops_transaction_journal_unwritable_before_a_step_skips_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tx_mod.atomic_json_write
    calls = [0]

    def full_on_second_step(path: str, obj: object, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == 4:  # begin, a started, a done, then "b started" fails
            raise OSError(errno.ENOSPC, "No space left on device", path)
        return real(path, obj, **kwargs)

    monkeypatch.setattr(tx_mod, "atomic_json_write", full_on_second_step)
    log: list[str] = []
    with (
        pytest.raises(errwise.EnvError, match="ERR_DISK_FULL"),
        Transaction("t", journal_path=tmp_path / "j.json") as tx,
    ):
        tx.step("a", do=lambda: log.append("do a"), undo=lambda: log.append("undo a"))
        tx.step(
            "b",
            do=lambda: log.append("do b"),
            undo=lambda: log.append("undo b"),
            undo_if_do_fails=True,
        )
    assert log == ["do a", "undo a"]  # b never ran, so it is not undone either
    assert tx.steps == [("a", "undone")]
    doc = json.loads((tmp_path / "j.json").read_text())
    assert doc["status"] == "rolled_back"
