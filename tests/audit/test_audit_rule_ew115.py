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


# -- formats already guaranteed (issue 16): the false-positive shapes stay silent, look-alikes
# of input still fire -------------------------------------------------------------------------

GUARANTEED = {
    "guard_tests_the_string_before_strip": """
        def parse_policy(policy):
            if " " in policy:
                directive, value = policy.strip().split(" ", 1)
                return directive, value
            return None
        """,
    "elif_early_exit_guard": """
        def parse_range(rng):
            if rng == "*":
                return None
            elif "-" not in rng:
                return None
            start, stop = rng.split("-", 1)
            return int(start), int(stop)
        """,
    "class_literal_attribute": """
        class Commit:
            conf_encoding = "i18n.commitencoding"
            @classmethod
            def create(cls, reader):
                section, option = cls.conf_encoding.split(".")
                return reader.get(section, option)
        """,
    "constant_table_iterated": """
        class Config:
            OPTIONS = [("branch", "run:branch"), ("source", "run:source")]
            def check(self):
                for spec in self.OPTIONS:
                    section, option = spec[1].split(":")
        """,
    "string_built_by_the_code": """
        def roundtrip(user, password):
            token = "%s:%s" % (user, password)
            login, pwd = token.split(":", 1)
            return login, pwd
        """,
    "callers_catch_value_error": """
        class Pack:
            def _parse(self, line):
                a, b, c = line.split()
                return a, b, c
            def read(self, lines):
                for line in lines:
                    try:
                        self._parse(line)
                    except ValueError:
                        continue
        """,
    "test_code_fails_the_test": """
        def test_envelope(pool):
            header, payload = pool.envelope().decode().split("\\n", 1)
            assert payload == "x"
        """,
}

INPUT_LOOKALIKES = {
    # the guard tests another string than the one split
    "guard_on_another_string": """
        def parse(policy, other):
            if " " in other:
                directive, value = policy.strip().split(" ", 1)
                return directive, value
        """,
    # one caller does not catch (a public helper: a private one's input is its callers' data,
    # which EW115 no longer claims is outside input)
    "one_caller_does_not_catch": """
        def parse_pair(line):
            a, b = line.split(":", 1)
            return a, b
        def read(lines):
            try:
                parse_pair(lines[0])
            except ValueError:
                pass
            return parse_pair(lines[1])
        """,
    # an instance attribute (set from input), not a class literal
    "instance_attribute_from_input": """
        class Header:
            def __init__(self, raw):
                self.raw = raw
            def parse(self):
                name, value = self.raw.split(":", 1)
                return name, value
        """,
    # built with another separator than the one split on
    "built_with_other_separator": """
        def parse(user, password):
            token = "%s=%s" % (user, password)
            login, pwd = token.split(":", 1)
            return login, pwd
        """,
}


@pytest.mark.parametrize("name", sorted(GUARANTEED))
def test_guaranteed_format_is_silent(audit, name):
    assert audit(GUARANTEED[name], "EW115") == []


@pytest.mark.parametrize("name", sorted(INPUT_LOOKALIKES))
def test_input_lookalike_still_fires(audit, name):
    findings = audit(INPUT_LOOKALIKES[name], "EW115")
    assert [(f.rule, f.name) for f in findings] == [("EW115", "unguarded-unpack")]


def test_test_file_is_test_code(audit):
    # split on ":" (was "\\n"): a multi-line message split at its first line break is a
    # program's format, no longer reported anywhere; this test is about where test code is.
    source = """
        def helper(result):
            header, payload = result.split(":", 1)
            return header
        """
    assert audit(source, "EW115", path="tests/test_process.py") == []
    assert audit(source, "EW115", path="tests/helpers.py") == []
    assert len(audit(source, "EW115", path="pkg/process.py")) == 1


# -- round 2 (issue 16): only strings that come from outside the program; a producer's format is
# its contract. Each silent shape has a look-alike that still fires. ----------------------------

