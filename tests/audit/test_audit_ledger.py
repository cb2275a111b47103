"""The ledger: an edit finishes again only the files whose results it can change.

Every test compares the run that reused the previous run's results with a fresh run
(`--no-cache`) of the same tree, and checks how many files were checked again across files.
"""

from __future__ import annotations

import random
import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from audit_samples import CALLER, STORE, SWALLOW, audit, cache_of, fresh, rules_found, write

from errwise.audit.engine import FileResult, FileScan
from errwise.audit.infer import Program
from errwise.audit.infer.facts import FileFacts, FuncFacts
from errwise.audit.infer.program import Reads
from errwise.audit.ledger import Entry, Ledger, _moved

Cli = Callable[..., Any]
CliRun = Any

STORE_WITHOUT_KEYERROR = STORE.replace("TABLE[key]", "TABLE.get(key)")
COMMIT = """\
import os


def commit(work_order, tmp, final):
    os.replace("/q/.tmp", "/q/current")
"""
TAKE = """\
from pkg import store


def take(work_order):
    try:
        store.commit(work_order, "a", "b")
    except Exception as exc:
        print("failed:", exc)
        return 1
    return 0
"""
TAKE_RERAISES = TAKE.replace('        print("failed:", exc)\n        return 1\n', "        raise\n")
TAKE_CALLS_NOTHING = TAKE.replace('store.commit(work_order, "a", "b")', "len(work_order)")
USES_MISSING = """\
from pkg import helpers


def use():
    try:
        helpers.fetch()
    except KeyError:
        return None
"""


def rechecked(run: CliRun) -> int | None:
    """How many files the run finished again, when it reused the others (None: it reused
    no finished result)."""
    found = re.search(r"\((\d+) rechecked across files\)", run.err)
    return int(found.group(1)) if found else None


def test_an_edit_nothing_depends_on_rechecks_only_its_file(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, {"a.py": SWALLOW, "pkg/__init__.py": "", "pkg/store.py": STORE})
    write(tmp_path, {"pkg/caller.py": CALLER})
    audit(cli, tmp_path)
    write(tmp_path, {"a.py": "# moved down\n\n" + SWALLOW})
    run = audit(cli, tmp_path)
    assert rechecked(run) == 1
    assert run.out == fresh(cli, tmp_path)
    assert rules_found(run) == [("a.py", "EW101")]


def test_a_changed_raise_set_rechecks_its_callers(tmp_path: Path, cli: Cli) -> None:
    """pkg/caller.py is unchanged, but what it calls stops raising KeyError: its finished
    result is not reused, and its `except KeyError` is now dead; a.py's result is reused."""
    write(tmp_path, {"a.py": SWALLOW, "pkg/__init__.py": "", "pkg/store.py": STORE})
    write(tmp_path, {"pkg/caller.py": CALLER})
    assert rules_found(audit(cli, tmp_path)) == [("a.py", "EW101")]
    write(tmp_path, {"pkg/store.py": STORE_WITHOUT_KEYERROR})
    run = audit(cli, tmp_path)
    assert rechecked(run) == 2  # store.py and caller.py
    assert rules_found(run) == [("a.py", "EW101"), ("pkg/caller.py", "EW120")]
    assert run.out == fresh(cli, tmp_path)
    write(tmp_path, {"pkg/store.py": STORE})
    back = audit(cli, tmp_path)
    assert rules_found(back) == [("a.py", "EW101")]
    assert back.out == fresh(cli, tmp_path)


def test_a_body_edit_rechecks_the_callers_of_that_function_only(tmp_path: Path, cli: Cli) -> None:
    """pkg/store.py has two functions; only the file calling the edited one is rechecked, and
    moving code down (positions only) rechecks nothing but the file itself."""
    other = "\n\ndef other(key):\n    return TABLE[key]\n"
    other_caller = CALLER.replace("import load", "import other").replace("load(key)", "other(key)")
    write(tmp_path, {"pkg/__init__.py": "", "pkg/store.py": STORE + other, "a.py": SWALLOW})
    write(tmp_path, {"pkg/caller.py": CALLER, "pkg/other_caller.py": other_caller})
    audit(cli, tmp_path)
    write(tmp_path, {"pkg/store.py": STORE + other.replace("TABLE[key]", "TABLE.get(key)")})
    run = audit(cli, tmp_path)
    assert rechecked(run) == 2  # store.py and other_caller.py
    assert rules_found(run) == [("a.py", "EW101"), ("pkg/other_caller.py", "EW120")]
    assert run.out == fresh(cli, tmp_path)
    write(
        tmp_path, {"pkg/store.py": "\n\n\n" + STORE + other.replace("TABLE[key]", "TABLE.get(key)")}
    )
    moved = audit(cli, tmp_path)
    assert rechecked(moved) == 1
    assert moved.out == fresh(cli, tmp_path)


