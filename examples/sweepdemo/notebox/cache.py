"""A render cache: rendering a note is slow, so its HTML is kept on disk by content hash."""

from __future__ import annotations

import hashlib
import html
from pathlib import Path


class RenderCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _entry(self, text: str) -> Path:
        return self.directory / hashlib.sha256(text.encode()).hexdigest()

    def get(self, text: str) -> str | None:
        try:
            return self._entry(text).read_text(encoding="utf-8")
        except OSError:
            return None

    def put(self, text: str, rendered: str) -> None:
        try:
            self._entry(text).write_text(rendered, encoding="utf-8")
        except OSError:
            pass


def render(text: str, cache: RenderCache) -> str:
    """The note as HTML, from the cache when it holds it."""
    hit = cache.get(text)
    if hit is not None:
        return hit
    rendered = "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines())
    cache.put(text, rendered)
    return rendered
