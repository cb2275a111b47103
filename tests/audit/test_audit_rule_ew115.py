"""EW115 unguarded-unpack: `a, b = s.split(sep, 1)` with nothing checking the piece count."""

from __future__ import annotations

import pytest

POSITIVES = {
    "seed_worktree_parse_after_truthiness_check": (
        """
        def list_worktrees(stdout):
            current = {}
            for line in stdout.splitlines():
                if not line:
                    continue
                key, value = line.split(" ", 1)
                current[key] = value
            return current
        """,
        "assumes `line` contains `' '`",
    ),
    "rsplit_qualified_name": (
        """
        import importlib
        def resolve(spec):
            module, name = spec.rsplit(".", maxsplit=1)
            return getattr(importlib.import_module(module), name)
        """,
        "expected 2, got 1",
    ),
    "three_way_whitespace_split": (
        """
        def parse(record):
            user, host, port = record.strip().split()
            return user, host, int(port)
        """,
        "into exactly 3 pieces",
    ),
    "mapped_split": (
        """
        def header(line):
            name, value = map(str.strip, line.split(":", 1))
            return name, value
        """,
        "assumes `line` contains `':'`",
    ),
    "generator_in_for_target": (
        """
        def env(pairs):
            out = {}
            for k, v in (p.split("=", 1) for p in pairs):
                out[k] = v
            return out
        """,
        "`k, v = p.split(...)`",
    ),
}

NEGATIVES = {
    "membership_guard": """
        def parse(line):
            if "=" in line:
                key, value = line.split("=", 1)
                return key, value
            return line, ""
        """,
    "early_exit_guard": """
        def parse(lines):
            for line in lines:
                if " " not in line:
                    continue
                key, value = line.split(" ", 1)
                yield key, value
        """,
    "conditional_expression": """
        def parse(s):
            a, b = s.split(":", 1) if ":" in s else (s, "")
            return a, b
        """,
    "try_value_error": """
        def parse(s):
            try:
                host, port = s.rsplit(":", 1)
            except ValueError:
                raise ValueError(f"expected HOST:PORT, got {s!r}") from None
            return host, int(port)
        """,
    "partition_and_starred": """
        def parse(s):
            head, sep, tail = s.partition("=")
            first, *rest = s.split(",", 1)
            return head, tail, first, rest
        """,
    "module_split_functions": """
        import os.path, re, shlex
        import posixpath as path
        def parts(p, text):
            head, tail = os.path.split(p)
            a, b = path.split(p)
            c, d = re.split(r"\\s+", text, 1)
            e, f = shlex.split(text)
            return head, tail, a, b, c, d, e, f
        """,
    "startswith_guard_and_constant": """
        def parse(line):
            major, minor = "3.11".split(".")
            if line.startswith("worktree "):
                key, value = line.split(" ", 1)
                return key, value
            return major, minor
        """,
    "exception_group_and_regex_splits": """
        def triage(group, splitter, row):
            stops, others = group.split(StopTest)
            _, separator, rest = splitter.split(row, 1)
            return stops, others, separator, rest
        """,
    "length_check_on_pieces": """
        def parse(line):
            if len(line.split(",")) != 2:
                raise ValueError(line)
            a, b = line.split(",")
            return a, b
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_positive(audit, name):
    source, text = POSITIVES[name]
    findings = audit(source, "unguarded-unpack")
    assert [f.rule for f in findings] == ["EW115"], findings
    assert text in findings[0].message
    assert findings[0].severity.value == "low"


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative(audit, name):
    assert audit(NEGATIVES[name], "EW115") == []


def test_recommends_partition_for_two_pieces(audit):
    (finding,) = audit(
        """
        def f(s):
            a, b = s.split("=", 1)
        """,
        "EW115",
    )
    assert "s.partition('=')" in finding.recommendation


def test_api_results_and_literal_tables_are_trusted(audit):
    source = """
        OPS = '''
        -> RARROW
        := COLONEQUAL
        '''
        opmap = {}
        for line in OPS.splitlines():
            if line:
                op, name = line.split()
                opmap[op] = name
        def kind(part, handle):
            maintype, subtype = part.get_content_type().split("/")
            key, value = handle.readline().strip().split("=", 1)
            return maintype, subtype, key, value
        """
    findings = audit(source, "EW115")
    assert [f.line for f in findings] == [13]
