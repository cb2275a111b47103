"""The knowledge base: valid, documented, extensible, and true to what the calls really raise."""

# The table of real failures is lambdas that trigger each failure lazily (and leak nothing:
# opened files are closed by the runner below).
# ruff: noqa: PLC3002, PLW0108, SIM115, PLW1510

from __future__ import annotations

import csv
import datetime
import errno
import importlib
import json
import os
import pwd
import select
import shutil
import socket
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import tomllib
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from errwise.audit.infer.hierarchy import item_class
from errwise.audit.infer.kb import ERRNO_CLASS, default_kb, load_kb
from errwise.error import UsageError


def _real_class(name: str) -> type[BaseException]:
    module, _, attr = name.rpartition(".")
    owner = importlib.import_module(module) if module else __builtins__
    obj = getattr(owner, attr) if module else __builtins__[attr]  # type: ignore[index]
    assert isinstance(obj, type) and issubclass(obj, BaseException), name
    return obj


def test_shipped_kb_is_valid_and_documented() -> None:
    kb = default_kb()
    assert len(kb.calls) > 600
    for spec in kb.calls.values():
        assert spec.doc.strip(), spec.name
        for e in spec.errnos:
            assert hasattr(errno, e), (spec.name, e)
    for name in ("open", "os.link", "pathlib.Path.unlink", "subprocess.run", "json.loads"):
        assert kb.spec(name) is not None


@pytest.mark.parametrize(
    "name",
    sorted(
        {
            c
            for s in default_kb().calls.values()
            for c in s.raises
            if not c.startswith(("yaml.", "requests.", "httpx.", "errwise."))
        }
    ),
)
def test_every_stdlib_class_named_exists_with_the_declared_bases(name: str) -> None:
    kb = default_kb()
    real = _real_class(kb.canonical(name))
    for base in kb.classes.get(kb.canonical(name), ()):
        assert issubclass(real, _real_class(kb.canonical(base))), (name, base)


def test_errno_classes_follow_pep_3151() -> None:
    for name, cls in ERRNO_CLASS.items():
        if hasattr(errno, name):
            assert type(OSError(getattr(errno, name), "x")).__name__ == cls


def test_conditions_check_timeout_default_and_missing_ok() -> None:
    kb = default_kb()
    run = kb.spec("subprocess.run")
    assert run is not None
    assert "subprocess.CalledProcessError" not in run.items((), 1)
    assert "subprocess.CalledProcessError" in run.items({"check"}, 1)
    assert "subprocess.TimeoutExpired" in run.items({"timeout"}, 1)
    getattr_spec = kb.spec("getattr")
    assert getattr_spec is not None
    assert getattr_spec.items((), 2) == {"AttributeError"}
    assert getattr_spec.items((), 3) == frozenset()
    unlink = kb.spec("pathlib.Path.unlink")
    assert unlink is not None
    assert "FileNotFoundError" in unlink.items((), 0)
    kept = unlink.items({"missing_ok"}, 0)
    assert "FileNotFoundError" not in kept
    assert "E:ENOENT" not in kept  # its errno goes with it
    assert "PermissionError" in kept
    rmtree = kb.spec("shutil.rmtree")
    assert rmtree is not None
    assert rmtree.items({"ignore_errors"}, 1) == frozenset()


def test_extended_merges_project_entries() -> None:
    kb = default_kb().extended(
        raises={
            "mylib.fetch": ["mylib.FetchError", "TimeoutError"],
            "mylib.Client.get": {"raises": ["mylib.FetchError"], "returns": "mylib.Response"},
            "os.link": ["OSError"],
        },
        classes={"mylib.FetchError": ["OSError"]},
    )
    fetch = kb.spec("mylib.fetch")
    assert fetch is not None
    assert fetch.items((), 0) == {"mylib.FetchError", "TimeoutError"}
    get = kb.method("mylib.Client", "get")
    assert get is not None
    assert get.returns == "mylib.Response"
    link = kb.spec("os.link")
    assert link is not None
    assert link.raises == ("OSError",)  # the project's entry wins
    assert default_kb().spec("mylib.fetch") is None  # the shipped base is untouched


