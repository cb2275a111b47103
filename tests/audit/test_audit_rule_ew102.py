"""EW102 error-as-sentinel: seed 004 CRITICAL-2/3 and HIGH-4 shapes, and look-alike negatives."""

from __future__ import annotations

import pytest

POSITIVES = {
    # seed CRITICAL-3: (False, None) for "no lock" and for "cannot read the lock"
    "tuple_false_none_lock_check": (
        """
        import logging, os
        logger = logging.getLogger(__name__)
        def check_lock_validity(lock_path):
            if not lock_path.exists():
                return False, None
            try:
                meta = dict(l.split(": ", 1) for l in lock_path.read_text().splitlines())
                os.kill(int(meta["PID"]), 0)
                return True, meta
            except (OSError, ValueError) as e:
                logger.error(f"Error parsing lock metadata: {type(e).__name__}: {e}")
                return False, None
        """,
        "critical",
        "(False, None)",
    ),
    # seed CRITICAL-2: heartbeat returns False both for "no lock" and for a failed write
    "bool_heartbeat": (
        """
        import os
        def update_lock_heartbeat(lock_path):
            if not lock_path.exists():
                return False
            tmp = str(lock_path) + ".tmp"
            try:
                with open(tmp, "w") as f:
                    f.write("beat")
                os.replace(tmp, lock_path)
                return True
            except Exception as e:
                print(f"Failed to update heartbeat: {e}")
                return False
        """,
        "critical",
        "False",
    ),
    # a value function whose "not found" is an implicit None at the end
    "none_falls_off_end": (
        """
        import subprocess
        def git_version():
            try:
                out = subprocess.check_output(["git", "--version"], text=True, timeout=5)
            except Exception:
                return None
            if out.startswith("git version"):
                return out.split()[2]
        """,
        "high",
        "None",
    ),
    # -> bool: a computed normal-path result can be False as well
    "annotated_bool_computed": (
        """
        import subprocess
        def branch_exists(root, name) -> bool:
            try:
                r = subprocess.run(["git", "rev-parse", "--verify", name], cwd=root,
                                   capture_output=True, timeout=10)
                return r.returncode == 0
            except OSError:
                return False
        """,
        "high",
        "False",
    ),
    "empty_dict_config": (
        """
        import json
        def load_settings(path):
            if not path.name.endswith(".json"):
                return {}
            try:
                return json.loads(path.read_text())
            except Exception:
                return {}
        """,
        "high",
        "{}",
    ),
}

NEGATIVES = {
    # False only on failure: a success flag, not a collision (ignored-error-result's business)
    "false_only_on_failure": """
        import os
        def remove_lock(path):
            try:
                os.unlink(path)
                return True
            except OSError:
                return False
        """,
    # a specific expected condition: None *is* the answer
    "expected_condition": """
        def read_config(path):
            if path is None:
                return None
            try:
                return path.read_text()
            except FileNotFoundError:
                return None
        """,
    # the error is kept: Err(...) and a message carrying the exception
    "err_value": """
        def check_lock(path):
            if not path.exists():
                return Ok(None)
            try:
                return Ok(path.read_text())
            except OSError as exc:
                return Err(exc)
        """,
    # logged with the traceback: handled by definition
    "logged_with_traceback": """
        import logging
        log = logging.getLogger(__name__)
        def size(path):
            if not path:
                return -1
            try:
                return path.stat().st_size
            except OSError:
                log.exception("cannot stat %s", path)
                return -1
        """,
    # a procedure: its callers use no value
    "procedure": """
        import os
        def tidy(path):
            if not path:
                return None
            try:
                os.unlink(path)
            except OSError:
                return None
            print("removed")
        """,
    # a boundary: 2 is an exit status both for a usage error and other failures
    "boundary_exit_status": """
        import getopt, sys
        def main(argv):
            try:
                opts, args = getopt.getopt(argv, "v")
            except getopt.error as err:
                print(err, file=sys.stderr)
                return 2
            if not args:
                return 2
            return 0
        """,
    # a predicate: "could not tell" is, by design, "no"
    "predicate": """
        import os
        def is_mount(path):
            try:
                st = os.lstat(path)
            except OSError:
                return False
            if st.st_dev == 0:
                return False
            return True
        """,
    # a narrow clause whose choice is documented where it is made
    "documented_choice": """
        import os
        def pidfd(pid):
            opener = getattr(os, "pidfd_open", None)
            if opener is None:
                return None
            try:
                fd = opener(pid)
            except OSError:
                return None  # kernel without pidfd (ENOSYS) or sandboxed (EPERM): poll instead
            return fd
        """,
    # reported through the component's error channel
    "error_channel": """
        class Handler:
            def send_head(self, path):
                if path.endswith("/"):
                    self.send_error(404, "File not found")
                    return None
                try:
                    f = open(path, "rb")
                except OSError:
                    self.send_error(404, "File not found")
                    return None
                return f
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_positive(audit, name):
    source, severity, value = POSITIVES[name]
    findings = audit(source, "error-as-sentinel")
    assert [f.rule for f in findings] == ["EW102"], findings
    finding = findings[0]
    assert finding.severity.value == severity
    assert f"returns `{value}`" in finding.message
    assert "Err(" in finding.recommendation


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative(audit, name):
    assert audit(NEGATIVES[name], "EW102") == []


def test_message_names_the_normal_path_line(audit):
    findings = audit(POSITIVES["bool_heartbeat"][0], "EW102")
    assert "normal path returns at line 5" in findings[0].message


def test_claims_the_clause_over_lost_traceback(audit):
    # lost-traceback (15) and broad-catch (10) would also judge this clause; sentinel (40) wins
    findings = audit(POSITIVES["bool_heartbeat"][0])
    on_handler = [f for f in findings if f.line == 12]
    assert [f.rule for f in on_handler] == ["EW102"], findings


def test_nested_fallback_judged_once(audit):
    source = """
        import os
        def create_lock(tmp, lock):
            if lock.exists():
                return False
            try:
                os.link(tmp, lock)
                return True
            except OSError:
                try:
                    os.rename(tmp, lock)
                    return True
                except OSError:
                    return False
        """
    findings = audit(source, "EW102")
    assert [f.line for f in findings] == [13]
