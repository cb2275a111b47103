"""Hostile input: every bad file gets exactly one diagnostic, the run goes on, never a traceback;
generated garbage and mutated real files never make errwise fail (no ERR_INTERNAL)."""

from __future__ import annotations

import errno
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from errwise.audit import runner
from errwise.audit.config import AuditConfig
from errwise.audit.discover import SourceFile
from errwise.audit.engine import FileResult
from errwise.audit.rules import all_rules

Cli = Callable[..., Any]

SWALLOW = """\
import os


def drop(p):
    try:
        os.remove(p)
    except Exception:
        pass
"""

DEEP = 10_000
HOSTILE: dict[str, tuple[bytes, str]] = {
    "binary.py": (b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)), "ERR_DECODE"),
    "nul_inside.py": (b"x = 1\ny = '\x00'\n", "ERR_DECODE"),
    "latin1_no_cookie.py": (b"name = 'caf\xe9'\n", "ERR_DECODE"),
    "bad_cookie.py": (b"# -*- coding: klingon -*-\nx = 1\n", "ERR_DECODE"),
    "cookie_lies.py": (b"# coding: ascii\nname = 'caf\xc3\xa9'\n", "ERR_DECODE"),
    "bom_and_cookie.py": (b"\xef\xbb\xbf# coding: latin-1\nx = 1\n", "ERR_DECODE"),
    "syntax.py": (b"def f(:\n    pass\n", "ERR_PARSE"),
    "tabs.py": (b"if x:\n\tif y:\n        pass\n", "ERR_PARSE"),
    "deep_parens.py": (b"x = " + b"(" * DEEP + b"1" + b")" * DEEP + b"\n", "ERR_PARSE"),
    "deep_binop.py": (b"x = " + b"1+" * DEEP + b"1\n", "ERR_PARSE"),
    "deep_attr.py": (b"x = a" + b".b" * DEEP + b"\n", "ERR_PARSE"),
    "deep_calls.py": (b"x = f" + b"()" * DEEP + b"\n", "ERR_PARSE"),
    "deep_unary.py": (b"x = " + b"not " * DEEP + b"1\n", "ERR_PARSE"),
    "deep_lambda.py": (b"x = " + b"lambda: " * DEEP + b"1\n", "ERR_PARSE"),
    "deep_blocks.py": (  # 2,000 levels: 10,000 would be a 50 MB file of indentation
        b"".join(b" " * i + b"if x:\n" for i in range(2000)) + b" " * 2000 + b"pass\n",
        "ERR_PARSE",
    ),
    "deep_lists.py": (b"x = " + b"[" * DEEP + b"]" * DEEP + b"\n", "ERR_PARSE"),
}
if sys.version_info < (3, 12):
    HOSTILE["newer_syntax.py"] = (b"type Pair[T] = tuple[T, T]\n", "ERR_PARSE")
if sys.version_info < (3, 14):
    HOSTILE["newest_syntax.py"] = (
        b"try:\n    pass\nexcept ValueError, TypeError:\n    pass\n",
        "ERR_PARSE",
    )
FINE: dict[str, bytes] = {
    "empty.py": b"",
    "latin1_cookie.py": b"# -*- coding: latin-1 -*-\n" + SWALLOW.encode() + b"# caf\xe9\n",
    "utf8_bom.py": b"\xef\xbb\xbf" + SWALLOW.encode(),
    "crlf.py": SWALLOW.replace("\n", "\r\n").encode(),
    "only_comment.py": b"# nothing here",
    "formfeed.py": b"\x0cx = 1\n\x0c\n",
    "utf16_cookie_lie.py": b"# coding: utf-8\nx = '\xf0\x9f\x90\x8d'\n",
}


