"""Benign declarations: `[tool.errwise.sweep] benign = [...]` in the project's pyproject.toml.

Promise: `read_benign(root)` returns the declarations of `root/pyproject.toml` in file order,
each a handler or a site (`"path:line"`, path relative to the root, `/`-separated) with a
non-empty reason; no file or no table means none. An entry that is not a table, names both or
neither of handler/site, has a malformed location, or lacks a reason is ERR_SWEEP_BAD_BENIGN
(a usage error, exit 2) naming the entry. `apply_benign` splits survivals into those that still
fail the sweep and the benign ones, and lists the declarations that matched nothing as stale.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from errwise.classify import classify
from errwise.error import usage

__all__ = ["Benign", "read_benign", "apply_benign"]

_WHERE_RE = re.compile(r"^(?P<path>[^:]+):(?P<line>[1-9][0-9]*)$")


@dataclass(frozen=True, slots=True)
class Benign:
    """One declaration: survivals at this handler (or site) are expected, for `reason`."""

    kind: Literal["handler", "site"]
    path: str
    line: int
    reason: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    def matches(self, survival: Mapping[str, Any]) -> bool:
        place = survival.get(self.kind)
        return (
            isinstance(place, Mapping)
            and place.get("path") == self.path
            and place.get("line") == self.line
        )


def read_benign(root: Path) -> list[Benign]:
    """The declarations in `root/pyproject.toml` (see the module promise)."""
    file = root / "pyproject.toml"
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise classify(exc).with_context(path=str(file)) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _bad(file, f"is not valid TOML: {exc}") from exc
    table = data.get("tool", {}).get("errwise", {}).get("sweep", {})
    if not isinstance(table, dict):
        raise _bad(file, "[tool.errwise.sweep] must be a table")
    entries = table.get("benign", [])
    if not isinstance(entries, list):
        raise _bad(file, "[tool.errwise.sweep] benign must be a list of tables")
    return [_entry(file, i, entry) for i, entry in enumerate(entries, 1)]


def _entry(file: Path, index: int, entry: object) -> Benign:
    name = f"benign entry {index}"
    if not isinstance(entry, dict):
        raise _bad(file, f'{name} must be a table like {{handler = "pkg/x.py:15", reason = ...}}')
    unknown = sorted(set(entry) - {"handler", "site", "reason"})
    if unknown:
        raise _bad(file, f"{name} has unknown key(s) {', '.join(unknown)}")
    kinds = [k for k in ("handler", "site") if k in entry]
    if len(kinds) != 1:
        raise _bad(file, f"{name} must name exactly one of handler or site")
    kind: Literal["handler", "site"] = "handler" if kinds[0] == "handler" else "site"
    where = entry[kind]
    found = _WHERE_RE.match(where) if isinstance(where, str) else None
    if found is None:
        raise _bad(file, f'{name}: {kind} must read "path:line", not {where!r}')
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise _bad(file, f"{name} ({kind} {where}) needs a reason: say why it is benign")
    return Benign(kind, found.group("path"), int(found.group("line")), reason.strip())


def _bad(file: Path, what: str) -> Exception:
    err = usage("ERR_SWEEP_BAD_BENIGN", f"{file}: {what}", path=str(file))
    return err.add_hint(
        'declare: [tool.errwise.sweep] benign = [{handler = "pkg/x.py:15", reason = "why"}]'
    )


def apply_benign(
    survivals: Sequence[dict[str, Any]], declared: Sequence[Benign]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(still failing, benign with their reason, stale declarations)."""
    failing: list[dict[str, Any]] = []
    benign: list[dict[str, Any]] = []
    used: set[int] = set()
    for survival in survivals:
        matches = [i for i, d in enumerate(declared) if d.matches(survival)]
        if not matches:
            failing.append(survival)
        else:
            used.update(matches)
            benign.append({**survival, "reason": declared[matches[0]].reason})
    stale = [{d.kind: d.where, "reason": d.reason} for i, d in enumerate(declared) if i not in used]
    return failing, benign, stale
