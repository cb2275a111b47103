from __future__ import annotations

from pathlib import Path

from notebox.cache import RenderCache, render


def test_render_escapes_html(tmp_path: Path) -> None:
    assert render("a < b\nc", RenderCache(tmp_path)) == "<p>a &lt; b</p><p>c</p>"


def test_second_render_is_served_from_the_cache(tmp_path: Path) -> None:
    cache = RenderCache(tmp_path)
    first = render("hello", cache)
    assert render("hello", cache) == first