@pytest.mark.parametrize(
    ("raises", "classes", "message"),
    [
        ({"x.f": "OSError"}, {}, "must be a list"),
        ({"x.f": ["x.Unknown"]}, {}, "not a known exception class"),
        ({"x.f": {"raises": ["OSError"], "bogus": 1}}, {}, "unknown keys"),
        ({"x.f": {"raises": ["OSError"], "errno": ["ENOPE"]}}, {}, "unknown errno"),
        ({".f": ["OSError"]}, {}, "not a qualified name"),
        ({}, {"x.E": ["x.Nope"]}, "not a known exception class"),
        ({"x.f": {"raises": ["OSError"], "default_at": -1}}, {}, "non-negative"),
    ],
)
def test_extended_rejects_bad_entries(
    raises: dict[str, object], classes: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        default_kb().extended(raises=raises, classes=classes)


def test_load_kb_rejects_invalid_toml_and_duplicates() -> None:
    with pytest.raises(UsageError, match="invalid TOML"):
        load_kb("[[calls]\n", "bad.toml")
    dup = '[[calls]]\nnames = ["f"]\ndoc = "d"\n[[calls]]\nnames = ["f"]\ndoc = "d"\n'
    with pytest.raises(UsageError, match="listed twice"):
        load_kb(dup, "dup.toml")
    with pytest.raises(UsageError, match="doc"):
        load_kb('[[calls]]\nnames = ["f"]\n', "nodoc.toml")


# -- the entries against real behaviour ------------------------------------------------------

Setup = Callable[[Path], Callable[[], object]]


def _then(*steps: object) -> Callable[[], object]:
    """Setup steps already ran (as arguments); return the final action."""
    action = steps[-1]
    assert callable(action)
    return action


def _dead_pid() -> int:
    proc = subprocess.run(["true"], check=True, timeout=10)
    assert proc.returncode == 0
    child = subprocess.Popen(["true"])
    child.wait(timeout=10)
    return child.pid


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _not_a_zip(tmp: Path) -> Path:
    p = tmp / "f.zip"
    p.write_text("not a zip")
    return p


def _signal_in_thread() -> None:
    import signal

    failure: list[BaseException] = []

    def target() -> None:
        try:
            signal.signal(signal.SIGUSR1, signal.SIG_IGN)
        except BaseException as exc:
            failure.append(exc)

    t = threading.Thread(target=target)
    t.start()
    t.join(10)
    raise failure[0]


CASES: list[tuple[str, frozenset[str], Setup]] = [
    ("os.remove", frozenset(), lambda t: lambda: os.remove(t / "missing")),
    ("os.remove", frozenset(), lambda t: lambda: os.remove(t)),
    ("os.remove", frozenset(), lambda t: lambda: os.remove(str(t) + "/a\0b")),
    (
        "os.rmdir",
        frozenset(),
        lambda t: _then(
            (t / "d" / "f").parent.mkdir(), (t / "d" / "f").touch(), lambda: os.rmdir(t / "d")
        ),
    ),
    ("os.mkdir", frozenset(), lambda t: lambda: os.mkdir(t)),
    ("os.link", frozenset(), lambda t: _then((t / "a").touch(), lambda: os.link(t / "a", t / "a"))),
    ("os.rename", frozenset(), lambda t: lambda: os.rename(t / "missing", t / "x")),
    (
        "os.replace",
        frozenset(),
        lambda t: _then((t / "d").mkdir(), (t / "f").touch(), lambda: os.replace(t / "f", t / "d")),
    ),
    ("os.listdir", frozenset(), lambda t: _then((t / "f").touch(), lambda: os.listdir(t / "f"))),
    ("os.stat", frozenset(), lambda t: lambda: os.stat(t / "missing")),
    ("os.kill", frozenset(), lambda t: (lambda pid: lambda: os.kill(pid, 0))(_dead_pid())),
    ("os.waitpid", frozenset(), lambda t: lambda: os.waitpid(_dead_pid(), 0)),
    ("os.readlink", frozenset(), lambda t: _then((t / "f").touch(), lambda: os.readlink(t / "f"))),
    ("os.path.getsize", frozenset(), lambda t: lambda: os.path.getsize(t / "missing")),
    ("os.waitstatus_to_exitcode", frozenset(), lambda t: lambda: os.waitstatus_to_exitcode(-1)),
    ("open", frozenset(), lambda t: lambda: open(t / "missing")),
    ("open", frozenset(), lambda t: lambda: open(t)),
    ("open", frozenset(), lambda t: _then((t / "f").touch(), lambda: open(t / "f", "x"))),
    ("open", frozenset(), lambda t: lambda: open(t / "f", "w", encoding="no-such-codec")),
    (
        "pathlib.Path.read_text",
        frozenset(),
        lambda t: _then(
            (t / "b").write_bytes(b"\xff\xfe\xfa"), lambda: (t / "b").read_text(encoding="utf-8")
        ),
    ),
    ("pathlib.Path.unlink", frozenset(), lambda t: lambda: (t / "missing").unlink()),
    ("pathlib.Path.mkdir", frozenset(), lambda t: lambda: t.mkdir()),
    ("pathlib.Path.mkdir", frozenset(), lambda t: lambda: (t / "a" / "b").mkdir()),
    ("pathlib.Path.rmdir", frozenset(), lambda t: _then((t / "f").touch(), lambda: t.rmdir())),
    ("pathlib.Path.iterdir", frozenset(), lambda t: lambda: list((t / "missing").iterdir())),
    ("pathlib.Path.write_text", frozenset(), lambda t: lambda: (t / "no" / "f").write_text("x")),
    (
        "pathlib.Path.resolve",
        frozenset({"strict"}),
        lambda t: lambda: (t / "missing").resolve(strict=True),
    ),
    ("pathlib.Path.relative_to", frozenset(), lambda t: lambda: t.relative_to("/nonexistent-root")),
    (
        "shutil.copyfile",
        frozenset(),
        lambda t: _then((t / "f").touch(), lambda: shutil.copyfile(t / "f", t / "f")),
    ),
    ("shutil.copyfile", frozenset(), lambda t: lambda: shutil.copyfile(t / "missing", t / "g")),
    ("shutil.rmtree", frozenset(), lambda t: lambda: shutil.rmtree(t / "missing")),
    ("shutil.move", frozenset(), lambda t: lambda: shutil.move(t / "missing", t / "g")),
    ("shutil.copytree", frozenset(), lambda t: lambda: shutil.copytree(t, t)),
    (
        "subprocess.run",
        frozenset(),
        lambda t: lambda: subprocess.run([str(t / "no-such-program")], timeout=10),
    ),
    (
        "subprocess.run",
        frozenset({"check", "timeout"}),
        lambda t: lambda: subprocess.run(["false"], check=True, timeout=10),
    ),
    (
        "subprocess.run",
        frozenset({"timeout"}),
        lambda t: lambda: subprocess.run(["sleep", "5"], timeout=0.05),
    ),
    (
        "subprocess.check_output",
        frozenset({"timeout"}),
        lambda t: lambda: subprocess.check_output(["false"], timeout=10),
    ),
    ("subprocess.Popen", frozenset(), lambda t: lambda: subprocess.Popen([str(t)])),
    ("tempfile.mkstemp", frozenset(), lambda t: lambda: tempfile.mkstemp(dir=t / "missing")),
    ("tempfile.mkdtemp", frozenset(), lambda t: lambda: tempfile.mkdtemp(dir=t / "missing")),
    # (tempfile.NamedTemporaryFile is left out: on CPython 3.11 its failed construction leaves
    # a half-built closer whose __del__ raises later, in whichever test runs then.)
    ("tempfile.TemporaryFile", frozenset(), lambda t: lambda: tempfile.TemporaryFile(dir=t / "x")),
    ("json.loads", frozenset(), lambda t: lambda: json.loads("{")),
    ("json.loads", frozenset(), lambda t: lambda: json.loads(b"\xff\xfe\x00")),
    (
        "json.load",
        frozenset(),
        lambda t: _then((t / "j").write_text("["), lambda: json.load((t / "j").open())),
    ),
    ("json.dumps", frozenset(), lambda t: lambda: json.dumps(float("nan"), allow_nan=False)),
    ("tomllib.loads", frozenset(), lambda t: lambda: tomllib.loads("= 1")),
    (
        "tomllib.load",
        frozenset(),
        lambda t: _then(
            (t / "c").write_bytes(b'a = "\xff"'), lambda: tomllib.load((t / "c").open("rb"))
        ),
    ),
    ("csv.reader.__next__", frozenset(), lambda t: lambda: next(csv.reader(['"a"b'], strict=True))),
    ("sqlite3.connect", frozenset(), lambda t: lambda: sqlite3.connect(t / "missing" / "db")),
    (
        "sqlite3.Connection.execute",
        frozenset(),
        lambda t: lambda: sqlite3.connect(":memory:").execute("SELEC 1"),
    ),
    (
        "sqlite3.Connection.execute",
        frozenset(),
        lambda t: lambda: sqlite3.connect(":memory:").execute("select * from nope"),
    ),
    ("zipfile.ZipFile", frozenset(), lambda t: lambda: zipfile.ZipFile(_not_a_zip(t))),
    ("zipfile.ZipFile", frozenset(), lambda t: lambda: zipfile.ZipFile(t / "missing.zip")),
    ("tarfile.open", frozenset(), lambda t: lambda: tarfile.open(_not_a_zip(t))),
    ("int", frozenset(), lambda t: lambda: int("x")),
    ("int", frozenset(), lambda t: lambda: int(float("inf"))),
    ("float", frozenset(), lambda t: lambda: float("x")),
    ("next", frozenset(), lambda t: lambda: next(iter([]))),
    ("getattr", frozenset(), lambda t: lambda: t.no_such_attribute),
    ("dict.pop", frozenset(), lambda t: lambda: {}.pop("k")),
    ("list.pop", frozenset(), lambda t: lambda: [].pop()),
    ("list.remove", frozenset(), lambda t: lambda: [].remove(1)),
    ("str.index", frozenset(), lambda t: lambda: "abc".index("z")),
    ("max", frozenset(), lambda t: lambda: max([])),
    ("chr", frozenset(), lambda t: lambda: chr(-1)),
    ("str", frozenset(), lambda t: lambda: str(b"\xff", "utf-8")),
    ("bytes", frozenset(), lambda t: lambda: bytes("é", "ascii")),
    ("str.encode", frozenset(), lambda t: lambda: "é".encode("ascii")),
    ("bytes.decode", frozenset(), lambda t: lambda: b"\xff".decode("utf-8")),
    ("pow", frozenset(), lambda t: lambda: pow(2, -1, 4)),
    (
        "datetime.datetime.strptime",
        frozenset(),
        lambda t: lambda: datetime.datetime.strptime("x", "%Y"),
    ),
    (
        "datetime.datetime.fromisoformat",
        frozenset(),
        lambda t: lambda: datetime.datetime.fromisoformat("nope"),
    ),
    ("datetime.date", frozenset(), lambda t: lambda: datetime.date(2024, 2, 30)),
    ("time.strptime", frozenset(), lambda t: lambda: time.strptime("x", "%Y")),
    ("time.sleep", frozenset(), lambda t: lambda: time.sleep(-1)),
    ("pwd.getpwnam", frozenset(), lambda t: lambda: pwd.getpwnam("no-such-user-errwise")),
    (
        "importlib.import_module",
        frozenset(),
        lambda t: lambda: importlib.import_module("no_such_module_errwise"),
    ),
    (
        "socket.create_connection",
        frozenset(),
        lambda t: (lambda port: lambda: socket.create_connection(("127.0.0.1", port), timeout=5))(
            _closed_port()
        ),
    ),
    ("select.select", frozenset(), lambda t: lambda: select.select([-1], [], [], 0)),
    ("signal.signal", frozenset(), lambda t: _signal_in_thread),
    (
        "urllib.request.urlopen",
        frozenset(),
        lambda t: lambda: urllib.request.urlopen("nosuchscheme://x", timeout=1),
    ),
    (
        "urllib.parse.urlsplit",
        frozenset(),
        lambda t: lambda: __import__("urllib.parse").parse.urlsplit("http://[::1"),
    ),
    ("shlex.split", frozenset(), lambda t: lambda: __import__("shlex").split('"unbalanced')),
    (
        "base64.b64decode",
        frozenset(),
        lambda t: lambda: __import__("base64").b64decode("a", validate=True),
    ),
    ("re.compile", frozenset(), lambda t: lambda: __import__("re").compile(str("(" * 1))),
    ("struct.unpack", frozenset(), lambda t: lambda: __import__("struct").unpack("i", b"")),
    ("codecs.lookup", frozenset(), lambda t: lambda: __import__("codecs").lookup("no-such-codec")),
    (
        "locale.setlocale",
        frozenset(),
        lambda t: lambda: __import__("locale").setlocale(__import__("locale").LC_ALL, "xx_XX.NOPE"),
    ),
]


@pytest.mark.parametrize(
    ("name", "kws", "setup"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_kb_entry_matches_real_failure(
    name: str, kws: frozenset[str], setup: Setup, tmp_path: Path
) -> None:
    kb = default_kb()
    spec = kb.spec(name)
    assert spec is not None, name
    items = spec.items(kws, 1) | spec.items(kws, 5)
    classes = {item_class(i) for i in items}
    action = setup(tmp_path)
    with pytest.raises(BaseException) as caught:
        result = action()
        if hasattr(result, "close"):
            result.close()
    exc = caught.value
    allowed = tuple(_real_class(kb.canonical(c)) for c in classes if not c.startswith("~"))
    assert isinstance(exc, allowed), (
        f"{name} raised {type(exc).__name__}: {exc}; KB lists {sorted(classes)}"
    )
    if isinstance(exc, OSError) and exc.errno is not None and type(exc) is OSError:
        # A plain OSError's errno must be one the entry names (subclasses name themselves).
        assert errno.errorcode[exc.errno] in spec.errnos, (name, errno.errorcode[exc.errno])


def test_missing_ok_really_silences(tmp_path: Path) -> None:
    (tmp_path / "missing").unlink(missing_ok=True)  # the KB drops FileNotFoundError for it
    spec = default_kb().spec("pathlib.Path.unlink")
    assert spec is not None
    assert "FileNotFoundError" not in spec.items({"missing_ok"}, 0)


def test_run_without_check_does_not_raise_called_process_error() -> None:
    proc = subprocess.run(["false"], timeout=10, check=False)
    assert proc.returncode != 0  # no exception: the KB's conditional raise is right
    spec = default_kb().spec("subprocess.run")
    assert spec is not None
    assert "subprocess.CalledProcessError" not in spec.items((), 1)


def test_exists_returns_false_instead_of_raising(tmp_path: Path) -> None:
    assert os.path.exists(tmp_path / "missing" / "x") is False
    assert os.path.exists(str(tmp_path) + "\0") is False
    spec = default_kb().spec("os.path.exists")
    assert spec is not None
    assert spec.items((), 1) == frozenset()


def test_python_version_assumptions() -> None:
    assert sys.version_info >= (3, 11)


def test_kb_from_config() -> None:
    from errwise.audit.infer.kb import kb_from_config

    assert kb_from_config({}) is default_kb()
    assert kb_from_config({"select": ["EW101"]}) is default_kb()
    kb = kb_from_config(
        {
            "raises": {"acme.deploy": ["acme.DeployError"]},
            "exception-classes": {"acme.DeployError": ["RuntimeError"]},
        }
    )
    spec = kb.spec("acme.deploy")
    assert spec is not None
    assert spec.raises == ("acme.DeployError",)
    with pytest.raises(UsageError, match="must be a table"):
        kb_from_config({"raises": ["acme.deploy"]})
    with pytest.raises(UsageError, match="must be a table"):
        kb_from_config([])  # type: ignore[arg-type]


def test_project_entries_reach_the_inference() -> None:
    import ast as ast_module
    import textwrap

    from errwise.audit.infer import Program, summarize
    from errwise.audit.infer.kb import kb_from_config
    from errwise.audit.model import FileModel

    src = textwrap.dedent(
        """
        import acme
        def ship():
            try:
                acme.deploy()
            except acme.DeployError:
                return False
        """
    )
    kb = kb_from_config(
        {
            "raises": {"acme.deploy": ["acme.DeployError"]},
            "exception-classes": {"acme.DeployError": ["RuntimeError"]},
        }
    )
    model = FileModel.build(ast_module.parse(src), "s.py", src, "s")
    prog = Program([summarize(model, kb)], kb)
    assert prog.hidden_errors("s.py", 6) == (["acme.DeployError"], True)
