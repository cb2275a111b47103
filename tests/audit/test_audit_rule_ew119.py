"""EW119 unclassified-raise: generic Exception/RuntimeError raised from library code."""

from __future__ import annotations

import pytest

POSITIVES = {
    "runtime_error_free_text": (
        """
        def acquire(lock_path):
            if lock_path.exists():
                raise RuntimeError(f"lock {lock_path} is held")
        """,
        "low",
        "parse the message text",
    ),
    "exception_in_handler_with_from": (
        """
        def load(path):
            try:
                return path.read_text()
            except OSError as exc:
                raise Exception("cannot load") from exc
        """,
        "medium",
        "`except Exception`",
    ),
    "bare_base_exception_class": (
        """
        import builtins
        class Worker:
            def run(self):
                raise builtins.BaseException
        """,
        "medium",
        "guess (no message)",
    ),
    "function_defined_in_script_file": (
        """
        def main():
            raise RuntimeError("usage: tool FILE")
        if __name__ == "__main__":
            main()
        """,
        "low",
        "RuntimeError",
    ),
}

NEGATIVES = {
    "project_exception": """
        class LockHeld(Exception):
            pass
        def acquire(lock_path):
            if lock_path.exists():
                raise LockHeld(lock_path)
        """,
    "shadowing_local_class_named_like_builtin": """
        class RuntimeError(Exception):
            code = "ERR_RUNTIME"
        def f():
            raise RuntimeError("classified, despite the name")
        """,
    "classified_errwise_error": """
        import errwise
        def acquire(lock_path):
            raise errwise.env("ERR_LOCK_HELD", "lock is held", lock=str(lock_path))
        """,
    "main_guard_block": """
        import sys
        if __name__ == "__main__":
            if len(sys.argv) < 2:
                raise RuntimeError("usage: tool FILE")
        """,
    "specific_builtins": """
        def parse(text):
            if not text:
                raise ValueError("empty")
            raise NotImplementedError("later")
        """,
    "reraise_variable": """
        def first(errors):
            for exc in errors:
                raise exc
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_positive(audit, name):
    source, severity, text = POSITIVES[name]
    findings = audit(source, "unclassified-raise")
    assert [f.rule for f in findings] == ["EW119"], findings
    assert findings[0].severity.value == severity
    assert text in findings[0].message
    assert "errwise.env(" in findings[0].recommendation


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative(audit, name):
    assert audit(NEGATIVES[name], "EW119") == []


@pytest.mark.parametrize(
    "path",
    [
        "tests/test_lock.py",
        "pkg/tests/helpers.py",
        "lock_test.py",
        "conftest.py",
        "pkg/__main__.py",
    ],
)
def test_test_files_are_skipped(audit, path):
    source = """
        def helper():
            raise RuntimeError("fixture broken")
        """
    assert audit(source, "EW119", path=path) == []
    assert len(audit(source, "EW119", path="pkg/lock.py")) == 1
