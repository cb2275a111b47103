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


# In-place rewrites of state files: the file is truncated before the new content is written,
# so a crash, Ctrl-C or a full disk mid-write leaves it empty or torn for the next reader.
REWRITES = {
    "index_dumped_in_place": (
        """
        import json
        def save_index(index_path, index):
            with open(index_path, "w") as fh:
                json.dump(index, fh)
        """,
        "medium",
        "state by its name (`index`)",
    ),
    "read_modify_write": (
        """
        import json
        def set_option(path, key, value):
            with open(path) as fh:
                data = json.load(fh)
            data[key] = value
            with open(path, "w") as fh:
                json.dump(data, fh)
        """,
        "high",
        "state the code reads back (line 4)",
    ),
    # (was "pid_file_content": `open(pidfile, "w").write(str(os.getpid()))`. A torn pid file
    # is no worse than a missing one and nothing parses it into a crash: the claim that a
    # maintainer would fix it was false — now in test_plain_text_rewrite_is_silent.)
    "pid_file_serialised": (
        """
        import json, os
        def write_pid(pidfile):
            with open(pidfile, "w") as fh:
                json.dump({"pid": os.getpid()}, fh)
        """,
        "medium",
        "(`pidfile`)",
    ),
    "path_write_text_of_a_cache": (
        """
        import json
        def refresh(cache_dir, releases):
            index_file = cache_dir / "index.json"
            index_file.write_text(json.dumps({"releases": releases}))
        """,
        "medium",
        "`index_file.write_text(…)`",
    ),
    "metadata_class_writes_the_file_another_method_reads": (
        """
        import json
        class Metadata:
            def read(self):
                with open(self.venv_dir / INFO_FILENAME) as fh:
                    self.data = json.load(fh)

            def write(self):
                with open(self.venv_dir / INFO_FILENAME, "w") as fh:
                    json.dump(self.data, fh)
        """,
        "high",
        "state the code reads back (line 5)",
    ),
}

REWRITE_NEGATIVES = {
    "temp_fsync_replace": """
        import json, os
        def save_index(index_path, index):
            tmp = index_path + ".tmp"
            with open(tmp, "w") as fh:
                json.dump(index, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, index_path)
        """,
    "errwise_atomic_write": """
        import json, errwise
        def save_index(index_path, index):
            errwise.atomic_write(index_path, json.dumps(index))
        """,
    "report_the_user_asked_for": """
        import json
        def export_report(report_path, rows):
            with open(report_path, "w") as fh:
                json.dump(rows, fh)
        """,
    "download_to_a_new_file": """
        def download(response, dest):
            with open(dest, "wb") as fh:
                fh.write(response.read())
        """,
    "lock_file_only_created": """
        def touch_lock(lock_path):
            with open(lock_path, "w"):
                pass
        """,
    # the reader recovers from a torn file by starting over: nothing is lost but a cache
    "reader_recovers_from_a_torn_file": """
        import json, os
        class Checker:
            def read(self):
                try:
                    with open(os.path.join(self.directory, "status.json")) as fh:
                        self.status = json.load(fh)
                except (OSError, ValueError):
                    self.status = {}

            def write(self):
                with open(os.path.join(self.directory, "status.json"), "w") as fh:
                    json.dump(self.status, fh)
        """,
    # a scratch file written, read back once and removed: no state survives it
    "scratch_file_removed_again": """
        import os
        class Committer:
            def _write_msg(self, message):
                with open(self._msg_path(), "w") as fh:
                    fh.write(message)

            def _read_msg(self):
                with open(self._msg_path()) as fh:
                    return fh.read()

            def _remove_msg(self):
                os.remove(self._msg_path())
        """,
    "filesystem_open_is_not_path_open": """
        import json
        class FS:
            def write_index(self, path, index):
                with self.open(path, mode="w") as fh:
                    json.dump(index, fh)
        """,
}


@pytest.mark.parametrize("name", sorted(REWRITES))
def test_in_place_rewrite_of_state(audit, name):
    source, severity, text = REWRITES[name]
    findings = audit(source, "non-atomic-state-change")
    assert [f.rule for f in findings] == ["EW118"], findings
    assert findings[0].severity.value == severity
    assert text in findings[0].message
    assert "empty or half-written" in findings[0].message
    assert "errwise.atomic_write" in findings[0].recommendation


@pytest.mark.parametrize("name", sorted(REWRITE_NEGATIVES))
def test_in_place_rewrite_negative(audit, name):
    assert audit(REWRITE_NEGATIVES[name], "EW118") == []


