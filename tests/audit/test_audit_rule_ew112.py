"""EW112 raise-without-cause: a new exception raised in a handler without `from`."""

from __future__ import annotations

import pytest

POSITIVES = {
    "domain_error_from_oserror": (
        """
        class ConfigError(Exception):
            pass
        def load(path):
            try:
                return path.read_text()
            except OSError:
                raise ConfigError(f"cannot read {path}")
        """,
        "`raise ConfigError(...)` inside `except OSError`",
        "high",
    ),
    "keyerror_translated": (
        """
        class Box:
            def __getattr__(self, name):
                try:
                    return self._data[name]
                except KeyError:
                    raise AttributeError(name)
        """,
        "`raise AttributeError(...)` inside `except KeyError`",
        "medium",
    ),
    "classified_without_from_in_nested_block": (
        """
        import errwise
        def run(step, log):
            try:
                step()
            except Exception as exc:
                log.error("step failed")
                if step.critical:
                    raise errwise.classify(exc).with_context(step=step.name)
        """,
        "only survives as text",
        "high",
    ),
    "class_name_without_call": (
        """
        def parse(text):
            try:
                return int(text)
            except (TypeError, OverflowError):
                raise ValueError
        """,
        "`raise ValueError` inside `except (TypeError, OverflowError)`",
        "medium",
    ),
}

NEGATIVES = {
    "chained_with_from": """
        def load(path):
            try:
                return path.read_text()
            except OSError as exc:
                raise RuntimeError(f"cannot read {path}") from exc
        """,
    "deliberate_from_none": """
        def lookup(table, key):
            try:
                return table[key]
            except KeyError:
                raise LookupError(f"no entry {key!r}") from None
        """,
    "reraise_caught_and_bare": """
        def retry(step):
            try:
                step()
            except OSError as exc:
                if exc.errno == 4:
                    raise
                raise exc
        """,
    "with_traceback_of_caught": """
        import sys
        def again(step):
            try:
                step()
            except ValueError as exc:
                raise exc.with_traceback(sys.exc_info()[2])
        """,
    "raise_outside_handler_after_try": """
        def parse(text):
            try:
                value = int(text)
            except ValueError:
                value = None
            if value is None:
                raise ValueError(f"not a number: {text!r}")
            return value
        """,
    "nested_function_in_handler": """
        def setup(register):
            try:
                import fastjson as json
            except ImportError:
                def json(*args):
                    raise NotImplementedError("fastjson missing")
            register(json)
        """,
    "system_exit_in_cli": """
        def main(run):
            try:
                run()
            except KeyboardInterrupt:
                raise SystemExit(130)
        """,
    "stored_error_object": """
        def first_ok(steps):
            errors = []
            for step in steps:
                try:
                    return step()
                except OSError as exc:
                    errors.append(exc)
                    last = exc
                    raise last
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_positive(audit, name):
    source, text, severity = POSITIVES[name]
    findings = audit(source, "raise-without-cause")
    assert [f.rule for f in findings] == ["EW112"], findings
    assert text in findings[0].message
    assert "During handling of the above exception" in findings[0].message
    assert findings[0].severity.value == severity
    assert " from " in findings[0].recommendation


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative(audit, name):
    assert audit(NEGATIVES[name], "EW112") == []


def test_does_not_claim_the_handler(audit):
    source = """
        def load(path):
            try:
                return path.read_text()
            except OSError:
                raise ValueError("bad")
        """
    (finding,) = audit(source, "EW112")
    assert finding.claim is None
    assert finding.line == 6
