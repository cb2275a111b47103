"""EW121 shadowed-handler: a clause an earlier clause of the same try already catches."""

from __future__ import annotations

import pytest

POSITIVES = {
    "oserror_before_file_not_found": (
        """
        def load(path):
            try:
                return path.read_text()
            except OSError:
                raise
            except FileNotFoundError:
                return ""
        """,
        "medium",
        "`except FileNotFoundError` can never run: `except OSError` at line 5",
    ),
    "exception_before_stdlib_class": (
        """
        import json
        def parse(text):
            try:
                return json.loads(text)
            except Exception:
                raise
            except json.JSONDecodeError:
                return None
        """,
        "medium",
        "json.JSONDecodeError",
    ),
    "user_hierarchy_in_same_file": (
        """
        class AppError(Exception):
            pass
        class LockError(AppError):
            pass
        def take(lock):
            try:
                lock.acquire()
            except AppError:
                raise
            except LockError:
                return False
        """,
        "medium",
        "LockError is a subclass of AppError",
    ),
    "tuple_element_redundant": (
        """
        import socket
        def fetch(sock):
            try:
                return sock.recv(10)
            except OSError:
                raise
            except (socket.timeout, ValueError):
                return b""
        """,
        "low",
        "`socket.timeout` in this clause's tuple",
    ),
    "alias_io_error_before_permission": (
        """
        def read(path):
            try:
                return open(path).read()
            except IOError:
                return None
            except PermissionError:
                raise
        """,
        "medium",
        "PermissionError is a subclass of IOError",
    ),
}

NEGATIVES = {
    "specific_first": """
        def load(path):
            try:
                return path.read_text()
            except FileNotFoundError:
                return ""
            except OSError:
                raise
        """,
    "siblings_not_related": """
        def parse(text):
            try:
                return int(text)
            except ValueError:
                return None
            except TypeError:
                raise
        """,
    "exception_then_base_exception_only_types": """
        def run(step):
            try:
                step()
            except Exception:
                return False
            except KeyboardInterrupt:
                raise
            except BaseException:
                raise
        """,
    "unknown_imported_class_after_oserror": """
        from somelib import ParseFailure
        def run(step):
            try:
                step()
            except OSError:
                raise
            except ParseFailure:
                return None
        """,
    "separate_try_statements": """
        def run(step):
            try:
                step()
            except OSError:
                raise
            try:
                step()
            except FileNotFoundError:
                return None
        """,
    "exception_before_cancelled_named_error": """
        from anyio import CancelledError
        def run(step):
            try:
                step()
            except Exception:
                return None
            except CancelledError:
                raise
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_positive(audit, name):
    source, severity, text = POSITIVES[name]
    findings = audit(source, "shadowed-handler")
    assert [f.rule for f in findings] == ["EW121"], findings
    assert findings[0].severity.value == severity
    assert text in findings[0].message


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative(audit, name):
    assert audit(NEGATIVES[name], "EW121") == []


def test_conventionally_named_unknown_class_after_exception(audit):
    (finding,) = audit(
        """
        from requests import HTTPError
        def fetch(get):
            try:
                return get()
            except Exception:
                return None
            except HTTPError:
                raise
        """,
        "EW121",
    )
    assert finding.line == 8
    assert "assuming requests.HTTPError derives from Exception" in finding.message
    assert "Move `except requests.HTTPError` above" in finding.recommendation
