"""Suppression comments: `# errwise: ignore[rule, ...]`, bare `# errwise: ignore`, and
`# noqa: EW104` (a bare `# noqa` belongs to other tools and does not silence errwise).

Promise: a comment silences findings reported on its own line; a comment alone on a line also
silences the next code line (room for a reason: `# errwise: ignore[broad-catch] -- why`).
Rule references match ids or names, case-insensitively.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterator

from errwise.audit.finding import Finding

__all__ = ["Suppressions"]

_ERRWISE_RE = re.compile(r"#\s*errwise:\s*ignore(?:\[(?P<rules>[^\]]*)\])?", re.IGNORECASE)
_NOQA_RE = re.compile(
    r"#\s*noqa:\s*(?P<rules>[A-Za-z]+[0-9]+(?:[\s,]+[A-Za-z]+[0-9]+)*)", re.IGNORECASE
)
ALL = frozenset({"*"})


class Suppressions:
    __slots__ = ("_by_line",)

    def __init__(self, by_line: dict[int, frozenset[str]]) -> None:
        self._by_line = by_line

    @classmethod
    def scan(cls, source: str) -> Suppressions:
        by_line: dict[int, frozenset[str]] = {}
        lowered = source.lower()
        if "errwise" not in lowered and "noqa" not in lowered:
            return cls(by_line)
        try:
            cls._note(tokenize.generate_tokens(io.StringIO(source).readline), by_line)
        except (tokenize.TokenError, SyntaxError):
            return cls({})  # as if nothing were suppressed: text that does not tokenize
        return cls(by_line)

    @staticmethod
    def _note(tokens: Iterator[tokenize.TokenInfo], by_line: dict[int, frozenset[str]]) -> None:
        """Note the rules each line's suppressions name (the tokens are read one at a time:
        a big file's token list is not held)."""
        pending: frozenset[str] | None = None
        last_code_line = 0
        for tok in tokens:
            if tok.type == tokenize.COMMENT:
                rules = _parse(tok.string)
                if rules is None:
                    continue
                line = tok.start[0]
                by_line[line] = by_line.get(line, frozenset()) | rules
                if last_code_line != line:  # a comment alone on its line
                    pending = (pending or frozenset()) | rules
            elif tok.type not in (
                tokenize.NL,
                tokenize.NEWLINE,
                tokenize.INDENT,
                tokenize.DEDENT,
                tokenize.ENCODING,
                tokenize.ENDMARKER,
            ):
                line = tok.start[0]
                if line != last_code_line:
                    last_code_line = line
                    if pending is not None:
                        by_line[line] = by_line.get(line, frozenset()) | pending
                        pending = None

    def silences(self, finding: Finding) -> bool:
        keys = {finding.rule.lower(), finding.name.lower()}
        for line in (finding.line, *finding.suppress_lines):
            rules = self._by_line.get(line)
            if rules is not None and ("*" in rules or keys & rules):
                return True
        return False


def _parse(comment: str) -> frozenset[str] | None:
    found: set[str] = set()
    matched = False
    for match in _ERRWISE_RE.finditer(comment):
        matched = True
        listed = match.group("rules")
        if listed is None or not listed.strip():
            return ALL
        found.update(r.strip().lower() for r in listed.split(",") if r.strip())
    for match in _NOQA_RE.finditer(comment):
        codes = re.split(r"[\s,]+", match.group("rules"))
        ew = {c.lower() for c in codes if c.upper().startswith("EW")}
        if ew:
            matched = True
            found.update(ew)
    return frozenset(found) if matched else None
