"""EW123 cleanup-stops-at-first-failure: cleanup methods whose failing early step leaks the
resources after it, and look-alikes whose steps are guarded, cannot fail in practice, or release
one resource only."""

from __future__ import annotations

import pytest

POSITIVES = {
    "flush_then_other_resources_with_closed_flag": (
        """
        class Session:
            def close(self):
                if self._closed:
                    return
                self._closed = True
                self.log.flush()
                self.sock.close()
                self.proc.terminate()
        """,
        "if `self.log.flush()` raises",
        "medium",
    ),
    "file_removal_then_thread_and_connection": (
        """
        import os
        class Proxy:
            def close(self):
                os.remove(self._file)
                os.rmdir(self._dir)
                self.thread.join()
                self.conn.close()
        """,
        "`os.remove(self._file)`",
        "low",
    ),
    "socket_shutdown_then_other_socket": (
        """
        import socket
        class Bridge:
            def shutdown(self):
                self.upstream.shutdown(socket.SHUT_RDWR)
                self.downstream.close()
        """,
        "peer already went away",
        "low",
    ),
    "popen_wait_with_timeout_then_log_file": (
        """
        import subprocess
        class Runner:
            def __init__(self, cmd):
                self.proc = subprocess.Popen(cmd)
                self.log = open("run.log", "w")
            def stop(self):
                self.proc.terminate()
                self.proc.wait(timeout=5)
                self.log.close()
        """,
        "`TimeoutExpired`",
        "low",
    ),
    "written_file_closed_before_lock_removal": (
        """
        import os
        class Journal:
            def __init__(self, path):
                self.fh = open(path, "a")
            def __exit__(self, *exc):
                self.fh.close()
                os.unlink(self.lock)
        """,
        "file opened for writing",
        "low",
    ),
    "helper_of_the_class_that_removes_a_file": (
        """
        import shutil
        class Workspace:
            def _remove_tree(self):
                shutil.rmtree(self.root)
            def cleanup(self):
                self._remove_tree()
                self.server.close()
        """,
        "it runs `shutil.rmtree(self.root)`",
        "low",
    ),
    "smtp_quit_then_attachment": (
        """
        import smtplib
        class Mailer:
            def __init__(self, host):
                self.smtp = smtplib.SMTP(host, timeout=10)
            def close(self):
                self.smtp.quit()
                self.spool.close()
        """,
        "connection already dropped",
        "low",
    ),
    "loop_of_removals_then_socket": (
        """
        import os
        class Cache:
            def close(self):
                for path in self.temp_files:
                    os.unlink(path)
                self.sock.close()
        """,
        "`os.unlink(path)`",
        "low",
    ),
    "state_constant_set_first": (
        """
        class Channel:
            def close(self):
                self._state = State.CLOSED
                self.buffer.flush()
                self.transport.close()
        """,
        "`self._state` is set before the steps",
        "medium",
    ),
    "removal_in_a_branch_then_a_later_step": (
        """
        import os
        class Session:
            def close(self):
                if self.owner:
                    os.unlink(self.lock)
                else:
                    self.log.write("not the owner")
                self.sock.close()
        """,
        "`os.unlink(self.lock)`",
        "low",
    ),
    "steps_inside_a_lock": (
        """
        import os
        class Store:
            def close(self):
                with self._lock:
                    os.unlink(self.pid_file)
                    self.db.close()
        """,
        "`os.unlink(self.pid_file)`",
        "low",
    ),
    "checked_command_then_directory": (
        """
        import shutil, subprocess
        class Mount:
            def cleanup(self):
                subprocess.check_call(["umount", self.point])
                shutil.rmtree(self.scratch)
        """,
        "`CalledProcessError`",
        "low",
    ),
    "member_of_a_class_whose_close_removes_a_file": (
        """
        import os
        class Spool:
            def __init__(self, path):
                self.path = path
            def close(self):
                os.unlink(self.path)
        class Sender:
            def __init__(self, path, sock):
                self.spool = Spool(path)
                self.sock = sock
            def close(self):
                self.spool.close()
                self.sock.close()
        """,
        "`Spool.close()` runs `os.unlink(self.path)`",
        "low",
    ),
}

