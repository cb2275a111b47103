"""Small source files the audit tests share, and the helpers that write them and audit them
through the CLI (imported by name: pytest puts this directory on sys.path)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any


def write(root: Path, files: dict[str, str]) -> None:
    """Write each file under `root` (dedented), making its directories."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def audit(cli: Any, root: Path, *args: str) -> Any:
    """`errwise audit --format json ARGS .` in `root`; it must exit 0 or 1 (findings)."""
    run = cli("audit", "--profile", "strict", "--format", "json", *args, ".", cwd=root)
    assert run.code in (0, 1), run
    return run


def fresh(cli: Any, root: Path, *args: str) -> str:
    """What a run that neither reads nor writes the cache prints."""
    out: str = audit(cli, root, "--no-cache", *args).out
    return out


def cache_of(project: Path) -> Path:
    """The default cache directory of the project configured in `project` (in the user cache
    home the tests' conftest points at a temporary directory)."""
    from errwise.audit.cachehome import project_directory

    return project_directory(project)


def rules_found(run: Any) -> list[tuple[str, str]]:
    return [(f["path"], f["rule"]) for f in json.loads(run.out)["findings"]]


SWALLOW = """\
import os


def drop(path):
    try:
        os.remove(path)
    except Exception:
        pass
"""
"""One EW101 (swallowed-exception) finding, in `drop`."""

STORE = """\
TABLE = {"a": 1}


def load(key):
    return TABLE[key]
"""
"""pkg/store.py: `load` raises KeyError."""

CALLER = """\
from pkg.store import load


def run(key):
    try:
        return load(key)
    except KeyError:
        raise ValueError(f"no entry {key}") from None
"""
"""pkg/caller.py: catches the KeyError of pkg/store.py's `load`."""
