"""The code registry: every built-in code of design.md, and application codes."""

from __future__ import annotations

import json
import pickle

import jsonschema
import pytest

import errwise
from errwise import Kind, codes

# design.md, "Error codes": the built-in codes, with the kind and recoverable flag each one has.
E, U, T, BUG = Kind.ENVIRONMENT, Kind.USAGE, Kind.TARGET, Kind.INTERNAL
BUILT_IN = {
    "ERR_INTERNAL": (BUG, False),
    "ERR_USAGE": (U, False),
    "ERR_INVALID_POLICY_VALUE": (U, False),
    "ERR_IO": (E, False),
    "ERR_NOT_FOUND": (E, False),
    "ERR_ALREADY_EXISTS": (E, False),
    "ERR_PERMISSION_DENIED": (E, False),
    "ERR_DISK_FULL": (E, False),
    "ERR_READ_ONLY_FS": (E, False),
    "ERR_NOT_A_DIRECTORY": (E, False),
    "ERR_IS_A_DIRECTORY": (E, False),
    "ERR_DIRECTORY_NOT_EMPTY": (E, False),
    "ERR_TIMEOUT": (E, True),
    "ERR_COMMAND_NOT_FOUND": (E, False),
    "ERR_SUBPROCESS_FAILED": (T, False),
    "ERR_LOCK_HELD": (E, True),
    "ERR_LOCK_STALE": (E, True),
    "ERR_LOCK_CORRUPT": (E, False),
    "ERR_LOCK_LOST": (E, False),
    "ERR_ROLLBACK_FAILED": (E, False),
    "ERR_INTERRUPTED": (E, True),
    "ERR_TARGET_RAISED": (T, False),
    "ERR_PARSE": (E, False),
    "ERR_DECODE": (E, False),
}
EXIT_CODES = {Kind.USAGE: 2, Kind.ENVIRONMENT: 10, Kind.TARGET: 20, Kind.INTERNAL: 70}
SUBCLASS = {
    Kind.USAGE: errwise.UsageError,
    Kind.ENVIRONMENT: errwise.EnvError,
    Kind.TARGET: errwise.TargetError,
    Kind.INTERNAL: errwise.InternalError,
}

# design.md, "JSON form of an error".
ERROR_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "code",
        "kind",
        "title",
        "message",
        "context",
        "hints",
        "recoverable",
        "cause",
        "exit_code",
        "run_id",
    ],
    "properties": {
        "code": {"type": "string", "pattern": "^ERR_[A-Z0-9]+(_[A-Z0-9]+)*$"},
        "kind": {"enum": ["usage", "environment", "target", "internal"]},
        "title": {"type": "string", "minLength": 1},
        "message": {"type": "string"},
        "context": {"type": "object"},
        "hints": {"type": "array", "items": {"type": "string"}},
        "recoverable": {"type": "boolean"},
        "cause": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["type", "message"],
                    "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
                },
            ]
        },
        "exit_code": {"enum": [2, 10, 20, 70]},
        "run_id": {"type": "string", "minLength": 1},
    },
}


def test_kind_exit_codes_follow_design() -> None:
    assert {kind: kind.exit_code for kind in Kind} == EXIT_CODES


def test_every_built_in_code_is_registered_and_documented() -> None:
    registered = {code.name: code for code in codes.all_codes()}
    missing = set(BUILT_IN) - set(registered)
    assert not missing
    for name, (kind, recoverable) in BUILT_IN.items():
        code = registered[name]
        assert (code.kind, code.recoverable) == (kind, recoverable), name
        assert code.title and "\n" not in code.title, name
        assert code.doc, name
        assert getattr(codes, name) is code  # errwise.codes.ERR_DISK_FULL is the Code
        assert codes.lookup(name) is code
        assert codes.resolve(name) is code
        assert codes.resolve(code) is code
        assert str(code) == name


def test_all_codes_are_sorted_by_name() -> None:
    names = [code.name for code in codes.all_codes()]
    assert names == sorted(names)


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_built_in_code_round_trips(name: str) -> None:
    kind, recoverable = BUILT_IN[name]
    cause = ValueError("the cause")
    err = errwise.Error(name, "it failed", context={"path": "/tmp/x", "attempt": 2})
    err.add_hint("do something")
    err.__cause__ = cause

    assert type(err) is SUBCLASS[kind]
    assert err.kind is kind
    assert err.code == name
    assert err.title == codes.lookup(name).title  # type: ignore[union-attr]
    assert err.exit_code == EXIT_CODES[kind]
    assert err.recoverable is recoverable
    assert str(err) == f"[{name}] it failed (path=/tmp/x, attempt=2)"

    data = err.to_dict()
    jsonschema.validate(data, ERROR_SCHEMA)
    assert data["code"] == name
    assert data["kind"] == kind.value
    assert data["exit_code"] == EXIT_CODES[kind]
    assert data["context"] == {"path": "/tmp/x", "attempt": 2}
    assert data["hints"] == ["do something"]
    assert data["recoverable"] is recoverable
    assert data["cause"] == {"type": "ValueError", "message": "the cause"}
    assert data["run_id"] == errwise.run_id()
    line = err.to_json()
    assert "\n" not in line
    assert json.loads(line) == data

    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert back is not err
    assert back.to_dict() == data
    assert back.spec is codes.lookup(name)
    assert type(back.__cause__) is ValueError
    assert str(back.__cause__) == "the cause"


