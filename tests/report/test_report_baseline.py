"""Baselines: findings survive 10 lines inserted above and a local renamed elsewhere; a changed
handler body is new again; the file is sorted, versioned, written atomically; a bad baseline is
a usage error saying how to regenerate it."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from errwise.audit.baseline import read_baseline
from errwise.audit.cachehome import project_directory
from errwise.error import UsageError
from errwise.ops.atomic import is_temp_name

Cli = Callable[..., Any]

BEFORE = """\
import os
import shutil


def tidy(path, cache):
    count = len(cache)
    for entry in cache:
        count -= 1
    try:
        os.remove(path)
    except Exception:
        pass
    try:
        shutil.rmtree(cache[0])
    except Exception:
        pass
    return count
"""
TEN_LINES_ABOVE = "".join(f"# line {i} of a new header\n" for i in range(10)) + BEFORE
RENAMED_ELSEWHERE = BEFORE.replace("count", "remaining")
HANDLER_CHANGED = BEFORE.replace(
    "        os.remove(path)\n    except Exception:\n        pass",
    "        os.remove(path)\n    except Exception:\n        path = None",
)


def _audit(cli: Cli, tmp_path: Path, source: str, *args: str) -> Any:
    (tmp_path / "mod.py").write_text(source, encoding="utf-8")
    return cli(
        "audit",
        "--profile",
        "strict",
        "--format",
        "json",
        "--no-config",
        *args,
        "mod.py",
        cwd=tmp_path,
    )


def test_write_baseline_then_nothing_is_new(tmp_path: Path, cli: Cli) -> None:
    first = _audit(cli, tmp_path, BEFORE, "--write-baseline", "base.json")
    # exit 0 once the file is written (it used to be 1, which stopped `... && git add base.json`)
    assert len(first.json()["findings"]) == 2 and first.code == 0
    assert "errwise: baseline base.json written: 2 findings" in first.err
    again = _audit(cli, tmp_path, BEFORE, "--baseline", "base.json")
    assert again.json()["findings"] == [] and again.code == 0
    assert "2 in the baseline" in again.err


@pytest.mark.parametrize("edited", [TEN_LINES_ABOVE, RENAMED_ELSEWHERE], ids=["shift", "rename"])
def test_unrelated_edits_keep_findings_known(tmp_path: Path, cli: Cli, edited: str) -> None:
    _audit(cli, tmp_path, BEFORE, "--write-baseline", "base.json")
    run = _audit(cli, tmp_path, edited, "--baseline", "base.json")
    assert run.json()["findings"] == [], run
    assert run.code == 0


def test_a_changed_handler_body_is_new_again(tmp_path: Path, cli: Cli) -> None:
    _audit(cli, tmp_path, BEFORE, "--write-baseline", "base.json")
    all_now = _audit(cli, tmp_path, HANDLER_CHANGED).json()["findings"]
    run = _audit(cli, tmp_path, HANDLER_CHANGED, "--baseline", "base.json")
    new = run.json()["findings"]
    assert len(new) == 1, new
    assert new[0]["line"] == 11 and new[0]["function"] == "tidy"
    assert len(all_now) == 2  # the untouched handler is still found, and still known
    assert run.code == 1


def test_baseline_file_is_sorted_versioned_and_stable(tmp_path: Path, cli: Cli) -> None:
    _audit(cli, tmp_path, BEFORE, "--write-baseline", "base.json")
    text = (tmp_path / "base.json").read_text()
    doc = json.loads(text)
    assert doc["version"] == 1 and doc["tool"] == "errwise"
    keys = [(e["path"], e["rule"], e["fingerprint"]) for e in doc["findings"]]
    assert keys == sorted(keys)
    assert all("line" not in e for e in doc["findings"])  # lines move; diffs stay quiet
    _audit(cli, tmp_path, TEN_LINES_ABOVE, "--write-baseline", "base.json")
    assert (tmp_path / "base.json").read_text() == text
    assert sorted(os.listdir(tmp_path)) == ["base.json", "mod.py"]


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("{not json", "is not valid JSON"),
        ('{"version": 2, "findings": []}', "has version 2"),
        ('{"findings": []}', "has version None"),
        ("[]", "expected a JSON object"),
        ('{"version": 1, "findings": [{"rule": "EW101"}]}', "entry 0 has no fingerprint"),
        ('{"version": 1}', "has no `findings` list"),
    ],
)
def test_a_bad_baseline_is_a_usage_error_that_says_how_to_regenerate(
    tmp_path: Path, cli: Cli, content: str, why: str
) -> None:
    (tmp_path / "base.json").write_text(content)
    run = _audit(cli, tmp_path, BEFORE, "--baseline", "base.json")
    assert run.code == 2, run
    assert why in run.err
    assert "errwise audit --write-baseline base.json" in run.err
    assert run.out == ""


def test_a_missing_baseline_says_how_to_create_it(tmp_path: Path, cli: Cli) -> None:
    run = _audit(cli, tmp_path, BEFORE, "--baseline", "nope.json")
    assert run.code == 2
    assert "does not exist; create it with `errwise audit --write-baseline nope.json" in run.err


def test_an_unreadable_baseline_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "base.json"
    path.write_text('{"version": 1, "findings": []}')
    real_open = os.open

    def denied(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("errwise.ops.safeio.os.open", denied)
    with pytest.raises(UsageError, match=r"cannot be read \(Permission denied\); regenerate it"):
        read_baseline(str(path))


def test_a_failed_baseline_write_keeps_the_old_file(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _audit(cli, tmp_path, BEFORE, "--write-baseline", "base.json")
    old = (tmp_path / "base.json").read_text()

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("errwise.ops.atomic.os.replace", full)
    run = _audit(cli, tmp_path, TEN_LINES_ABOVE + "\n", "--write-baseline", "base.json")
    assert run.code == 10, run
    assert (tmp_path / "base.json").read_text() == old
    assert sorted(os.listdir(tmp_path)) == ["base.json", "mod.py"]
    # the cache's own writes failed too, and left no temp file behind either
    cache = project_directory(tmp_path)
    assert not [name for _, _, names in os.walk(cache) for name in names if is_temp_name(name)]


SENTINEL = """\
import logging
import os

log = logging.getLogger(__name__)


def refresh(path, tmp):
    if not os.path.exists(path):
        return False
    try:
        with open(tmp, "w") as handle:
            handle.write("beat")
        os.replace(tmp, path)
        return True
    except Exception as exc:
        log.error("cannot refresh %s", exc)
        return False
"""


def test_a_finding_anchored_on_its_return_is_new_when_its_handler_changes(
    tmp_path: Path, cli: Cli
) -> None:
    first = _audit(cli, tmp_path, SENTINEL, "--select", "EW102", "--write-baseline", "b.json")
    assert [f["rule"] for f in first.json()["findings"]] == ["EW102"], first
    shifted = "# header\n" * 10 + SENTINEL.replace("exc:", "err:").replace(", exc)", ", err)")
    assert _audit(cli, tmp_path, shifted, "--select", "EW102", "--baseline", "b.json").code == 1
    same = "# header\n" * 10 + SENTINEL.replace('"beat"', '"heartbeat"')
    run = _audit(cli, tmp_path, same, "--select", "EW102", "--baseline", "b.json")
    assert run.json()["findings"] == [], run
    changed = SENTINEL.replace('log.error("cannot refresh %s", exc)', "pass")
    run = _audit(cli, tmp_path, changed, "--select", "EW102", "--baseline", "b.json")
    assert len(run.json()["findings"]) == 1, run
