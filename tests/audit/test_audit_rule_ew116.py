"""EW116 return-in-finally."""

from __future__ import annotations

import pytest

POSITIVES = {
    "return": """
        def f(path):
            try:
                return int(open(path).read())
            finally:
                return 0
        """,
    "break_in_loop": """
        def f(items):
            for item in items:
                try:
                    item.run()
                finally:
                    break
        """,
    "continue_nested_if": """
        def f(items):
            while items:
                try:
                    items.pop().run()
                finally:
                    if items:
                        continue
        """,
}

NEGATIVES = {
    "break_of_inner_loop": """
        def f(items):
            try:
                items.run()
            finally:
                for i in items:
                    break
        """,
    "return_in_nested_function": """
        def f(items):
            try:
                items.run()
            finally:
                def g():
                    return 1
                items.cb = g
        """,
    "return_after_try": """
        def f(path):
            try:
                value = int(open(path).read())
            finally:
                path.close()
            return value
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_positive(audit, name):
    findings = audit(POSITIVES[name], "return-in-finally")
    assert [f.rule for f in findings] == ["EW116"]
    assert "discards any exception in flight" in findings[0].message


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative(audit, name):
    assert audit(NEGATIVES[name], "EW116") == []
