"""Suppression comments, end to end through `errwise audit`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Cli = Callable[..., Any]


def swallow(comment_on_except: str = "", line_above: str = "") -> str:
    above = f"        {line_above}\n" if line_above else ""
    trailer = f"  {comment_on_except}" if comment_on_except else ""
    return (
        "import os\n\n\ndef drop(path):\n    try:\n        os.remove(path)\n"
        f"{above}    except Exception:{trailer}\n        pass\n"
    )


@pytest.mark.parametrize(
    ("source", "suppressed"),
    [
        (swallow("# errwise: ignore[swallowed-exception] -- cleanup of a scratch file"), True),
        (swallow("# errwise: ignore[EW101]"), True),
        (swallow("# ERRWISE: IGNORE[ew101, return-in-finally]"), True),
        (swallow("# errwise: ignore"), True),
        (swallow("# noqa: EW101"), True),
        (swallow("# noqa: E722, EW101"), True),
        (swallow(line_above="# errwise: ignore[broad-catch, swallowed-exception] -- why"), True),
        (swallow("# errwise: ignore[EW116]"), False),
        (swallow("# noqa"), False),
        (swallow("# noqa: E722"), False),
        (swallow("# errwise: ignored"), True),  # prefix match: the regex accepts it as bare
        (swallow(line_above="pass  # errwise: ignore"), False),  # trails code: its own line only
    ],
)
def test_suppression_comments(tmp_path: Path, cli: Cli, source: str, suppressed: bool) -> None:
    (tmp_path / "mod.py").write_text(source, encoding="utf-8")
    run = cli("audit", "--profile", "strict", "--format", "json", "mod.py", cwd=tmp_path)
    doc = run.json()
    assert doc["summary"]["suppressed"] == int(suppressed)
    assert len(doc["findings"]) == int(not suppressed)
    assert run.code == (0 if suppressed else 1)
    if suppressed:
        text = cli("audit", "--profile", "strict", "mod.py", cwd=tmp_path)
        assert "1 suppressed" in text.err


def test_suppressing_return_in_finally_on_its_line(tmp_path: Path, cli: Cli) -> None:
    source = (
        "def count(path):\n    try:\n        return int(open(path).read())\n    finally:\n"
        "        return 0  # errwise: ignore[return-in-finally] -- demo\n"
    )
    (tmp_path / "fin.py").write_text(source)
    run = cli("audit", "--profile", "strict", "--format", "json", ".", cwd=tmp_path)
    assert run.code == 0
    assert run.json()["summary"]["suppressed"] == 1


def test_a_suppression_silences_only_its_own_finding(tmp_path: Path, cli: Cli) -> None:
    source = swallow("# errwise: ignore[EW101] -- first") + (
        "\n\ndef drop2(path):\n    try:\n        os.remove(path)\n    except Exception:\n"
        "        pass\n"
    )
    (tmp_path / "two.py").write_text(source)
    doc = cli("audit", "--profile", "strict", "--format", "json", ".", cwd=tmp_path).json()
    assert [f["function"] for f in doc["findings"]] == ["drop2"]
    assert doc["summary"]["suppressed"] == 1
