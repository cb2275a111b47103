"""EW120 dead-handler."""

from __future__ import annotations

import textwrap

import pytest

from errwise.audit.finding import Severity

POSITIVES = {
    "run_without_check": (
        """
        import subprocess
        def push(branch):
            try:
                subprocess.run(["git", "push", "origin", branch], timeout=60)
            except subprocess.CalledProcessError:
                return False
            return True
        """,
        Severity.HIGH,
    ),
    "http_without_raise_for_status": (
        """
        import requests
        def fetch(url):
            try:
                response = requests.get(url, timeout=10)
            except requests.exceptions.HTTPError:
                return None
            return response.json()
        """,
        Severity.HIGH,
    ),
    "parse_guarded_against_missing_file": (
        """
        import json
        def parse(text):
            try:
                return json.loads(text)
            except FileNotFoundError:
                return {}
        """,
        Severity.LOW,
    ),
    "helper_in_same_module": (
        """
        import os
        def _size(path):
            return os.path.getsize(path)
        def size_or_zero(path):
            try:
                return _size(path)
            except KeyError:
                return 0
        """,
        Severity.LOW,
    ),
    "wait_without_timeout": (
        """
        import subprocess
        def reap(cmd):
            proc = subprocess.Popen(cmd)
            try:
                proc.wait()
            except subprocess.TimeoutExpired:
                proc.kill()
        """,
        Severity.MEDIUM,
    ),
    "exists_never_raises_for_encoding": (
        """
        import os
        def present(u_path):
            try:
                return os.path.exists(u_path)
            except UnicodeEncodeError:
                return False
        """,
        Severity.LOW,
    ),
    "popen_never_checks": (
        """
        import subprocess
        def spawn(command):
            try:
                subprocess.Popen(command)
                return 0
            except subprocess.CalledProcessError as e:
                return e.returncode
        """,
        Severity.LOW,
    ),
    "tuple_all_dead": (
        """
        from pathlib import Path
        def text(p: Path):
            try:
                return p.read_text()
            except (KeyError, IndexError):
                return ""
        """,
        Severity.LOW,
    ),
}