def test_in_place_rewrite_not_reported_in_tests(audit):
    source = REWRITES["index_dumped_in_place"][0]
    assert audit(source, "EW118", path="tests/test_index.py") == []


MOVES_POSITIVE = """
    import os
    def swap_in(current, backup, new):
        os.rename(current, backup)
        os.rename(new, current)
    """

MOVES_NEGATIVES = {
    "second_move_undone_on_failure": """
        import os
        def swap_in(current, backup, new):
            os.rename(current, backup)
            try:
                os.rename(new, current)
            except BaseException:
                os.rename(backup, current)
                raise
        """,
    "one_thing_moved_on": """
        import os
        def archive(path, staging, archive_dir):
            os.rename(path, staging)
            os.rename(staging, archive_dir)
        """,
    "independent_moves_in_a_loop": """
        import os
        def collect(paths, target):
            for p in paths:
                os.rename(p, target / p.name)
        """,
    "objects_own_rename_method": """
        import os
        class Module:
            def move(self, cur, new):
                os.renames(cur, new)
                self.rename(new)
        """,
}


def test_sequence_of_renames_without_rollback(audit):
    findings = audit(MOVES_POSITIVE, "non-atomic-state-change")
    assert [(f.rule, f.line, f.severity.value) for f in findings] == [("EW118", 5, "high")]
    assert "the one at line 4 has already happened" in findings[0].message


@pytest.mark.parametrize("name", sorted(MOVES_NEGATIVES))
def test_sequence_of_renames_negative(audit, name):
    assert audit(MOVES_NEGATIVES[name], "EW118") == []


PAIR_NEGATIVES_MORE = {
    # the README is written in place, and a different, finished temporary is moved into place:
    # the move is the atomic publish of another file, not a second step of the README's change
    "temp_of_another_file_published": """
        import os, tempfile
        def init(directory, make_db):
            with open(os.path.join(directory, "README"), "w") as fh:
                fh.write("store")
            fd, tmpfile = tempfile.mkstemp(dir=directory)
            os.close(fd)
            make_db(tmpfile)
            os.replace(tmpfile, os.path.join(directory, "db.db"))
        """,
}


@pytest.mark.parametrize("name", sorted(PAIR_NEGATIVES_MORE))
def test_pair_negative_more(audit, name):
    assert audit(PAIR_NEGATIVES_MORE[name], "EW118") == []


def test_pair_not_reported_in_test_fixtures(audit):
    source = POSITIVES["write_new_then_unlink_old"][0]
    assert audit(source, "EW118", path="mypkg/testing/env.py") == []
    assert [f.rule for f in audit(source, "EW118", path="mypkg/env.py")] == ["EW118"]


def test_text_edit_of_a_file_the_caller_names_is_silent(audit):
    # a source file the user owns, edited as text by a tool: not state this program keeps
    source = """
        import re
        def update_file(fname, pattern, replacement):
            with open(fname) as fobj:
                old_text = fobj.read()
            new_text = re.sub(pattern, replacement, old_text, count=1)
            with open(fname, "w") as fobj:
                fobj.write(new_text)
        """
    assert audit(source, "EW118") == []


def test_results_file_read_back_and_appended_is_an_output(audit):
    source = """
        import json
        class Runner:
            def save_results(self, new):
                with self.results_file.open() as f:
                    results = json.load(f)
                results.extend(new)
                with self.results_file.open("w") as f:
                    json.dump(results, f)
        """
    assert audit(source, "EW118") == []


REWRITE_FORMS = {
    "module_constant_state_file": """
        import json
        STATE_FILE = "/var/lib/app/state.json"
        def save_state(state):
            with open(STATE_FILE, "w") as f:
                json.dump(state, f)
        """,
    "path_call_write_text_in_a_registry": """
        import json
        from pathlib import Path
        class Registry:
            def save(self):
                Path(self.path).write_text(json.dumps(self.entries))
        """,
    "open_passed_to_a_dumper": """
        import yaml
        def save_manifest(path, manifest):
            yaml.safe_dump(manifest, open(path, "w"))
        """,
    "handle_assigned_then_dumped": """
        import json
        def save_index(index_path, index):
            fh = open(index_path, "w")
            json.dump(index, fh)
            fh.close()
        """,
}


