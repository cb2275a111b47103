"""Hostile content in the audited code cannot break any format or inject markup: a string
literal holding ``` and <script> (in a finding's excerpt and message), terminal escapes, a
bidi override, and a file name with a newline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from report_helpers import DATA, Tree

from errwise.audit.report import AuditReport, format_names, render

# The handler's message quotes the code it returns: a string literal full of markup.
HOSTILE = """\
import os


def probe(path):
    if not path:
        return "```\\n<script>alert(1)</script> [x](javascript:alert(1)) <!-- \\x1b[31m"
    try:
        os.remove(path)  # raw escape \x1b[2J and a bidi override \u202e here
    except Exception:
        return "```\\n<script>alert(1)</script> [x](javascript:alert(1)) <!-- \\x1b[31m"
"""
EVIL_NAME = "evil\nname`<b>x</b>.py"
RAW_ESC = "\x1b"


@pytest.fixture
def hostile(audit_tree: Tree) -> AuditReport:
    report = audit_tree({"pkg/hostile.py": HOSTILE, f"pkg/{EVIL_NAME}": HOSTILE})
    assert len(report.findings) >= 2
    assert any(f.path.endswith("x</b>.py") for f in report.findings), report.findings
    assert any("<script>" in "\n".join(f.details.excerpt) for f in report.findings if f.details)
    return report


def _markup_outside_code(markdown: str) -> list[str]:
    """Raw `<` (HTML) or `[` (links) that a CommonMark renderer would treat as markup: outside
    fenced blocks and code spans, and not backslash-escaped."""
    problems = []
    fence: str | None = None
    for line in markdown.split("\n"):
        opener = re.match(r"^(`{3,}|~{3,})", line)
        if fence is not None:
            if (
                opener
                and line.strip() == fence[0] * len(line.strip())
                and len(line.strip()) >= len(fence)
            ):
                fence = None
            continue
        if opener:
            fence = opener.group(1)
            continue
        problems += [f"{bad!r} in {line!r}" for bad in _unescaped(_strip_code_spans(line))]
    assert fence is None, "an unclosed fence swallows the rest of the report"
    return problems


def _strip_code_spans(line: str) -> str:
    """The line with its code spans removed (CommonMark: a run of n backticks opens a span that
    the next run of exactly n backticks closes; a backslash-escaped backtick opens nothing)."""
    out, i = [], 0
    while i < len(line):
        if line[i] == "\\" and i + 1 < len(line):
            out.append(line[i : i + 2])
            i += 2
            continue
        if line[i] == "`":
            run = len(re.match(r"`+", line[i:]).group())  # type: ignore[union-attr]
            close = re.compile(rf"(?<!`)`{{{run}}}(?!`)")
            found = close.search(line, i + run)
            if found:
                i = found.end()
                continue
            out.append("`" * run)
            i += run
            continue
        out.append(line[i])
        i += 1
    return "".join(out)


def _unescaped(text: str) -> list[str]:
    found = re.finditer(r"(\\*)([<\[])", text)
    return [m.group(2) for m in found if len(m.group(1)) % 2 == 0]


def test_markdown_keeps_hostile_text_inert(hostile: AuditReport) -> None:
    text = render("markdown", hostile)
    assert RAW_ESC not in text and "\u202e" not in text
    assert "\\x1b" in text and "\\u202e" in text  # shown, not obeyed
    problems = _markup_outside_code(text)
    # The report's own links (to #diagnostics) are the only markup allowed outside code.
    assert problems == [], problems[:5]
    assert "evil\\x0aname" in text  # the newline in the file name is shown, not obeyed
    # the excerpt with ``` keeps its fence closed: every ```python block ends
    assert text.count("<script>") >= 1


def test_text_keeps_one_line_per_finding_and_no_escape_codes(hostile: AuditReport) -> None:
    text = render("text", hostile)
    assert len(text.splitlines()) == len(hostile.findings)
    assert RAW_ESC not in text and "\u202e" not in text
    coloured = render("text", hostile, colour=True)
    assert len(coloured.splitlines()) == len(hostile.findings)
    # the only escape sequences are errwise's own colours
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == text


def test_json_and_sarif_stay_valid(hostile: AuditReport) -> None:
    doc = json.loads(render("json", hostile))
    assert {f["path"] for f in doc["findings"]} >= {f"pkg/{EVIL_NAME}"}
    sarif_text = render("sarif", hostile)
    assert sarif_text.isascii()
    sarif = json.loads(sarif_text)
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(sarif, schema)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    }
    assert "pkg/evil%0Aname%60%3Cb%3Ex%3C/b%3E.py" in uris


def test_github_annotations_cannot_start_another_command(hostile: AuditReport) -> None:
    text = render("github", hostile)
    lines = text.splitlines()
    assert len(lines) == len(hostile.findings) + len(hostile.diagnostics)
    assert all(re.match(r"::(error|warning|notice) file=", line) for line in lines)
    assert RAW_ESC not in text
    evil = [line for line in lines if "evil" in line]
    assert evil and all("file=pkg/evil%0Aname`<b>x</b>.py," in line for line in evil)


@pytest.mark.parametrize("fmt", sorted(set(format_names())))
def test_every_format_survives_hostile_content(hostile: AuditReport, fmt: str) -> None:
    text = render(fmt, hostile)
    assert text.endswith("\n")
    assert RAW_ESC not in text and "\u202e" not in text


def test_the_checker_sees_markup(tmp_path: Path, hostile: AuditReport) -> None:
    assert (tmp_path / "pkg" / EVIL_NAME).exists()
    assert _markup_outside_code("a <b>x</b> and [l](u)") == [
        "'<' in 'a <b>x</b> and [l](u)'"
    ] * 2 + ["'[' in 'a <b>x</b> and [l](u)'"]
    assert _markup_outside_code("`<b>` and \\<b> and ``a`<b>`` ok") == []
    assert _markup_outside_code("``<b>` x") != []


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("returns `'```'` here", "returns ````'```'```` here"),
        ("not `Exception`s, so", "not `Exception`s, so"),
        ("catch `RuntimeError`/`Exception` and", "catch `RuntimeError`/`Exception` and"),
        ("a <b>bold</b> [l](u) claim", "a \\<b\\>bold\\</b\\> \\[l\\](u) claim"),
        ("see https://evil.example", "see https:\\/\\/evil.example"),
        ("odd ` backtick", "odd \\` backtick"),
    ],
)
def test_md_text_keeps_code_whole_and_text_inert(message: str, expected: str) -> None:
    from errwise.audit.report.escape import md_text

    assert md_text(message) == expected