def test_a_changed_caller_rechecks_the_callee_judged_by_its_callers(
    tmp_path: Path, cli: Cli
) -> None:
    """EW106 reports pkg/store.py's `os.replace` because pkg/cli.py swallows what it raises:
    when only the caller changes (it re-raises now), the callee's finding goes."""
    write(tmp_path, {"pkg/__init__.py": "", "pkg/store.py": COMMIT, "pkg/cli.py": TAKE})
    write(tmp_path, {"a.py": SWALLOW})
    first = audit(cli, tmp_path)
    assert ("pkg/store.py", "EW106") in rules_found(first)
    write(tmp_path, {"pkg/cli.py": TAKE_RERAISES})
    run = audit(cli, tmp_path)
    assert ("pkg/store.py", "EW106") not in rules_found(run)
    assert rechecked(run) == 2  # cli.py and store.py, not a.py nor __init__.py
    assert run.out == fresh(cli, tmp_path)


@pytest.mark.parametrize(
    ("before", "after"), [(TAKE_CALLS_NOTHING, TAKE), (TAKE, TAKE_CALLS_NOTHING)]
)
def test_a_caller_gained_or_lost_rechecks_the_callee(
    tmp_path: Path, cli: Cli, before: str, after: str
) -> None:
    """The callee's EW106 finding depends on who calls it: a new caller is found by what the
    edited file calls now, a former one by where the callee's call sites were."""
    write(tmp_path, {"pkg/__init__.py": "", "pkg/store.py": COMMIT, "pkg/cli.py": before})
    write(tmp_path, {"a.py": SWALLOW})
    first = audit(cli, tmp_path)
    write(tmp_path, {"pkg/cli.py": after})
    run = audit(cli, tmp_path)
    assert (("pkg/store.py", "EW106") in rules_found(run)) == (after == TAKE)
    assert (("pkg/store.py", "EW106") in rules_found(first)) == (before == TAKE)
    assert rechecked(run) == 2
    assert run.out == fresh(cli, tmp_path)


def test_a_function_defined_where_code_names_it_rechecks_that_code(
    tmp_path: Path, cli: Cli
) -> None:
    """`helpers.fetch()` resolves to nothing, then to a function raising KeyError: the caller
    is finished again though neither its file nor anything it called before changed."""
    write(tmp_path, {"pkg/__init__.py": "", "pkg/helpers.py": "def other():\n    return 1\n"})
    write(tmp_path, {"pkg/use.py": USES_MISSING, "a.py": SWALLOW})
    audit(cli, tmp_path)
    fetch = "\n\ndef fetch():\n    return 2\n"
    write(tmp_path, {"pkg/helpers.py": "def other():\n    return 1\n" + fetch})
    run = audit(cli, tmp_path)
    assert rechecked(run) == 2  # helpers.py and use.py
    assert ("pkg/use.py", "EW120") in rules_found(run)  # fetch() raises no KeyError
    assert run.out == fresh(cli, tmp_path)


@pytest.mark.parametrize("defined", [True, False], ids=["defined", "removed"])
def test_a_function_defined_or_removed_reaches_the_callers_of_the_code_naming_it(
    tmp_path: Path, cli: Cli, defined: bool
) -> None:
    """Two hops: pkg/wrap.py names `helpers.fetch`, pkg/user.py calls wrap(). While fetch()
    exists and raises nothing, user.py's `except KeyError` is dead; without it, unknown."""
    wrap = "from pkg import helpers\n\n\ndef wrap():\n    return helpers.fetch()\n"
    user = USES_MISSING.replace("from pkg import helpers", "from pkg.wrap import wrap")
    user = user.replace("helpers.fetch()", "wrap()")
    without = "def other():\n    return 1\n"
    with_fetch = without + "\n\ndef fetch():\n    return 2\n"
    write(tmp_path, {"pkg/__init__.py": "", "pkg/helpers.py": without if defined else with_fetch})
    write(tmp_path, {"pkg/wrap.py": wrap, "pkg/user.py": user, "a.py": SWALLOW})
    assert (("pkg/user.py", "EW120") in rules_found(audit(cli, tmp_path))) != defined
    write(tmp_path, {"pkg/helpers.py": with_fetch if defined else without})
    run = audit(cli, tmp_path)
    assert (("pkg/user.py", "EW120") in rules_found(run)) == defined
    assert rechecked(run) == 3  # helpers.py, wrap.py and user.py
    assert run.out == fresh(cli, tmp_path)


