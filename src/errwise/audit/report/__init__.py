"""Output formats for audit reports: one module `fmt_<name>.py` per format, found automatically.

Promise: `formats()` lists every format (each module defines `FORMAT = Format(...)`); `render(name,
report)` returns the complete output text of one format; an unknown name is a usage error naming
the known ones. Adding a format (markdown, sarif, github, ...) is adding a module — no list to
edit. Renderers are pure: they never write, so `--output` can be written atomically.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from errwise.audit.plugins import load_plugins
from errwise.audit.report.model import AuditReport
from errwise.error import bug, usage

__all__ = ["Format", "AuditReport", "formats", "format_names", "get_format", "render"]


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    """What `--format` accepts."""
    description: str
    """One line for `--help`."""
    render: Callable[[AuditReport], str]
    """The complete output (ending with a newline, or empty when there is nothing to say)."""
    render_colour: Callable[[AuditReport], str] | None = None
    """The same output with ANSI colours, for a terminal; None: the format is never coloured."""


@functools.cache
def formats() -> tuple[Format, ...]:
    """Every output format, sorted by name."""
    found = load_plugins(__name__, __path__, "fmt_", "FORMAT", Format)
    found.sort(key=lambda f: f.name)
    names = [f.name for f in found]
    if len(names) != len(set(names)):
        raise bug("duplicate report format names", names=names)
    return tuple(found)


def format_names() -> list[str]:
    return [f.name for f in formats()]


def get_format(name: str) -> Format:
    for fmt in formats():
        if fmt.name == name:
            return fmt
    raise usage(
        "ERR_USAGE",
        f"unknown output format {name!r}; allowed: {', '.join(format_names())}",
    )


def render(name: str, report: AuditReport, *, colour: bool = False) -> str:
    """The output of format `name` for `report`; `colour` asks for ANSI colours, which only
    formats meant for a terminal (text) honour — JSON, SARIF and the others never colour."""
    fmt = get_format(name)
    if colour and fmt.render_colour is not None:
        return fmt.render_colour(report)
    return fmt.render(report)