# -- application codes -------------------------------------------------------------------------


def test_register_an_application_code() -> None:
    code = codes.register(
        "ERR_FACADE_TEST_QUOTA",
        Kind.ENVIRONMENT,
        "quota exceeded",
        doc="The account's quota is used up; wait for the next period.",
        recoverable=True,
    )
    assert codes.lookup("ERR_FACADE_TEST_QUOTA") is code
    assert code in list(codes.all_codes())
    # Same guarantees as a built-in one: constructors accept it, by object or by name.
    err = errwise.env(code, "no quota left", account="a1")
    assert (err.code, err.kind, err.recoverable, err.title) == (
        "ERR_FACADE_TEST_QUOTA",
        Kind.ENVIRONMENT,
        True,
        "quota exceeded",
    )
    assert errwise.Error("ERR_FACADE_TEST_QUOTA", "again").spec is code
    # Registering the identical definition again (a module reload) is harmless.
    assert (
        codes.register(
            "ERR_FACADE_TEST_QUOTA",
            Kind.ENVIRONMENT,
            "quota exceeded",
            doc="The account's quota is used up; wait for the next period.",
            recoverable=True,
        )
        == code
    )


def test_register_rejects_a_different_definition_under_a_taken_name() -> None:
    codes.register("ERR_FACADE_TEST_TAKEN", Kind.TARGET, "taken", doc="First definition.")
    with pytest.raises(errwise.UsageError, match="different definition") as info:
        codes.register("ERR_FACADE_TEST_TAKEN", Kind.TARGET, "taken", doc="Second definition.")
    assert info.value.context == {"code": "ERR_FACADE_TEST_TAKEN"}
    with pytest.raises(errwise.UsageError, match="different definition"):
        codes.register("ERR_DISK_FULL", Kind.USAGE, "disk full", doc="Hijacking a built-in.")
    assert codes.lookup("ERR_FACADE_TEST_TAKEN").doc == "First definition."  # type: ignore[union-attr]
    assert codes.lookup("ERR_DISK_FULL").kind is Kind.ENVIRONMENT  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("args", "kwargs", "fragment"),
    [
        (("err_lower", Kind.USAGE, "t"), {"doc": "d"}, "SCREAMING_SNAKE_CASE"),
        (("ERR_", Kind.USAGE, "t"), {"doc": "d"}, "SCREAMING_SNAKE_CASE"),
        (("NOT_ERR_X", Kind.USAGE, "t"), {"doc": "d"}, "SCREAMING_SNAKE_CASE"),
        ((42, Kind.USAGE, "t"), {"doc": "d"}, "SCREAMING_SNAKE_CASE"),
        (("ERR_FACADE_BAD", "usage", "t"), {"doc": "d"}, "kind must be an errwise.Kind"),
        (("ERR_FACADE_BAD", Kind.USAGE, ""), {"doc": "d"}, "title must be one non-empty line"),
        (("ERR_FACADE_BAD", Kind.USAGE, "a\nb"), {"doc": "d"}, "title must be one"),
        (("ERR_FACADE_BAD", Kind.USAGE, "t"), {"doc": "  "}, "must be documented"),
        (("ERR_FACADE_BAD", Kind.USAGE, "t"), {"doc": "d", "recoverable": 1}, "must be a bool"),
    ],
)
def test_register_rejects_bad_input(
    args: tuple[object, ...], kwargs: dict[str, object], fragment: str
) -> None:
    with pytest.raises(errwise.UsageError, match=fragment) as info:
        codes.register(*args, **kwargs)  # type: ignore[arg-type]
    assert info.value.code == "ERR_USAGE"
    assert codes.lookup("ERR_FACADE_BAD") is None


def test_register_requires_doc() -> None:
    with pytest.raises(TypeError):
        codes.register("ERR_FACADE_NO_DOC", Kind.USAGE, "t")  # type: ignore[call-arg]


def test_a_hand_made_code_that_is_not_registered_is_rejected() -> None:
    forged = errwise.Code("ERR_FACADE_FORGED", Kind.USAGE, "forged", False, "never registered")
    with pytest.raises(errwise.UsageError, match="not registered"):
        errwise.usage(forged, "x")
    altered = errwise.Code("ERR_DISK_FULL", Kind.USAGE, "disk full", False, "altered copy")
    with pytest.raises(errwise.UsageError, match="not registered"):
        codes.resolve(altered)


def test_lookup_rejects_a_non_str_name() -> None:
    with pytest.raises(errwise.UsageError, match="takes a code name"):
        codes.lookup(["ERR_IO"])  # type: ignore[arg-type]
    with pytest.raises(errwise.UsageError):
        codes.is_registered(None)  # type: ignore[arg-type]
    assert codes.is_registered("ERR_IO") and not codes.is_registered("ERR_FACADE_NEVER")
