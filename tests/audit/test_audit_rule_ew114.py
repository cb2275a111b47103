"""EW114 check-then-use: exists()/isfile() checked, then the same path used — a race."""

from __future__ import annotations

import pytest

POSITIVES = {
    # (was `read_state(path)`: "state" alone does not say another process touches the file —
    # a program's own state file was labelled a theoretical race on real code; a claim is
    # contended by the workers that take it)
    "exists_then_open_early_return": (
        """
        import json, os
        def read_claim(path):
            if not os.path.exists(path):
                return None
            with open(path) as handle:
                return json.load(handle)
        """,
        "`os.path.exists(path)` is checked at line 4, then `open(...)`",
        "medium",
    ),
    "path_exists_then_unlink": (
        """
        def release(lock_path):
            if lock_path.exists():
                lock_path.unlink()
        """,
        "FileNotFoundError",
        "medium",
    ),
    "missing_then_exclusive_create_is_high": (
        """
        import os
        def create_lock(temp_path, lock_path):
            if lock_path.exists():
                return False
            os.link(temp_path, lock_path)
            return True
        """,
        "another process can create it in between",
        "high",
    ),
    # Was a path nothing marks as shared (`ensure(d)`): a race needs another process or thread
    # touching the path, and a maintainer would not act on a private one (now a negative
    # below); the same shape on a shared spool directory is still reported.
    "isdir_else_makedirs": (
        """
        import os.path
        from os import makedirs
        def ensure_spool(d):
            if os.path.isdir(d):
                return d
            else:
                makedirs(d)
        """,
        "fails with FileExistsError",
        "medium",
    ),
    # Was a path nothing marks as shared (`load(p)`): a race needs another process or thread
    # touching the path, and a maintainer would not act on a private one (now a negative
    # below); the same shape on a shared state file is still reported.
    # (was `load_state(p)`, see above: now a path in a spool directory)
    "exists_and_size_then_read": (
        """
        import os
        def load_spool_entry(p):
            if os.path.exists(p) and os.path.getsize(p) > 0:
                return open(p, "rb").read()
            return b""
        """,
        "`os.path.exists(p)` is checked at line 4, then `open(...)` uses the same path at line 5",
        "medium",
    ),
    # Was a path nothing marks as shared (`init(cfg, text)`): a race needs another process or thread
    # touching the path, and a maintainer would not act on a private one (now a negative
    # below); the same shape on a shared lock file is still reported.
    "isfile_then_write_in_else_branch": (
        """
        import os
        def init(lockfile, text):
            if os.path.isfile(lockfile):
                print("keeping", lockfile)
            else:
                with open(lockfile, "w") as out:
                    out.write(text)
        """,
        "overwrite",
        "high",
    ),
    "temp_file_built_from_lock_path": (
        """
        import os
        def heartbeat(lock_path):
            temp_path = lock_path.with_suffix(".tmp")
            if os.path.exists(temp_path):
                os.unlink(temp_path)
        """,
        "FileNotFoundError",
        "medium",
    ),
    "pidfile_attribute_in_class": (
        """
        import os
        class Daemon:
            def stop(self):
                if os.path.exists(self.pidfile):
                    with open(self.pidfile) as fh:
                        return int(fh.read())
        """,
        "`open(...)` uses the same path",
        "medium",
    ),
}

