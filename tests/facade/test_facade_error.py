"""errwise.Error: construction, reading, enriching, serialising, copying, and bad input."""

from __future__ import annotations

import copy
import datetime
import json
import math
import pickle
import sys
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import pytest

import errwise
from errwise import Kind


def last_frame(tb: TracebackType | None) -> str:
    assert tb is not None
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_name


# -- constructors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "cls", "kind"),
    [
        (lambda: errwise.usage("ERR_USAGE", "bad flag", flag="--x"), errwise.UsageError, "usage"),
        (lambda: errwise.env("ERR_IO", "cannot read", path="/p"), errwise.EnvError, "environment"),
        (lambda: errwise.target("ERR_TARGET_RAISED", "hook failed"), errwise.TargetError, "target"),
        (lambda: errwise.bug("cannot happen", state=3), errwise.InternalError, "internal"),
    ],
)
def test_constructors_return_the_kind_subclass(make, cls, kind) -> None:  # type: ignore[no-untyped-def]
    err = make()
    assert type(err) is cls
    assert isinstance(err, errwise.Error)
    assert isinstance(err, Exception)
    assert err.kind is Kind(kind)
    assert err.hints == []
    assert err.__cause__ is None


def test_constructor_context_is_keyword_arguments_in_order() -> None:
    err = errwise.env("ERR_DISK_FULL", "cannot write report.json", path="/tmp/x", size=3)
    assert err.context == {"path": "/tmp/x", "size": 3}
    assert list(err.context) == ["path", "size"]
    assert err.message == "cannot write report.json"
    assert err.code == "ERR_DISK_FULL"
    assert err.recoverable is False
    assert err.exit_code == 10
    assert str(err) == "[ERR_DISK_FULL] cannot write report.json (path=/tmp/x, size=3)"
    # `code` and `message` are positional-only: they can be context keys too.
    named = errwise.usage("ERR_USAGE", "m", code="c", message="msg")
    assert named.context == {"code": "c", "message": "msg"}
    assert named.code == "ERR_USAGE"


def test_constructors_accept_a_code_object() -> None:
    err = errwise.env(errwise.codes.ERR_TIMEOUT, "slow")
    assert err.code == "ERR_TIMEOUT"
    assert err.spec is errwise.codes.ERR_TIMEOUT
    assert err.recoverable is True


def test_str_without_context() -> None:
    assert str(errwise.bug("cannot happen")) == "[ERR_INTERNAL] cannot happen"


def test_raise_points_at_the_callers_line() -> None:
    with pytest.raises(errwise.EnvError) as info:
        raise errwise.env("ERR_IO", "x")
    assert last_frame(info.value.__traceback__) == "test_raise_points_at_the_callers_line"


def test_error_class_picks_the_subclass_of_the_codes_kind() -> None:
    err = errwise.Error("ERR_DISK_FULL", "full")
    assert type(err) is errwise.EnvError
    with pytest.raises(errwise.EnvError):
        raise err
    # A per-kind class fixes the kind, whatever the code's default.
    overridden = errwise.UsageError("ERR_DISK_FULL", "the --out disk is full by configuration")
    assert overridden.kind is Kind.USAGE
    assert overridden.exit_code == 2


def test_explicit_arguments_of_the_full_constructor() -> None:
    source = {"a": 1}
    err = errwise.Error(
        "ERR_LOCK_HELD",
        "locked",
        context=source,
        hints=(h for h in ["wait", "or break it"]),
        recoverable=False,
    )
    assert err.hints == ["wait", "or break it"]
    assert err.recoverable is False  # overrides the code's default (True)
    err.with_context(b=2)
    assert source == {"a": 1}  # the caller's mapping is copied, not adopted


def test_with_context_and_add_hint_chain_and_later_keys_win() -> None:
    err = errwise.env("ERR_IO", "x", path="/a")
    assert err.with_context(path="/b", attempt=2) is err
    assert err.add_hint("retry later") is err
    assert err.context == {"path": "/b", "attempt": 2}
    assert err.hints == ["retry later"]


