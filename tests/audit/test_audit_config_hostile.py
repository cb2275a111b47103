"""A `pyproject.toml` built to break the auditor is a configuration error: exit 2 naming the file
and the reason — never a traceback (exit 70), never a hang, never a file read without bound."""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from errwise.audit import pyconfig
from errwise.error import UsageError

Cli = Callable[..., Any]

SWALLOW = "import os\n\n\ndef drop(p):\n    try:\n        os.remove(p)\n"
SWALLOW += "    except Exception:\n        pass\n"


def _project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "a.py").write_text(SWALLOW)
    return root


def _audit(cli: Cli, root: Path) -> Any:
    """Run the audit in a thread with a deadline, so a blocking read fails the test, not CI."""
    result: list[Any] = []
    worker = threading.Thread(
        target=lambda: result.append(
            cli("audit", "--profile", "strict", "--no-cache", ".", cwd=root)
        ),
        daemon=True,
    )
    worker.start()
    worker.join(60)
    assert result, "the audit hung on the configuration file"
    return result[0]


def _expect_config_error(run: Any, *reason: str) -> None:
    assert run.code == 2, run
    assert "[ERR_USAGE]" in run.err and "pyproject.toml" in run.err, run.err
    assert "Traceback" not in run.err
    for words in reason:
        assert words in run.err, run.err


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'[tool.errwise]\nselect = ["\xff"]\n', "not valid UTF-8 text (line 2"),
        (b"x = " + b"[" * 50_000 + b"]" * 50_000 + b"\n", "nests arrays or tables too deeply"),
        (b"x = " + b"{a = " * 20_000 + b"}" * 20_000 + b"\n", "nests arrays or tables too deeply"),
        (b"x = " + b"7" * 5000 + b"\n", "holds a value that cannot be read"),
        (b"# " + b"a" * (pyconfig.MAX_PYPROJECT_BYTES + 1) + b"\n", "larger than 4 MiB"),
        (
            b'[tool.errwise.raises]\n"os.remove" = { doc = "d", names = [1979-05-27] }\n',
            "holds a date value",
        ),
    ],
    ids=["invalid-utf8", "deep-arrays", "deep-tables", "huge-int", "huge-file", "date-in-kb"],
)
def test_bad_content_is_a_configuration_error(
    tmp_path: Path, cli: Cli, content: bytes, reason: str
) -> None:
    root = _project(tmp_path)
    (root / "pyproject.toml").write_bytes(content)
    _expect_config_error(_audit(cli, root), reason)


def test_a_fifo_is_refused_without_blocking(tmp_path: Path, cli: Cli) -> None:
    root = _project(tmp_path)
    os.mkfifo(root / "pyproject.toml")
    _expect_config_error(_audit(cli, root), "not a regular file (a FIFO)")


def test_a_link_to_dev_zero_is_refused_unread(tmp_path: Path, cli: Cli) -> None:
    root = _project(tmp_path)
    (root / "pyproject.toml").symlink_to("/dev/zero")
    _expect_config_error(_audit(cli, root), "not a regular file (a device)")


def test_a_dangling_link_is_reported_not_skipped(tmp_path: Path, cli: Cli) -> None:
    root = _project(tmp_path)
    (root / "pyproject.toml").symlink_to(tmp_path / "gone.toml")
    _expect_config_error(_audit(cli, root), "cannot be read: no such file or directory")


def test_an_unreadable_file_is_a_configuration_error(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path)
    config = root / "pyproject.toml"
    config.write_text("[tool.errwise]\n")
    real_open = os.open

    def denied(path: Any, *args: Any, **kwargs: Any) -> int:
        if os.fspath(path) == str(config):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(UsageError) as caught:
        pyconfig.load_pyproject(str(config))
    assert caught.value.code == "ERR_USAGE"
    assert caught.value.context["file"] == str(config)
    _expect_config_error(_audit(cli, root), "cannot be read: permission denied")


def test_a_read_error_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text("[tool.errwise]\n")

    def broken(fd: int, size: int) -> bytes:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "read", broken)
    with pytest.raises(UsageError, match="cannot be read: input/output error"):
        pyconfig.load_pyproject(str(config))


def test_a_directory_of_that_name_is_not_a_configuration(tmp_path: Path, cli: Cli) -> None:
    root = _project(tmp_path)
    (root / "pyproject.toml").mkdir()
    run = _audit(cli, root)
    assert run.code == 1, run


@pytest.mark.parametrize(
    "table",
    [
        '[tool.errwise.raises]\n"os.remove" = 3\n',
        '[tool.errwise.raises]\n"os.remove" = { doc = "d", raises = [1] }\n',
        '[tool.errwise.raises]\n"os.remove" = { doc = "d", when_kw = { a = 1979-05-27 } }\n',
        '[tool.errwise.raises]\n"os.remove" = { doc = "d", default_at = true }\n',
        '[tool.errwise.raises]\n"os.remove" = { doc = "d", incomplete = "yes" }\n',
        '[tool.errwise.raises]\n"" = ["OSError"]\n',
        '[tool.errwise.raises]\n"os.remove" = { doc = "d", errno = ["__class__"] }\n',
        '[tool.errwise.raises]\n"os.remove" = { doc = "d", errno = ["errorcode"] }\n',
        '[tool.errwise.exception-classes]\n"a.E" = "OSError"\n',
        '[tool.errwise.exception-classes]\n"a.E" = [{ x = 1 }]\n',
        "[tool.errwise]\nraises = [1, 2]\n",
        '[tool.errwise]\nexception-classes = "x"\n',
    ],
)
def test_ill_typed_knowledge_extensions_are_configuration_errors(
    tmp_path: Path, cli: Cli, table: str
) -> None:
    root = _project(tmp_path)
    (root / "pyproject.toml").write_text(table)
    _expect_config_error(_audit(cli, root))
