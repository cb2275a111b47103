"""`[tool.errwise]` in pyproject.toml: every key applied end to end, every mistake a usage error
that names the key, the file and the allowed values; command-line flags override."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from errwise.audit import pyconfig
from errwise.audit.finding import Severity
from errwise.error import UsageError

Cli = Callable[..., Any]

SWALLOW_DISK = """\
import os


def drop(path):
    try:
        os.remove(path)
    except Exception:
        pass
"""
SWALLOW_COMMIT = """\
def save(db):
    try:
        db.flush()
        db.commit()
    except Exception:
        pass
"""


def project(root: Path, pyproject: str, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(textwrap.dedent(pyproject), encoding="utf-8")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def rules_found(run: Any) -> list[tuple[str, str]]:
    return [(f["path"], f["rule"]) for f in run.json()["findings"]]


# -- keys applied -------------------------------------------------------------------------------


def test_ignore_from_config_and_no_config(tmp_path: Path, cli: Cli) -> None:
    root = project(
        tmp_path,
        '[tool.errwise]\nselect = ["EW101", "EW116"]\nignore = ["EW101"]\n',
        {"a.py": SWALLOW_DISK},
    )
    assert cli("audit", "--profile", "strict", ".", cwd=root).code == 0
    assert (
        cli("audit", "--profile", "strict", "--no-config", "--select", "EW101", ".", cwd=root).code
        == 1
    )


def test_select_from_config_is_replaced_by_the_flag(tmp_path: Path, cli: Cli) -> None:
    root = project(
        tmp_path, '[tool.errwise]\nselect = ["return-in-finally"]\n', {"a.py": SWALLOW_DISK}
    )
    assert cli("audit", "--profile", "strict", ".", cwd=root).code == 0
    assert (
        cli("audit", "--profile", "strict", "--select", "swallowed-exception", ".", cwd=root).code
        == 1
    )


def test_fail_on_from_config_and_the_flag_overrides_it(tmp_path: Path, cli: Cli) -> None:
    root = project(tmp_path, '[tool.errwise]\nfail-on = "critical"\n', {"a.py": SWALLOW_COMMIT})
    run = cli("audit", "--profile", "strict", "--format", "json", ".", cwd=root)
    assert run.json()["findings"][0]["severity"] == "high"
    assert run.code == 0
    assert cli("audit", "--profile", "strict", "--fail-on", "high", ".", cwd=root).code == 1


def test_exclude_is_anchored_at_the_pyproject_directory(tmp_path: Path, cli: Cli) -> None:
    root = project(
        tmp_path,
        '[tool.errwise]\nexclude = ["gen", "*_pb2.py"]\n',
        {"gen/x.py": SWALLOW_DISK, "src/a_pb2.py": SWALLOW_DISK, "src/real.py": SWALLOW_DISK},
    )
    (root / "tools").mkdir()
    # Run from a subdirectory: files outside the current directory are reported absolute.
    assert rules_found(
        cli("audit", "--profile", "strict", "--format", "json", "..", cwd=root / "tools")
    ) == [((root / "src" / "real.py").as_posix(), "EW101")]
    found = rules_found(cli("audit", "--profile", "strict", "--format", "json", ".", cwd=root))
    assert found == [("src/real.py", "EW101")]
    # An explicitly named file is audited even when excluded.
    assert rules_found(
        cli("audit", "--profile", "strict", "--format", "json", "gen/x.py", cwd=root)
    ) == [("gen/x.py", "EW101")]


def test_exclude_flag_adds_to_the_config(tmp_path: Path, cli: Cli) -> None:
    root = project(
        tmp_path,
        '[tool.errwise]\nexclude = ["gen"]\n',
        {"gen/x.py": SWALLOW_DISK, "old/y.py": SWALLOW_DISK, "z.py": SWALLOW_DISK},
    )
    run = cli(
        "audit", "--profile", "strict", "--format", "json", "--exclude", "old/*", ".", cwd=root
    )
    assert rules_found(run) == [("z.py", "EW101")]


def test_per_file_ignores(tmp_path: Path, cli: Cli) -> None:
    root = project(
        tmp_path,
        """\
        [tool.errwise]
        select = ["EW101"]

        [tool.errwise.per-file-ignores]
        "tests/*" = ["swallowed-exception"]
        "src/legacy.py" = "EW101"
        """,
        {
            "tests/test_x.py": SWALLOW_DISK,
            "src/legacy.py": SWALLOW_DISK,
            "src/new.py": SWALLOW_DISK,
        },
    )
    assert rules_found(cli("audit", "--profile", "strict", "--format", "json", ".", cwd=root)) == [
        ("src/new.py", "EW101")
    ]
    # Anchored at the project, whatever the current directory.
    run = cli("audit", "--profile", "strict", "--format", "json", ".", cwd=root / "tests")
    assert rules_found(run) == []


def test_extend_state_changing_raises_severity(tmp_path: Path, cli: Cli) -> None:
    root = project(
        tmp_path,
        '[tool.errwise]\nextend-state-changing = ["*.commit", "*.flush"]\n',
        {"a.py": SWALLOW_COMMIT},
    )
    with_config = cli("audit", "--profile", "strict", "--format", "json", ".", cwd=root).json()[
        "findings"
    ]
    without = cli(
        "audit", "--profile", "strict", "--format", "json", "--no-config", ".", cwd=root
    ).json()["findings"]
    assert [f["severity"] for f in with_config] == ["critical"]
    assert [f["severity"] for f in without] == ["high"]


def test_all_keys_parse_into_the_config(tmp_path: Path) -> None:
    path = (
        project(
            tmp_path,
            """\
        [tool.errwise]
        select = ["EW101", "return-in-finally"]
        ignore = "EW116"
        exclude = ["build2"]
        fail-on = "HIGH"
        boundaries = ["main", "cli.*"]
        extend-state-changing = ["db.*"]

        [tool.errwise.per-file-ignores]
        "tests/*" = ["ew101"]
        """,
            {},
        )
        / "pyproject.toml"
    )
    config = pyconfig.load_pyproject(str(path))
    assert config.select == frozenset({"EW101", "EW116"})
    assert config.ignore == frozenset({"EW116"})
    assert config.exclude == ("build2",)
    assert config.fail_on is Severity.HIGH
    assert config.boundaries == ("main", "cli.*")
    assert config.extend_state_changing == ("db.*",)
    assert config.per_file_ignores == (("tests/*", frozenset({"EW101"})),)
    assert config.source == str(path)


def test_the_nearest_pyproject_wins_even_without_a_table(tmp_path: Path, cli: Cli) -> None:
    outer = project(tmp_path, '[tool.errwise]\nignore = ["EW101"]\n', {})
    inner = project(outer / "sub", '[project]\nname = "sub"\n', {"a.py": SWALLOW_DISK})
    assert cli("audit", "--profile", "strict", ".", cwd=inner).code == 1
    assert cli("audit", "--profile", "strict", "sub", cwd=outer).code == 1
    assert pyconfig.find_pyproject(str(inner / "a.py")) == str(inner / "pyproject.toml")


# -- mistakes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "names"),
    [
        ('selct = ["EW101"]', ["selct", "did you mean 'select'", "per-file-ignores"]),
        ("fail_on = 'high'", ["fail_on", "did you mean 'fail-on'"]),
        ("select = 3", ["select", "must be a list of strings"]),
        ("select = []", ["select", "names no rule"]),
        ('select = ["EW101", 4]', ["select", "must be a list of strings"]),
        ('ignore = ["EW555"]', ["ignore", "unknown rule 'EW555'", "EW101 swallowed-exception"]),
        ('fail-on = "severe"', ["fail-on", "'severe'", "critical, high, medium, low"]),
        ("fail-on = 1", ["fail-on", "must be a string", "critical, high, medium, low"]),
        ('per-file-ignores = ["x"]', ["per-file-ignores", "must be a table"]),
        ('per-file-ignores = {"t/*" = ["nope"]}', ["per-file-ignores 't/*'", "unknown rule"]),
        ('per-file-ignores = {"t/*" = 1}', ["per-file-ignores 't/*'", "list of strings"]),
        ("boundaries = [1]", ["boundaries", "list of strings"]),
        ("extend-state-changing = {a = 1}", ["extend-state-changing", "list of strings"]),
    ],
)
def test_bad_config_is_a_usage_error_naming_key_file_and_allowed_values(
    tmp_path: Path, cli: Cli, table: str, names: list[str]
) -> None:
    root = project(tmp_path, f"[tool.errwise]\n{table}\n", {"a.py": SWALLOW_DISK})
    with pytest.raises(UsageError) as caught:
        pyconfig.load_pyproject(str(root / "pyproject.toml"))
    message = str(caught.value)
    assert str(root / "pyproject.toml") in message
    assert "allowed:" in message
    for name in names:
        assert name in message
    run = cli("audit", "--profile", "strict", ".", cwd=root)
    assert run.code == 2
    assert run.out == ""
    assert names[0] in run.err


def test_invalid_toml_and_a_non_table_are_usage_errors(tmp_path: Path, cli: Cli) -> None:
    root = project(tmp_path / "a", "[tool.errwise\nselect = [", {"a.py": SWALLOW_DISK})
    run = cli("audit", "--profile", "strict", ".", cwd=root)
    assert run.code == 2
    assert "is not valid TOML" in run.err and "pyproject.toml" in run.err
    root = project(tmp_path / "b", "[tool]\nerrwise = 3\n", {"a.py": SWALLOW_DISK})
    run = cli("audit", "--profile", "strict", ".", cwd=root)
    assert run.code == 2
    assert "tool.errwise must be a table" in run.err
