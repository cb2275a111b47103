"""`errwise.sweep.crosslink`: silent handler + finding = confirmed, silent handler without one =
miss, finding at a handler proved reported/propagated (never silent) = refuted."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from sweep_runs import SAMPLE, line_of, run

from errwise.audit.runner import AuditOptions, run_audit
from errwise.sweep.crosslink import crosslink, link

SWALLOW = """
import os

def drop(path):
    try:
        os.unlink(path)
    except Exception:
        pass

def logged(path, log):
    try:
        os.unlink(path)
    except Exception:
        log.warning("gone")
"""


def _project(tmp_path: Path, source: str = SWALLOW, name: str = "mod.py") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(textwrap.dedent(source).lstrip("\n"))
    return tmp_path


def test_the_sample_project_has_confirmed_and_miss() -> None:
    cache_put = line_of(SAMPLE, "notebox/cache.py", "except OSError:", last=True)
    cache_get = line_of(SAMPLE, "notebox/cache.py", "except OSError:")
    staging = line_of(SAMPLE, "notebox/export.py", "contextlib.suppress(OSError)")
    lock = line_of(SAMPLE, "notebox/lock.py", "except OSError:")
    prune = line_of(SAMPLE, "notebox/settings.py", "except OSError:", last=True)
    runs = [
        run("notebox/cache.py", cache_put, "silent", function="RenderCache.put"),
        run("notebox/cache.py", cache_put, "silent", fault="EIO", persistent=True),
        run("notebox/cache.py", cache_get, "silent", fault="EACCES", operation="open"),
        run("notebox/export.py", staging, "silent", operation="shutil.rmtree"),
        run("notebox/lock.py", lock, "silent", operation="os.open", fault="EEXIST"),
        run("notebox/settings.py", prune, "reported", operation="os.unlink"),
        run("notebox/settings.py", None, "propagated", operation="os.replace"),
        run("notebox/settings.py", None, "unreached", operation="os.fsync"),
    ]
    result = crosslink(SAMPLE, runs)
    assert [(c["path"], c["line"], c["rule"]) for c in result.confirmed] == [
        ("notebox/cache.py", cache_put, "EW101")
    ]
    confirmed = result.confirmed[0]
    assert confirmed["fault"] == "ENOSPC"  # the transient run comes first
    assert confirmed["runs"] == 2
    assert confirmed["function"] == "RenderCache.put"
    assert confirmed["replay"].startswith("errwise sweep --run 'notebox/cache.py:")
    assert [(m["path"], m["line"]) for m in result.miss] == [
        ("notebox/cache.py", cache_get),
        ("notebox/export.py", staging),
        ("notebox/lock.py", lock),
    ]
    by_path = {m["path"]: m for m in result.miss}
    # judged, but an EEXIST there is what the clause means: no proof of the conflation
    assert by_path["notebox/lock.py"]["other"] == ["EW109"]
    assert by_path["notebox/export.py"]["other"] == []
    assert result.refuted == []
    assert result.rules == {("notebox/cache.py", cache_put): "EW101"}
    assert result.counts() == {"confirmed": 1, "miss": 3, "refuted": 0}
    assert set(result.to_dict()) == {"confirmed", "miss", "refuted", "unaudited"}


def test_a_real_failure_left_silent_confirms_conflated_errno() -> None:
    lock = line_of(SAMPLE, "notebox/lock.py", "except OSError:")
    runs = [
        run("notebox/lock.py", lock, "silent", operation="os.open", fault="EEXIST"),
        run("notebox/lock.py", lock, "silent", operation="os.open", fault="EACCES"),
        run("notebox/lock.py", lock, "propagated", operation="os.write", fault="EIO"),
    ]
    result = crosslink(SAMPLE, runs)
    assert [(c["line"], c["rule"], c["fault"], c["runs"]) for c in result.confirmed] == [
        (lock, "EW109", "EACCES", 1)
    ]
    assert result.rules == {("notebox/lock.py", lock): "EW109"}
    # passing some error on does not refute a conflation
    assert crosslink(SAMPLE, runs[2:]).refuted == []
    report = run_audit(
        AuditOptions(paths=(str(SAMPLE / "notebox"),), root=str(SAMPLE), profile="strict", jobs=1)
    )
    marks = link(report.findings, SAMPLE, runs, SAMPLE)
    marked = [(f.rule, marks[id(f)].fault) for f in report.findings if id(f) in marks]
    assert marked == [("EW109", "EACCES")]


@pytest.mark.parametrize("fault", ["disk-io", "locked"])
def test_a_silent_sqlite_failure_confirms_conflated_errno(fault: str) -> None:
    """sqlite3's disk I/O error and "database is locked" are real failures, like EIO."""
    lock = line_of(SAMPLE, "notebox/lock.py", "except OSError:")
    runs = [run("notebox/lock.py", lock, "silent", operation="sqlite3.execute", fault=fault)]
    result = crosslink(SAMPLE, runs)
    assert [(c["rule"], c["fault"]) for c in result.confirmed] == [("EW109", fault)]