@pytest.mark.parametrize("name", sorted(REWRITE_FORMS))
def test_in_place_rewrite_forms(audit, name):
    findings = audit(REWRITE_FORMS[name], "EW118")
    assert [(f.rule, f.severity.value) for f in findings] == [("EW118", "medium")], findings
    assert "state by its name" in findings[0].message


def test_filesystem_write_text_with_a_path_argument_is_not_a_path_method(audit):
    source = """
        import json
        def save_index(fs, path, index):
            fs.write_text(path, json.dumps(index))
        """
    assert audit(source, "EW118") == []


def test_result_published_then_running_entry_removed(audit):
    # the result is published, then its "running" entry is removed as a second step: a crash or
    # a failed unlink in between leaves the job both done and running
    source = """
        import json
        from pathlib import Path
        DONE, RUNNING = Path("done"), Path("running")
        def finish(job_id, result):
            (DONE / f"{job_id}.json").write_text(json.dumps(result))
            (RUNNING / f"{job_id}.json").unlink()
        """
    findings = audit(source, "non-atomic-state-change")
    assert [(f.rule, f.line, f.severity.value) for f in findings] == [("EW118", 6, "medium")]
    assert "the new file and the old path both exist" in findings[0].message


# -- round 2 (issue 16) ------------------------------------------------------------------------

PLAIN_TEXT_SILENT = {
    "pid_file_text": """
        import os
        def write_pid(pidfile):
            open(pidfile, "w").write(str(os.getpid()))
        """,
    "one_line_description": """
        class Repo:
            def _get_description(self):
                with open(self.description_path) as fp:
                    return fp.read().rstrip()
            def _set_description(self, descr):
                with open(self.description_path, "w") as fp:
                    fp.write(descr)
        """,
    # the removal and the write are in different branches: never both
    "exclusive_branches": """
        import os
        def delete(path, pack_file_path, lines, loose):
            if loose:
                os.remove(path)
            else:
                with open(pack_file_path, "w") as fd:
                    fd.writelines(lines)
        """,
    # an old file moved aside before the write, and the function looks for it there
    "moved_aside_and_checked": """
        import os, shutil
        def install(hook_path, legacy_path, text):
            if os.path.lexists(hook_path):
                shutil.move(hook_path, legacy_path)
            if os.path.exists(legacy_path):
                print("migration mode")
            with open(hook_path, "w") as fh:
                fh.write(text)
        """,
    # "ensure absent" of a by-product after the write
    "ensure_absent_by_product": """
        import os
        def delete(pack_file_path, reflog_path, lines):
            with open(pack_file_path, "w") as fd:
                fd.writelines(lines)
            if os.path.isfile(reflog_path):
                os.remove(reflog_path)
        """,
}

ROUND2_FIRES = {
    "description_serialised": (
        """
        import json
        class Repo:
            def _get_description(self):
                with open(self.description_path) as fp:
                    return json.load(fp)
            def _set_description(self, descr):
                with open(self.description_path, "w") as fp:
                    json.dump(descr, fp)
        """,
        "rewrites `self.description_path` in place",
    ),
    # the same steps, not in exclusive branches
    "same_branch_write_and_remove": (
        """
        import os
        def delete(path, pack_file_path, lines, loose):
            if loose:
                os.remove(path)
                with open(pack_file_path, "w") as fd:
                    fd.writelines(lines)
        """,
        "as separate steps",
    ),
    # moved aside, but nothing looks for it at its new place
    "moved_aside_unchecked": (
        """
        import os, shutil
        def install(hook_path, legacy_path, text):
            shutil.move(hook_path, legacy_path)
            with open(hook_path, "w") as fh:
                fh.write(text)
        """,
        "as separate steps",
    ),
    # an unconditional removal after the write is half of the change
    "unconditional_removal": (
        """
        import os
        def delete(pack_file_path, reflog_path, lines):
            with open(pack_file_path, "w") as fd:
                fd.writelines(lines)
            os.remove(reflog_path)
        """,
        "as separate steps",
    ),
}


@pytest.mark.parametrize("name", sorted(PLAIN_TEXT_SILENT))
def test_plain_text_rewrite_is_silent(audit, name):
    assert audit(PLAIN_TEXT_SILENT[name], "EW118") == []


@pytest.mark.parametrize("name", sorted(ROUND2_FIRES))
def test_round2_lookalike_fires(audit, name):
    source, text = ROUND2_FIRES[name]
    findings = audit(source, "EW118")
    assert len(findings) == 1, findings
    assert text in findings[0].message
