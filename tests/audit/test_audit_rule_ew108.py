"""EW108 ignored-error-result: dropped subprocess results and failure-signalling helpers."""

from __future__ import annotations

import ast
import textwrap

import pytest

from errwise.audit.model import FileModel
from errwise.audit.rules.ew108_ignored_error_result import (
    FailureSignal,
    check_with,
    failure_signalling_functions,
)

POSITIVES = {
    "run_without_check_dropped": (
        """
        import subprocess
        def prune(root):
            subprocess.run(["git", "worktree", "prune"], cwd=root, timeout=30)
        """,
        "high",
        "drops the `CompletedProcess`",
    ),
    "alias_check_false_stdout_only": (
        """
        from subprocess import run as sh
        def branch(root):
            r = sh(["git", "branch", "--show-current"], cwd=root, check=False,
                   capture_output=True, text=True, timeout=10)
            return r.stdout.strip()
        """,
        "high",
        "never reads its return code",
    ),
    "os_system": (
        """
        import os
        def page(path):
            os.system("less " + path)
        """,
        "high",
        "drops the exit status",
    ),
    # seed HIGH-3: a wrapper told not to raise, its result dropped
    "wrapper_check_false": (
        """
        def drop_branch(root, branch):
            run_command(["git", "branch", "-D", branch], cwd=root, check=False)
        """,
        "high",
        "(`check=False`)",
    ),
    # seed CRITICAL-2: the heartbeat helper returns False on failure; the caller drops it
    "sentinel_helper_dropped": (
        """
        import os
        def update_heartbeat(lock):
            if not lock.exists():
                return False
            try:
                os.utime(lock)
                return True
            except Exception:
                return False

        def tick(lock):
            update_heartbeat(lock)
        """,
        "critical",
        "`update_heartbeat()` reports failure",
    ),
    "bool_method_via_self": (
        """
        import subprocess
        class Worktree:
            def cleanup(self) -> bool:
                try:
                    subprocess.run(["git", "worktree", "remove", self.path],
                                   check=True, timeout=60)
                    return True
                except subprocess.CalledProcessError as e:
                    print(f"cleanup failed: {e}")
                    return False

            def close(self):
                self.cleanup()
        """,
        "high",
        "`self.cleanup()` reports failure",
    ),
}

