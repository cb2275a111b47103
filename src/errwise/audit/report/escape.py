"""Escaping of untrusted text — whatever the audited code contains — for every output format.

Promise: `printable(text)` shows control characters (C0, DEL, C1), Unicode line separators and
bidirectional-override characters (Trojan Source) as visible `\\xNN` / `\\uNNNN` escapes, so one
line stays one line and no text can reorder or hide what a reader sees. `md_text(text)` is safe
Markdown for running text: the code spans it holds (backtick-quoted, as finding messages write
code) become code spans fenced so no backtick inside can close them; everything else has its
Markdown and HTML punctuation backslash-escaped, so nothing the audited code holds can become
markup (a link, an image, raw HTML, a heading, a table cell) in GitHub's renderer or any other
CommonMark renderer. `md_code(text)` is one inline code span; `md_fence(text)` a fence longer
than any backtick run inside the block.
"""

from __future__ import annotations

import re

__all__ = ["printable", "printable_line", "md_text", "md_code", "md_fence", "one_line"]

_INVISIBLE = [
    *range(0x20),
    0x7F,
    *range(0x80, 0xA0),
    0x2028,
    0x2029,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    0x200E,
    0x200F,
    0x061C,
]
_ESCAPES = {c: (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _INVISIBLE}
_ESCAPES_KEEP_TAB = {c: e for c, e in _ESCAPES.items() if c != 0x09}
_BACKTICKS = re.compile(r"`+")


def printable(text: str) -> str:
    """`text` with invisible and layout-changing characters shown as escapes."""
    return text.translate(_ESCAPES)


def printable_line(text: str) -> str:
    """Like `printable` but keeps tabs (for source lines, which are shown as code)."""
    return text.translate(_ESCAPES_KEEP_TAB)


def one_line(text: str) -> str:
    """Runs of whitespace (newlines included) folded into one space, then `printable`."""
    return printable(" ".join(text.split()))


def _longest_backtick_run(text: str) -> int:
    return max((len(m) for m in _BACKTICKS.findall(text)), default=0)


def md_code(text: str) -> str:
    """`text` as one inline code span that no backtick inside can close."""
    text = one_line(text)
    fence = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# A code span as messages write it: a backtick after a space or an opening punctuation mark, up
# to the first backtick followed by a space, closing punctuation or the end (a plural `s`
# allowed in between) — so code that holds
# backticks itself (a string literal with ```) stays one span.
_SPAN = re.compile(r"(?<![^\s(\[{,;:/\u2014])`(.+?)`(?=s?(?:$|[\s)\]},;:.!?/\u2014]))")


def md_text(text: str) -> str:
    """Running text (a finding message) as safe Markdown: `code` stays code, the rest is text."""
    text = one_line(text)
    out: list[str] = []
    pos = 0
    for match in _SPAN.finditer(text):
        out.append(_text_part(text[pos : match.start()]))
        out.append(md_code(match.group(1)))
        pos = match.end()
    out.append(_text_part(text[pos:]))
    return "".join(out)


_MARKUP = re.compile(r"([\\`*\[\]<>#|~&!]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
_AUTOLINK = re.compile(r"(?i)(://|www\.)")


def _text_part(text: str) -> str:
    # Escape only what could become markup (an underscore inside a word never does), so
    # ordinary prose stays readable as plain text; `://` and `www.` cannot become autolinks.
    text = _MARKUP.sub(r"\\\1", text)
    return _AUTOLINK.sub(lambda m: m.group(1).replace("/", "\\/").replace(".", "\\."), text)


def md_fence(text: str, info: str = "") -> str:
    """A fenced code block holding `text` (lines kept; invisible characters escaped)."""
    body = "\n".join(printable_line(line) for line in text.split("\n"))
    fence = "`" * max(3, _longest_backtick_run(body) + 1)
    return f"{fence}{info}\n{body}\n{fence}"
