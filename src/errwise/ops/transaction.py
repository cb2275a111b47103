"""`Transaction`: ordered steps with undo actions, a rollback that never fails silently, and an
optional on-disk journal so a rollback can be finished after a crash.

Promise:
- `with Transaction(name) as tx: tx.step(name, do=..., undo=...)` runs each `do` at once, in
  order. On any exception leaving the block — `KeyboardInterrupt` and `SystemExit` included — the
  done steps are undone in reverse order (a step whose `do` failed too, when it was declared with
  `undo_if_do_fails=True`). An exception swallowed inside the block after a step failed still
  rolls back, and is then reported as a usage error.
- Every undo is attempted or reported: a failed undo of a `critical` step stops the rollback at
  once (the rest are reported "never undone"); a failed non-critical undo is recorded and the
  rollback goes on. Then `RollbackError` (ERR_ROLLBACK_FAILED) is raised, listing the steps done,
  undone, failed and never undone, and the manual recovery steps (each step's `recovery` text),
  with the original error as `__cause__`. A complete rollback re-raises the original exception
  itself, with a note saying what was undone.
- A Ctrl-C (SIGINT) during the rollback does not abandon it: in the main thread SIGINT is held
  back until the rollback finishes, then `KeyboardInterrupt` is raised (chained to the
  `RollbackError`, if the rollback failed, or to the original error); an undo that itself raises
  `KeyboardInterrupt`/`SystemExit` is recorded as failed, the rollback goes on, and the interrupt is
  re-raised at the end.
- `tx.journal` lists every event. With `journal_path`, the journal (steps, their states and
  `data`) is written atomically (fsynced) before and after every `do` and `undo`; after a crash,
  `Transaction.recover(journal_path, undo_registry)` finishes the rollback with the undo functions
  registered under the step names (called with the step's `data`), under the same rules.
  Recovery re-runs an undo that was under way at the crash, so such undos must be idempotent.
- A `Transaction` is for one thread; bad arguments raise `UsageError` at the call.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import Any, Literal, Self, TypeVar

from errwise._jsonable import safe_str
from errwise.classify import classify
from errwise.error import EnvError, Error, usage
from errwise.ops._atomicjson import atomic_json_write

__all__ = ["JOURNAL_FORMAT", "RecoveryReport", "RollbackError", "Transaction"]

JOURNAL_FORMAT = "errwise.journal/1"

_log = logging.getLogger("errwise.ops.transaction")

T = TypeVar("T")

StepState = Literal[
    "running", "done", "do_failed", "undoing", "undone", "undo_failed", "never_undone", "no_undo"
]
TxState = Literal["new", "open", "committed", "rolled_back", "rollback_failed"]
_UNFINISHED: frozenset[str] = frozenset({"new", "open", "rollback_failed"})
_MAX_JOURNAL_BYTES = 64 * 1024 * 1024


class RollbackError(EnvError):
    """ERR_ROLLBACK_FAILED: a rollback did not complete; a human must finish it.

    The lists are also in `context` (and so in the JSON form); `hints` are the recovery steps.
    """

    __slots__ = ()

    def __init__(
        self,
        transaction: str,
        *,
        done: Sequence[str],
        undone: Sequence[str],
        failed: Sequence[Mapping[str, str]],
        never_undone: Sequence[str],
        recovery_steps: Sequence[str],
        journal_path: str | None = None,
    ) -> None:
        failed_names = [f["step"] for f in failed]
        parts = []
        if failed_names:
            parts.append("undo failed for " + ", ".join(failed_names))
        if never_undone:
            parts.append("never undone: " + ", ".join(never_undone))
        context: dict[str, object] = {
            "transaction": transaction,
            "done": list(done),
            "undone": list(undone),
            "failed": [dict(f) for f in failed],
            "never_undone": list(never_undone),
            "recovery_steps": list(recovery_steps),
        }
        if journal_path is not None:
            context["journal_path"] = journal_path
        super().__init__(
            "ERR_ROLLBACK_FAILED",
            f"rollback of transaction {transaction!r} is incomplete ({'; '.join(parts)}); "
            "manual recovery is needed",
            context=context,
            hints=list(recovery_steps),
        )

    def _list(self, key: str) -> list[Any]:
        value = self.context.get(key)
        return list(value) if isinstance(value, list) else []

    @property
    def transaction(self) -> str:
        return str(self.context.get("transaction"))

    @property
    def done(self) -> list[str]:
        """Steps whose `do` completed (in order)."""
        return self._list("done")

    @property
    def undone(self) -> list[str]:
        """Steps undone (in undo order)."""
        return self._list("undone")

    @property
    def failed(self) -> list[dict[str, str]]:
        """Steps whose undo failed: `{"step", "error"}` each."""
        return self._list("failed")

    @property
    def never_undone(self) -> list[str]:
        """Steps that needed an undo that was never attempted (after a critical failure, or no
        undo function but a manual `recovery`)."""
        return self._list("never_undone")

    @property
    def recovery_steps(self) -> list[str]:
        """What a human must do, in order."""
        return self._list("recovery_steps")


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    """What `Transaction.recover` did."""

    transaction: str
    status_found: str
    """The journal's status before recovery (`committed` / `rolled_back`: nothing to do)."""
    undone: tuple[str, ...]


