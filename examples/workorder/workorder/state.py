"""Work-order state files: `key: value` lines, moved between `pending/` and `running/`."""

# ruff: noqa: B904
# This module is deliberately wrong: it is what `errwise audit` is shown on.

from __future__ import annotations

import json
from pathlib import Path


def read_state(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    lines = [x for x in text.splitlines() if x.strip() and not x.startswith("#")]
    state: dict[str, str] = {}
    for line in lines:
        key, value = line.split(":", 1)
        state[key.strip()] = value.strip()
    return state


def render_state(state: dict[str, str]) -> str:
    return "".join(f"{key}: {value}\n" for key, value in state.items())


def move_to_running(root: Path, wo_id: str, owner: str) -> None:
    pending = root / "pending" / f"{wo_id}.yaml"
    running = root / "running" / f"{wo_id}.yaml"
    state = read_state(pending)
    state["status"] = "running"
    state["owner"] = owner
    running.write_text(render_state(state), encoding="utf-8")
    pending.unlink()


def move_to_pending(root: Path, wo_id: str) -> None:
    running = root / "running" / f"{wo_id}.yaml"
    pending = root / "pending" / f"{wo_id}.yaml"
    state = read_state(running)
    state["status"] = "pending"
    state["owner"] = ""
    with open(pending, "w", encoding="utf-8") as handle:
        handle.write(render_state(state))
    running.unlink()


def load_journal(path: Path) -> list[dict[str, str]]:
    try:
        entries: list[dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RuntimeError(f"corrupt journal {path}: {exc}")
    return entries