def test_errors_are_mutable_not_frozen() -> None:
    err = errwise.env("ERR_IO", "x")
    err.message = "changed"
    err.recoverable = True
    err.__traceback__ = None
    err.custom = "attribute"  # type: ignore[attr-defined]
    assert (err.message, err.recoverable, err.custom) == ("changed", True, "attribute")  # type: ignore[attr-defined]


# -- ensure ------------------------------------------------------------------------------------


def test_ensure_raises_the_codes_kind_when_false_and_passes_when_true() -> None:
    errwise.ensure(True, "ERR_DISK_FULL", "fine")
    with pytest.raises(errwise.EnvError) as info:
        errwise.ensure(0, "ERR_DISK_FULL", "disk full", path="/x")
    assert (info.value.code, info.value.context) == ("ERR_DISK_FULL", {"path": "/x"})


@pytest.mark.parametrize(
    ("ensure", "cls"),
    [
        (errwise.ensure_usage, errwise.UsageError),
        (errwise.ensure_env, errwise.EnvError),
        (errwise.ensure_target, errwise.TargetError),
    ],
)
def test_ensure_per_kind(ensure, cls) -> None:  # type: ignore[no-untyped-def]
    ensure([1], "ERR_IO", "holds")
    with pytest.raises(cls) as info:
        ensure([], "ERR_IO", "broke", n=0)
    assert (info.value.code, info.value.message, info.value.context) == (
        "ERR_IO",
        "broke",
        {"n": 0},
    )


def test_ensure_internal() -> None:
    errwise.ensure_internal(True, "invariant")
    with pytest.raises(errwise.InternalError) as info:
        errwise.ensure_internal(None, "invariant broke", size=-1)
    assert (info.value.code, info.value.exit_code) == ("ERR_INTERNAL", 70)


