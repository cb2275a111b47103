"""Deterministic fault injection for tests: fail the I/O your code does, one call at a time.

Promise: standard library only, typed. `FaultPlan` (and `inject`, the pytest fixture `faults`)
fail chosen calls of the operations in `OPERATIONS` with real errors (`make_error`): the right
`OSError` subclass, errno, strerror and filename, short reads/writes, KeyboardInterrupt,
subprocess and sqlite3 failures. Faults fire only in the thread that activated the plan (unless
`all_threads=True`), never inside errwise's own bookkeeping, and everything is undone on exit.
Every injection is recorded with its call site and the stack into the code under test.
"""

from __future__ import annotations

from errwise.faults.errors import make_error
from errwise.faults.plan import FaultPlan, Inject, inject
from errwise.faults.rules import Injection, Rule
from errwise.faults.site import Site, default_filter
from errwise.faults.tables import OPERATIONS, SPECIAL_FAULTS, Operation

__all__ = [
    "OPERATIONS",
    "SPECIAL_FAULTS",
    "FaultPlan",
    "Inject",
    "Injection",
    "Operation",
    "Rule",
    "Site",
    "default_filter",
    "inject",
    "make_error",
]
