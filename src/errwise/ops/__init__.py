"""Safe operations: atomic writes and staged outputs, subprocesses with timeouts, lease locks,
transactions whose rollback never fails silently. One module each; re-exported from `errwise`.

Promise: every operation here returns or raises classified `errwise.Error`s and never fails
silently.
"""

from typing import TYPE_CHECKING

from errwise._lazy import exports
from errwise.ops.run import RunResult, run, run_result  # eager: `run` is also a submodule

if TYPE_CHECKING:
    from errwise.ops.atomic import atomic_write, atomic_writer
    from errwise.ops.lock import FileLock
    from errwise.ops.lockinfo import LockInfo, LockProblem, inspect_lock
    from errwise.ops.staged import staged_output
    from errwise.ops.transaction import RecoveryReport, RollbackError, Transaction

# Imported on first use, so importing one operation does not import them all.
__getattr__, __dir__ = exports(
    __name__,
    {
        "atomic_write": "errwise.ops.atomic",
        "atomic_writer": "errwise.ops.atomic",
        "FileLock": "errwise.ops.lock",
        "LockInfo": "errwise.ops.lockinfo",
        "LockProblem": "errwise.ops.lockinfo",
        "inspect_lock": "errwise.ops.lockinfo",
        "staged_output": "errwise.ops.staged",
        "RecoveryReport": "errwise.ops.transaction",
        "RollbackError": "errwise.ops.transaction",
        "Transaction": "errwise.ops.transaction",
    },
)

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
