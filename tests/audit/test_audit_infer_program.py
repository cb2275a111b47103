"""Interprocedural propagation: across modules and classes, through handlers, to a fixpoint."""

from __future__ import annotations

import ast
import pickle
import textwrap

import pytest

from errwise.audit.config import AuditConfig
from errwise.audit.engine import analyze_source
from errwise.audit.infer import Program, fill_hidden_errors, program_for, summarize
from errwise.audit.infer.facts import FileFacts
from errwise.audit.model import FileModel
from errwise.error import UsageError


def facts_of(modules: dict[str, str]) -> list[FileFacts]:
    out = []
    for module, raw in modules.items():
        source = textwrap.dedent(raw)
        path = module.replace(".", "/") + ".py"
        model = FileModel.build(ast.parse(source), path, source, module)
        out.append(summarize(model))
    return out


def program(modules: dict[str, str]) -> Program:
    return Program(facts_of(modules))


def line_of(source: str, text: str) -> int:
    for number, line in enumerate(textwrap.dedent(source).splitlines(), 1):
        if text in line:
            return number
    raise AssertionError(text)


STORE = """
    import os
    from pathlib import Path

    from pkg.errors import StoreError

    class Store:
        def __init__(self, root: str) -> None:
            self.root = Path(root)

        def save(self, name, data):
            tmp = self.root / (name + ".tmp")
            tmp.write_text(data)
            os.replace(tmp, self.root / name)

        def load(self, name):
            try:
                return (self.root / name).read_text()
            except FileNotFoundError:
                raise StoreError(name) from None
"""
APP = """
    from pkg import Store

    def publish(root, name, data):
        store = Store(root)
        try:
            store.save(name, data)
        except OSError:
            return False
        return True

    def show(root, name):
        try:
            return Store(root).load(name)
        except Exception:
            return None
"""
MODULES = {
    "pkg": "from pkg.store import Store\nfrom pkg.errors import StoreError\n",
    "pkg.errors": "class StoreError(LookupError):\n    pass\n",
    "pkg.store": STORE,
    "app": APP,
}


def test_propagation_across_modules_and_classes() -> None:
    prog = program(MODULES)
    names, complete = prog.raise_set("pkg.store.Store.save")
    assert complete
    assert {"FileNotFoundError", "PermissionError", "IsADirectoryError", "OSError"} <= set(names)
    assert "UnicodeEncodeError" in names  # write_text
    load, complete = prog.raise_set("pkg.store.Store.load")
    assert complete
    assert "pkg.errors.StoreError" in load
    assert "FileNotFoundError" not in load  # caught and replaced (raise ... from None)
    assert "UnicodeDecodeError" in load
    # through the package re-export `from pkg import Store` and the constructor
    hidden, complete = prog.hidden_errors("app.py", line_of(APP, "except OSError"))
    assert complete
    assert hidden[0] != "OSError"  # most specific first
    assert {"FileNotFoundError", "PermissionError", "OSError"} <= set(hidden)
    assert "UnicodeEncodeError" not in hidden  # not an OSError: the clause does not hide it
    assert "EXDEV" in prog.errnos("app.py", line_of(APP, "except OSError"))
    broad, _ = prog.hidden_errors("app.py", line_of(APP, "except Exception"))
    assert "pkg.errors.StoreError" in broad
    assert "FileNotFoundError" not in broad


def test_self_method_dispatch_covers_overrides() -> None:
    src = """
        import json, os
        class Base:
            def run(self):
                return self.step()
            def step(self):
                return 1
        class Child(Base):
            def step(self):
                return json.loads("x")
        class Other:
            def step(self):
                os.remove("x")
    """
    prog = program({"m": src})
    names, complete = prog.raise_set("m.Base.run")
    assert complete
    assert "json.JSONDecodeError" in names  # Child may override step
    assert "FileNotFoundError" not in names  # Other is unrelated


