"""A lock file: whoever creates it first holds the lock."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def try_lock(path: Path) -> bool:
    """Take the lock; False when someone else holds it."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        return True
    except OSError:
        return False


def release(path: Path) -> None:
    """Give the lock up; releasing a lock already gone is fine."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