@pytest.mark.parametrize(
    "call",
    [
        lambda: errwise.ensure(True, "ERR_NO_SUCH_CODE", "m"),
        lambda: errwise.ensure_usage(True, "ERR_NO_SUCH_CODE", "m"),
        lambda: errwise.ensure_env(True, 42, "m"),
        lambda: errwise.ensure_target(True, "ERR_IO", b"not str"),
        lambda: errwise.ensure_internal(True, None),
    ],
)
def test_ensure_checks_its_arguments_even_when_the_condition_holds(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(errwise.UsageError) as info:
        call()
    assert info.value.code == "ERR_USAGE"


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: errwise.env(42, "m"), "code must be an errwise.Code or a registered code name"),
        (lambda: errwise.Error(None, "m"), "code must be an errwise.Code"),
        (lambda: errwise.usage(Kind.USAGE, "m"), "code must be an errwise.Code"),
        (
            lambda: errwise.env("ERR_NO_SUCH_CODE", "m"),
            "unregistered error code 'ERR_NO_SUCH_CODE'",
        ),
        (lambda: errwise.Error("ERR_NO_SUCH_CODE", "m"), "unregistered error code"),
        (lambda: errwise.env("ERR_IO", b"bytes"), "error message must be a str"),
        (lambda: errwise.bug(None), "error message must be a str"),
        (lambda: errwise.Error("ERR_IO", 3), "error message must be a str"),
        (lambda: errwise.Error("ERR_IO", "m", context={1: "x"}), "context keys must be str"),
        (lambda: errwise.Error("ERR_IO", "m", context=[("a", 1)]), "context must be a mapping"),
        (lambda: errwise.Error("ERR_IO", "m", context=0), "context must be a mapping"),
        (lambda: errwise.Error("ERR_IO", "m", recoverable=1), "recoverable must be a bool"),
        (lambda: errwise.Error("ERR_IO", "m", recoverable="yes"), "recoverable must be a bool"),
        (lambda: errwise.Error("ERR_IO", "m", hints="one str"), "hints must be an iterable of str"),
        (lambda: errwise.Error("ERR_IO", "m", hints=5), "hints must be an iterable of str"),
        (lambda: errwise.Error("ERR_IO", "m", hints=[3]), "a hint must be a non-empty str"),
        (lambda: errwise.Error("ERR_IO", "m", hints=[" "]), "a hint must be a non-empty str"),
        (lambda: errwise.env("ERR_IO", "m").add_hint(3), "a hint must be a non-empty str"),
        (lambda: errwise.env("ERR_IO", "m").add_hint(""), "a hint must be a non-empty str"),
    ],
)
def test_bad_input_is_a_usage_error_at_the_call(call, fragment: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(errwise.UsageError) as info:
        call()
    assert fragment in info.value.message
    assert info.value.code == "ERR_USAGE"
    assert info.value.exit_code == 2


def test_with_context_cannot_take_a_non_str_key() -> None:
    err = errwise.env("ERR_IO", "m")
    with pytest.raises(TypeError):
        err.with_context(**{1: "x"})  # type: ignore[misc]
    assert err.context == {}


# -- to_dict never fails -----------------------------------------------------------------------


class BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr is broken")

    def __str__(self) -> str:
        raise RuntimeError("str is broken")


class ExplodingMapping(Mapping[str, object]):
    def __getitem__(self, key: str) -> object:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        raise OSError("cannot iterate")

    def __len__(self) -> int:
        return 1


def test_to_dict_and_str_never_fail_on_unjsonable_context() -> None:
    loop: list[object] = []
    loop.append(loop)
    when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    err = errwise.env(
        "ERR_IO",
        "m",
        obj=object(),
        nan=math.nan,
        inf=-math.inf,
        raw=b"\xffok",
        path=Path("/tmp/p"),
        broken=BrokenRepr(),
        loop=loop,
        mixed_set={1, "a"},
        mapping=ExplodingMapping(),
        when=when,
        nested={"k": [1, (2, 3.5)], 4: None},
        kind=Kind.USAGE,
    )
    data = err.to_dict()
    text = json.dumps(data, allow_nan=False)  # strict JSON: no NaN/Infinity sneaks through
    assert json.loads(text) == data
    ctx = data["context"]
    assert ctx["obj"].startswith("<object object at")
    assert (ctx["nan"], ctx["inf"]) == ("nan", "-inf")
    assert ctx["raw"] == "\\xffok"
    assert ctx["path"] == "/tmp/p"
    assert ctx["broken"] == "<BrokenRepr whose repr() failed: RuntimeError>"
    assert ctx["loop"][0][0][0][0][0][0][0] == "[[...]]"  # depth-limited, then repr
    assert sorted(ctx["mixed_set"], key=str) == [1, "a"]
    assert ctx["mapping"].startswith("<")
    assert ctx["when"] == "2026-01-02T03:04:05+00:00"
    assert ctx["nested"] == {"k": [1, [2, 3.5]], "4": None}
    assert ctx["kind"] == "<Kind.USAGE: 'usage'>"
    assert json.loads(err.to_json()) == data
    # str() and repr() of the error survive the broken value too.
    assert "broken=<BrokenRepr whose str() failed: RuntimeError>" in str(err)
    assert "<BrokenRepr whose repr() failed: RuntimeError>" in repr(err)


def test_to_json_survives_an_int_too_long_to_print() -> None:
    err = errwise.env("ERR_IO", "m", huge=10**5000, fine=10**100)
    data = json.loads(err.to_json())
    assert data["context"]["huge"] == "<int of 16610 bits>"
    assert data["context"]["fine"] == 10**100
    assert "huge=<int whose str() failed: ValueError>" in str(err)


def test_to_dict_survives_context_mutated_after_construction() -> None:
    err = errwise.env("ERR_IO", "m")
    err.context[7] = {("a", 1): BrokenRepr()}  # type: ignore[index]
    data = err.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert list(data["context"]) == ["7"]


def test_to_json_is_always_utf8_encodable() -> None:
    err = errwise.env("ERR_NOT_FOUND", "ünïcode stays readable", name="\udcff")
    line = err.to_json()
    line.encode("utf-8")
    assert json.loads(line)["context"]["name"] == "\udcff"
    readable = errwise.env("ERR_NOT_FOUND", "ünïcode stays readable").to_json()
    assert "ünïcode" in readable


def test_cause_in_to_dict_names_the_qualified_type() -> None:
    class LocalFailure(Exception):
        def __str__(self) -> str:
            raise ValueError("no str")

    err = errwise.bug("x")
    err.__cause__ = LocalFailure()
    cause = err.to_dict()["cause"]
    assert cause["type"].endswith("LocalFailure") and cause["type"].startswith(__name__)
    assert cause["message"].endswith("LocalFailure whose str() failed: ValueError>")


# -- copying and pickling ----------------------------------------------------------------------


def make_rich_error() -> errwise.Error:
    try:
        try:
            raise OSError(28, "No space left on device", "/tmp/x")
        except OSError as exc:
            raise errwise.classify(exc).with_context(report="r.json") from exc
    except errwise.Error as err:
        err.add_hint("and another step")
        err.add_note("a note added on the way up")
        return err


def assert_same_error(copied: errwise.Error, original: errwise.Error) -> None:
    assert copied is not original
    assert type(copied) is type(original)
    for name in ("code", "kind", "message", "context", "hints", "recoverable", "exit_code"):
        assert getattr(copied, name) == getattr(original, name), name
    assert copied.spec is original.spec
    assert copied.__notes__ == ["a note added on the way up"]
    assert isinstance(copied.__cause__, OSError)
    assert copied.__cause__.errno == 28
    assert copied.__cause__.filename == "/tmp/x"
    assert copied.args == (original.code, original.message)
    assert copied.to_dict() == original.to_dict()


def test_copy_deepcopy_and_pickle_keep_every_attribute() -> None:
    err = make_rich_error()
    shallow = copy.copy(err)
    assert_same_error(shallow, err)
    assert shallow.__cause__ is err.__cause__  # a shallow copy shares, as for any object
    deep = copy.deepcopy(err)
    assert_same_error(deep, err)
    deep.with_context(extra=1)
    assert "extra" not in err.context
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(err, protocol=protocol))
        assert_same_error(back, err)
        assert back.__context__ is back.__cause__  # `raise ... from exc` inside `except exc`


