"""The exception hierarchy: builtins as the interpreter has them, library and user classes,
subtraction by an except clause, most-specific-first ordering."""

from __future__ import annotations

import builtins

import pytest

from errwise.audit.infer import Hierarchy
from errwise.audit.infer.kb import BUILTIN_EXCEPTIONS, errno_token

BUILTIN_CLASSES = {
    name: obj
    for name, obj in vars(builtins).items()
    if isinstance(obj, type) and issubclass(obj, BaseException)
}


def test_builtins_match_the_running_interpreter() -> None:
    h = Hierarchy()
    assert set(BUILTIN_EXCEPTIONS) == set(BUILTIN_CLASSES)
    for name, cls in BUILTIN_CLASSES.items():
        for base_name, base in BUILTIN_CLASSES.items():
            assert h.is_subclass(name, base_name) == issubclass(cls, base), (name, base_name)


def test_aliases_and_library_classes() -> None:
    h = Hierarchy()
    assert h.is_subclass("IOError", "OSError")
    assert h.is_subclass("socket.timeout", "OSError")
    assert h.is_subclass("subprocess.CalledProcessError", "subprocess.SubprocessError")
    assert not h.is_subclass("subprocess.CalledProcessError", "OSError")
    assert h.is_subclass("requests.ConnectTimeout", "requests.Timeout")
    assert h.is_subclass("requests.ConnectTimeout", "requests.ConnectionError")
    assert h.is_subclass("requests.RequestException", "OSError")
    assert h.is_subclass("yaml.scanner.ScannerError", "yaml.YAMLError")
    assert h.is_subclass("json.decoder.JSONDecodeError", "ValueError")


def test_user_classes_and_unknown_ancestry() -> None:
    h = Hierarchy({"app.Error": ("Exception",), "app.LockError": ("app.Error", "OSError")})
    assert h.is_subclass("app.LockError", "OSError")
    assert h.is_subclass("app.LockError", "app.Error")
    assert h.known("app.LockError")
    assert not h.known("somelib.Error")
    assert not h.is_subclass("somelib.Error", "OSError")
    assert h.may_be_subclass("somelib.Error", "OSError")  # could be: its bases are unknown
    assert not h.may_be_subclass("app.Error", "OSError")


def test_cyclic_user_hierarchy_terminates() -> None:
    h = Hierarchy({"a.A": ("a.B",), "a.B": ("a.A",)})
    assert h.is_subclass("a.A", "a.B")
    assert not h.known("a.A")


def test_except_oserror_removes_its_subclasses_and_errnos() -> None:
    h = Hierarchy()
    items = {"FileNotFoundError", "PermissionError", errno_token("EXDEV"), "ValueError"}
    assert h.subtract(items, ["OSError"]) == {"ValueError"}
    assert h.subtract(items, ["FileNotFoundError"]) == items - {"FileNotFoundError"}
    assert h.subtract(items, ["LookupError"]) == items
    assert h.subtract(items, []) == frozenset()  # a bare except catches everything


def test_split_receives_the_narrower_class_of_a_broad_item() -> None:
    h = Hierarchy()
    received, escaping, uncertain = h.split(
        {"OSError", errno_token("EEXIST"), errno_token("ENOSPC")}, ["FileExistsError"]
    )
    assert received == {"FileExistsError", errno_token("EEXIST")}
    assert escaping == {"OSError", errno_token("ENOSPC")}
    assert not uncertain
    _, _, uncertain = h.split({"somelib.Error"}, ["OSError"])
    assert uncertain


def test_ordered_most_specific_first_and_deduplicated() -> None:
    h = Hierarchy()
    names = h.ordered(
        {"OSError", "IOError", "FileNotFoundError", errno_token("ENOENT"), "~KeyError"}
    )
    assert names == ["FileNotFoundError", "OSError"]  # alias folded, quiet item hidden
    assert h.ordered({"Exception", "UnicodeDecodeError", "ValueError"}) == [
        "UnicodeDecodeError",
        "ValueError",
        "Exception",
    ]


@pytest.mark.parametrize("name", ["FileNotFoundError", "subprocess.TimeoutExpired", "app.E"])
def test_every_class_is_its_own_subclass(name: str) -> None:
    h = Hierarchy({"app.E": ("Exception",)})
    assert h.is_subclass(name, name)