def test_mutual_recursion_reaches_a_fixpoint() -> None:
    src = """
        def even(n, d):
            if n == 0:
                return d["even"]
            return odd(n - 1, d)
        def odd(n, d):
            if n == 0:
                raise ValueError(n)
            return even(n - 1, d)
        def guarded(n):
            try:
                return even(n, {})
            except LookupError:
                return None
    """
    prog = program({"m": src})
    for fn in ("m.even", "m.odd"):
        names, complete = prog.raise_set(fn)
        assert complete
        assert {"KeyError", "ValueError"} <= set(names), fn
    names, complete = prog.raise_set("m.guarded")
    assert complete
    assert "ValueError" in names
    assert "KeyError" not in names and "IndexError" not in names


def test_import_cycle_terminates() -> None:
    prog = program(
        {
            "a": "import b\ndef f():\n    return b.g()\n",
            "b": "import a\ndef g():\n    return a.f()\n",
        }
    )
    assert prog.raise_set("a.f") == ([], True)


def test_handlers_reraise_narrow_and_replace() -> None:
    src = """
        import os
        def bare(p):
            try:
                os.remove(p)
            except FileNotFoundError:
                raise
        def named(p):
            try:
                os.remove(p)
            except PermissionError as e:
                raise e
        def replaced(p):
            try:
                os.remove(p)
            except OSError as e:
                raise ValueError(p) from e
        def conditional(p):
            try:
                os.remove(p)
            except OSError as e:
                if e.errno != 2:
                    raise
    """
    prog = program({"m": src})
    bare, complete = prog.raise_set("m.bare")
    assert complete
    assert set(bare) == {
        "FileNotFoundError",  # re-raised
        "IsADirectoryError",
        "NotADirectoryError",
        "PermissionError",
        "OSError",
        "ValueError",
    }
    named, _ = prog.raise_set("m.named")
    assert "PermissionError" in named and "FileNotFoundError" in named
    assert prog.raise_set("m.replaced") == (["ValueError"], True)
    conditional = prog.flow("m.conditional")
    assert conditional is not None
    assert "E:EXDEV" not in conditional.items  # os.remove does not raise EXDEV
    assert "E:EBUSY" in conditional.items  # re-raised


@pytest.mark.parametrize(
    "body",
    [
        "importlib.import_module(name).run()",
        "getattr(obj, 'do_' + name)()",
        "callback()",
        "obj.method()",
        "from os import *\n    remove(name)",
        "exec(name)",
    ],
)
def test_code_that_defeats_inference_is_unknown(body: str) -> None:
    src = f"import importlib\ndef f(obj, name, callback):\n    {body}\n"
    prog = program({"m": src})
    _, complete = prog.raise_set("m.f")
    assert not complete


def test_unknown_call_is_marked_not_silently_empty() -> None:
    src = """
        import os, somelib
        def f(p):
            try:
                os.remove(p)
                somelib.frob(p)
            except OSError:
                pass
    """
    prog = program({"m": src})
    result = prog.handler("m.py", line_of(src, "except OSError"))
    assert result is not None
    assert not result.complete
    assert "somelib.frob" in result.unresolved
    hidden, complete = prog.hidden_errors("m.py", line_of(src, "except OSError"))
    assert "FileNotFoundError" in hidden and not complete


def test_broad_handler_makes_unknown_code_complete_again() -> None:
    src = """
        import somelib
        def f():
            try:
                somelib.frob()
            except Exception:
                return None
    """
    assert program({"m": src}).raise_set("m.f") == ([], True)


