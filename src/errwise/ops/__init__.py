"""Safe operations: atomic writes and staged outputs, subprocesses with timeouts, lease locks,
transactions whose rollback never fails silently. One module each; re-exported from `errwise`.

Promise: every operation here returns or raises classified `errwise.Error`s and never fails
silently.
"""

from errwise.ops.atomic import atomic_write, atomic_writer
from errwise.ops.lock import FileLock
from errwise.ops.lockinfo import LockInfo, LockProblem, inspect_lock
from errwise.ops.run import RunResult, run, run_result
from errwise.ops.staged import staged_output
from errwise.ops.transaction import RecoveryReport, RollbackError, Transaction

__all__ = [
    "FileLock",
    "LockInfo",
    "LockProblem",
    "RecoveryReport",
    "RollbackError",
    "RunResult",
    "Transaction",
    "atomic_write",
    "atomic_writer",
    "inspect_lock",
    "run",
    "run_result",
    "staged_output",
]