@dataclass(slots=True)
class _Step:
    name: str
    undo: Callable[[], object] | None
    critical: bool
    undo_if_do_fails: bool
    recovery: str | None
    data: dict[str, Any] | None
    state: StepState = "running"
    error: str | None = None
    completed: bool = False
    """Did `do` return normally?"""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "completed": self.completed,
            "critical": self.critical,
            "undo_if_do_fails": self.undo_if_do_fails,
            "has_undo": self.undo is not None,
            "recovery": self.recovery,
            "data": self.data,
            "error": self.error,
        }


class Transaction:
    """A sequence of undoable steps (see the module docstring)."""

    def __init__(self, name: str, *, journal_path: str | os.PathLike[str] | None = None) -> None:
        if not isinstance(name, str) or not name.strip():
            raise usage("ERR_USAGE", "a transaction name must be a non-empty str", got=repr(name))
        self.name = name
        if journal_path is not None and not isinstance(journal_path, (str, os.PathLike)):
            raise usage(
                "ERR_USAGE", "journal_path must be a path or None", got=type(journal_path).__name__
            )
        self.journal_path = os.fspath(journal_path) if journal_path is not None else None
        self.journal: list[dict[str, Any]] = []
        """Every event: `{"seq", "time", "event", "step", "error"}` (for logs and tests)."""
        self._state: TxState = "new"
        self._steps: list[_Step] = []
        self._running: _Step | None = None
        self._journal_errors: list[str] = []

    def __repr__(self) -> str:
        return f"Transaction({self.name!r}, state={self._state!r}, steps={len(self._steps)})"

    @property
    def state(self) -> TxState:
        """`new`, `open` (inside `with`), `committed`, `rolled_back` or `rollback_failed`."""
        return self._state

    @property
    def steps(self) -> list[tuple[str, StepState]]:
        """Each step's name and state, in the order they ran."""
        return [(s.name, s.state) for s in self._steps]

    # -- the with block -------------------------------------------------------------------------

    def __enter__(self) -> Self:
        if self._state != "new":
            raise usage("ERR_USAGE", "a Transaction can be entered once", transaction=self.name)
        if self.journal_path is not None:
            self._refuse_unfinished_journal(self.journal_path)
        self._state = "open"
        self._event("begin", None)
        self._write_journal(strict=True)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        failed_step = next((s for s in self._steps if s.state in ("do_failed", "running")), None)
        if exc is None and failed_step is None:
            self._commit()
            return
        if exc is None:
            step_name = failed_step.name if failed_step is not None else "?"
            cause: BaseException = usage(
                "ERR_USAGE",
                f"step {step_name!r} of transaction {self.name!r} failed and its error was "
                "swallowed inside the with block; the transaction was rolled back",
                transaction=self.name,
                step=step_name,
            )
        else:
            cause = exc
        self._rollback(cause, reraise_cause=exc is None)

    # -- steps ----------------------------------------------------------------------------------

    def step(
        self,
        name: str,
        *,
        do: Callable[[], T],
        undo: Callable[[], object] | None = None,
        critical: bool = False,
        undo_if_do_fails: bool = False,
        recovery: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> T:
        """Run `do()` now as step `name` and return its result; remember `undo` for a rollback.

        `critical`: a failed undo of this step stops the rollback. `undo_if_do_fails`: undo this
        step also when its `do` raised (it may have done part of its work). `recovery`: the
        manual step a human runs if the undo fails. `data`: JSON values saved in the journal and
        passed to the registered undo by `Transaction.recover`.
        """
        self._check_step_args(
            name,
            do=do,
            undo=undo,
            critical=critical,
            undo_if_do_fails=undo_if_do_fails,
            recovery=recovery,
            data=data,
        )
        rec = _Step(name, undo, critical, undo_if_do_fails, recovery, dict(data or {}) or None)
        self._steps.append(rec)
        self._running = rec
        try:
            self._event("do_started", rec)
            try:
                self._write_journal(strict=True)
            except Error as err:
                # The do never ran: forget the step, so no rollback undoes what never happened.
                self._steps.remove(rec)
                self._event("do_skipped", None, f"step {name!r} not started: {err}")
                raise
            try:
                result = do()
            except BaseException as exc:
                rec.state = "do_failed"
                rec.error = _describe(exc)
                self._event("do_failed", rec)
                self._write_journal(strict=False, during=exc)
                raise
            rec.state = "done"
            rec.completed = True
            self._event("done", rec)
            self._write_journal(strict=True)
            return result
        finally:
            self._running = None

    def _check_step_args(
        self,
        name: object,
        *,
        do: object,
        undo: object,
        critical: object,
        undo_if_do_fails: object,
        recovery: object,
        data: object,
    ) -> None:
        if self._state != "open":
            raise usage(
                "ERR_USAGE",
                f"step() needs an open transaction (use 'with'); this one is {self._state}",
                transaction=self.name,
            )
        if self._running is not None:
            raise usage(
                "ERR_USAGE",
                "step() called from inside another step's do",
                transaction=self.name,
                running=self._running.name,
            )
        if not isinstance(name, str) or not name.strip():
            raise usage("ERR_USAGE", "a step name must be a non-empty str", got=repr(name))
        if any(s.name == name for s in self._steps):
            raise usage("ERR_USAGE", f"step name {name!r} is used twice", transaction=self.name)
        if not callable(do):
            raise usage("ERR_USAGE", "do must be callable", step=name, got=type(do).__name__)
        if undo is not None and not callable(undo):
            raise usage("ERR_USAGE", "undo must be callable or None", step=name)
        for flag, value in (("critical", critical), ("undo_if_do_fails", undo_if_do_fails)):
            if type(value) is not bool:
                raise usage("ERR_USAGE", f"{flag} must be a bool", step=name)
        if undo_if_do_fails and undo is None:
            raise usage("ERR_USAGE", "undo_if_do_fails=True needs an undo", step=name)
        if recovery is not None and (not isinstance(recovery, str) or not recovery.strip()):
            raise usage("ERR_USAGE", "recovery must be a non-empty str or None", step=name)
        if data is not None:
            if not isinstance(data, Mapping):
                raise usage("ERR_USAGE", "data must be a mapping or None", step=name)
            try:
                json.dumps(dict(data))
            except (TypeError, ValueError) as exc:
                raise usage(
                    "ERR_USAGE", f"step data must be JSON values: {exc}", step=name
                ) from exc

    # -- commit and rollback ----------------------------------------------------------------------

    def _commit(self) -> None:
        self._state = "committed"
        self._event("commit", None)
        if self.journal_path is None:
            return
        try:
            self._write_journal(strict=True)
        except Error as err:
            # An "open" journal left behind would let recover() undo committed work: remove it.
            try:
                os.unlink(self.journal_path)
            except FileNotFoundError:
                pass
            except OSError as unlink_exc:
                raise (
                    classify(unlink_exc)
                    .with_context(transaction=self.name, journal_path=self.journal_path)
                    .add_hint(
                        f"the transaction committed: delete {self.journal_path}, do not recover it"
                    )
                ) from err
            _log.warning(
                "transaction %r committed; its journal could not be updated (%s) and was removed",
                self.name,
                err,
            )

    def _rollback(self, cause: BaseException | None, *, reraise_cause: bool) -> None:
        """Undo what must be undone; then raise (or, returning, let the original propagate)."""
        targets = [
            s
            for s in self._steps
            if s.state in ("done", "undoing", "undo_failed", "never_undone")
            or (s.state in ("running", "do_failed") and s.undo_if_do_fails)
        ]
        interrupt: BaseException | None = None
        with _sigint_held_back() as held:
            stopped_by: _Step | None = None
            for rec in reversed(targets):
                if stopped_by is not None:
                    rec.state = "never_undone"
                    self._event("never_undone", rec, f"rollback stopped at {stopped_by.name!r}")
                elif rec.undo is None:
                    rec.state = "never_undone" if rec.recovery else "no_undo"
                    self._event(rec.state, rec)
                else:
                    rec.state = "undoing"
                    self._event("undo_started", rec)
                    self._write_journal(strict=False)
                    try:
                        rec.undo()
                    except BaseException as exc:
                        rec.state = "undo_failed"
                        rec.error = _describe(exc)
                        self._event("undo_failed", rec)
                        _log.error(
                            "transaction %r: undo of step %r failed",
                            self.name,
                            rec.name,
                            exc_info=exc,
                        )
                        if not isinstance(exc, Exception) and interrupt is None:
                            interrupt = exc
                        if rec.critical:
                            stopped_by = rec
                    else:
                        rec.state = "undone"
                        self._event("undone", rec)
                self._write_journal(strict=False)
            failed = [s for s in reversed(targets) if s.state == "undo_failed"]
            never = [s for s in reversed(targets) if s.state == "never_undone"]
            self._state = "rollback_failed" if failed or never else "rolled_back"
            self._event(self._state, None)
            self._write_journal(strict=False)
        if interrupt is None and held:
            interrupt = KeyboardInterrupt()
        undone = [s.name for s in reversed(targets) if s.state == "undone"]
        error: RollbackError | None = None
        if failed or never:
            error = RollbackError(
                self.name,
                done=[s.name for s in self._steps if s.completed],
                undone=undone,
                failed=[{"step": s.name, "error": s.error or "?"} for s in failed],
                never_undone=[s.name for s in never],
                recovery_steps=[self._recovery_text(s) for s in [*failed, *never]],
                journal_path=self.journal_path,
            )
            for problem in self._journal_errors:
                error.add_hint(f"the journal could not be kept up to date: {problem}")
            error.__cause__ = cause  # the original error, also when an interrupt is raised
        summary = self._summary(undone, error)
        if error is not None:
            _log.error("%s", summary)
        else:
            _log.warning("%s", summary)
        if interrupt is not None:
            interrupt.add_note(summary)
            raise interrupt from (error if error is not None else cause)
        if error is not None:
            raise error from cause
        if cause is not None:
            cause.add_note(summary)
            if reraise_cause:
                raise cause
        # Returning from __exit__ lets the original exception propagate with its traceback.

    def _summary(self, undone: list[str], error: RollbackError | None) -> str:
        if error is not None:
            return f"transaction {self.name!r}: {error.message}"
        text = f"transaction {self.name!r} rolled back"
        text += f"; undone: {', '.join(undone)}" if undone else "; nothing to undo"
        if self._journal_errors:
            text += "; the journal could not be kept up to date: " + "; ".join(self._journal_errors)
        return text

    def _recovery_text(self, rec: _Step) -> str:
        if rec.recovery:
            return rec.recovery
        return (
            f"undo step {rec.name!r} of transaction {self.name!r} by hand "
            "(the step gave no recovery text)"
        )

    # -- the journal ------------------------------------------------------------------------------

    def _event(self, event: str, rec: _Step | None, error: str | None = None) -> None:
        self.journal.append(
            {
                "seq": len(self.journal),
                "time": time.time(),
                "event": event,
                "step": rec.name if rec is not None else None,
                "error": error if error is not None else (rec.error if rec is not None else None),
            }
        )

    def _write_journal(self, *, strict: bool, during: BaseException | None = None) -> None:
        """Write the journal file (if any). strict: raise on failure; else record and go on."""
        if self.journal_path is None:
            return
        document = {
            "format": JOURNAL_FORMAT,
            "transaction": self.name,
            "status": self._state,
            "pid": os.getpid(),
            "steps": [s.to_json() for s in self._steps],
            "events": self.journal,
        }
        try:
            atomic_json_write(self.journal_path, document, fsync=True, fsync_dir=True)
        except OSError as exc:
            err = classify(exc).with_context(transaction=self.name, journal_path=self.journal_path)
            if strict:
                raise err from exc
            problem = f"{self.journal_path}: {err.message}"
            if problem not in self._journal_errors:
                self._journal_errors.append(problem)
            _log.error("transaction %r: cannot write its journal: %s", self.name, err)
            if during is not None:
                during.add_note(f"the transaction journal could not be updated: {err}")

    @staticmethod
    def _refuse_unfinished_journal(path: str) -> None:
        try:
            document = _load_journal(path)
        except Error as err:
            if err.code == "ERR_NOT_FOUND":
                return
            raise
        if document["status"] in _UNFINISHED:
            raise EnvError(
                "ERR_ALREADY_EXISTS",
                f"an unfinished transaction journal is in the way: {path}",
                context={"journal_path": path, "status": document["status"]},
                hints=[f"finish it with errwise.Transaction.recover({path!r}, undo_registry)"],
            )

    # -- recovery after a crash ----------------------------------------------------------------

    @classmethod
    def recover(
        cls,
        journal_path: str | os.PathLike[str],
        undo_registry: Mapping[str, Callable[[dict[str, Any]], object]],
    ) -> RecoveryReport:
        """Finish the rollback recorded in `journal_path` (see the module docstring).

        `undo_registry` maps step names to undo functions taking the step's `data` dict. Returns
        what was undone; raises `RollbackError` if an undo fails, ERR_NOT_FOUND if there is no
        journal, ERR_JOURNAL_CORRUPT if it cannot be read, `UsageError` (before undoing anything)
        if the registry lacks an undo a step needs.
        """
        if not isinstance(journal_path, (str, os.PathLike)):
            raise usage("ERR_USAGE", "journal_path must be a path", got=type(journal_path).__name__)
        if not isinstance(undo_registry, Mapping):
            raise usage(
                "ERR_USAGE", "undo_registry must be a mapping of step name to undo function"
            )
        path = os.fspath(journal_path)
        document = _load_journal(path)
        tx = cls(document["transaction"], journal_path=path)
        tx.journal = list(document["events"])
        status = document["status"]
        if status not in _UNFINISHED:
            return RecoveryReport(tx.name, status, ())
        missing = []
        for raw in document["steps"]:
            rec = _step_from_json(raw, path)
            if raw["has_undo"]:
                fn = undo_registry.get(rec.name)
                if fn is None or not callable(fn):
                    missing.append(rec.name)
                else:
                    rec.undo = _bind(fn, dict(rec.data or {}))
            tx._steps.append(rec)
        needed = [
            s.name
            for s in tx._steps
            if s.name in missing
            and (
                s.state in ("done", "undoing", "undo_failed", "never_undone")
                or (s.state in ("running", "do_failed") and s.undo_if_do_fails)
            )
        ]
        if needed:
            raise usage(
                "ERR_USAGE",
                "undo_registry has no undo function for steps: " + ", ".join(needed),
                journal_path=path,
            )
        tx._state = "open"
        tx._event("recover", None)
        tx._rollback(None, reraise_cause=False)
        new_events = tx.journal[len(document["events"]) :]
        undone = tuple(e["step"] for e in new_events if e["event"] == "undone")
        return RecoveryReport(tx.name, status, undone)


# -- helpers --------------------------------------------------------------------------------------


def _bind(fn: Callable[[dict[str, Any]], object], data: dict[str, Any]) -> Callable[[], object]:
    return lambda: fn(data)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, Error):
        return str(exc)
    text = safe_str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _journal_corrupt(path: str, why: str) -> EnvError:
    return EnvError(
        "ERR_JOURNAL_CORRUPT",
        f"cannot read transaction journal {path}: {why}",
        context={"journal_path": path},
        hints=[f"inspect {path}; undo the steps it lists as done by hand"],
    )


