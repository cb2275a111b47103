"""ANSI colour for terminal output, standard library only.

Promise: `wants_colour(stream)` follows the conventions users expect: `NO_COLOR` set and
non-empty → never (https://no-color.org); else `FORCE_COLOR` set and non-empty (and not `0`) →
always; else only when the stream is a terminal and `TERM` is not `dumb`. `paint(text, style)`
wraps text in the codes of a style (`bold`, `dim`, `code`, or a severity name) and a reset;
`paint_code(text)` paints the backtick-quoted code spans of a message.
"""

from __future__ import annotations

import os
import re
from typing import TextIO

__all__ = ["wants_colour", "paint", "paint_code", "STYLES"]

_SPAN = re.compile(r"`[^`]+`")

STYLES = {
    "bold": "1",
    "dim": "2",
    "critical": "1;31",
    "high": "31",
    "medium": "33",
    "low": "34",
    "code": "36",
    "ok": "32",
}


def wants_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR", ""):
        return False
    force = os.environ.get("FORCE_COLOR", "")
    if force and force != "0":
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except ValueError:  # a closed stream
        return False


def paint(text: str, style: str) -> str:
    return f"\x1b[{STYLES[style]}m{text}\x1b[0m"


def paint_code(text: str) -> str:
    return _SPAN.sub(lambda m: paint(m.group(), "code"), text)
