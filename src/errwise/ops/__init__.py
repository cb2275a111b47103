"""Safe operations: atomic writes and staged outputs, subprocesses with timeouts, lease locks,
transactions whose rollback never fails silently. One module each; re-exported from `errwise`.

Promise: every operation here returns or raises classified `errwise.Error`s and never fails
silently.
"""
