"""Safe operations: atomic writes and staged outputs, subprocesses with timeouts, lease locks,
transactions whose rollback never fails silently. One module each; re-exported from `errwise`.

Promise: every operation here returns or raises classified `errwise.Error`s and never fails
silently.
"""

from errwise.ops.atomic import atomic_write, atomic_writer
from errwise.ops.run import RunResult, run, run_result
from errwise.ops.staged import staged_output

__all__ = ["atomic_write", "atomic_writer", "RunResult", "run", "run_result", "staged_output"]
