"""Safe operations: atomic writes and staged outputs, subprocesses with timeouts, lease locks,
transactions whose rollback never fails silently. One module each; re-exported from `errwise`.

Promise: every operation here returns or raises classified `errwise.Error`s and never fails
silently.
"""

from errwise.ops.lock import FileLock
from errwise.ops.lockinfo import LockInfo, LockProblem, inspect_lock
from errwise.ops.transaction import RecoveryReport, RollbackError, Transaction

__all__ = [
    "FileLock",
    "LockInfo",
    "LockProblem",
    "RecoveryReport",
    "RollbackError",
    "Transaction",
    "inspect_lock",
]
