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
from errwise.ops.atomic import atomic_write, atomic_writer
from errwise.ops.run import RunResult, run, run_result
from errwise.ops.staged import staged_output
from errwise.result import Err, Ok, Result, as_result
from errwise.runid import run_id

__version__ = "0.1.0"

__all__ = [
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