def test_local_resolution_forms() -> None:
    src = """
        import subprocess as sp
        from json import loads as parse
        from pathlib import Path
        import tarfile

        class Repo:
            def __init__(self, root: str):
                self.root = Path(root)
                self.archive = tarfile.open(root)

            def clean(self):
                self.root.rmdir()
                self.archive.extractall()

        def a(p: Path):
            p.unlink(missing_ok=True)
        def b(text):
            return parse(text)
        def c():
            sp.run(["x"], check=True, timeout=3)
        def d(name):
            with open(name) as f:
                for line in f:
                    pass
        def e(root):
            p = Path(root) / "x"
            p.touch()
    """
    prog = program({"m": src})
    a, ok = prog.raise_set("m.a")
    assert ok and "FileNotFoundError" not in a and "PermissionError" in a
    assert prog.raise_set("m.b") == (["UnicodeDecodeError", "json.JSONDecodeError"], True)
    c, ok = prog.raise_set("m.c")
    assert ok and {"subprocess.CalledProcessError", "subprocess.TimeoutExpired"} <= set(c)
    d, ok = prog.raise_set("m.d")
    assert ok and {"FileNotFoundError", "UnicodeDecodeError"} <= set(d)  # iteration reads
    e, ok = prog.raise_set("m.e")
    assert ok and "FileExistsError" in e
    clean, ok = prog.raise_set("m.Repo.clean")
    assert ok and {"NotADirectoryError", "tarfile.ExtractError"} <= set(clean)


def test_facts_are_picklable_and_link_the_same() -> None:
    facts = facts_of(MODULES)
    copies = pickle.loads(pickle.dumps(facts))
    a, b = Program(facts), Program(copies)
    for fn in ("pkg.store.Store.save", "app.publish", "app.show"):
        assert a.raise_set(fn) == b.raise_set(fn)


def test_program_rejects_non_facts() -> None:
    with pytest.raises(UsageError, match="FileFacts"):
        Program([object()])  # type: ignore[list-item]


def test_unknown_queries_answer_unknown() -> None:
    prog = program({"m": "def f():\n    pass\n"})
    assert prog.raise_set("m.nope") == ([], False)
    assert prog.hidden_errors("m.py", 99) == ([], False)
    assert prog.hidden_errors("other.py", 1) == ([], False)
    assert prog.handler("m.py", 1) is None


def test_single_file_program_for_a_model() -> None:
    src = "import os\ndef f(p):\n    try:\n        os.rmdir(p)\n    except OSError:\n        pass\n"
    model = FileModel.build(ast.parse(src), "s.py", src, "s")
    prog = program_for(model)
    assert program_for(model) is prog  # built once
    assert "NotADirectoryError" in prog.hidden_errors("s.py", 5)[0]


def test_fill_hidden_errors_on_claimed_handler() -> None:
    src = textwrap.dedent(
        """
        import subprocess
        def push():
            try:
                subprocess.run(["git", "push"], check=True, timeout=30)
            except Exception:
                pass
        """
    )
    result = analyze_source(src, "s.py", AuditConfig(select=frozenset({"EW101"})))
    [finding] = result.findings
    finding.hidden_errors = []
    model = FileModel.build(ast.parse(src), "s.py", src, None)
    fill_hidden_errors([finding], program_for(model))
    assert finding.hidden_errors_complete
    assert {"subprocess.CalledProcessError", "subprocess.TimeoutExpired"} <= set(
        finding.hidden_errors
    )
    assert finding.hidden_errors.index("FileNotFoundError") < finding.hidden_errors.index("OSError")


def test_pathological_input_never_crashes() -> None:
    src = "def f():\n    return " + "(" * 150 + "1" + ")" * 150 + "\n"
    src += "x = [" + ", ".join(f"a{i}[{i}]" for i in range(300)) + "]\n"
    src += "class A(A): pass\nclass B(metaclass=A): pass\n"
    src += "def g():\n    raise\n" + "def h():\n    raise g\n" + "def k():\n    raise k()()\n"
    prog = program({"m": src})
    for fn in ("m.f", "m.g", "m.h", "m.k", "m.<module>"):
        prog.raise_set(fn)
    assert prog.raise_set("m.g") == ([], False)  # bare raise outside a handler


