"""EW109 conflated-errno: `except OSError` that cannot tell EEXIST from EACCES (and friends)."""

from __future__ import annotations

import errno

import pytest

from errwise.audit.rules.ew109_conflated_errno import ERRNO_TABLE

POSITIVES = {
    "lock_link_returns_false": (
        """
        import os
        def create_lock(temp_path, lock_path):
            try:
                os.link(temp_path, lock_path)
                os.unlink(temp_path)
                return True
            except OSError:
                return False
        """,
        "EEXIST",
        "high",
    ),
    "kill_probe_as_liveness": (
        """
        import os
        def alive(pid):
            try:
                os.kill(pid, 0)
            except OSError:
                return False
            return True
        """,
        "ESRCH",
        "high",
    ),
    "o_excl_open_raises_one_error": (
        """
        import os
        class LockBusy(Exception):
            pass
        def take(path):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except IOError:
                raise LockBusy(path)
            return fd
        """,
        "EEXIST",
        "medium",
    ),
    "makedirs_fallback_value": (
        """
        import os
        def claim_dir(path):
            try:
                os.makedirs(path)
                return "claimed"
            except OSError:
                return "taken"
        """,
        "EEXIST",
        "high",
    ),
    "path_mkdir_logged": (
        """
        import logging
        log = logging.getLogger(__name__)
        def claim(workdir):
            try:
                workdir.mkdir()
            except EnvironmentError:
                log.warning("already claimed: %s", workdir)
        """,
        "EEXIST",
        "high",
    ),
}