NEGATIVES = {
    # the originals of the renamed positives: paths nothing marks as shared
    "private_directory_created_if_missing": """
        import os.path
        from os import makedirs
        def ensure(d):
            if os.path.isdir(d):
                return d
            else:
                makedirs(d)
        """,
    "private_config_read_if_present": """
        import os
        def load(p):
            if os.path.exists(p) and os.path.getsize(p) > 0:
                return open(p, "rb").read()
            return b""
        """,
    "else_branch_creates_the_missing_config": """
        import os
        def init(cfg, text):
            if os.path.isfile(cfg):
                print("keeping", cfg)
            else:
                with open(cfg, "w") as out:
                    out.write(text)
        """,
    "template_is_not_temp": """
        import os
        def init(template_dir):
            if os.access(template_dir, os.F_OK):
                return os.listdir(template_dir)
        """,
    "lock_in_test_code_fails_the_test": """
        import os
        def test_release(lock_path):
            if os.path.exists(lock_path):
                os.unlink(lock_path)
        """,
    "try_handles_the_race": """
        import os
        def release(lock_path):
            if os.path.exists(lock_path):
                try:
                    os.unlink(lock_path)
                except FileNotFoundError:
                    pass
        """,
    "different_path_used": """
        import os
        def backup(path):
            if os.path.exists(path):
                with open(path + ".bak", "w") as handle:
                    handle.write("x")
        """,
    "path_rebound_before_use": """
        import os
        def pick(path, fallback):
            if not os.path.exists(path):
                path = fallback
                return open(path).read()
        """,
    "create_in_branch_where_it_exists": """
        def touch_again(marker):
            if marker.exists():
                marker.write_text("again")
        """,
    "makedirs_exist_ok": """
        import os
        def ensure(d):
            if not os.path.isdir(d):
                os.makedirs(d, exist_ok=True)
        """,
    "check_result_only_reported": """
        import os
        def describe(path):
            if os.path.exists(path):
                return f"{path} exists"
            return f"{path} missing"
        """,
    "negated_check_in_or_is_ambiguous": """
        import os
        def refresh(p, force, fetch):
            if not os.path.exists(p) or force:
                fetch(p)
        """,
    "and_test_says_nothing_after_early_exit": """
        import os
        def stub(path, compile):
            if compile and os.path.exists(path):
                raise RuntimeError("stub exists")
            with open(path, "w") as handle:
                handle.write("stub")
        """,
    "os_open_creat_without_excl": """
        import os
        def mark(path):
            if not os.path.exists(path):
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY))
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_positive(audit, name):
    source, text, severity = POSITIVES[name]
    findings = audit(source, "check-then-use")
    assert [f.rule for f in findings] == ["EW114"], findings
    assert text in findings[0].message
    assert findings[0].severity.value == severity


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative(audit, name):
    assert audit(NEGATIVES[name], "EW114") == []


def test_reported_at_the_use(audit):
    # `release(p)` named nothing shared (see the positives); `release_lock(p)` does.
    (finding,) = audit(
        """
        import os
        def release_lock(p):
            if os.path.exists(p):
                print("removing")
                os.remove(p)
        """,
        "EW114",
    )
    assert (finding.line, finding.col) == (6, 9)
    assert "handle `FileNotFoundError`" in finding.recommendation


# -- round 2 (issue 16): only a path processes contend for -------------------------------------

PRIVATE_PATHS = {
    # a mkstemp file of this object: nobody else knows its name
    "private_temp_file": """
        import os, tempfile
        class Writer:
            def __init__(self):
                fd, self.tmp_file_path = tempfile.mkstemp()
            def commit(self, target):
                if os.path.isfile(self.tmp_file_path):
                    os.replace(self.tmp_file_path, target)
        """,
    # the program's own socket file, at start-up
    "own_socket_file": """
        import os
        class UnixSocketConfig:
            def create(self):
                if os.path.exists(self.path):
                    os.unlink(self.path)
        """,
    # a class named "shared" is not a contended path
    "shared_in_a_class_name": """
        class SharedLibs:
            def needs_upgrade(self):
                if not self.pip_path.is_file():
                    return True
                return self.pip_path.stat().st_mtime < 0
        """,
    "own_state_file": """
        import os
        def read_install_state(envdir):
            filename = os.path.join(envdir, ".install_state_v1")
            if not os.path.exists(filename):
                return None
            with open(filename) as f:
                return f.read()
        """,
}


@pytest.mark.parametrize("name", sorted(PRIVATE_PATHS))
def test_private_path_is_silent(audit, name):
    assert audit(PRIVATE_PATHS[name], "EW114") == []


def test_temp_file_beside_a_lock_still_fires(audit):
    source = """
        import os
        def refresh(lock_path):
            temp_path = lock_path.with_suffix(".tmp")
            if os.path.exists(temp_path):
                os.unlink(temp_path)
        """
    findings = audit(source, "EW114")
    assert [f.rule for f in findings] == ["EW114"]