def test_properties_run_code() -> None:
    src = """
        import json
        class Config:
            @property
            def data(self):
                return json.loads(self.text)
            def get(self, key):
                return self.data[key]
        def read(cfg):
            return cfg.data
        def other(obj):
            return obj.size
    """
    prog = program({"m": src})
    names, complete = prog.raise_set("m.Config.get")
    assert complete and {"json.JSONDecodeError", "KeyError"} <= set(names)
    assert not prog.raise_set("m.read")[1]  # `data` is a property somewhere: unknown code
    assert prog.raise_set("m.other") == ([], True)  # no property named `size` in the program


def test_protocol_methods_are_unknown() -> None:
    src = """
        from typing import Protocol
        class Conn(Protocol):
            def send(self, data: bytes) -> None: ...
        def push(conn: Conn, data):
            conn.send(data)
    """
    assert not program({"m": src}).raise_set("m.push")[1]


def test_opaque_classes_make_constructors_unknown() -> None:
    src = """
        import enum
        from dataclasses import dataclass
        class Color(enum.Enum):
            RED = 1
        def register(cls):
            return cls
        @register
        class Plugin:
            pass
        @dataclass
        class Point:
            x: int
        def a(v):
            return Color(v)
        def b():
            return Plugin()
        def c():
            return Point(1)
    """
    prog = program({"m": src})
    assert not prog.raise_set("m.a")[1]
    assert not prog.raise_set("m.b")[1]
    assert prog.raise_set("m.c") == ([], True)


def test_callbacks_positional_keywords_walrus_and_modes() -> None:
    src = """
        import subprocess
        from pathlib import Path
        def parse(s):
            return int(s)
        def ints(xs):
            return list(map(int, xs))
        def by_key(xs):
            return sorted(xs, key=parse)
        def reap(cmd):
            proc = subprocess.Popen(cmd)
            proc.wait(5)
        def walrus(name):
            if (p := Path(name)).exists():
                p.unlink(True)
        def read(name):
            with open(name) as f:
                return f.read()
        def write(name, text):
            with open(name, "x") as f:
                f.write(text)
    """
    prog = program({"m": src})
    assert "ValueError" in prog.raise_set("m.ints")[0]
    assert "ValueError" in prog.raise_set("m.by_key")[0]
    assert "subprocess.TimeoutExpired" in prog.raise_set("m.reap")[0]
    walrus, ok = prog.raise_set("m.walrus")
    assert ok and "PermissionError" in walrus and "FileNotFoundError" not in walrus
    read, ok = prog.raise_set("m.read")
    assert ok and "FileExistsError" not in read and "UnicodeDecodeError" in read
    assert "ENOSPC" not in prog.errnos_of_function("m.read")
    write, _ = prog.raise_set("m.write")
    assert "FileExistsError" in write and "ENOSPC" in prog.errnos_of_function("m.write")


def test_a_function_defined_twice_keeps_both_bodies() -> None:
    src = """
        import os, json
        if os.name == "nt":
            def load(p):
                return json.loads(p)
        else:
            def load(p):
                os.remove(p)
    """
    names, complete = program({"m": src}).raise_set("m.load")
    assert complete and {"json.JSONDecodeError", "FileNotFoundError"} <= set(names)


def test_a_bare_except_hides_keyboard_interrupt() -> None:
    src = """
        import json
        def f(text):
            try:
                return json.loads(text)
            except:
                return None
    """
    hidden, complete = program({"m": src}).hidden_errors("m.py", line_of(src, "except:"))
    assert complete
    assert "KeyboardInterrupt" in hidden
    assert "json.JSONDecodeError" in hidden


def test_fill_hidden_errors_in_a_try_body_and_on_a_plain_line() -> None:
    from errwise.audit.finding import Finding, Severity

    src = textwrap.dedent(
        """
        import os, subprocess
        def f(p):
            try:
                os.rmdir(p)
            except OSError:
                pass
            subprocess.run(["x"], check=True)
        """
    )
    model = FileModel.build(ast.parse(src), "s.py", src, "s")

    def finding(line: int) -> Finding:
        return Finding("EW000", "x", Severity.LOW, "s.py", line, 5, line, 9, "f", "m", "r", "fp")

    in_body, on_line = finding(line_of(src, "os.rmdir")), finding(line_of(src, "subprocess.run"))
    fill_hidden_errors([in_body, on_line], program_for(model))
    assert "NotADirectoryError" in in_body.hidden_errors and in_body.hidden_errors_complete
    assert "subprocess.CalledProcessError" in on_line.hidden_errors


