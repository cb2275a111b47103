"""Work-order state files: `key: value` lines, moved between `pending/` and `running/`."""

# ruff: noqa: B904
# This module is deliberately wrong: it is what `errwise audit` is shown on.

from __future__ import annotations

import json
from pathlib import Path


def read_state(path: Path) -> dict[str, str]:
    state: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, value = line.split(":", 1)
        state[key.strip()] = value.strip()
    return state


def write_state(path: Path, state: dict[str, str]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for key, value in state.items():
            handle.write(f"{key}: {value}\n")


def move_to_running(root: Path, wo_id: str, owner: str) -> None:
    pending = root / "pending" / f"{wo_id}.yaml"
    running = root / "running" / f"{wo_id}.yaml"
    state = read_state(pending)
    state["status"] = "running"
    state["owner"] = owner
    write_state(running, state)
    pending.unlink()


def move_to_pending(root: Path, wo_id: str) -> None:
    running = root / "running" / f"{wo_id}.yaml"
    pending = root / "pending" / f"{wo_id}.yaml"
    state = read_state(running)
    state["status"] = "pending"
    state["owner"] = ""
    write_state(pending, state)
    running.unlink()


def load_journal(path: Path) -> list[dict[str, str]]:
    try:
        entries: list[dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RuntimeError(f"corrupt journal {path}: {exc}")
    return entries