def test_pickle_keeps_attributes_of_an_application_subclass() -> None:
    err = AppError("ERR_IO", "x", retry_after=5)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is AppError
    assert back.retry_after == 5
    assert back.context == {"retry_after": 5}


class AppError(errwise.EnvError):
    """An application subclass with its own keyword-only constructor argument."""

    def __init__(self, code: str, message: str, *, retry_after: int) -> None:
        super().__init__(code, message, context={"retry_after": retry_after})
        self.retry_after = retry_after


def test_an_unpicklable_cause_travels_as_a_summary() -> None:
    class Local(Exception):  # a local class cannot be pickled by reference
        pass

    err = errwise.bug("x")
    err.__cause__ = Local("the details")
    back = pickle.loads(pickle.dumps(err))
    assert type(back.__cause__) is Exception
    assert str(back.__cause__).endswith("Local: the details")
    # In-process copying keeps the real cause.
    assert copy.copy(err).__cause__ is err.__cause__


def test_a_cause_that_pickles_but_cannot_unpickle_travels_as_a_summary() -> None:
    err = errwise.bug("x")
    err.__cause__ = KeywordOnlyError(detail="lost by plain pickling")
    with pytest.raises(TypeError):
        pickle.loads(pickle.dumps(err.__cause__))  # the trap the façade avoids
    back = pickle.loads(pickle.dumps(err))
    assert "KeywordOnlyError" in str(back.__cause__)


class KeywordOnlyError(Exception):
    def __init__(self, *, detail: str) -> None:
        super().__init__()
        self.detail = detail


def test_an_unregistered_code_travels_with_its_error(monkeypatch: pytest.MonkeyPatch) -> None:
    code = errwise.codes.register(
        "ERR_FACADE_TEST_TRAVEL", Kind.TARGET, "travels", doc="Registered only by the sender."
    )
    payload = pickle.dumps(errwise.target(code, "sent"))
    # The receiving process has never registered it:
    monkeypatch.delitem(errwise.codes._registry, "ERR_FACADE_TEST_TRAVEL")
    back = pickle.loads(payload)
    assert (back.code, back.kind, back.title) == ("ERR_FACADE_TEST_TRAVEL", Kind.TARGET, "travels")