def _load_journal(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(_MAX_JOURNAL_BYTES + 1)
    except OSError as exc:
        raise classify(exc).with_context(journal_path=path) from exc
    if len(raw) > _MAX_JOURNAL_BYTES:
        raise _journal_corrupt(path, "larger than 64 MiB")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _journal_corrupt(path, f"not valid JSON ({exc})") from exc
    if not isinstance(document, dict) or document.get("format") != JOURNAL_FORMAT:
        raise _journal_corrupt(path, f"not an {JOURNAL_FORMAT} document")
    if (
        not isinstance(document.get("transaction"), str)
        or document.get("status") not in ("new", *_UNFINISHED, "committed", "rolled_back")
        or not isinstance(document.get("steps"), list)
        or not isinstance(document.get("events"), list)
    ):
        raise _journal_corrupt(path, "missing or invalid transaction, status, steps or events")
    return document


_STEP_STATES = frozenset(StepState.__args__)  # type: ignore[attr-defined]


def _step_from_json(raw: object, path: str) -> _Step:
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("name"), str)
        or raw.get("state") not in _STEP_STATES
        or type(raw.get("critical")) is not bool
        or type(raw.get("undo_if_do_fails")) is not bool
        or type(raw.get("has_undo")) is not bool
        or type(raw.get("completed")) is not bool
        or not isinstance(raw.get("recovery"), (str, type(None)))
        or not isinstance(raw.get("data"), (dict, type(None)))
    ):
        raise _journal_corrupt(path, f"invalid step record {raw!r}")
    return _Step(
        name=raw["name"],
        undo=None,
        critical=raw["critical"],
        undo_if_do_fails=raw["undo_if_do_fails"],
        recovery=raw["recovery"],
        data=raw["data"],
        state=raw["state"],
        completed=raw["completed"],
        error=raw.get("error") if isinstance(raw.get("error"), str) else None,
    )


@contextlib.contextmanager
def _sigint_held_back() -> Iterator[list[int]]:
    """In the main thread, with Python's default SIGINT handler: hold SIGINT back and yield the
    list of signals that arrived meanwhile. Elsewhere (another thread, a custom handler) yield an
    always-empty list and leave signals alone."""
    held: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield held
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.default_int_handler:
        yield held
        return

    def hold(signum: int, frame: FrameType | None) -> None:
        held.append(signum)

    signal.signal(signal.SIGINT, hold)
    try:
        yield held
    finally:
        signal.signal(signal.SIGINT, previous)