NEGATIVES = {
    "check_true": """
        import subprocess
        def prune(root):
            subprocess.run(["git", "worktree", "prune"], cwd=root, check=True, timeout=30)
        """,
    "returncode_read": """
        import subprocess
        def has_branch(root, name):
            r = subprocess.run(["git", "rev-parse", name], cwd=root, timeout=10)
            return r.returncode == 0
        """,
    "result_returned": """
        import subprocess
        def run(cmd):
            return subprocess.run(cmd, timeout=10)
        """,
    "os_system_status_checked": """
        import os
        def page(path):
            if os.system("less " + path) != 0:
                raise OSError("pager failed")
        """,
    # the helper's False answers "was not there": an expected condition, not a failure
    "expected_condition_helper": """
        class Loop:
            def remove_reader(self, fd) -> bool:
                try:
                    del self._readers[fd]
                except KeyError:
                    return False
                return True

            def close(self, fd):
                self.remove_reader(fd)
        """,
    "helper_result_checked": """
        import os
        def take_lock(path):
            if os.path.exists(path):
                return False
            try:
                os.mkdir(path)
                return True
            except OSError:
                return False

        def main(path):
            if not take_lock(path):
                raise SystemExit(1)
        """,
    "kwargs_may_carry_check": """
        import subprocess
        def run(cmd, **kw):
            subprocess.run(cmd, timeout=10, **kw)
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_positive(audit, name):
    source, severity, text = POSITIVES[name]
    findings = audit(source, "ignored-error-result")
    assert [f.rule for f in findings] == ["EW108"], findings
    assert findings[0].severity.value == severity
    assert text in findings[0].message


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative(audit, name):
    assert audit(NEGATIVES[name], "EW108") == []


def _model(source: str) -> FileModel:
    text = textwrap.dedent(source)
    return FileModel.build(ast.parse(text), "m.py", text)


def test_failure_signalling_facts_of_a_module():
    model = _model(POSITIVES["sentinel_helper_dropped"][0])
    facts = failure_signalling_functions(model)
    assert list(facts) == ["update_heartbeat"]
    assert facts["update_heartbeat"].state_changing
    assert "returns `False`" in facts["update_heartbeat"].how


def test_facts_from_another_module_can_be_fed_in():
    # a later cross-module pass knows that helpers.create_lock signals failure by value
    model = _model(
        """
        from helpers import create_lock
        def take(path):
            create_lock(path)
        """
    )
    assert list(check_with(model, {})) == []
    known = {"helpers.create_lock": FailureSignal("helpers.create_lock", "returns `False`", True)}
    findings = list(check_with(model, known))
    assert [(f.rule, f.line, f.severity.value) for f in findings] == [("EW108", 4, "critical")]


# Across modules: the helper lives in a plain top-level module of the audited tree
# (`from locking import try_lock`), not only inside a package.
LOCKING = """
import os

def try_lock(path) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except OSError:
        return False
    os.close(fd)
    return True

def lock_exists(path) -> bool:
    return os.path.exists(path)
"""


def _audit_with(modules: dict[str, str], module: str) -> list:
    from errwise.audit.config import AuditConfig
    from errwise.audit.engine import analyze_source, summarize_source
    from errwise.audit.infer import Program

    files = {
        name: (f"{name.replace('.', '/')}.py", textwrap.dedent(src))
        for name, src in modules.items()
    }
    program = Program(
        [summarize_source(src, path, None, name) for name, (path, src) in files.items()]
    )
    path, source = files[module]
    config = AuditConfig(select=frozenset({"EW108"}))
    return analyze_source(source, path, config, module_name=module, program=program).findings


CROSS_MODULE_POSITIVES = {
    "from_import": """
        from locking import try_lock
        def run(p):
            try_lock(p)
        """,
    "module_import": """
        import locking
        def run(p):
            locking.try_lock(p)
        """,
}

CROSS_MODULE_NEGATIVES = {
    "result_checked": """
        from locking import try_lock
        def run(p):
            if not try_lock(p):
                raise SystemExit("locked")
        """,
    "plain_predicate_dropped": """
        from locking import lock_exists
        def run(p):
            lock_exists(p)
        """,
    "stdlib_call_dropped": """
        import os
        def run(p):
            os.path.exists(p)
        """,
}


@pytest.mark.parametrize("name", sorted(CROSS_MODULE_POSITIVES))
def test_bool_helper_of_another_module_dropped(name):
    findings = _audit_with({"locking": LOCKING, "main": CROSS_MODULE_POSITIVES[name]}, "main")
    assert [(f.rule, f.line, f.severity.value) for f in findings] == [("EW108", 4, "critical")]
    message = findings[0].message
    assert "`try_lock()` (from `locking`)" in message
    assert "returns `False` from `except OSError` in `locking` at line 8" in message


@pytest.mark.parametrize("name", sorted(CROSS_MODULE_NEGATIVES))
def test_bool_helper_of_another_module_negative(name):
    assert _audit_with({"locking": LOCKING, "main": CROSS_MODULE_NEGATIVES[name]}, "main") == []


def test_helper_of_another_module_unknown_when_audited_alone(audit):
    # without the other file, nothing is known about `try_lock`: no claim
    assert audit(CROSS_MODULE_POSITIVES["from_import"], "EW108") == []


# `None` as the failure value of a function with no `except` at all, used unchecked by a caller.
NONE_POSITIVES = {
    "unsupported_algorithm_request_without_credentials": (
        """
        import requests
        def build_auth(algo, user, password):
            if algo == "basic":
                return ("basic", user, password)
            if algo == "digest":
                return ("digest", user, password)
            return None

        def fetch(url, algo, user, password):
            auth = build_auth(algo, user, password)
            return requests.get(url, auth=auth, timeout=5)
        """,
        "`build_auth()` returns `None` when no case matches (line 8)",
        "runs with `auth=None`",
    ),
    "unsupported_value_attribute_access": (
        """
        def load_codec(name):
            if name not in CODECS:
                return None
            return CODECS[name]()

        def decode(name, data):
            return load_codec(name).decode(data)
        """,
        "returns `None` for an unsupported value (line 4)",
        "'NoneType' object has no attribute 'decode'",
    ),
    "warning_then_none_result_attribute": (
        """
        import logging
        log = logging.getLogger(__name__)
        def find(items, key):
            for item in items:
                if item.key == key:
                    return item
            log.warning("no item %s", key)
            return None

        def value_of(items):
            found = find(items, "a")
            return found.value
        """,
        "after logging a warning (line 9)",
        "`found.value` (line 13)",
    ),
}

NONE_NEGATIVES = {
    "caller_checks_is_none": """
        import requests
        def build_auth(algo, user, password):
            if algo == "basic":
                return ("basic", user, password)
            if algo == "digest":
                return ("digest", user, password)
            return None

        def fetch(url, algo, user, password):
            auth = build_auth(algo, user, password)
            if auth is None:
                raise ValueError(f"unsupported auth algorithm {algo!r}")
            return requests.get(url, auth=auth, timeout=5)
        """,
    "documented_not_found_tested_by_truthiness": """
        import logging
        log = logging.getLogger(__name__)
        def find(items, key):
            '''The item with this key, or None when there is none.'''
            for item in items:
                if item.key == key:
                    return item
            log.warning("no item %s", key)
            return None

        def value_of(items):
            found = find(items, "a")
            return found.value if found else 0
        """,
    "none_passed_through": """
        def parse(text):
            if not text:
                return None
            return text.split()

        def first_word(text):
            return parse(text)[0]
        """,
    "raises_instead": """
        def load_codec(name):
            if name not in CODECS:
                raise LookupError(name)
            return CODECS[name]()

        def decode(name, data):
            return load_codec(name).decode(data)
        """,
    "use_guarded_by_attribute_error": """
        def load_codec(name):
            if name not in CODECS:
                return None
            return CODECS[name]()

        def decode(name, data):
            try:
                return load_codec(name).decode(data)
            except AttributeError:
                raise LookupError(name) from None
        """,
}


@pytest.mark.parametrize("name", sorted(NONE_POSITIVES))
def test_none_failure_value_used_unchecked(audit, name):
    source, how, use = NONE_POSITIVES[name]
    findings = audit(source, "ignored-error-result")
    assert [(f.rule, f.severity.value) for f in findings] == [("EW108", "high")], findings
    assert how in findings[0].message
    assert use in findings[0].message


@pytest.mark.parametrize("name", sorted(NONE_NEGATIVES))
def test_none_failure_value_negative(audit, name):
    assert audit(NONE_NEGATIVES[name], "EW108") == []


AUTH = """
def build_auth(algo, user, password):
    if algo == "basic":
        return ("basic", user, password)
    if algo == "digest":
        return ("digest", user, password)
    return None
"""


def test_none_failure_of_another_module_used_unchecked():
    client = """
        import requests
        from auth import build_auth
        def fetch(url, algo, user, password):
            auth = build_auth(algo, user, password)
            return requests.get(url, auth=auth, timeout=5)
        """
    findings = _audit_with({"auth": AUTH, "client": client}, "client")
    assert [(f.rule, f.line, f.severity.value) for f in findings] == [("EW108", 5, "high")]
    message = findings[0].message
    assert "`build_auth()` (from `auth`) returns `None` when no case matches" in message
    assert "runs with `auth=None`" in message


def test_none_failure_of_another_module_checked_is_silent():
    client = """
        import requests
        from auth import build_auth
        def fetch(url, algo, user, password):
            auth = build_auth(algo, user, password)
            if auth is None:
                raise ValueError(f"unsupported auth algorithm {algo!r}")
            return requests.get(url, auth=auth, timeout=5)
        """
    assert _audit_with({"auth": AUTH, "client": client}, "client") == []


def test_none_failure_used_in_a_test_is_silent(audit):
    source = NONE_POSITIVES["unsupported_value_attribute_access"][0]
    assert audit(source, "EW108", path="tests/test_codec.py") == []


def test_none_by_falling_off_a_dispatch(audit):
    source = """
        def get_hasher(algo):
            if algo == "sha256":
                return make_sha()
            elif algo == "md5":
                return make_md5()

        def digest(algo, data):
            return get_hasher(algo).update(data)
        """
    findings = audit(source, "EW108")
    assert [(f.rule, f.line) for f in findings] == [("EW108", 9)]
    assert "when no case matches, by falling off the end (line 6)" in findings[0].message


def test_dispatch_with_an_else_does_not_fall_off(audit):
    source = """
        def get_hasher(algo):
            if algo == "sha256":
                return make_sha()
            else:
                return make_md5()

        def digest(algo, data):
            return get_hasher(algo).update(data)
        """
    assert audit(source, "EW108") == []


# -- round 2 (issue 16): a read-only display shown to the user -----------------------------------


def test_git_diff_shown_to_the_user_is_silent(audit):
    source = """
        import subprocess
        def show_changes(color):
            subprocess.call(("git", "--no-pager", "diff", "--no-ext-diff", f"--color={color}"))
        """
    assert audit(source, "EW108") == []


def test_state_changing_git_call_still_fires(audit):
    source = """
        import subprocess
        def drop_branch(name):
            subprocess.call(("git", "branch", "-D", name))
        """
    assert [f.rule for f in audit(source, "EW108")] == ["EW108"]


def test_captured_git_diff_still_fires(audit):
    # captured: nobody sees git's error, and the empty output reads as "no changes"
    source = """
        import subprocess
        def changes():
            subprocess.run(["git", "diff"], capture_output=True)
        """
    assert [f.rule for f in audit(source, "EW108")] == ["EW108"]