def test_a_method_defined_in_a_base_rechecks_the_subclass_calling_it(
    tmp_path: Path, cli: Cli
) -> None:
    """`self.step()` in pkg/sub.py finds no method, until pkg/base.py gives `Base` one that
    raises nothing: then Sub.run's `except KeyError` is dead."""
    base = "class Base:\n    def other(self):\n        return 1\n"
    sub = """\
        from pkg.base import Base


        class Sub(Base):
            def run(self):
                try:
                    return self.step()
                except KeyError:
                    return None
        """
    write(tmp_path, {"pkg/__init__.py": "", "pkg/base.py": base, "pkg/sub.py": sub})
    write(tmp_path, {"a.py": SWALLOW})
    assert ("pkg/sub.py", "EW120") not in rules_found(audit(cli, tmp_path))
    write(tmp_path, {"pkg/base.py": base + "\n    def step(self):\n        return 2\n"})
    run = audit(cli, tmp_path)
    assert ("pkg/sub.py", "EW120") in rules_found(run)
    assert rechecked(run) == 2  # base.py and sub.py
    assert run.out == fresh(cli, tmp_path)


def test_a_function_nothing_names_rechecks_only_its_file(tmp_path: Path, cli: Cli) -> None:
    """Dependencies are kept per file: pkg/caller.py, which calls into pkg/store.py, is
    finished again when store.py gains a function, a.py is not."""
    write(tmp_path, {"pkg/__init__.py": "", "pkg/store.py": STORE, "pkg/caller.py": CALLER})
    write(tmp_path, {"a.py": SWALLOW})
    audit(cli, tmp_path)
    write(tmp_path, {"a.py": SWALLOW + "\n\ndef unused_helper():\n    raise KeyError\n"})
    run = audit(cli, tmp_path)
    assert rechecked(run) == 1
    assert run.out == fresh(cli, tmp_path)
    write(tmp_path, {"pkg/store.py": STORE + "\n\ndef unused_helper():\n    raise KeyError\n"})
    run = audit(cli, tmp_path)
    assert rechecked(run) == 2
    assert run.out == fresh(cli, tmp_path)


@pytest.mark.parametrize(
    "edit",
    [
        "class Added(Exception):\n    pass\n",  # a class: the hierarchy may change
        "from os import path\n",  # an import: names may resolve elsewhere
        "def __init__():\n    pass\n",  # a name lookups form by themselves
    ],
)
def test_other_interface_changes_recheck_everything(tmp_path: Path, cli: Cli, edit: str) -> None:
    write(tmp_path, {"pkg/__init__.py": "", "pkg/store.py": STORE, "pkg/caller.py": CALLER})
    write(tmp_path, {"a.py": SWALLOW})
    audit(cli, tmp_path)
    write(tmp_path, {"pkg/store.py": STORE + "\n\n" + edit})
    run = audit(cli, tmp_path)
    assert rechecked(run) is None
    assert run.out == fresh(cli, tmp_path)


def test_a_file_added_rechecks_everything(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, {"a.py": SWALLOW, "b.py": "x = 1\n"})
    audit(cli, tmp_path)
    write(tmp_path, {"c.py": "y = 2\n"})
    run = audit(cli, tmp_path)
    assert rechecked(run) is None
    assert run.out == fresh(cli, tmp_path)


def test_a_previous_scan_gone_from_the_cache_rechecks_everything(tmp_path: Path, cli: Cli) -> None:
    """Telling which functions an edit added needs the previous facts of the file."""
    write(tmp_path, {"pkg/__init__.py": "", "pkg/store.py": STORE, "pkg/caller.py": CALLER})
    audit(cli, tmp_path)
    for entry in (cache_of(tmp_path) / "v1" / "scan").rglob("*"):
        if entry.is_file():
            entry.unlink()
    write(tmp_path, {"pkg/store.py": STORE + "\n\ndef unused_helper():\n    raise KeyError\n"})
    run = audit(cli, tmp_path)
    assert rechecked(run) is None
    assert run.out == fresh(cli, tmp_path)


def _facts(*names: str, properties: frozenset[str] = frozenset()) -> FileFacts:
    functions = tuple(FuncFacts(f"m.{n}", 1, ()) for n in names)
    return FileFacts("m.py", "m", functions, properties=properties)


def test_moved_names_the_functions_and_properties_added_or_removed() -> None:
    assert _moved(_facts("f", "C.g"), _facts("f", "h")) == ({"m.C.g", "m.h"}, set())
    assert _moved(_facts("f"), _facts("f", properties=frozenset({"size"}))) == (set(), {"size"})
    assert _moved(_facts("f", "f"), _facts("f")) is None  # defined twice: order decides
    assert _moved(None, _facts("f")) is None
    classes = _facts("f")
    classes.classes["m.C"] = ("Exception",)
    assert _moved(_facts("f"), classes) is None


