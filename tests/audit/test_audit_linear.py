"""One file's analysis costs what its size does, and code too deep for a phase is a diagnostic.

Growth is measured without a clock: the bytecode instructions of errwise's auditor modules run
(`sys.settrace` opcode events) while analysing a generated file of N units and of 2N units.
Linear work doubles; a scan per finding, per query or per link of a chain makes it grow faster.
Too-deep code: a `RecursionError` in any phase is the file's one ERR_PARSE diagnostic ("nested
too deeply"), exit 10, never ERR_INTERNAL (exit 70).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from errwise.audit import engine
from errwise.audit.config import AuditConfig
from errwise.audit.engine import analyze_source
from errwise.audit.infer.program import Program

Cli = Callable[..., Any]

AUDIT_DIR = os.path.dirname(os.path.abspath(engine.__file__))
LINEAR = 2.15
"""Work at 2N over work at N: 2 for linear work, with room for what is constant per file."""


def work(source: str, watched: tuple[str, ...] = ("",)) -> int:
    """Bytecode instructions of errwise's auditor run to analyse `source`, counted in the
    modules whose path (under errwise/audit/) starts with one of `watched`: a measure of work
    that does not depend on the machine's speed."""
    count = 0
    prefixes = tuple(os.path.join(AUDIT_DIR, w) for w in watched)

    def local(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if event == "opcode":
            count += 1
        return local

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        if not frame.f_code.co_filename.startswith(prefixes):
            return None
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False
        return local

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        result = analyze_source(source, "generated.py", AuditConfig(profile="strict"))
    finally:
        sys.settrace(previous)
    assert not [d for d in result.diagnostics if d.code == "ERR_INTERNAL"], result.diagnostics
    return count


HANDLERS = (
    "pass",
    "log.warning('failed: %s', exc)",
    "return None",
    "raise StoreError('drop') from exc",
    "raise",
)
CAUGHT = ("OSError", "Exception", "BaseException")


def try_functions(n: int) -> str:
    head = "import logging, os, subprocess\nlog = logging.getLogger(__name__)\n"
    return head + "".join(
        f"def drop_{i}(path):\n"
        "    try:\n"
        "        os.remove(path)\n"
        "        subprocess.run(['sync'], check=True)\n"
        "        a, b = open(path).read().split(':', 1)\n"
        f"    except {CAUGHT[i % 3]} as exc:\n"
        f"        {HANDLERS[i % 5]}\n"
        f"    return drop_{max(i - 1, 0)}(path)\n"
        for i in range(n)
    )


def classes(n: int) -> str:
    return "import os\n" + "".join(
        f"class Store{i}(Base):\n"
        "    def load(self, key):\n"
        "        try:\n"
        "            return self.read(key)\n"
        "        except (OSError, ValueError):\n"
        "            return None\n"
        "    def read(self, key):\n"
        "        return open(os.path.join(self.root, key)).read()\n"
        for i in range(n)
    )


def attribute_chain(n: int) -> str:
    return f"import os\n\ndef f(obj, p):\n    x = obj{'.a' * n}\n    return os{'.b' * n}(p)\n"


def method_chain(n: int) -> str:
    return f"def f(p):\n    return open(p).read(){'.strip()' * n}\n"


def subscript_chain(n: int) -> str:
    return f"def f(table):\n    return table{'[0]' * n}\n"


PER_FINDING = ("details.py", "infer/hidden.py", "infer/program.py", "rules/")
"""Where each finding and each query by place is answered (a table lookup, not a scan)."""
INFERENCE = ("infer/summarize.py",)
SHAPES = {
    "try-functions": (try_functions, 50, PER_FINDING),
    "classes": (classes, 50, PER_FINDING),
    "attribute-chain": (attribute_chain, 120, INFERENCE),
    "method-chain": (method_chain, 50, INFERENCE),
    "subscript-chain": (subscript_chain, 150, INFERENCE),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_work_grows_linearly_with_the_file(shape: str) -> None:
    make, n, watched = SHAPES[shape]
    small, large = work(make(n), watched), work(make(2 * n), watched)
    assert large / small < LINEAR, (shape, small, large)


# A swallowed rename (an `os.remove` catching `OSError` is now an "ensure gone", deliberately
# silent: these tests need a finding whose details are filled in).
SWALLOW = (
    "import os\ndef f(p):\n    try:\n        os.rename(p, p + '.old')\n"
    "    except OSError:\n        pass\n"
)


def audit_file(tmp_path: Path, cli: Cli, source: str) -> Any:
    (tmp_path / "deep.py").write_text(source)
    run = cli(
        "audit", "--profile", "strict", "--format", "json", "--no-config", "deep.py", cwd=tmp_path
    )
    assert "Traceback" not in run.err, run
    return run


def assert_too_deep(run: Any) -> None:
    doc = run.json()
    assert [(d["code"], d["message"]) for d in doc["diagnostics"]] == [
        ("ERR_PARSE", "code nested too deeply to analyse")
    ], run
    assert doc["findings"] == []
    assert run.code == 10, run


def test_method_chain_in_a_judged_try_body_is_the_nested_diagnostic(
    tmp_path: Path, cli: Cli
) -> None:
    # The finding's details show the patchable calls as written (`ast.unparse`): too deep.
    source = textwrap.dedent(
        f"""\
        def f(p):
            try:
                p{".replace('a', 'b')" * 400}
            except OSError:
                pass
        """
    )
    assert_too_deep(audit_file(tmp_path, cli, source))


def test_attribute_chain_in_a_handler_is_the_nested_diagnostic(tmp_path: Path, cli: Cli) -> None:
    # A rule fingerprints the clause (`ast.dump`): too deep for it.
    source = SWALLOW.replace(
        "except OSError:\n        pass", "except Exception:\n        x = a" + ".b" * 1000
    )
    assert_too_deep(audit_file(tmp_path, cli, source))


@pytest.mark.parametrize("links", [1000, 2000])
def test_long_attribute_chain_is_analysed(tmp_path: Path, cli: Cli, links: int) -> None:
    # Inference types the chain innermost first: neither the stack nor the time grows with it.
    source = f"import os\n\ndef f(obj):\n    x = obj{'.a' * links}\n    return os{'.b' * links}()\n"
    run = audit_file(tmp_path, cli, source)
    assert run.json()["diagnostics"] == [], run
    assert run.code == 0, run


def test_a_recursion_error_while_finishing_is_the_nested_diagnostic(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def too_deep(*args: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(engine, "fill_hidden_errors", too_deep)
    assert_too_deep(audit_file(tmp_path, cli, SWALLOW))


def test_a_recursion_error_in_the_details_is_the_nested_diagnostic(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def too_deep(*args: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(engine, "attach_details", too_deep)
    assert_too_deep(audit_file(tmp_path, cli, SWALLOW))


def test_a_half_solved_raise_set_is_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    source = "import os\ndef f(p):\n    os.remove(p)\ndef g(p):\n    f(p)\n"
    facts = engine.summarize_source(source, "m.py", module_name="m")
    assert facts is not None
    program = Program([facts])
    real = Program._eval
    calls = 0

    def failing_once(self: Program, *args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RecursionError("maximum recursion depth exceeded")
        return real(self, *args)

    monkeypatch.setattr(Program, "_eval", failing_once)
    with pytest.raises(RecursionError):
        program.raise_set("m.g")
    assert program.raise_set("m.g") == Program([facts]).raise_set("m.g")


def test_ten_thousand_links_end_fast_as_findings_or_the_diagnostic(tmp_path: Path) -> None:
    for name, text in {
        "attrs.py": "x = a" + ".b" * 10_000 + "\n",
        "calls.py": "x = a" + ".b()" * 10_000 + "\n",
        "handler.py": "def f():\n    try:\n        g()\n    except Exception:\n        x = a"
        + ".b()" * 10_000
        + "\n",
    }.items():
        (tmp_path / name).write_text(text)
    script = Path(sys.executable).with_name("errwise")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "errwise"]
    proc = subprocess.run(
        [
            *command,
            "audit",
            "--profile",
            "strict",
            "--format",
            "json",
            "--no-cache",
            "--no-config",
            "-j1",
            ".",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 10, proc.stderr
    assert "ERR_INTERNAL" not in proc.stdout


def test_a_long_chain_of_assignments_is_analysed(tmp_path: Path, cli: Cli) -> None:
    # Each name's type is the one before it's: typed first assigned first, not by recursion.
    lines = "".join(f"    x{i + 1} = x{i}\n" for i in range(3000))
    source = f"def f(p):\n    x0 = open(p)\n{lines}    return x3000.read()\n"
    run = audit_file(tmp_path, cli, source)
    assert run.json()["diagnostics"] == [], run
    assert run.code == 0, run
