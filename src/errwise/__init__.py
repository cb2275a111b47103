"""errwise: errors should never pass silently.

The library façade: one error base (`Error`) with a kind, a stable code, context, hints and a
recoverable flag; per-kind subclasses and constructors; `classify` for foreign exceptions; a typed
`Result`. Importing errwise has no side effects beyond registering the built-in error codes, and
the library imports only the standard library. The safe operations, `Result` and the entry
wrapper are imported on first use (`errwise._lazy`), so a program that needs only the errors
does not pay for the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from errwise import codes, metrics, policy
from errwise._lazy import exports
from errwise.classify import classify, errno_code
from errwise.codes import Code
from errwise.diagnostics import JsonFormatter, configure_logging, log_error
from errwise.error import (
    EnvError,
    Error,
    InternalError,
    TargetError,
    UsageError,
    bug,
    ensure,
    ensure_env,
    ensure_internal,
    ensure_target,
    ensure_usage,
    env,
    never,
    target,
    usage,
)
from errwise.guard import Guard, guard
from errwise.kind import Kind
from errwise.policy import Policy
from errwise.runid import run_id

if TYPE_CHECKING:
    from errwise.entry import Terminated, entrypoint, run_main
    from errwise.ops.atomic import atomic_write, atomic_writer
    from errwise.ops.lock import FileLock
    from errwise.ops.lockinfo import LockInfo, LockProblem, inspect_lock
    from errwise.ops.run import RunResult, run, run_result
    from errwise.ops.staged import staged_output
    from errwise.ops.transaction import RecoveryReport, RollbackError, Transaction
    from errwise.result import Err, Ok, Result, as_result

__getattr__, __dir__ = exports(
    __name__,
    {
        **dict.fromkeys(("Terminated", "entrypoint", "run_main"), "errwise.entry"),
        **dict.fromkeys(("Err", "Ok", "Result", "as_result"), "errwise.result"),
        **dict.fromkeys(
            (
                "atomic_write",
                "atomic_writer",
                "FileLock",
                "LockInfo",
                "LockProblem",
                "inspect_lock",
                "RunResult",
                "run",
                "run_result",
                "staged_output",
                "RecoveryReport",
                "RollbackError",
                "Transaction",
            ),
            "errwise.ops",
        ),
    },
)

__version__ = "0.1.0"

__all__ = [
    "run_main",
    "policy",
    "metrics",
    "log_error",
    "guard",
    "entrypoint",
    "configure_logging",
    "Terminated",
    "Policy",
    "JsonFormatter",
    "Guard",
    "FileLock",
    "LockInfo",
    "LockProblem",
    "RecoveryReport",
    "RollbackError",
    "Transaction",
    "inspect_lock",
    "Code",
    "EnvError",
    "Err",
    "Error",
    "InternalError",
    "Kind",
    "Ok",
    "Result",
    "RunResult",
    "TargetError",
    "UsageError",
    "__version__",
    "as_result",
    "atomic_write",
    "atomic_writer",
    "bug",
    "classify",
    "codes",
    "ensure",
    "ensure_env",
    "ensure_internal",
    "ensure_target",
    "ensure_usage",
    "env",
    "errno_code",
    "never",
    "run",
    "run_id",
    "run_result",
    "staged_output",
    "target",
    "usage",
]
