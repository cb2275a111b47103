"""EW120 dead-handler."""

from __future__ import annotations

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
