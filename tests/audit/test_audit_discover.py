"""Discovery: .gitignore in a real git work tree, the skip list elsewhere, virtualenvs, symlink
loops, explicit files, unreadable directories."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from errwise.audit import discover as discover_mod
from errwise.audit.discover import ExcludePattern, discover, display_path, module_name_for

Cli = Callable[..., Any]

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n", encoding="utf-8")


def found(root: Path, *paths: str, **kwargs: Any) -> list[str]:
    result = discover([str(root / p) for p in paths or ("",)], root=str(root), **kwargs)
    assert not result.diagnostics, result.diagnostics
    return [f.display for f in result.files]


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, timeout=60)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("ignored/\n*.gen.py\n")
    touch(tmp_path, "a.py", "pkg/b.py", "ignored/c.py", "pkg/d.gen.py", "build/kept.py")
    touch(tmp_path, "env/lib/site.py", "deleted.py", "notes.txt")
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    git(tmp_path, "add", "a.py", "deleted.py", ".gitignore")
    (tmp_path / "deleted.py").unlink()
    return tmp_path


@needs_git
def test_git_work_tree_honours_gitignore(repo: Path) -> None:
    # Tracked and untracked-but-not-ignored files; not ignored ones, not a virtualenv, not a
    # tracked file deleted from the work tree; `build/` is not special when git says it is not.
    assert found(repo) == ["a.py", "build/kept.py", "pkg/b.py"]


@needs_git
def test_git_subdirectory_and_explicit_ignored_file(repo: Path) -> None:
    assert found(repo, "pkg") == ["pkg/b.py"]
    assert found(repo, "ignored/c.py") == ["ignored/c.py"]


@needs_git
def test_an_explicitly_named_ignored_directory_is_walked(repo: Path) -> None:
    touch(repo, "ignored/sub/d.py", "ignored/__pycache__/e.py")
    assert found(repo, "ignored") == ["ignored/c.py", "ignored/sub/d.py"]


@needs_git
def test_without_git_the_skip_list_applies(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_git(*args: object, **kwargs: object) -> Any:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "git")

    monkeypatch.setattr(subprocess, "run", no_git)
    assert found(repo) == ["a.py", "ignored/c.py", "pkg/b.py", "pkg/d.gen.py"]


@needs_git
def test_a_hung_git_falls_back_to_the_walk_and_says_so(
    repo: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    seen: dict[str, object] = {}

    def hangs(cmd: list[str], **kwargs: object) -> Any:
        seen.update(kwargs)
        raise subprocess.TimeoutExpired(cmd, float(kwargs["timeout"]))  # type: ignore[arg-type]

    monkeypatch.setattr(subprocess, "run", hangs)
    with caplog.at_level(logging.WARNING, logger="errwise.audit"):
        files = found(repo)
    assert seen["timeout"] == discover_mod.GIT_TIMEOUT
    assert "a.py" in files and "ignored/c.py" in files
    assert "instead of asking git: git check-ignore failed" in caplog.text


def test_walk_skips_tool_directories_and_virtualenvs(tmp_path: Path) -> None:
    touch(tmp_path, "app/main.py", "app/__pycache__/main.py", "build/lib/x.py", "dist/y.py")
    touch(tmp_path, "node_modules/z.py", ".tox/py311/t.py", ".git/hooks/h.py", ".venv/a.py")
    touch(tmp_path, "myenv/lib/site.py", "pkg.egg-info/e.py", ".mypy_cache/m.py", "setup.py")
    (tmp_path / "myenv" / "pyvenv.cfg").write_text("")
    touch(tmp_path, "app/data.txt", "app/noext")
    assert found(tmp_path) == ["app/main.py", "setup.py"]
    # Named explicitly, a skipped directory is searched.
    assert found(tmp_path, "build") == ["build/lib/x.py"]


def test_explicit_files_are_always_audited_once(tmp_path: Path) -> None:
    touch(tmp_path, "a.py", "script", "gen/skip.py")
    excl = [ExcludePattern("gen", str(tmp_path)), ExcludePattern("a.py", str(tmp_path))]
    assert found(tmp_path, "", "a.py", "script", "gen/skip.py", exclude=excl) == [
        "a.py",
        "gen/skip.py",
        "script",
    ]


def test_exclude_patterns(tmp_path: Path) -> None:
    touch(tmp_path, "src/a.py", "src/a_pb2.py", "src/gen/b.py", "tests/t.py")
    base = str(tmp_path)
    patterns = [ExcludePattern(p, base) for p in ("*_pb2.py", "src/gen", "tests/")]
    assert found(tmp_path, exclude=patterns) == ["src/a.py"]
    # Globs match whole names, not prefixes.
    assert found(tmp_path, exclude=[ExcludePattern("src/a", base), ExcludePattern("t", base)]) == [
        "src/a.py",
        "src/a_pb2.py",
        "src/gen/b.py",
        "tests/t.py",
    ]


def test_symlink_loop_is_reported_not_followed(tmp_path: Path) -> None:
    touch(tmp_path, "pkg/a.py", "pkg/sub/b.py")
    (tmp_path / "pkg" / "sub" / "up").symlink_to(tmp_path / "pkg")
    (tmp_path / "self.py").symlink_to(tmp_path / "self.py")
    (tmp_path / "dangling.py").symlink_to(tmp_path / "missing.py")
    (tmp_path / "dangling_dir").symlink_to(tmp_path / "missing")
    result = discover([str(tmp_path)], root=str(tmp_path))
    assert [f.display for f in result.files] == ["pkg/a.py", "pkg/sub/b.py"]
    problems = {(d.path, d.code): d.message for d in result.diagnostics}
    assert set(problems) == {
        ("dangling.py", "ERR_NOT_FOUND"),
        ("pkg/sub/up", "ERR_IO"),
        ("self.py", "ERR_IO"),
    }
    assert "symlink loop" in problems[("pkg/sub/up", "ERR_IO")]
    assert "symlink loop" in problems[("self.py", "ERR_IO")]


def test_symlinked_directories_are_followed_once(tmp_path: Path) -> None:
    touch(tmp_path, "outside/o.py")
    project = tmp_path / "project"
    touch(project, "a.py")
    (project / "link1").symlink_to(tmp_path / "outside")
    (project / "link2").symlink_to(tmp_path / "outside")
    (project / "f.py").symlink_to(project / "a.py")
    assert found(project) == ["a.py", "f.py", "link1/o.py"]


def test_symlink_loop_through_the_cli_is_a_diagnostic(tmp_path: Path, cli: Cli) -> None:
    touch(tmp_path, "a.py")
    (tmp_path / "loop").symlink_to(tmp_path)
    run = cli("audit", "--profile", "strict", ".", cwd=tmp_path)
    assert run.code == 10
    assert "loop: ERR_IO: symlink loop" in run.err


def test_unreadable_directory_is_a_diagnostic_and_the_walk_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    touch(tmp_path, "ok/a.py", "secret/b.py")
    real_scandir = os.scandir

    def scandir(path: str) -> Iterator[os.DirEntry[str]]:
        if os.path.basename(path) == "secret":
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = discover([str(tmp_path)], root=str(tmp_path), use_git=False)
    assert [f.display for f in result.files] == ["ok/a.py"]
    assert [(d.path, d.code) for d in result.diagnostics] == [("secret", "ERR_PERMISSION_DENIED")]


def test_missing_path_is_a_diagnostic(tmp_path: Path) -> None:
    result = discover([str(tmp_path / "nope.py")], root=str(tmp_path))
    assert result.files == []
    assert [(d.path, d.code) for d in result.diagnostics] == [("nope.py", "ERR_NOT_FOUND")]


def test_paths_and_module_names(tmp_path: Path) -> None:
    touch(tmp_path, "src/pkg/__init__.py", "src/pkg/sub/__init__.py", "src/pkg/sub/mod.py")
    touch(tmp_path, "scripts/tool.py", "src/pkg/sub/not-a-module.py")
    assert module_name_for(str(tmp_path / "src/pkg/sub/mod.py")) == "pkg.sub.mod"
    assert module_name_for(str(tmp_path / "src/pkg/sub/__init__.py")) == "pkg.sub"
    assert module_name_for(str(tmp_path / "scripts/tool.py")) == "tool"
    assert module_name_for(str(tmp_path / "src/pkg/sub/not-a-module.py")) is None
    assert display_path(str(tmp_path / "src" / "x.py"), str(tmp_path)) == "src/x.py"
    assert display_path("/elsewhere/x.py", str(tmp_path)) == "/elsewhere/x.py"
    modules = {f.display: f.module for f in discover([str(tmp_path)], root=str(tmp_path)).files}
    assert modules["src/pkg/sub/mod.py"] == "pkg.sub.mod"


def test_exclude_outside_the_root(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    touch(lib, "a.py", "test/t.py", "pkg/test/u.py", "idlelib/i.py", "pkg/b.py")
    root = tmp_path / "elsewhere"
    root.mkdir()
    here = str(root)
    patterns = [
        ExcludePattern("test", here),  # a name: anywhere below the named directory
        ExcludePattern(str(lib / "idlelib"), here),  # absolute
        ExcludePattern("pkg/b.py", here),  # relative to the named directory
    ]
    result = discover([str(lib)], root=here, exclude=patterns)
    assert [f.display for f in result.files] == [(lib / "a.py").as_posix()]
    # Above the named directory, names do not count: "lib" does not exclude everything.
    assert len(discover([str(lib)], root=here, exclude=[ExcludePattern("lib", here)]).files) == 5
