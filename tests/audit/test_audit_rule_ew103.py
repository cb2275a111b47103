"""EW103 silent-fallback: seed 004 HIGH-1 (DEFAULT_BRANCH) and other shapes; negatives."""

from __future__ import annotations

import pytest

POSITIVES = {
    # seed HIGH-1: swallow, then fall through to an unchecked module constant
    "falls_through_to_default_branch": (
        """
        import subprocess
        DEFAULT_BRANCH = "main"
        def git_default_branch(root):
            try:
                r = subprocess.run(["git", "symbolic-ref", "refs/remotes/origin/HEAD"],
                                   cwd=root, capture_output=True, text=True, timeout=10)
                if r.returncode == 0:
                    return r.stdout.strip().split("/")[-1]
            except Exception:
                pass
            for branch in ("main", "master"):
                if branch_exists(root, branch):
                    return branch
            return DEFAULT_BRANCH
        """,
        "DEFAULT_BRANCH",
        "fall through",
    ),
    "handler_returns_literal": (
        """
        import json
        def load_state(path):
            try:
                return json.loads(path.read_text())["state"]
            except Exception:
                return "pending"
        """,
        '"pending"',
        "returns",
    ),
    "handler_assigns_default_the_try_computed": (
        """
        import locale
        def encoding():
            try:
                enc = locale.getencoding()
            except (OSError, RuntimeError):
                enc = "utf-8"
            return enc.lower()
        """,
        '"utf-8"',
        "sets `enc`",
    ),
    "attribute_constant": (
        """
        def timeout_for(settings):
            try:
                return float(settings.read("timeout"))
            except OSError:
                return config.DEFAULT_TIMEOUT
        """,
        "config.DEFAULT_TIMEOUT",
        "returns",
    ),
}

NEGATIVES = {
    # a documented fallback for one specific condition
    "specific_expected_condition": """
        DEFAULTS = {"jobs": 1}
        def read_config(path):
            try:
                return parse(path.read_text())
            except FileNotFoundError:
                return DEFAULTS
        """,
    # the default is validated before it is returned
    "default_checked": """
        DEFAULT_BRANCH = "main"
        def default_branch(root):
            try:
                r = run(["git", "symbolic-ref", "HEAD"], cwd=root)
                if r.returncode == 0:
                    return r.stdout.strip()
            except Exception:
                pass
            if not branch_exists(root, DEFAULT_BRANCH):
                raise LookupError("no default branch")
            return DEFAULT_BRANCH
        """,
    # a failure flag, not a default
    "flag_false": """
        def probe(path):
            try:
                path.stat()
                ok = True
            except OSError:
                ok = False
            return ok
        """,
    # logged: not silent (lost-traceback judges it)
    "logged_fallback": """
        import logging
        log = logging.getLogger(__name__)
        def timeout(settings):
            try:
                return float(settings["timeout"])
            except Exception as exc:
                log.warning("bad timeout %s, using 30", exc)
                return 30.0
        """,
    # __repr__ must never raise: a placeholder there is right
    "repr_placeholder": """
        class Sem:
            def __repr__(self):
                try:
                    value = self._lock.get_value()
                except Exception:
                    value = "unknown"
                return f"<Sem value={value}>"
        """,
    # an error code the caller checks, not a plausible answer
    "int_error_code": """
        def compare(a, b):
            try:
                return int(cmp(a, b))
            except OSError:
                return 2
        """,
    # the fallback value is examined before it is used
    "examined_after": """
        import os
        def read_record(fd, expected):
            try:
                raw = os.read(fd, len(expected) + 1)
            except OSError:
                raw = b""
            if raw and raw == expected:
                return True
            return parse_slowly(fd)
        """,
    # a visible placeholder says it is not an answer
    "placeholder": """
        import os
        def load_text():
            try:
                return " ".join(f"{v:.2f}" for v in os.getloadavg())
            except OSError:
                return "unknown"
        """,
    # None is absence, not a default
    "returns_none": """
        def maybe_pid(path):
            try:
                return int(path.read_text())
            except OSError:
                return None
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_positive(audit, name):
    source, value, how = POSITIVES[name]
    findings = audit(source, "silent-fallback")
    assert [f.rule for f in findings] == ["EW103"], findings
    assert f"default `{value}`" in findings[0].message
    assert how in findings[0].message
    assert findings[0].severity.value == "high"


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative(audit, name):
    assert audit(NEGATIVES[name], "EW103") == []


def test_claims_over_swallowed_exception(audit):
    findings = audit(POSITIVES["falls_through_to_default_branch"][0])
    assert [f.rule for f in findings if f.line == 10] == ["EW103"], findings


# -- a broken setting dropped without a word (issue: missed defects) ----------------------------

MALFORMED = {
    "env_value_not_a_number": (
        """
        import os
        DEFAULT_TTL = 3600
        def ttl():
            try:
                return int(os.environ["CACHE_TTL"])
            except ValueError:
                return DEFAULT_TTL
        """,
        "DEFAULT_TTL",
    ),
    "broken_config_file": (
        """
        class ConfigError(Exception):
            pass
        def load_settings(path):
            try:
                return parse_config(path)
            except ConfigError:
                return {}
        """,
        "{}",
    ),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_input_fallback_fires(audit, name):
    source, value = MALFORMED[name]
    findings = audit(source)
    assert [f.rule for f in findings] == ["EW103"], findings
    assert f"default `{value}`" in findings[0].message


DOCUMENTED = {
    "default_parameter": """
        import os
        def ttl(default=3600):
            try:
                return int(os.environ["CACHE_TTL"])
            except ValueError:
                return default
        """,
    "docstring_documents_the_fallback": """
        import os
        DEFAULT_TTL = 3600
        def ttl():
            \"\"\"Seconds to keep entries: DEFAULT_TTL if CACHE_TTL is not a number.\"\"\"
            try:
                return int(os.environ["CACHE_TTL"])
            except ValueError:
                return DEFAULT_TTL
        """,
    "missing_file_is_absence": """
        def load_settings(path):
            try:
                return parse_config(path)
            except FileNotFoundError:
                return {}
        """,
    "value_not_from_outside": """
        DEFAULT_PORT = 8080
        def port(text):
            try:
                return int(text)
            except ValueError:
                return DEFAULT_PORT
        """,
}


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_documented_or_expected_fallback_is_silent(audit, name):
    assert audit(DOCUMENTED[name], "EW103") == []
