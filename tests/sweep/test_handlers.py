"""`errwise.sweep.handlers`: the except clauses (and `contextlib.suppress` blocks) that guard a
call site, found statically, within the site's function."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from errwise.error import Error
from errwise.sweep.handlers import guarding_handlers, site_guards

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sweepdemo"


def _write(tmp_path: Path, source: str, name: str = "mod.py") -> str:
    (tmp_path / name).write_text(textwrap.dedent(source).lstrip("\n"))
    return name


def _line(tmp_path: Path, name: str, marker: str) -> int:
    lines = (tmp_path / name).read_text().splitlines()
    (index,) = [i for i, text in enumerate(lines) if marker in text]
    return index + 1


def _guards(tmp_path: Path, source: str, marker: str = "# site") -> list[int]:
    name = _write(tmp_path, source)
    site = (name, _line(tmp_path, name, marker))
    return [line for _, line in site_guards(tmp_path, [site])[site]]


def test_every_clause_of_the_enclosing_try_guards_the_site(tmp_path: Path) -> None:
    lines = _guards(
        tmp_path,
        """
        import os
        def save(p):
            try:
                os.replace(p, p + ".bak")  # site
            except FileNotFoundError:
                pass
            except OSError:
                raise
        """,
    )
    assert lines == [5, 7]


def test_nested_tries_are_given_outermost_first(tmp_path: Path) -> None:
    lines = _guards(
        tmp_path,
        """
        def f(p):
            try:
                for x in p:
                    try:
                        open(x)  # site
                    except OSError:
                        pass
            except Exception:
                pass
        """,
    )
    assert lines == [8, 6]


@pytest.mark.parametrize("part", ["except", "else", "finally"])
def test_a_try_does_not_guard_its_own_other_parts(tmp_path: Path, part: str) -> None:
    body = {
        "except": "except OSError:\n        open(p)  # site",
        "else": "except OSError:\n        pass\n    else:\n        open(p)  # site",
        "finally": "finally:\n        open(p)  # site",
    }[part]
    source = f"def f(p):\n    try:\n        pass\n    {body}\n"
    assert _guards(tmp_path, source) == []


def test_a_failing_handler_is_guarded_by_the_outer_try(tmp_path: Path) -> None:
    lines = _guards(
        tmp_path,
        """
        def f(p):
            try:
                try:
                    open(p)
                except OSError:
                    open(p + ".old")  # site
            except OSError:
                return None
        """,
    )
    assert lines == [7]


def test_a_function_defined_inside_a_try_is_not_guarded_by_it(tmp_path: Path) -> None:
    lines = _guards(
        tmp_path,
        """
        def outer(p):
            try:
                def inner():
                    return open(p)  # site
                class Box:
                    def read(self):
                        return open(p)
            except OSError:
                pass
            return inner
        """,
    )
    assert lines == []


def test_a_try_inside_the_sites_own_function_counts_after_the_boundary(tmp_path: Path) -> None:
    lines = _guards(
        tmp_path,
        """
        def outer(p):
            try:
                def inner():
                    try:
                        return open(p)  # site
                    except PermissionError:
                        return None
            except OSError:
                pass
        """,
    )
    assert lines == [6]


def test_suppress_blocks_are_handlers_at_the_with_line(tmp_path: Path) -> None:
    lines = _guards(
        tmp_path,
        """
        import contextlib, os
        from contextlib import suppress
        def clean(paths):
            with contextlib.suppress(OSError):
                with suppress(FileNotFoundError), open("log") as log:
                    os.unlink(paths[0])  # site
            with open("x"):
                pass
        """,
    )
    assert lines == [4, 5]


def test_other_with_blocks_are_not_handlers(tmp_path: Path) -> None:
    lines = _guards(
        tmp_path,
        """
        import threading
        LOCK = threading.Lock()
        def f(p):
            with LOCK, open(p) as handle:
                return handle.read()  # site
        """,
    )
    assert lines == []


def test_comprehensions_and_multiline_calls_stay_under_the_try(tmp_path: Path) -> None:
    lines = _guards(
        tmp_path,
        """
        def sizes(paths):
            try:
                return [
                    len(open(p).read())  # site
                    for p in paths
                ]
            except* OSError:
                return []
        """,
    )
    assert lines == [7]


def test_module_level_try_guards_module_level_code(tmp_path: Path) -> None:
    lines = _guards(
        tmp_path,
        """
        try:
            CONFIG = open("config.ini").read()  # site
        except OSError:
            CONFIG = ""
        """,
    )
    assert lines == [3]


def test_guarding_handlers_is_the_union_over_sites_and_files(tmp_path: Path) -> None:
    a = _write(
        tmp_path, "def f(p):\n    try:\n        open(p)\n    except OSError:\n        pass\n"
    )
    b = _write(
        tmp_path,
        "def g(p):\n    with __import__('contextlib').suppress(OSError):\n        open(p)\n",
        name="pkg_b.py",
    )
    found = guarding_handlers(tmp_path, [(a, 3), (a, 5), (b, 3)])
    assert found == {("mod.py", 4), ("pkg_b.py", 2)}


def test_the_sample_project_handlers() -> None:
    found = site_guards(
        SAMPLE,
        [
            ("notebox/settings.py", _sample_line("settings.py", "os.replace(tmp, self.path)")),
            ("notebox/cache.py", _sample_line("cache.py", "write_text(rendered")),
            ("notebox/export.py", _sample_line("export.py", "shutil.rmtree(staging)")),
            ("notebox/lock.py", _sample_line("lock.py", "os.unlink(path)")),
        ],
    )
    handlers = {site[0]: [line for _, line in guards] for site, guards in found.items()}
    assert handlers == {
        "notebox/settings.py": [_sample_line("settings.py", "except OSError as exc:")],
        "notebox/cache.py": [_sample_line("cache.py", "except OSError:", last=True)],
        "notebox/export.py": [_sample_line("export.py", "contextlib.suppress(OSError)")],
        "notebox/lock.py": [_sample_line("lock.py", "contextlib.suppress(FileNotFoundError)")],
    }


def _sample_line(name: str, text: str, *, last: bool = False) -> int:
    lines = (SAMPLE / "notebox" / name).read_text().splitlines()
    hits = [i + 1 for i, line in enumerate(lines) if text in line]
    assert hits, (name, text)
    return hits[-1] if last else hits[0]


def test_a_missing_file_is_a_classified_error(tmp_path: Path) -> None:
    with pytest.raises(Error) as caught:
        guarding_handlers(tmp_path, [("gone.py", 3)])
    assert caught.value.code == "ERR_NOT_FOUND"


def test_an_unparsable_file_is_a_parse_error_naming_it(tmp_path: Path) -> None:
    name = _write(tmp_path, "def f(:\n    pass\n")
    with pytest.raises(Error) as caught:
        guarding_handlers(tmp_path, [(name, 1)])
    assert caught.value.code == "ERR_PARSE"
    assert "mod.py" in caught.value.message


def test_an_undecodable_file_is_a_decode_error(tmp_path: Path) -> None:
    (tmp_path / "bin.py").write_bytes(b"x = 1\n\0\0")
    with pytest.raises(Error) as caught:
        guarding_handlers(tmp_path, [("bin.py", 1)])
    assert caught.value.code == "ERR_DECODE"
