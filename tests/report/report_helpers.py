"""Constants and types shared by the report tests (imported by name; not a conftest)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from errwise.audit.report import AuditReport

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"

Tree = Callable[..., AuditReport]
