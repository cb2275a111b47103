"""errwise: errors should never pass silently.

The library façade: one error base (`Error`) with a kind, a stable code, context, hints and a
recoverable flag; per-kind subclasses and constructors; `classify` for foreign exceptions; a typed
`Result`. Importing errwise has no side effects beyond registering the built-in error codes, and
the library imports only the standard library.
"""

from __future__ import annotations

from errwise import codes
from errwise.classify import classify, errno_code
from errwise.codes import Code
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
from errwise.kind import Kind
from errwise.ops.lock import FileLock
from errwise.ops.lockinfo import LockInfo, LockProblem, inspect_lock
from errwise.ops.transaction import RecoveryReport, RollbackError, Transaction
from errwise.result import Err, Ok, Result, as_result
from errwise.runid import run_id

__version__ = "0.1.0"

__all__ = [
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
    "TargetError",
    "UsageError",
    "__version__",
    "as_result",
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
    "run_id",
    "target",
    "usage",
]
