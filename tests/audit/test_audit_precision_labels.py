"""The labels `bench/precision.py` measures precision from, and its arithmetic (offline: the
corpus itself is downloaded by the benchmark, never by a test)."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from errwise.audit.rules import all_rules

BENCH = Path(__file__).resolve().parents[2] / "bench" / "precision.py"


@pytest.fixture(scope="module")
def precision() -> ModuleType:
    spec = importlib.util.spec_from_file_location("errwise_bench_precision", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_committed_labels_are_well_formed(precision: ModuleType) -> None:
    labels = precision.load_labels()
    assert len(labels) >= 200
    names = {r.id: r.name for r in all_rules()}
    versions = {}
    for label in labels.values():
        assert names[label.rule] == label.name, label
        assert label.reason.strip(), label
        assert label.line > 0
        versions.setdefault(label.project, set()).add(label.version)
    assert all(len(v) == 1 for v in versions.values()), versions
    corpus_versions = {v for _, v in precision.CORPUS}
    assert {v for vs in versions.values() for v in vs} <= corpus_versions
    assert len(versions) >= 8


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(precision_fields())
        writer.writerows(rows)
    return path


def precision_fields() -> list[str]:
    return ["project", "version", "path", "line", "rule", "name", "label", "reason", "phase"]


ROW = ["p", "1.0", "m.py", "3", "EW101", "swallowed-exception", "true", "drops it", "before"]


def test_a_second_label_for_one_finding_is_refused(precision: ModuleType, tmp_path: Path) -> None:
    path = _write(tmp_path / "l.csv", [ROW, [*ROW[:6], "false", "other", "after"]])
    with pytest.raises(precision.CorpusError, match="second label"):
        precision.load_labels(path)


def test_a_label_must_be_true_or_false(precision: ModuleType, tmp_path: Path) -> None:
    path = _write(tmp_path / "l.csv", [[*ROW[:6], "maybe", "?", "before"]])
    with pytest.raises(precision.CorpusError, match="true/false"):
        precision.load_labels(path)


def test_tally_and_recall(precision: ModuleType, tmp_path: Path) -> None:
    rows = [
        ROW,
        ["p", "1.0", "m.py", "9", "EW105", "broad-catch", "false", "a probe", "before"],
        ["p", "1.0", "n.py", "4", "EW113", "lost-traceback", "true", "no traceback", "before"],
        ["p", "1.0", "o.py", "7", "EW115", "unguarded-unpack", "true", "user input", "before"],
    ]
    labels = precision.load_labels(_write(tmp_path / "l.csv", rows))
    found = {
        "p": [
            {"path": "m.py", "line": 3, "name": "swallowed-exception"},
            {"path": "m.py", "line": 9, "name": "broad-catch"},
            {"path": "n.py", "line": 4, "name": "broad-catch"},  # another rule, same line
            {"path": "q.py", "line": 1, "name": "broad-catch"},  # no label yet
        ]
    }
    per_rule, overall, unlabelled = precision.tally(found, labels)
    assert (overall.findings, overall.labelled, overall.true) == (4, 2, 1)
    assert per_rule["broad-catch"].precision == 0.0
    assert per_rule["swallowed-exception"].precision == 1.0
    assert [(u["path"], u["line"]) for u in unlabelled] == [("n.py", 4), ("q.py", 1)]
    kept, replaced, lost = precision.recall(found, labels)
    assert (kept, replaced) == (1, 1)
    assert [(x.path, x.line) for x in lost] == [("o.py", 7)]
