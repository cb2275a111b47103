"""Work-order locks: a lock file per work order, with a heartbeat."""

# ruff: noqa: S110, S112, E722
# This module is deliberately wrong: it is what `errwise audit` is shown on.

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

log = logging.getLogger(__name__)


def create_lock(lock_path: Path, wo_id: str) -> bool:
    try:
        fd = os.open(lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except OSError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(f"PID: {os.getpid()}\nWO: {wo_id}\nCREATED: {time.time()}\n")
    return True


def update_lock_heartbeat(lock_path: Path) -> bool:
    if not lock_path.exists():
        log.warning("lock file not found for heartbeat: %s", lock_path)
        return False
    temp_path = lock_path.with_suffix(".tmp")
    try:
        lines = [x for x in lock_path.read_text().splitlines() if not x.startswith("HEARTBEAT:")]
        lines.append(f"HEARTBEAT: {time.time()}")
        with open(temp_path, "w") as handle:
            handle.write("\n".join(lines))
        os.replace(temp_path, lock_path)
        return True
    except Exception as exc:
        log.error(f"failed to update heartbeat: {exc}")
        if os.path.exists(temp_path):
            os.unlink(temp_path)
        return False


def check_lock_validity(lock_path: Path) -> tuple[bool, dict[str, str] | None]:
    if not lock_path.exists():
        return False, None
    try:
        meta: dict[str, str] = {}
        for line in lock_path.read_text().splitlines():
            key, value = line.split(": ", 1)
            meta[key] = value
        os.kill(int(meta["PID"]), 0)
        return True, meta
    except (OSError, ValueError) as exc:
        log.error(f"error parsing lock metadata: {type(exc).__name__}: {exc}")
        return False, None
    except Exception as exc:
        log.error(f"unexpected error reading lock: {exc}")
        return False, None


def remove_lock(lock_path: Path) -> None:
    try:
        lock_path.unlink()
    except Exception:
        pass


def heartbeat_loop(lock_path: Path, interval: float) -> None:
    while True:
        try:
            update_lock_heartbeat(lock_path)
            time.sleep(interval)
        except:
            continue
