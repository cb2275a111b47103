"""Export notes to a directory as JSON files, staged then moved in place, and check them."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path


class ExportError(Exception):
    """An exported file is not what it should be."""


def export_notes(notes: dict[str, str], destination: Path) -> list[Path]:
    """Write each note to `destination/<name>.json`; the files written."""
    staging = destination / ".staging"
    staging.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        for name, text in sorted(notes.items()):
            staged = staging / f"{name}.json"
            staged.write_text(json.dumps({"name": name, "text": text}), encoding="utf-8")
            final = destination / f"{name}.json"
            os.replace(staged, final)
            written.append(final)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(staging)  # leftovers only cost disk space
    return written


def check_export(path: Path) -> None:
    """Raise ExportError unless `path` holds valid JSON (checked by a separate process)."""
    try:
        subprocess.run(
            [sys.executable, "-m", "json.tool", str(path)],
            capture_output=True,
            check=True,
            timeout=60,
        )
    except subprocess.CalledProcessError as exc:
        raise ExportError(f"{path} is not valid JSON: {exc.stderr!r}") from exc