PRODUCER_FORMATS = {
    "command_output_lines": """
        def stats(repo):
            text = repo.git.diff_tree("HEAD", numstat=True)
            for line in text.splitlines():
                insertions, deletions, filename = line.split("\\t")
        """,
    "private_helper_parameter": """
        class Stats:
            @classmethod
            def _from_string(cls, text):
                for line in text.splitlines():
                    a, b, name = line.split("\\t")
        """,
    "stream_readline": """
        def read_shas(stream):
            readline = stream.readline
            line = readline()
            sha, _ = line.split(None, 1)
            return sha
        """,
    "private_attribute_of_another_object": """
        class Ops:
            def _ensure(self, fk):
                table, column = fk._colspec.rsplit(".", 1)
        """,
    "message_split_at_first_line_break": """
        def eventdata(payload):
            headerinfo, data = payload.split("\\n", 1)
            return headerinfo, data
        """,
    "regex_token_key_value": """
        import re
        def params(definition):
            for term in re.findall("[^(),]+", definition):
                if "=" in term:
                    key, val = term.split("=")
        """,
    "callers_test_the_prefix": """
        def fixtag(tag):
            uri, name = tag[1:].split("}", 1)
            return uri, name
        def write(tag):
            if tag[:1] == "{":
                tag = fixtag(tag)
        """,
    "guard_in_earlier_try_handler": """
        def import_string(name):
            try:
                __import__(name)
            except ImportError:
                if "." not in name:
                    raise
            module, obj = name.rsplit(".", 1)
            return module, obj
        """,
    "loop_over_filtered_keys": """
        def conf(envdict):
            keys = []
            for key in envdict:
                if key.count("_") > 1:
                    keys.append(key)
            for key in keys:
                _, proto, kwarg = key.split("_", 2)
        """,
    "script_top_level": """
        import sys
        fname, lineno = sys.argv[1].split(":")
        """,
}

OUTSIDE_INPUT = {
    "public_parameter_url": (
        """
        def cat_file(path):
            pref, data = path.split(",", 1)
            return data
        """,
        "comes from a parameter of the public `cat_file`",
    ),
    "decoded_parameter": (
        """
        import base64
        def decode_auth(auth):
            s = base64.b64decode(auth)
            login, pwd = s.split(b":", 1)
            return login, pwd
        """,
        "comes from a parameter of the public `decode_auth`",
    ),
    "file_lines": (
        """
        def read_state(path):
            text = path.read_text()
            for line in [x for x in text.splitlines() if x.strip()]:
                key, value = line.split(":", 1)
        """,
        "comes from a file the program reads",
    ),
    "command_line_argument_in_function": (
        """
        import sys
        def main():
            fname, lineno = sys.argv[1].split(":", 1)
        """,
        "comes from a command-line argument",
    ),
    "porcelain_output": (
        """
        import subprocess
        def worktrees(root):
            result = subprocess.run(["git", "worktree", "list", "--porcelain"], cwd=root,
                                    capture_output=True, text=True, timeout=5)
            for line in result.stdout.splitlines():
                key, value = line.split(" ", 1)
        """,
        "`--porcelain` output",
    ),
    # a presence test does not bound the count of an unlimited key/value split
    "presence_guard_unlimited_key_value": (
        """
        def _history(rev_range):
            if ":" not in rev_range:
                raise ValueError("need a:b")
            base, head = rev_range.strip().split(":")
        """,
        "a value holding a second `':'` or none",
    ),
    # command output, but an unlimited `key=value` split breaks on a value holding "="
    "key_value_from_command_output": (
        """
        def _convert(section):
            for var in section.get("set_env", "").splitlines():
                k, v = var.split("=")
        """,
        "a value holding a second `'='` or none",
    ),
    # callers test the prefix, but one call site does not
    "one_caller_unguarded": (
        """
        def fixtag(tag):
            uri, name = tag[1:].split("}", 1)
            return uri, name
        def write(tag):
            if tag[:1] == "{":
                tag = fixtag(tag)
            return fixtag(tag)
        """,
        "comes from a parameter of the public `fixtag`",
    ),
    "regex_token_with_a_limit_is_no_excuse_for_input": (
        """
        def pairs(items):
            for term in items:
                key, val = term.split("=", 1)
        """,
        "comes from a parameter of the public `pairs`",
    ),
}


@pytest.mark.parametrize("name", sorted(PRODUCER_FORMATS))
def test_producer_format_is_silent(audit, name):
    assert audit(PRODUCER_FORMATS[name], "EW115") == []


@pytest.mark.parametrize("name", sorted(OUTSIDE_INPUT))
def test_outside_input_fires(audit, name):
    source, text = OUTSIDE_INPUT[name]
    findings = audit(source, "EW115")
    assert len(findings) == 1, findings
    assert text in findings[0].message


# -- round 2, wider corpus: guards through a derived name; argparse results; nested helpers -------

DERIVED_GUARDS = {
    "flag_holding_the_shape_test": """
        def iter_nodes(nodename, namespace=None):
            needs_resolution = not namespace and ":" in nodename
            if needs_resolution:
                prefix, nodename = nodename.split(":", maxsplit=1)
            return nodename
        """,
}