def test_a_finding_at_a_handler_proved_reported_is_refuted(tmp_path: Path) -> None:
    root = _project(tmp_path)
    drop = line_of(root, "mod.py", "except Exception:")
    logged = line_of(root, "mod.py", "except Exception:", last=True)
    runs = [
        run("mod.py", drop, "reported", operation="os.unlink", fault="EACCES"),
        run("mod.py", logged, "propagated", operation="os.unlink", fault="EIO"),
    ]
    result = crosslink(root, runs)
    refuted = {r["line"]: r for r in result.refuted}
    assert set(refuted) == {drop, logged}
    assert refuted[drop]["rule"] == "EW101"
    assert refuted[drop]["verdict"] == "reported"
    assert refuted[drop]["fault"] == "EACCES"
    assert refuted[logged]["verdict"] == "propagated"
    assert result.confirmed == [] and result.miss == []


def test_one_silent_run_outweighs_clearing_ones(tmp_path: Path) -> None:
    root = _project(tmp_path)
    drop = line_of(root, "mod.py", "except Exception:")
    runs = [
        run("mod.py", drop, "reported", fault="EACCES"),
        run("mod.py", drop, "silent", fault="ENOSPC"),
    ]
    result = crosslink(root, runs)
    assert [c["line"] for c in result.confirmed] == [drop]
    assert result.confirmed[0]["fault"] == "ENOSPC"
    assert result.refuted == []


def test_a_handler_that_passed_the_error_on_is_refuted_from_the_chain(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        """
        import os

        class StoreError(Exception):
            pass

        def drop(path):
            try:
                os.unlink(path)
            except Exception:
                pass

        def save(path):
            try:
                drop(path)
                os.replace(path, path + ".new")
            except Exception as exc:
                raise StoreError(path) from exc
        """,
    )
    drop = line_of(root, "mod.py", "except Exception:")
    # the error went through `drop`'s handler (listed in `handlers`) and ended the test
    result = crosslink(root, [run("mod.py", None, "propagated", caught=[drop])])
    assert [(r["line"], r["rule"]) for r in result.refuted] == [(drop, "EW101")]


def test_silent_runs_are_ignored_for_the_unreached_and_unsettled(tmp_path: Path) -> None:
    root = _project(tmp_path)
    drop = line_of(root, "mod.py", "except Exception:")
    runs = [run("mod.py", drop, "unsettled"), run("mod.py", drop, "unreached")]
    result = crosslink(root, runs)
    assert result.counts() == {"confirmed": 0, "miss": 0, "refuted": 0}


def test_handlers_outside_the_project_are_not_linked(tmp_path: Path) -> None:
    root = _project(tmp_path / "project")
    _project(tmp_path, SWALLOW, name="lib.py")  # beside the project: like the stdlib
    outside = line_of(tmp_path, "lib.py", "except Exception:")
    runs = [
        run(str(tmp_path / "lib.py"), outside, "silent"),
        run("../lib.py", outside, "silent"),
        run(str(tmp_path / "lib.py"), outside, "reported"),
    ]
    result = crosslink(root, runs)
    assert result.counts() == {"confirmed": 0, "miss": 0, "refuted": 0}
    assert result.rules == {} and result.unaudited == []


def test_no_handler_no_audit(tmp_path: Path) -> None:
    result = crosslink(tmp_path, [run("absent.py", None, "propagated")])
    assert result.counts() == {"confirmed": 0, "miss": 0, "refuted": 0}
    assert result.unaudited == []


def test_the_profile_decides_which_findings_exist(tmp_path: Path) -> None:
    root = _project(tmp_path)
    drop = line_of(root, "mod.py", "except Exception:")
    runs = [run("mod.py", drop, "silent")]
    assert [c["rule"] for c in crosslink(root, runs).confirmed] == ["EW101"]
    default = crosslink(root, runs, profile="default")  # EW101 is strict-only today
    assert default.confirmed == [] and [m["line"] for m in default.miss] == [drop]


def test_a_file_the_auditor_cannot_read_is_listed_and_its_silent_handler_missed(
    tmp_path: Path,
) -> None:
    (tmp_path / "broken.py").write_bytes(b"def f(:\n    pass\n")
    result = crosslink(tmp_path, [run("broken.py", 2, "silent")])
    assert [(u["path"], u["code"]) for u in result.unaudited] == [("broken.py", "ERR_PARSE")]
    assert [m.get("unaudited") for m in result.miss] == [True]


def test_link_matches_findings_across_roots(tmp_path: Path) -> None:
    root = _project(tmp_path / "project")
    drop = line_of(root, "mod.py", "except Exception:")
    logged = line_of(root, "mod.py", "except Exception:", last=True)
    report = run_audit(
        AuditOptions(paths=(str(tmp_path),), root=str(tmp_path), profile="strict", jobs=1)
    )
    assert {f.path for f in report.findings} == {"project/mod.py"}
    runs = [run("mod.py", drop, "silent"), run("mod.py", logged, "reported", fault="EROFS")]
    marks = link(report.findings, tmp_path, runs, root)
    by_line = {f.line: marks[id(f)] for f in report.findings if id(f) in marks}
    assert by_line[drop].status == "confirmed"
    assert by_line[logged].status == "refuted"
    assert by_line[logged].fault == "EROFS"
    assert by_line[logged].to_dict()["replay"].startswith("errwise sweep --run")