def test_real_standard_library_modules() -> None:
    import shutil as shutil_module
    from pathlib import Path

    root = Path(shutil_module.__file__).parent
    facts = []
    for name in ("shutil", "tempfile", "subprocess", "pathlib", "os", "genericpath", "posixpath"):
        source = (root / f"{name}.py").read_text(encoding="utf-8")
        model = FileModel.build(ast.parse(source), f"{name}.py", source, name)
        facts.append(summarize(model))
    prog = Program(facts)
    copyfile, _ = prog.raise_set("shutil.copyfile")
    assert {"shutil.SameFileError", "FileNotFoundError", "IsADirectoryError"} <= set(copyfile)
    which, _ = prog.raise_set("shutil.which")
    assert "shutil.SameFileError" not in which
    hidden, _ = prog.hidden_errors("shutil.py", _line_in(root / "shutil.py", "except OSError:"))
    assert hidden and all(
        prog.hierarchy.is_subclass(h, "OSError") or h == "KeyboardInterrupt" for h in hidden
    )


def _line_in(path: object, text: str) -> int:
    from pathlib import Path

    assert isinstance(path, Path)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() == text:
            return number
    raise AssertionError(text)


def _stdlib_facts(names: tuple[str, ...]) -> list[FileFacts]:
    import shutil as shutil_module
    from pathlib import Path

    root = Path(shutil_module.__file__).parent
    facts = []
    for name in names:
        source = (root / f"{name}.py").read_text(encoding="utf-8")
        model = FileModel.build(ast.parse(source), f"{name}.py", source, name)
        facts.append(summarize(model))
    return facts


_SAMPLE = ("shutil", "tempfile", "subprocess", "os", "posixpath", "zipfile", "tarfile", "argparse")


def _answers(prog: Program, order: list[str]) -> dict[str, object]:
    """Every function's raise-set and every except clause's result, asked in `order`."""
    out: dict[str, object] = {}
    for qual in order:
        out[qual] = prog.raise_set(qual)
        path = prog._path_of[qual]
        for line, col in prog.handler_positions(path):
            out[f"{path}:{line}:{col}"] = prog.handler(path, line, col)
    return out


def test_queries_solve_only_what_they_need_and_agree_with_a_full_solve() -> None:
    """Each query solves the functions its answer depends on; asked in any order, the answers
    are those of the whole program solved at once."""
    import random

    full = Program(_stdlib_facts(_SAMPLE))
    full.solve()
    quals = sorted(full.functions)
    expected = _answers(full, quals)
    for seed in (1, 2):
        order = quals[:]
        random.Random(seed).shuffle(order)
        lazy = Program(_stdlib_facts(_SAMPLE))
        lazy.raise_set("shutil.copyfile")
        solved = len(lazy._state)
        assert 0 < solved < len(lazy.functions) / 4  # copyfile's callees, not the program
        assert _answers(lazy, order) == expected


def test_a_failure_while_solving_leaves_nothing_half_solved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    facts = _stdlib_facts(("shutil", "os", "posixpath", "genericpath"))
    expected = Program(facts).raise_set("shutil.copytree")
    prog = Program(facts)
    real = Program._eval
    calls = 0

    def failing(self: Program, *args: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise MemoryError("injected")
        return real(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Program, "_eval", failing)
    with pytest.raises(MemoryError):
        prog.raise_set("shutil.copytree")
    monkeypatch.setattr(Program, "_eval", real)
    assert prog.raise_set("shutil.copytree") == expected
