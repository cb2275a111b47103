"""EW118 non-atomic-state-change: write in place + remove/move, with nothing atomic or undoable."""

from __future__ import annotations

import pytest

POSITIVES = {
    "seed_move_then_rewrite_status": (
        """
        import shutil, yaml
        def start(wo_id, pending, running):
            shutil.move(pending / f"{wo_id}.yaml", running / f"{wo_id}.yaml")
            with open(running / f"{wo_id}.yaml", "w") as handle:
                yaml.safe_dump({"status": "running"}, handle)
        """,
        "high",
        "the move at line 4 has already happened",
    ),
    "write_new_then_unlink_old": (
        """
        def migrate(new_path, old_path, text):
            new_path.write_text(text)
            old_path.unlink()
        """,
        "medium",
        "the new file and the old path both exist",
    ),
    "remove_then_write_json": (
        """
        import json, os
        def reset(state_file, cache_file, state):
            os.remove(cache_file)
            json.dump(state, open(state_file, "w"))
        """,
        "high",
        "the removal at line 4 has already happened",
    ),
    "rename_method_then_write_bytes": (
        """
        def rotate(log, archive, header):
            log.rename(archive)
            log.write_bytes(header)
        """,
        "high",
        "`log.write_bytes(…)`",
    ),
}

NEGATIVES = {
    "write_temp_then_replace": """
        import os
        def save(path, data):
            tmp = path + ".tmp"
            with open(tmp, "w") as handle:
                handle.write(data)
            os.replace(tmp, path)
            os.unlink(path + ".old")
        """,
    "tempfile_target": """
        import os, tempfile
        def save(directory, path, data, stale):
            fd, name = tempfile.mkstemp(dir=directory)
            with open(name, "w") as handle:
                handle.write(data)
            os.unlink(stale)
        """,
    "probe_file_named_as_temporary": """
        import os
        def probe(self, stale):
            pth_file = self.pseudo_tempname() + ".pth"
            os.unlink(stale)
            with open(pth_file, "w") as handle:
                handle.write("import os")
        """,
    "rollback_in_except": """
        import os
        def switch(state, backup, data):
            os.rename(state, backup)
            try:
                with open(state, "w") as handle:
                    handle.write(data)
            except OSError:
                os.rename(backup, state)
                raise
        """,
    "cleanup_only_in_finally": """
        import os
        def render(out, scratch, text):
            try:
                with open(out, "w") as handle:
                    handle.write(text)
            finally:
                os.unlink(scratch)
        """,
    "single_step_only": """
        def save(path, text):
            with open(path, "w") as handle:
                handle.write(text)
            with open(path) as handle:
                return handle.read()
        """,
    "append_mode_log_and_remove": """
        import os
        def consume(queue_file, log_file):
            with open(log_file, "a") as log:
                log.write("consumed\\n")
            os.remove(queue_file)
        """,
    "inside_transaction_block": """
        import os
        import errwise
        def start(src, dst, text):
            with errwise.Transaction() as tx:
                os.rename(src, dst)
                with open(dst, "w") as handle:
                    handle.write(text)
        """,
    "steps_in_different_functions": """
        import os
        def write(path, text):
            with open(path, "w") as handle:
                handle.write(text)
        def drop(path):
            os.remove(path)
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_positive(audit, name):
    source, severity, text = POSITIVES[name]
    findings = audit(source, "non-atomic-state-change")
    assert [f.rule for f in findings] == ["EW118"], findings
    assert findings[0].severity.value == severity
    assert text in findings[0].message
    assert "errwise.atomic_write" in findings[0].recommendation
    assert "errwise.Transaction" in findings[0].recommendation


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative(audit, name):
    assert audit(NEGATIVES[name], "EW118") == []