NEGATIVES = {
    "guarded_by_try_finally": """
        class Session:
            def close(self):
                try:
                    self.log.flush()
                finally:
                    self.sock.close()
        """,
    "exit_stack": """
        import contextlib, os
        class Session:
            def close(self):
                with contextlib.ExitStack() as stack:
                    stack.callback(self.sock.close)
                    os.unlink(self.lock)
                    self.sock.close()
        """,
    "suppress_around_the_steps": """
        import contextlib, os
        class Session:
            def close(self):
                with contextlib.suppress(OSError):
                    os.unlink(self.lock)
                    self.sock.close()
        """,
    "plain_closes_of_unknown_kind_rarely_raise": """
        class Client:
            def close(self):
                self._closed = True
                self.transport.close()
                self.agent.close()
                self.proc.terminate()
                self.thread.join()
        """,
    "flush_then_close_of_the_same_file": """
        class Writer:
            def close(self):
                self.fh.flush()
                self.fh.close()
        """,
    "flush_of_a_part_then_the_whole": """
        class Pipe:
            def close(self):
                self.proc.stdin.flush()
                self.proc.terminate()
        """,
    "unlink_missing_ok_first": """
        class Lock:
            def release(self):
                self.path.unlink(missing_ok=True)
                self.fd.close()
        """,
    "rmtree_ignore_errors_first": """
        import shutil
        class Workspace:
            def cleanup(self):
                shutil.rmtree(self.root, ignore_errors=True)
                self.server.close()
        """,
    "not_a_cleanup_method": """
        import os
        class Session:
            def save(self):
                self.log.flush()
                os.unlink(self.lock)
        """,
    "failing_step_is_the_last": """
        import os
        class Session:
            def close(self):
                self.sock.close()
                os.unlink(self.lock)
        """,
    "event_wait_with_timeout_is_not_a_process": """
        import threading
        class Worker:
            def __init__(self):
                self.done = threading.Event()
            def stop(self):
                self.done.wait(5)
                self.sock.close()
        """,
    "read_only_file_close_first": """
        import os
        class Reader:
            def __init__(self, path):
                self.fh = open(path)
            def close(self):
                self.fh.close()
                os.unlink(self.lock)
        """,
    "ftp_like_quit_on_unknown_object": """
        class App:
            def shutdown(self):
                self.ui.quit()
                self.db.close()
        """,
    "steps_in_exclusive_branches": """
        import os
        class Session:
            def close(self):
                if self.owner:
                    os.unlink(self.lock)
                else:
                    self.sock.close()
        """,
    "unchecked_command_first": """
        import shutil, subprocess
        class Mount:
            def cleanup(self):
                subprocess.run(["umount", self.point])
                shutil.rmtree(self.scratch)
        """,
    "member_of_a_class_whose_close_cannot_fail": """
        class Spool:
            def close(self):
                self.buffer = None
                self.sock.close()
        class Sender:
            def __init__(self, sock):
                self.spool = Spool()
                self.sock = sock
            def close(self):
                self.spool.close()
                self.sock.close()
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_positive(audit, name):
    source, text, severity = POSITIVES[name]
    findings = audit(source, "cleanup-stops-at-first-failure")
    assert [(f.rule, f.name) for f in findings] == [("EW123", "cleanup-stops-at-first-failure")], (
        findings
    )
    assert text in findings[0].message, findings[0].message
    assert findings[0].severity.value == severity
    assert "ExitStack" in findings[0].recommendation


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative(audit, name):
    assert audit(NEGATIVES[name], "EW123") == []


def test_message_names_what_is_skipped_and_the_second_close(audit):
    (finding,) = audit(POSITIVES["flush_then_other_resources_with_closed_flag"][0], "EW123")
    assert "`self.sock.close()`, `self.proc.terminate()` never run" in finding.message
    assert "a second `close()` returns at once" in finding.message


def test_a_flag_set_without_an_early_return_makes_no_claim_of_a_second_close(audit):
    (finding,) = audit(
        """
        class Session:
            def close(self):
                self._closed = True
                self.log.flush()
                self.sock.close()
        """,
        "EW123",
    )
    assert "`self._closed` is set before the steps" in finding.message
    assert "second" not in finding.message


def test_a_list_set_before_is_not_a_closed_flag(audit):
    (finding,) = audit(
        """
        class Session:
            def close(self):
                self._open_files = []
                self.log.flush()
                self.sock.close()
        """,
        "EW123",
    )
    assert finding.severity.value == "low"
    assert "is set before" not in finding.message


def test_documentation_profile_and_own_example(audit):
    from errwise.audit.rules import all_rules

    (rule,) = [r for r in all_rules() if r.id == "EW123"]
    assert rule.name == "cleanup-stops-at-first-failure"
    assert rule.profile == "strict"
    doc = rule.doc_markdown()
    for heading in ("## What it finds", "## Why it hurts", "## Example", "## Fix"):
        assert heading in doc
    assert "ExitStack" in rule.fix
    assert "errwise." in rule.fix
    assert "Deliberately not reported" in rule.what
    assert [f.rule for f in audit(rule.example, "EW123")] == ["EW123"]


def test_test_code_is_not_reported(audit):
    source = POSITIVES["file_removal_then_thread_and_connection"][0]
    assert audit(source, "EW123", path="tests/test_proxy.py") == []
    assert len(audit(source, "EW123", path="pkg/proxy.py")) == 1