# -- exceptions machinery: contextmanager, groups, except*, notes --------------------------------


def test_error_raised_inside_a_contextmanager_propagates_unchanged() -> None:
    events: list[str] = []

    @contextmanager
    def cleanup() -> Iterator[None]:
        try:
            yield
        finally:
            events.append("cleaned up")

    @contextmanager
    def reraise() -> Iterator[None]:
        try:
            yield
        except errwise.Error as err:
            err.with_context(step="reraise")
            raise

    err = errwise.env("ERR_DISK_FULL", "full")
    with pytest.raises(errwise.EnvError) as info, cleanup(), reraise():
        raise err
    assert info.value is err
    assert events == ["cleaned up"]
    assert err.context == {"step": "reraise"}
    assert err.__traceback__ is not None  # contextmanager rewrote it: the error is not frozen


def test_error_raised_by_a_contextmanager_itself() -> None:
    @contextmanager
    def opened(path: str) -> Iterator[str]:
        try:
            raise FileNotFoundError(2, "No such file or directory", path)
        except OSError as exc:
            raise errwise.classify(exc) from exc
        yield path  # pragma: no cover - never reached

    with pytest.raises(errwise.EnvError) as info, opened("/missing"):
        pass  # pragma: no cover - never reached
    assert info.value.code == "ERR_NOT_FOUND"
    assert isinstance(info.value.__cause__, FileNotFoundError)


def test_except_star_over_a_group_of_errors() -> None:
    env_err = errwise.env("ERR_DISK_FULL", "a")
    usage_err = errwise.usage("ERR_USAGE", "b")
    target_err = errwise.target("ERR_TARGET_RAISED", "c")
    seen: dict[str, list[errwise.Error]] = {}
    with pytest.raises(ExceptionGroup) as rest:
        try:
            raise ExceptionGroup("batch", [env_err, usage_err, target_err, ValueError("d")])
        except* errwise.EnvError as group:
            seen["env"] = list(group.exceptions)  # type: ignore[arg-type]
        except* errwise.UsageError as group:
            seen["usage"] = list(group.exceptions)  # type: ignore[arg-type]
    assert seen == {"env": [env_err], "usage": [usage_err]}
    assert seen["env"][0] is env_err
    left = rest.value.exceptions
    assert left[0] is target_err and isinstance(left[1], ValueError)


def test_exception_group_split_by_kind_and_code() -> None:
    group = ExceptionGroup(
        "batch", [errwise.env("ERR_DISK_FULL", "a"), errwise.env("ERR_TIMEOUT", "b")]
    )
    recoverable, rest = group.split(lambda e: isinstance(e, errwise.Error) and e.recoverable)
    assert recoverable is not None and rest is not None
    assert [e.code for e in recoverable.exceptions] == ["ERR_TIMEOUT"]  # type: ignore[union-attr]
    assert [e.code for e in rest.exceptions] == ["ERR_DISK_FULL"]  # type: ignore[union-attr]


def test_add_note_shows_in_the_traceback() -> None:
    try:
        raise errwise.env("ERR_IO", "read failed", path="/p")
    except errwise.Error as err:
        err.add_note("while loading the config")
        text = "".join(traceback.format_exception(err))
    assert "errwise.error.EnvError: [ERR_IO] read failed (path=/p)" in text
    assert "while loading the config" in text


def test_sys_excepthook_format_shows_the_cause_chain() -> None:
    err = make_rich_error()
    text = "".join(traceback.format_exception(err))
    assert "OSError: [Errno 28] No space left on device: '/tmp/x'" in text
    assert "The above exception was the direct cause" in text
    assert sys.exc_info() == (None, None, None)


def test_never_is_a_bug_at_run_time() -> None:
    with pytest.raises(errwise.InternalError) as info:
        errwise.never(BrokenRepr())  # type: ignore[arg-type]
    assert info.value.message == "unreachable code reached"
    assert info.value.context == {"value": "<BrokenRepr whose repr() failed: RuntimeError>"}