def write_all(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (root / name).write_bytes(data)


def no_traceback(run: Any) -> None:
    assert "Traceback" not in run.err and "Traceback" not in run.out, run


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_each_hostile_file_gets_one_diagnostic(tmp_path: Path, cli: Cli, name: str) -> None:
    data, code = HOSTILE[name]
    (tmp_path / name).write_bytes(data)
    run = cli("audit", "--profile", "strict", "--format", "json", name, cwd=tmp_path)
    no_traceback(run)
    doc = run.json()
    assert [(d["path"], d["code"]) for d in doc["diagnostics"]] == [(name, code)]
    assert doc["findings"] == []
    assert run.code == 10


def test_files_that_look_hostile_but_are_fine(tmp_path: Path, cli: Cli) -> None:
    write_all(tmp_path, FINE)
    run = cli("audit", "--profile", "strict", "--format", "json", ".", cwd=tmp_path)
    no_traceback(run)
    doc = run.json()
    assert doc["diagnostics"] == []
    assert sorted(f["path"] for f in doc["findings"]) == [
        "crlf.py",
        "latin1_cookie.py",
        "utf8_bom.py",
    ]
    assert {f["line"] for f in doc["findings"] if f["path"] != "latin1_cookie.py"} == {7}


def test_a_tree_of_hostile_files_reports_each_and_goes_on(tmp_path: Path, cli: Cli) -> None:
    write_all(tmp_path, {name: data for name, (data, _) in HOSTILE.items()})
    write_all(tmp_path, FINE)
    for jobs in ("1", "2"):
        run = cli(
            "audit", "--profile", "strict", "--format", "json", "--jobs", jobs, ".", cwd=tmp_path
        )
        no_traceback(run)
        doc = run.json()
        assert sorted((d["path"], d["code"]) for d in doc["diagnostics"]) == sorted(
            (name, code) for name, (_, code) in HOSTILE.items()
        )
        assert len(doc["findings"]) == 3
        assert run.code == 1  # findings outrank files not analysed
    run = cli("audit", "--profile", "strict", "--select", "EW116", ".", cwd=tmp_path)
    assert run.code == 10


def test_unreadable_file(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "secret.py").write_text(SWALLOW)
    (tmp_path / "open.py").write_text(SWALLOW)
    real_open = os.open

    def guarded(path: str, flags: int, *args: int) -> int:
        if os.path.basename(path) == "secret.py":
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", guarded)
    run = cli("audit", "--profile", "strict", "--format", "json", ".", cwd=tmp_path)
    no_traceback(run)
    doc = run.json()
    assert doc["diagnostics"] == [
        {
            "path": "secret.py",
            "code": "ERR_PERMISSION_DENIED",
            "message": "cannot read: permission denied",
        }
    ]
    assert [f["path"] for f in doc["findings"]] == ["open.py"]


def test_read_failing_midway_is_a_diagnostic(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "flaky.py").write_text(SWALLOW)
    real_fdopen = os.fdopen

    def eio(fd: int, *args: Any, **kwargs: Any) -> Any:
        handle = real_fdopen(fd, *args, **kwargs)

        class Failing:
            def __enter__(self) -> Failing:
                return self

            def __exit__(self, *exc: object) -> None:
                handle.close()

            def read(self, size: int = -1) -> bytes:
                raise OSError(errno.EIO, "Input/output error")

        return Failing()

    monkeypatch.setattr(os, "fdopen", eio)
    run = cli("audit", "--profile", "strict", "flaky.py", cwd=tmp_path)
    no_traceback(run)
    assert run.code == 10
    assert "flaky.py: ERR_IO: cannot read: input/output error" in run.err


def test_file_vanishing_mid_run(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "stays.py").write_text(SWALLOW)
    (tmp_path / "goes.py").write_text(SWALLOW)
    real = runner.discover

    def discover_then_delete(*args: Any, **kwargs: Any) -> Any:
        found = real(*args, **kwargs)
        (tmp_path / "goes.py").unlink()
        return found

    monkeypatch.setattr(runner, "discover", discover_then_delete)
    run = cli("audit", "--profile", "strict", "--format", "json", ".", cwd=tmp_path)
    no_traceback(run)
    doc = run.json()
    assert [(d["path"], d["code"]) for d in doc["diagnostics"]] == [("goes.py", "ERR_NOT_FOUND")]
    assert "vanished" in doc["diagnostics"][0]["message"]
    assert [f["path"] for f in doc["findings"]] == ["stays.py"]


def test_a_fifo_is_not_read_and_does_not_hang(tmp_path: Path, cli: Cli) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    run = cli("audit", "--profile", "strict", ".", cwd=tmp_path)
    assert run.code == 10
    assert "pipe.py: ERR_IO: not a regular file" in run.err


def test_a_huge_file_is_reported_not_read(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "MAX_FILE_BYTES", 1000)
    (tmp_path / "big.py").write_text("x = 1\n" * 500)
    run = cli("audit", "--profile", "strict", "big.py", cwd=tmp_path)
    assert run.code == 10
    assert "big.py: ERR_IO: file too large to audit (3000 bytes; limit 1000)" in run.err


# -- generated garbage --------------------------------------------------------------------------

_TOKENS = [
    "try:",
    "except",
    "Exception",
    "BaseException",
    "as e",
    ":",
    "finally:",
    "return",
    "raise",
    "from",
    "pass",
    "continue",
    "break",
    "for x in y:",
    "while 1:",
    "with open(p) as f:",
    "def f():",
    "async def g():",
    "class C:",
    "lambda:",
    "yield",
    "await",
    "if",
    "else:",
    "elif",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    "=",
    "\n",
    "\n    ",
    "\n        ",
    "os.remove(p)",
    "log.error(e)",
    "subprocess.run(c)",
    "*",
    "**",
    "import os",
    "from x import y",
    "None",
    "False",
    "0",
    "'s'",
    "e",
    "match x:",
    "case _:",
    "global q",
    "del z",
    "assert",
    "not",
    "and",
    ".",
    "@dec\n",
    "except*",
    "try:\n    pass\n",
    "\\\n",
    "#",
    "f'{x}'",
    "...",
]


@st.composite
def token_soup(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.sampled_from(_TOKENS), max_size=60))
    return " ".join(parts)