NEGATIVES = {
    "run_with_check": """
        import subprocess
        def push(branch):
            try:
                subprocess.run(["git", "push", branch], check=True, timeout=60)
            except subprocess.CalledProcessError:
                return False
        """,
    "run_with_kwargs": """
        import subprocess
        def push(branch, **opts):
            try:
                subprocess.run(["git", "push", branch], **opts)
            except subprocess.CalledProcessError:
                return False
        """,
    "raise_for_status": """
        import requests
        def fetch(url):
            try:
                response = requests.get(url, timeout=10)
                response.raise_for_status()
            except requests.HTTPError:
                return None
            return response
        """,
    "unknown_call_in_body": """
        import json, somelib
        def parse(text):
            try:
                return json.loads(somelib.clean(text))
            except FileNotFoundError:
                return {}
        """,
    "subclass_of_what_is_raised": """
        import os
        def drop(path):
            try:
                os.rename(path, path + ".old")
            except FileExistsError:
                return False
        """,
    "superclass_of_what_is_raised": """
        import json
        def parse(text):
            try:
                return json.loads(text)
            except ValueError:
                return None
        """,
    "subscript_raises_keyerror": """
        import json
        def field(text, name):
            try:
                return json.loads(text)[name]
            except KeyError:
                return None
        """,
    "generator_body_can_receive_thrown": """
        import contextlib
        @contextlib.contextmanager
        def step():
            try:
                yield
            except KeyError:
                pass
        """,
    "never_dead_type": """
        def total(a, b):
            try:
                return a + b
            except TypeError:
                return None
        """,
    "broad": """
        import json
        def parse(text):
            try:
                return json.loads(text)
            except Exception:
                return None
        """,
    "user_error_raised_by_helper": """
        class ConfigError(Exception):
            pass
        def check(cfg):
            if not cfg:
                raise ConfigError("empty")
        def load(cfg):
            try:
                check(cfg)
            except ConfigError:
                return None
        """,
    "unknown_exception_class": """
        import json
        from somelib import OddError
        def parse(text):
            try:
                return json.loads(text)
            except OddError:
                return None
        """,
    "property_that_imports": """
        class Target:
            @property
            def details(self):
                import importlib
                return importlib.import_module(self.name)
            def check(self):
                try:
                    self.details
                except ImportError:
                    return False
        """,
    "descriptor_of_unknown_object": """
        def contents(cells):
            for cell in cells:
                try:
                    return cell.cell_contents
                except ValueError:
                    return None
        """,
    "protocol_dispatch": """
        from typing import Protocol
        class Conn(Protocol):
            def send(self, data: bytes) -> None: ...
        def push(conn: Conn, data):
            try:
                conn.send(data)
            except OSError:
                return False
        """,
    "enum_constructor": """
        import enum
        class Color(enum.Enum):
            RED = 1
        def parse(v):
            try:
                return Color(v)
            except ValueError:
                return None
        """,
    "store_into_unknown_container": """
        def put(buf, i, n):
            try:
                buf[i] = n
            except OverflowError:
                return False
        """,
    "arithmetic_overflow": """
        import datetime
        def later(at, step):
            try:
                return min(at + step, datetime.datetime.max)
            except OverflowError:
                return datetime.datetime.max
        """,
    "print_encoding": """
        def show(text):
            try:
                print(text)
            except UnicodeEncodeError:
                print(text.encode("ascii", "replace"))
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_positive(audit, name: str) -> None:
    source, severity = POSITIVES[name]
    findings = audit(source, "dead-handler")
    assert len(findings) == 1, findings
    finding = findings[0]
    assert finding.rule == "EW120"
    assert finding.severity is severity
    assert "can never run" in finding.message


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative(audit, name: str) -> None:
    assert audit(NEGATIVES[name], "dead-handler") == []


def test_message_names_the_calls_and_what_they_raise(audit) -> None:
    [finding] = audit(POSITIVES["run_without_check"][0], "EW120")
    assert "`subprocess.run()`" in finding.message
    assert "check=True" in finding.message
    assert "FileNotFoundError" in finding.hidden_errors
    assert "check=True" in finding.recommendation


def test_rule_documentation() -> None:
    from errwise.audit.rules.ew120_dead_handler import RULE

    doc = RULE.doc_markdown()
    assert "EW120 dead-handler" in doc
    assert "check=True" in doc


# -- sound raise-sets (issue 16): "can never run" must be a true statement -------------------

SOUND_NEGATIVES = {
    # a property bound by assignment runs code when read (`ref = property(_get_ref)`)
    "property_bound_by_assignment": """
        class Ref:
            def _get_ref(self):
                raise ValueError("no such ref")
            ref = property(_get_ref)
            reference = ref
            @property
            def is_detached(self):
                try:
                    self.reference
                    return False
                except TypeError:
                    return True
            def set_object(self):
                try:
                    detached = self.is_detached
                except ValueError:
                    detached = True
                return detached
        """,
    # storing into an object of unknown type may run a setter or a weakref proxy's check
    "attribute_store_on_unknown_object": """
        def disable(instance):
            try:
                instance.miniters = float("inf")
            except ReferenceError:
                pass
        """,
    # hashlib refuses md5 in FIPS mode with ValueError
    "md5_in_fips_mode": """
        import hashlib
        def hasher():
            try:
                return hashlib.md5()
            except ValueError:
                return None
        """,
    # the unbound form `dict.pop(self, key)` has no default: it raises KeyError
    "unbound_dict_pop": """
        class Multi(dict):
            def pop(self, key, default=None):
                try:
                    return dict.pop(self, key)
                except KeyError:
                    return default
        """,
    "path_resolve_raises_oserror": """
        from pathlib import Path
        def real(path: Path):
            try:
                return path.resolve()
            except OSError:
                return path
        """,
    "shlex_lexer_iteration": """
        import shlex
        def words(text):
            lexer = shlex.shlex(text, posix=True)
            try:
                return [word for word in lexer]
            except ValueError:
                return text.split()
        """,
    # a signal handler raises its exception into whatever code runs at the time
    "raised_by_signal_handler": """
        import signal, time
        class Shutdown(Exception):
            pass
        def on_term(signum, frame):
            raise Shutdown
        def serve():
            signal.signal(signal.SIGTERM, on_term)
            try:
                while True:
                    time.sleep(1)
            except Shutdown:
                pass
        """,
    # the iteration is inside the try: the generator's errors are seen
    "generator_iterated_inside_try": """
        def iter_rows(path):
            with open(path) as fh:
                yield from fh
        def load(path):
            try:
                rows = list(iter_rows(path))
            except OSError:
                rows = []
            return rows
        """,
    "generator_looped_inside_try": """
        def iter_rows(path):
            with open(path) as fh:
                yield from fh
        def load(path):
            out = []
            try:
                for row in iter_rows(path):
                    out.append(row)
            except OSError:
                return []
            return out
        """,
    # a plain function that returns a list is not lazy
    "eager_function_not_generator": """
        def read_rows(path):
            with open(path) as fh:
                return fh.readlines()
        def load(path):
            try:
                rows = read_rows(path)
            except OSError:
                rows = []
            return rows
        """,
}


@pytest.mark.parametrize("name", sorted(SOUND_NEGATIVES))
def test_sound_negative(audit, name: str) -> None:
    assert audit(SOUND_NEGATIVES[name], "dead-handler") == []


def test_signal_handler_does_not_hide_other_dead_clauses(audit) -> None:
    source = textwrap.dedent(SOUND_NEGATIVES["raised_by_signal_handler"]) + (
        "\ndef parse(text):\n    import json\n    try:\n        return json.loads(text)\n"
        "    except FileNotFoundError:\n        return None\n"
    )
    [finding] = audit(source, "dead-handler")
    assert "FileNotFoundError" in finding.message


LAZY = """
    def iter_rows(path):
        with open(path) as fh:
            for line in fh:
                yield line.split(",")
    def load(path):
        try:
            rows = iter_rows(path)
        except OSError:
            return []
        return [row for row in rows]
    """


def test_handler_around_a_generator_call_never_sees_its_errors(audit) -> None:
    [finding] = audit(LAZY, "dead-handler")
    assert finding.rule == "EW120" and finding.name == "dead-handler"
    assert finding.severity is Severity.MEDIUM
    assert "`iter_rows()` is a generator function" in finding.message
    assert "while `rows` is iterated, outside this try" in finding.message
    assert "OSError" in finding.message
    assert "list(" in finding.recommendation


def test_returned_generator_is_iterated_by_the_caller(audit) -> None:
    source = LAZY.replace("rows = iter_rows(path)", "return iter_rows(path)")
    [finding] = audit(source, "dead-handler")
    assert "while the caller iterates the result" in finding.message


def test_generator_in_another_module(cli, tmp_path) -> None:
    from audit_samples import audit as audit_tree
    from audit_samples import rules_found, write

    write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/rows.py": "def iter_rows(path):\n    with open(path) as fh:\n"
            "        yield from fh\n",
            "pkg/use.py": "from pkg.rows import iter_rows\n\n\ndef load(path):\n    try:\n"
            "        rows = iter_rows(path)\n    except OSError:\n        return []\n"
            "    return list(rows)\n",
        },
    )
    run = audit_tree(cli, tmp_path, "--no-cache", "--select", "EW120")
    assert rules_found(run) == [("pkg/use.py", "EW120")]


def test_reexported_class_is_the_same_class(cli, tmp_path) -> None:
    from audit_samples import audit as audit_tree
    from audit_samples import rules_found, write

    write(
        tmp_path,
        {
            "pkg/__init__.py": "from .error import TargetError\n",
            "pkg/error.py": "class TargetError(Exception):\n    pass\n\n\n"
            "def fail():\n    raise TargetError('x')\n",
            "pkg/use.py": "import pkg\nfrom pkg import error\n\n\ndef run():\n    try:\n"
            "        error.fail()\n    except pkg.TargetError:\n        return 1\n    return 0\n",
        },
    )
    run = audit_tree(cli, tmp_path, "--no-cache", "--select", "EW120")
    assert rules_found(run) == []


def test_generator_method_and_eager_scandir(audit) -> None:
    source = """
        import csv, os
        class Store:
            def rows(self, path):
                with open(path) as fh:
                    yield from csv.reader(fh)
            def load(self, path):
                try:
                    rows = self.rows(path)
                except OSError:
                    return []
                return list(rows)
        def scan(path):
            try:
                entries = os.scandir(path)  # raises at the call: not lazy for errors
            except OSError:
                return []
            return list(entries)
        """
    [finding] = audit(source, "dead-handler")
    assert "`self.rows()` is a generator function" in finding.message
    assert finding.line == 10