DERIVED_LOOKALIKES = {
    # the flag tests another string
    "flag_on_another_string": (
        """
        def iter_nodes(nodename, other):
            needs_resolution = ":" in other
            if needs_resolution:
                prefix, nodename = nodename.split(":", maxsplit=1)
            return nodename
        """,
        "comes from a parameter of the public `iter_nodes`",
    ),
    "argparse_namespace_attribute": (
        """
        import argparse
        def _parse_headers(parsed_args: argparse.Namespace):
            out = []
            for header in parsed_args.headers or ():
                name, val = header.split(":", 1)
                out.append((name, val))
            return out
        """,
        "comes from a command-line argument",
    ),
    "parse_args_result": (
        """
        def _main(parser):
            args = parser.parse_args()
            user, password = args.auth.split(":", 1)
            return user, password
        """,
        "comes from a command-line argument",
    ),
    "nested_helper_of_a_public_function": (
        """
        def cmdline_config(args):
            def getarg(arg):
                key, value = arg.split("=", 1)
                return key, value
            return dict(getarg(a) for a in args)
        """,
        "a helper of the public `cmdline_config`",
    ),
}


@pytest.mark.parametrize("name", sorted(DERIVED_GUARDS))
def test_guard_through_a_derived_name_is_silent(audit, name):
    assert audit(DERIVED_GUARDS[name], "EW115") == []


@pytest.mark.parametrize("name", sorted(DERIVED_LOOKALIKES))
def test_derived_lookalike_fires(audit, name):
    source, text = DERIVED_LOOKALIKES[name]
    findings = audit(source, "EW115")
    assert len(findings) == 1, findings
    assert text in findings[0].message


# -- round 3, train/validation split: an API's k=v records; the else branch of a prefix test;
# -- the pieces of an outside string ----------------------------------------------------------

ROUND3_SILENT = {
    # `k=v` records an API returned, reached through a loop and a local helper's only call
    "api_records_through_a_nested_helper": """
        class Catalog:
            def _existing(self, table, client):
                def _parse(record):
                    out = {}
                    for part in record.split("/"):
                        name, value = part.split("=")
                        out[name] = value
                    return out
                records = client.get_partition_names(table)
                return [_parse(r) for r in records]
        """,
    # the else branch of a test of the separator itself is still guarded
    "else_branch_of_a_separator_test": """
        def parse(key):
            if "_" not in key:
                ns, name = "default", key
            else:
                ns, name = key.split("_", 1)
            return ns, name
        """,
    # pieces of a private attribute (a producer's format) stay unknown
    "pieces_of_a_private_attribute": """
        class Ref:
            def _split(self):
                head, tail = self._raw.split(":", 1)
                a, b = tail.split("/", 1)
                return a, b
        """,
}

ROUND3_FIRES = {
    # the same loop and helper over a request's header values: data from clients
    "header_records_through_a_nested_helper": (
        """
        class Catalog:
            def _existing(self, request):
                def _parse(record):
                    out = {}
                    for part in record.split("/"):
                        name, value = part.split("=")
                        out[name] = value
                    return out
                records = request.headers.getlist("X-Partition")
                return [_parse(r) for r in records]
        """,
        "a value holding a second `'='` or none",
    ),
    # `key[0] == "_"` failed: the else branch knows nothing about a "_" inside the key
    "else_branch_of_a_prefix_test": (
        """
        def cmdline_config(args, namespace):
            def getarg(arg):
                key, value = arg.split("=", 1)
                if key[0] == "_":
                    ns, key = namespace, key[1:]
                else:
                    ns, key = key.split("_", 1)
                return ns, key, value
            return [getarg(a) for a in args]
        """,
        "assumes `key` contains `'_'`",
    ),
    # `startswith` failed: the else branch knows nothing about a ":" inside the string
    "else_branch_of_startswith": (
        """
        def parse(spec):
            if spec.startswith(":"):
                name, kind = spec[1:], "local"
            else:
                name, kind = spec.split(":", 1)
            return name, kind
        """,
        "assumes `spec` contains `':'`",
    ),
    # a piece of a public parameter comes from where the parameter came from
    "piece_of_a_public_parameter": (
        """
        def parse_ref(ref):
            head, tail = ref.split(":", 1)
            a, b = tail.split("/", 1)
            return head, a, b
        """,
        "`tail` comes from a parameter of the public `parse_ref`",
    ),
}


@pytest.mark.parametrize("name", sorted(ROUND3_SILENT))
def test_round3_shapes_are_silent(audit, name):
    assert audit(ROUND3_SILENT[name], "EW115") == []


@pytest.mark.parametrize("name", sorted(ROUND3_FIRES))
def test_round3_lookalikes_fire(audit, name):
    source, text = ROUND3_FIRES[name]
    findings = [f for f in audit(source, "EW115") if text in f.message]
    assert len(findings) == 1, audit(source, "EW115")