NEGATIVES = {
    "inspects_errno": """
        import errno, os
        def create_lock(temp_path, lock_path):
            try:
                os.link(temp_path, lock_path)
            except OSError as exc:
                if exc.errno == errno.EEXIST:
                    return False
                raise
            return True
        """,
    "narrower_clause_first": """
        import os
        def alive(pid):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return False
            except OSError:
                return True
            return True
        """,
    "reraises_the_caught_error": """
        import os
        def move(src, dst, log):
            try:
                os.rename(src, dst)
            except OSError as exc:
                log.error("rename failed")
                raise exc
        """,
    "os_open_without_o_excl": """
        import os
        def open_log(path):
            try:
                return os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY)
            except OSError:
                return None
        """,
    "makedirs_exist_ok": """
        import os
        def ensure(path):
            try:
                os.makedirs(path, exist_ok=True)
            except OSError:
                return False
            return True
        """,
    "mkdir_exist_ok": """
        def ensure(workdir):
            try:
                workdir.mkdir(parents=True, exist_ok=True)
            except OSError:
                return False
            return True
        """,
    "hands_error_to_callback": """
        import os, sys
        def remove_dir(path, onerror):
            try:
                os.rmdir(path)
            except OSError:
                onerror(os.rmdir, path, sys.exc_info())
        """,
    "replace_of_own_temp_file": """
        import os
        def write_cache(path, data):
            tmp = path + ".tmp"
            try:
                with open(tmp, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, path)
            except OSError:
                return False
            return True
        """,
    "capability_probe_in_scratch_dir": """
        import os, tempfile
        def links_supported():
            try:
                with tempfile.TemporaryDirectory() as directory:
                    open(os.path.join(directory, "a"), "w").close()
                    os.link(os.path.join(directory, "a"), os.path.join(directory, "b"))
            except OSError:
                return False
            return True
        """,
    "target_removed_just_before": """
        import os
        def dedupe(previous, current):
            try:
                os.unlink(current)
                os.link(previous, current)
            except OSError:
                return False
            return True
        """,
    "string_rename_method_is_not_a_path": """
        def relabel(frame):
            try:
                frame.rename(columns={"a": "b"}, inplace=True)
            except OSError:
                return None
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_positive(audit, name):
    source, errno_name, severity = POSITIVES[name]
    findings = audit(source, "conflated-errno")
    assert [f.rule for f in findings] == ["EW109"], findings
    assert errno_name in findings[0].message
    assert "does not look at errno" in findings[0].message
    assert findings[0].severity.value == severity


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative(audit, name):
    assert audit(NEGATIVES[name], "EW109") == []


def test_rename_fallback_of_seed_is_reported_too(audit):
    findings = audit(
        """
        import os
        def create_lock(temp_path, lock_path):
            try:
                os.link(temp_path, lock_path)
                return True
            except OSError:
                try:
                    os.rename(temp_path, lock_path)
                    return True
                except OSError:
                    os.unlink(temp_path)
                    return False
        """,
        "EW109",
    )
    assert [(f.line, f.severity.value) for f in findings] == [(7, "high"), (11, "critical")]
    assert "os.link" in findings[0].message
    assert "`os.rename()` (line 9)" in findings[1].message
    assert "fallback after the exclusive `os.link()` at line 5" in findings[1].message
    assert "two owners" in findings[1].message


def test_errno_table_names_real_errnos():
    for split in ERRNO_TABLE.values():
        for name in (*split.expected, *split.failures):
            assert isinstance(getattr(errno, name), int), name
        assert split.subclasses


# More shapes of the same defect: the clause answers with a value, skips to the next item, sets a
# flag, or guards an exclusive `open(p, "x")`: EEXIST and EACCES/ENOSPC still look the same.
MORE_SHAPES = {
    "mkdir_continue_in_loop": (
        """
        import os
        def make_all(paths):
            made = []
            for p in paths:
                try:
                    os.mkdir(p)
                except OSError:
                    continue
                made.append(p)
            return made
        """,
        "EEXIST",
    ),
    "kill_sets_a_flag": (
        """
        import os
        def alive(pid):
            running = True
            try:
                os.kill(pid, 0)
            except OSError:
                running = False
            return running
        """,
        "ESRCH",
    ),
    "link_returns_a_value": (
        """
        import os
        def claim(src, dst):
            try:
                os.link(src, dst)
            except OSError:
                return "busy"
            return "mine"
        """,
        "EEXIST",
    ),
    "open_x_mode_is_o_excl": (
        """
        def create(path):
            try:
                with open(path, "x") as fh:
                    fh.write("1")
            except OSError:
                return False
            return True
        """,
        "EEXIST",
    ),
    "path_open_x_mode": (
        """
        def create(path):
            try:
                with path.open("x") as fh:
                    fh.write("1")
            except OSError:
                return False
            return True
        """,
        "EEXIST",
    ),
}

MORE_NEGATIVES = {
    "open_x_file_exists_only": """
        def create(path):
            try:
                with open(path, "x") as fh:
                    fh.write("1")
            except FileExistsError:
                return False
            return True
        """,
    "kill_flag_after_errno_check": """
        import errno, os
        def alive(pid):
            running = True
            try:
                os.kill(pid, 0)
            except OSError as e:
                if e.errno != errno.ESRCH:
                    raise
                running = False
            return running
        """,
    "open_for_writing_is_not_exclusive": """
        def save(path):
            try:
                with open(path, "w") as fh:
                    fh.write("1")
            except OSError:
                return False
            return True
        """,
}


@pytest.mark.parametrize("name", sorted(MORE_SHAPES))
def test_more_shapes(audit, name):
    source, expected = MORE_SHAPES[name]
    findings = audit(source, "conflated-errno")
    assert [f.rule for f in findings] == ["EW109"], findings
    assert expected in findings[0].message
    assert findings[0].severity.value == "high"


@pytest.mark.parametrize("name", sorted(MORE_NEGATIVES))
def test_more_negatives(audit, name):
    assert audit(MORE_NEGATIVES[name], "EW109") == []


# A broad library exception caught for one case: sqlite3.OperationalError is "no such table"
# and also "database is locked" and "disk I/O error"; the message or error code tells them apart.
SQLITE_POSITIVES = {
    "missing_table_returns_empty": (
        """
        import sqlite3
        def rows(conn):
            try:
                return conn.execute("SELECT * FROM meta").fetchall()
            except sqlite3.OperationalError:
                return []
        """,
        "'no such table'",
    ),
    "add_column_migration_passes": (
        """
        from sqlite3 import OperationalError
        def migrate(conn):
            try:
                conn.execute("ALTER TABLE jobs ADD COLUMN owner TEXT")
            except OperationalError:
                pass
        """,
        "'duplicate column name'",
    ),
}

SQLITE_NEGATIVES = {
    "message_checked": """
        import sqlite3
        def rows(conn):
            try:
                return conn.execute("SELECT * FROM meta").fetchall()
            except sqlite3.OperationalError as exc:
                if "no such table" not in str(exc):
                    raise
                return []
        """,
    "error_name_checked": """
        import sqlite3
        def rows(conn):
            try:
                return conn.execute("SELECT * FROM meta").fetchall()
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorname != "SQLITE_ERROR":
                    raise
                return []
        """,
    "reraised": """
        import sqlite3
        def rows(conn, log):
            try:
                return conn.execute("SELECT * FROM meta").fetchall()
            except sqlite3.OperationalError:
                log.debug("query failed")
                raise
        """,
}


@pytest.mark.parametrize("name", sorted(SQLITE_POSITIVES))
def test_library_exception_for_one_case(audit, name):
    source, expected = SQLITE_POSITIVES[name]
    findings = audit(source, "conflated-errno")
    assert [(f.rule, f.severity.value) for f in findings] == [("EW109", "high")], findings
    message = findings[0].message
    assert expected in message
    assert "'database is locked'" in message
    assert "never looks at the message or error code" in message


@pytest.mark.parametrize("name", sorted(SQLITE_NEGATIVES))
def test_library_exception_negative(audit, name):
    assert audit(SQLITE_NEGATIVES[name], "EW109") == []


FLOCK_POSITIVE = """
    import fcntl
    def try_lock(fd):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True
    """

FLOCK_NEGATIVES = {
    "blocking_io_error_only": """
        import fcntl
        def try_lock(fd):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True
        """,
    # the clause waits for the lock with a blocking call: a real failure raises there
    "falls_back_to_a_blocking_lock": """
        import fcntl
        def lock(fd, blocked_cb):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                blocked_cb()
                fcntl.flock(fd, fcntl.LOCK_EX)
        """,
    "blocking_lock_has_no_expected_errno": """
        import fcntl
        def lock(fd):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError:
                return False
            return True
        """,
}


def test_non_blocking_flock_conflated(audit):
    findings = audit(FLOCK_POSITIVE, "conflated-errno")
    assert [(f.rule, f.severity.value) for f in findings] == [("EW109", "high")]
    assert "EAGAIN" in findings[0].message
    assert "another process holds the lock" in findings[0].message
    assert "errwise.FileLock" in findings[0].recommendation


@pytest.mark.parametrize("name", sorted(FLOCK_NEGATIVES))
def test_non_blocking_flock_negative(audit, name):
    assert audit(FLOCK_NEGATIVES[name], "EW109") == []


def test_breaking_the_lock_before_retrying_is_reported(audit):
    # ENOSPC or EACCES is taken for "stale lock": another process's lock is removed first
    source = """
        import os
        def take(tmp, lock):
            try:
                os.link(tmp, lock)
            except OSError:
                os.unlink(lock)
                os.link(tmp, lock)
        """
    findings = audit(source, "EW109")
    assert [f.rule for f in findings] == ["EW109"]
    assert "EEXIST" in findings[0].message


def test_stopping_a_process_and_ignoring_the_failure_is_silent(audit):
    # issue 16 round 2: the process is meant to be gone; ESRCH (it is) and EPERM (the pid is
    # not this user's process) both leave nothing to do
    source = """
        import os, signal
        def kill_tree(pid, children):
            for child in children:
                try:
                    os.kill(child, signal.SIGKILL)
                except OSError:
                    pass
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        """
    assert audit(source, "EW109") == []
    # look-alike: the liveness probe, where EPERM means "alive" and ESRCH "gone"
    probe = source.replace("os.kill(child, signal.SIGKILL)", "os.kill(child, 0)")
    assert [f.rule for f in audit(probe, "EW109")] == ["EW109"]
    # look-alike: the failure decides something (a flag), so the two errnos are conflated
    flagged = source.replace(
        "signal.SIGTERM)\n            except OSError:\n                pass",
        "signal.SIGTERM)\n            except OSError:\n                alive = False",
    )
    assert flagged != source
    assert [f.rule for f in audit(flagged, "EW109")] == ["EW109"]
