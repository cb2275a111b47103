"""Large modules are parsed in pieces (`errwise.audit.chunkparse`): the same tree as one
`ast.parse`, and a signal is served between the pieces."""

from __future__ import annotations

import ast
import signal
from pathlib import Path
from types import FrameType, SimpleNamespace

import pytest

from errwise.audit import chunkparse
from errwise.audit.chunkparse import parse_module

STDLIB = Path(ast.__file__).parent
REAL_FILES = [
    "typing.py",
    "argparse.py",
    "email/_header_value_parser.py",
    "dataclasses.py",
    "functools.py",
    "subprocess.py",
    "unittest/mock.py",
    "enum.py",
]


def _same(tree: ast.AST, other: ast.AST) -> bool:
    return ast.dump(tree, include_attributes=True) == ast.dump(other, include_attributes=True)


@pytest.mark.parametrize("name", REAL_FILES)
@pytest.mark.parametrize("chunk", [300, 2_000, 16_000])
def test_real_modules_parse_to_the_same_tree_in_pieces(name: str, chunk: int) -> None:
    source = (STDLIB / name).read_text("utf-8")
    assert chunkparse._cuts(source, chunk)  # really cut
    assert _same(parse_module(source, name, chunk=chunk), ast.parse(source, filename=name))


TRICKY = '''\
"""A module docstring."""
import os


@first
@second(
    1,
)
def decorated():
    return """a string that holds what looks like code:
def not_a_function():
    pass
class NotAClass:
@not_a_decorator
"""


class Plain:
    matrix = (a
@ b)

    def method(self):
        return 1


async def coroutine():
    await thing()


def with_continuation():
    return "one \\
def still_a_string"


x = [
    1,
]
if x:
    pass
else:
    pass


def last():
    try:
        pass
    except OSError:
        pass


try:
    import fast
except ImportError:
    fast = None
else:
    fast.init()
finally:
    done = True
total = 1 + \\
value
call(
first,
second)
match command:
    case "go":
        pass
TABLE = {
    "key": [
        1,
    ],
}
'''


@pytest.mark.parametrize("chunk", [1, 10, 40, 80, 200])
def test_cuts_inside_strings_brackets_and_decorators_give_the_same_tree(chunk: int) -> None:
    source = TRICKY * 4
    assert _same(parse_module(source, "t.py", chunk=chunk), ast.parse(source))


def test_a_syntax_error_is_the_one_the_whole_parse_reports() -> None:
    source = "def ok():\n    pass\n\n\n" * 200 + "def broken(:\n    pass\n" + "def x(): pass\n" * 50
    with pytest.raises(SyntaxError) as whole:
        ast.parse(source, filename="b.py")
    with pytest.raises(SyntaxError) as pieces:
        parse_module(source, "b.py", chunk=100)
    assert (pieces.value.msg, pieces.value.lineno, pieces.value.offset) == (
        whole.value.msg,
        whole.value.lineno,
        whole.value.offset,
    )


def test_a_source_with_carriage_returns_is_parsed_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    source = "def f():\r\n    return 1\r\n\r\n" * 500
    calls: list[int] = []
    real = ast.parse

    def counting(text: str, filename: str = "<unknown>") -> ast.Module:
        calls.append(len(text))
        return real(text, filename)

    monkeypatch.setattr(chunkparse, "ast", SimpleNamespace(parse=counting, Module=ast.Module))
    assert _same(parse_module(source, "cr.py", chunk=100), real(source))
    assert calls == [len(source)]


class _Stop(Exception):
    pass


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer")
def test_a_signal_is_served_between_the_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """An alarm set to go off during the parse stops it before its last piece: one
    `ast.parse` call would only let the handler run once the whole file is parsed."""
    body = "".join(
        f"def f{i}(a, b):\n    try:\n        return a[b] + {i}\n    except KeyError:\n"
        f"        return None\n\n\n"
        for i in range(60_000)
    )
    pieces = len(chunkparse._cuts(body, chunkparse.CHUNK_CHARS)) + 1
    assert pieces >= 8
    parsed: list[int] = []
    real = ast.parse

    def counting(text: str, filename: str = "<unknown>") -> ast.Module:
        parsed.append(len(text.lstrip("\n")))  # the piece, without the lines put before it
        return real(text, filename)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stop

    previous = signal.signal(signal.SIGALRM, stop)
    monkeypatch.setattr(chunkparse, "ast", SimpleNamespace(parse=counting, Module=ast.Module))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with pytest.raises(_Stop):
            parse_module(body, "big.py")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert 1 <= len(parsed) < pieces, (len(parsed), pieces)
    assert sum(parsed) < len(body) / 2  # stopped early, not after the whole source


def test_only_large_sources_are_cut() -> None:
    small = "def f():\n    pass\n" * 100
    assert chunkparse._cuts(small, chunkparse.CHUNK_CHARS) == []
