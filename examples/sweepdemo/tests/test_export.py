from __future__ import annotations

import json
from pathlib import Path

import pytest
from notebox.export import ExportError, check_export, export_notes


def test_export_writes_one_file_per_note(tmp_path: Path) -> None:
    written = export_notes({"a": "first", "b": "second"}, tmp_path)
    assert [p.name for p in written] == ["a.json", "b.json"]
    assert json.loads((tmp_path / "b.json").read_text())["text"] == "second"


def test_exported_files_pass_the_check(tmp_path: Path) -> None:
    (written,) = export_notes({"a": "first"}, tmp_path)
    check_export(written)


def test_a_broken_file_fails_the_check(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ExportError):
        check_export(broken)
