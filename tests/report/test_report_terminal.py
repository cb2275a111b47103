"""Terminal conveniences: the progress bar (only on a TTY, only for big or slow runs, never
with --quiet or JSON/SARIF on stdout) and colour (NO_COLOR, FORCE_COLOR, TTY)."""

from __future__ import annotations

import functools
import io
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from errwise.audit.progress import ProgressBar, progress_wanted
from errwise.audit.report.colour import wants_colour
from errwise.cli import cmd_audit

Cli = Callable[..., Any]

SWALLOW = (
    "import os\n\ndef f(p):\n    try:\n        os.remove(p)\n    except Exception:\n        pass\n"
)


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bar_stays_hidden_for_small_fast_runs() -> None:
    stream, clock = Tty(), Clock()
    bar = ProgressBar(stream, clock=clock)
    for done in range(1, 51):
        clock.now += 0.01
        bar(done, 50)
    bar.finish()
    assert stream.getvalue() == ""


def test_bar_shows_for_big_runs_and_is_erased_at_the_end() -> None:
    stream, clock = Tty(), Clock()
    bar = ProgressBar(stream, clock=clock)
    for done in range(1, 301):
        clock.now += 0.05
        bar(done, 300)
    assert bar.shown
    text = stream.getvalue()
    assert "\n" not in text  # one line, redrawn with carriage returns
    assert text.count("\r") < 300  # throttled
    assert text.endswith("300/300 files")
    bar.finish()
    assert stream.getvalue().endswith("\r\x1b[K")


def test_bar_shows_for_slow_runs_after_two_seconds() -> None:
    stream, clock = Tty(), Clock()
    bar = ProgressBar(stream, clock=clock)
    bar(1, 10)
    assert stream.getvalue() == ""
    clock.now = 2.5
    bar(2, 10)
    assert "2/10 files" in stream.getvalue()


def test_a_broken_terminal_stops_the_bar_not_the_run() -> None:
    class Broken(Tty):
        def write(self, text: str) -> int:
            raise OSError(5, "Input/output error")

    bar = ProgressBar(Broken(), min_files=1)
    bar(1, 2)
    bar(2, 2)
    bar.finish()  # no exception


@pytest.mark.parametrize(
    ("stream", "quiet", "fmt", "to_stdout", "expected"),
    [
        (Tty(), False, "text", True, True),
        (io.StringIO(), False, "text", True, False),
        (Tty(), True, "text", True, False),
        (Tty(), False, "json", True, False),
        (Tty(), False, "sarif", True, False),
        (Tty(), False, "json", False, True),
        (Tty(), False, "markdown", True, True),
    ],
)
def test_when_progress_is_wanted(
    stream: io.StringIO, quiet: bool, fmt: str, to_stdout: bool, expected: bool
) -> None:
    assert progress_wanted(stream, quiet=quiet, fmt=fmt, to_stdout=to_stdout) is expected


def _tree(root: Path, n: int) -> None:
    for i in range(n):
        (root / f"m{i}.py").write_text(SWALLOW)


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    _tree(tmp_path, 3)
    script = "import sys; from errwise.cli import main; sys.exit(main())"
    run = subprocess.run(
        [sys.executable, "-c", script, "audit", "--profile", "strict", "--no-config", "-j1", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 1
    assert "\r" not in run.stderr and "files" not in run.stderr.split("findings")[0]
    assert "\x1b" not in run.stderr and "\x1b" not in run.stdout


def test_cli_draws_progress_on_a_terminal_only_when_allowed(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(tmp_path, 3)
    monkeypatch.setattr(cmd_audit, "ProgressBar", functools.partial(ProgressBar, min_files=1))
    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    cli("audit", "--profile", "strict", "--no-config", "-j1", ".", cwd=tmp_path)
    assert "3/3 files" in tty.getvalue() and tty.getvalue().count("\x1b[K") == 1
    for args in (("--quiet",), ("--format", "json"), ("--format", "sarif")):
        tty.seek(0)
        tty.truncate()
        cli("audit", "--profile", "strict", "--no-config", "-j1", *args, ".", cwd=tmp_path)
        assert "files\r" not in tty.getvalue() and "/3 files" not in tty.getvalue(), args


# -- colour ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "tty", "expected"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": "1"}, True, False),
        ({"NO_COLOR": ""}, True, True),
        ({"FORCE_COLOR": "1"}, False, True),
        ({"FORCE_COLOR": "0"}, False, False),
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False),
        ({"TERM": "dumb"}, True, False),
    ],
)
def test_wants_colour(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], tty: bool, expected: bool
) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert wants_colour(Tty() if tty else io.StringIO()) is expected


def test_text_is_coloured_only_when_asked_and_json_never(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(tmp_path, 1)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    coloured = cli("audit", "--profile", "strict", "--no-config", ".", cwd=tmp_path)
    assert "\x1b[" in coloured.out
    plain = re.sub(r"\x1b\[[0-9;]*m", "", coloured.out)
    for fmt in ("json", "sarif", "github", "markdown"):
        out = cli(
            "audit", "--profile", "strict", "--no-config", "--format", fmt, ".", cwd=tmp_path
        ).out
        assert "\x1b" not in out, fmt
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli("audit", "--profile", "strict", "--no-config", ".", cwd=tmp_path).out == plain
    monkeypatch.delenv("NO_COLOR")
    target = tmp_path / "out.txt"
    cli("audit", "--profile", "strict", "--no-config", "-o", str(target), ".", cwd=tmp_path)
    assert target.read_text() == plain  # a file is never coloured