def test_a_function_asked_about_before_it_existed_is_rechecked_once_defined() -> None:
    """A rule may ask for the raise-set of a function the program lacks (the answer: nothing
    known); once some file defines it, that result is not reused."""
    before = _facts("f")
    program = Program([before])
    with program.reading() as reads:
        assert program.raise_set("m.g") == ([], False)
    entry = Entry.made("k1", before, FileResult("m.py"), program, reads)
    assert entry.functions == {"m.g"}
    other = FileFacts("o.py", "o", ())
    bystander = Entry.made("k2", other, FileResult("o.py"), program, Reads())
    ledger = Ledger(program.linked, {"o.py": bystander, "m.py": entry}, {})
    after = _facts("f", "g")
    relinked = Program([after])
    previous = {"k1": FileScan("m.py", facts=before)}
    current = {"o.py": ("k2", other), "m.py": ("k1-edited", after)}
    # m.py itself changed; the ledger would reuse o.py, which asked about nothing
    kept, edited = ledger.reusable(current, relinked, previous.get)
    assert set(kept) == {"o.py"}
    assert edited == {"m.f", "m.g"}  # m.py gained a function: all of its functions count
    ledger.entries["o.py"] = Entry(**{**_fields(bystander), "functions": frozenset({"m.g"})})
    assert ledger.reusable(current, relinked, previous.get)[0] == {}


def _fields(entry: Entry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in Entry.__slots__}


# -- every edit, checked against a fresh run ------------------------------------------------------

MODULES = {
    "app/__init__.py": "",
    "app/io.py": """\
        import os


        def read(path):
            with open(path) as f:
                return f.read()


        def remove(path):
            os.remove(path)
        """,
    "app/store.py": """\
        from app import io

        CACHE = {}


        def get(key):
            return CACHE[key]


        def load(path):
            try:
                return io.read(path)
            except OSError:
                return None
        """,
    "app/jobs.py": """\
        import logging

        from app import io, store


        def run(path):
            try:
                store.load(path)
                io.remove(path)
            except Exception:
                logging.exception("job failed")


        def clean(path):
            try:
                io.remove(path)
            except Exception:
                pass


        def value(key):
            try:
                return store.get(key)
            except KeyError:
                return 0
        """,
    "app/cli.py": """\
        from app import jobs


        def main(argv):
            try:
                jobs.run(argv[0])
            except ValueError:
                return 2
            return 0
        """,
    "lonely.py": """\
        def alone():
            try:
                return int("x")
            except ValueError:
                pass
        """,
}
BODIES = [
    "    raise KeyError(path)\n",
    "    raise OSError(path)\n",
    "    return path\n",
    "    os.remove(path)\n",
    "    store.get(path)\n",
    "    try:\n        io.read(path)\n    except Exception:\n        pass\n",
    "    try:\n        io.remove(path)\n    except OSError:\n        raise\n",
]


def _edit(rng: random.Random, files: dict[str, str]) -> None:
    """One random edit: a function's body replaced, a function added (named by other code or
    not), a function renamed."""
    name = rng.choice([n for n in files if files[n].strip()])
    text = textwrap.dedent(files[name])
    defs = [m.start() for m in re.finditer(r"^def \w+\(.*\):\n", text, re.M)]
    kind = rng.choice(["body", "body", "add", "rename"])
    if kind == "add" or not defs:
        fn = rng.choice(["fetch", "remove", "extra", "get"])
        text += f"\n\ndef {fn}(path):\n{rng.choice(BODIES)}"
    else:
        start = rng.choice(defs)
        head_end = text.index("\n", start) + 1
        end = re.search(r"^\S", text[head_end:], re.M)
        stop = head_end + end.start() if end else len(text)
        if kind == "body":
            text = text[:head_end] + rng.choice(BODIES) + "\n\n" + text[stop:].lstrip("\n")
        else:
            text = (
                text[:start]
                + re.sub(r"def (\w+)", r"def \1_v2", text[start:head_end])
                + text[head_end:]
            )
    files[name] = text


@pytest.mark.parametrize("seed", range(4))
def test_random_edits_match_a_fresh_run(tmp_path: Path, cli: Cli, seed: int) -> None:
    rng = random.Random(seed)
    files = {name: textwrap.dedent(text) for name, text in MODULES.items()}
    write(tmp_path, files)
    audit(cli, tmp_path)
    partial = 0
    for _ in range(8):
        _edit(rng, files)
        write(tmp_path, files)
        run = audit(cli, tmp_path)
        assert run.out == fresh(cli, tmp_path), files
        count = rechecked(run)
        partial += count is not None and count < len(files)
    assert partial  # the ledger did spare some files