def analyse_text(source: str | bytes) -> FileResult:
    with tempfile.NamedTemporaryFile("wb", suffix=".py", delete=False) as handle:
        handle.write(source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source)
    try:
        file = SourceFile(handle.name, "garbage.py")
        return runner.analyze_file(file, AuditConfig(profile="strict"), [r.id for r in all_rules()])
    finally:
        os.unlink(handle.name)


def assert_contained(result: FileResult) -> None:
    assert not [d for d in result.diagnostics if d.code == "ERR_INTERNAL"], result.diagnostics
    assert len(result.diagnostics) <= 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_random_bytes_never_break_errwise(data: bytes) -> None:
    assert_contained(analyse_text(data))


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_random_text_never_breaks_errwise(text: str) -> None:
    assert_contained(analyse_text(text))


@settings(max_examples=250, deadline=None)
@given(token_soup())
def test_python_token_soup_never_breaks_errwise(text: str) -> None:
    assert_contained(analyse_text(text))


# -- mutated real files -------------------------------------------------------------------------

_STDLIB = Path(os.__file__).parent
_REAL_FILES = ["shutil.py", "subprocess.py", "tempfile.py", "zipfile.py", "logging/__init__.py"]


def mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        choice = rng.random()
        pos = rng.randrange(len(buf)) if buf else 0
        if choice < 0.4 and buf:
            buf[pos] = rng.randrange(256)  # flip a byte
        elif choice < 0.6:
            del buf[pos : pos + rng.randint(1, 40)]  # cut a span
        elif choice < 0.8:
            lines = bytes(buf).split(b"\n")
            i = rng.randrange(len(lines))
            lines.insert(rng.randrange(len(lines)), lines[i])  # duplicate a line elsewhere
            buf = bytearray(b"\n".join(lines))
        else:
            buf[pos:pos] = rng.choice(
                [b"try:\n", b"    ", b"except:", b"\x00", b"\xff", b"(", b"'''"]
            )
    return bytes(buf)


@pytest.mark.parametrize("name", _REAL_FILES)
def test_mutated_stdlib_files_never_break_errwise(name: str) -> None:
    path = _STDLIB / name
    if not path.exists():
        pytest.skip(f"{path} not in this Python")
    original = path.read_bytes()
    rng = random.Random(name)  # deterministic per file
    assert_contained(analyse_text(original))
    for _ in range(12):
        assert_contained(analyse_text(mutate(original, rng)))


def test_mutated_tree_through_the_cli(tmp_path: Path, cli: Cli) -> None:
    rng = random.Random(5)
    for name in _REAL_FILES:
        source = _STDLIB / name
        if source.exists():
            for i in range(3):
                (tmp_path / f"{source.stem}_{i}.py").write_bytes(mutate(source.read_bytes(), rng))
    run = cli("audit", "--profile", "strict", "--format", "json", "--jobs", "2", ".", cwd=tmp_path)
    no_traceback(run)
    doc = run.json()
    assert not [d for d in doc["diagnostics"] if d["code"] == "ERR_INTERNAL"]
    failing = bool(doc["findings"])
    expected = 1 if failing else (10 if doc["diagnostics"] else 0)
    assert run.code == expected


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_hostile_names_in_a_git_tree(tmp_path: Path, cli: Cli) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True, timeout=60)
    odd = ["space name.py", "tab\tname.py", "new\nline.py", "ünïcödé.py", "-dash.py"]
    for name in odd:
        (tmp_path / name).write_text(SWALLOW)
    (tmp_path / os.fsdecode(b"bad\xffbyte.py")).write_text(SWALLOW)
    for fmt in ("json", "text"):
        run = cli("audit", "--profile", "strict", "--format", fmt, ".", cwd=tmp_path)
        no_traceback(run)
        assert run.code == 1
    assert len(run.out.splitlines()) == len(odd) + 1  # a newline in a name is escaped
    assert "new\\x0aline.py:7:5: EW101" in run.out
    assert "bad\\xffbyte.py:7:5: EW101" in run.out
    paths = sorted(f["path"] for f in run_json(cli, tmp_path)["findings"])
    assert len(paths) == len(odd) + 1
    assert set(odd) <= set(paths)


def run_json(cli: Cli, cwd: Path) -> Any:
    return cli("audit", "--profile", "strict", "--format", "json", ".", cwd=cwd).json()
