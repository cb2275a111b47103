"""errwise.Result: Ok/Err behaviour, the functor and monad laws, and as_result."""

from __future__ import annotations

import errno
import functools
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import errwise
from errwise import Err, Ok, Result

# -- strategies --------------------------------------------------------------------------------

results: st.SearchStrategy[Result[int, str]] = st.one_of(
    st.integers().map(Ok), st.text(max_size=5).map(Err)
)
int_functions = st.functions(like=lambda x: 0, returns=st.integers(), pure=True)
binds = st.functions(like=lambda x: Ok(0), returns=results, pure=True)


# -- laws --------------------------------------------------------------------------------------


@given(results)
def test_map_identity(r: Result[int, str]) -> None:
    assert r.map(lambda x: x) == r


@given(results, int_functions, int_functions)
def test_map_composition(
    r: Result[int, str], f: Callable[[int], int], g: Callable[[int], int]
) -> None:
    assert r.map(f).map(g) == r.map(lambda x: g(f(x)))


@given(st.integers(), binds)
def test_and_then_left_identity(a: int, f: Callable[[int], Result[int, str]]) -> None:
    assert Ok(a).and_then(f) == f(a)


@given(results)
def test_and_then_right_identity(r: Result[int, str]) -> None:
    assert r.and_then(Ok) == r


@given(results, binds, binds)
def test_and_then_associativity(
    r: Result[int, str],
    f: Callable[[int], Result[int, str]],
    g: Callable[[int], Result[int, str]],
) -> None:
    assert r.and_then(f).and_then(g) == r.and_then(lambda x: f(x).and_then(g))


@given(results, int_functions)
def test_map_is_and_then_of_ok(r: Result[int, str], f: Callable[[int], int]) -> None:
    assert r.map(f) == r.and_then(lambda x: Ok(f(x)))


@given(results, st.functions(like=lambda e: "", returns=st.text(max_size=3), pure=True))
def test_map_err_mirrors_map(r: Result[int, str], f: Callable[[str], str]) -> None:
    assert r.map_err(lambda e: e) == r
    mapped = r.map_err(f)
    match r:
        case Ok(value):
            assert mapped == Ok(value)
        case Err(error):
            assert mapped == Err(f(error))


# -- behaviour ---------------------------------------------------------------------------------


def test_ok_and_err_basics() -> None:
    ok: Result[int, str] = Ok(3)
    err: Result[int, str] = Err("no")
    assert (ok.is_ok(), ok.is_err(), err.is_ok(), err.is_err()) == (True, False, False, True)
    assert Ok(3).value == 3 and Err("no").error == "no"
    assert ok.unwrap() == 3
    assert ok.unwrap_or(0) == 3 and err.unwrap_or(0) == 0
    assert ok.unwrap_or_else(len) == 3 and err.unwrap_or_else(len) == 2
    assert ok.expect("needed") == 3
    assert repr(ok) == "Ok(3)" and repr(err) == "Err('no')"
    assert Ok(1) != Err(1) and Ok(1) == Ok(1) and Err("a") == Err("a") and Ok(1) != 1
    assert len({Ok(1), Ok(1), Err(1)}) == 2


def test_ok_and_err_are_immutable() -> None:
    with pytest.raises(AttributeError):
        Ok(1).value = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        Err(1).error = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        Ok(1).other = 2  # type: ignore[attr-defined]


def test_results_pickle() -> None:
    env_err = errwise.env("ERR_IO", "x", path="/p")
    for value in (Ok([1, 2]), Err("e"), Err(env_err)):
        assert pickle.loads(pickle.dumps(value)).__class__ is value.__class__
    back = pickle.loads(pickle.dumps(Err(env_err)))
    assert back.error.context == {"path": "/p"}


def test_match_on_results() -> None:
    def describe(r: Result[int, errwise.Error]) -> str:
        match r:
            case Ok(value):
                return f"ok {value}"
            case Err(error):
                return f"err {error.code}"

    assert describe(Ok(1)) == "ok 1"
    assert describe(Err(errwise.bug("x"))) == "err ERR_INTERNAL"


def test_unwrap_of_an_err_raises_the_carried_exception() -> None:
    carried = errwise.env("ERR_DISK_FULL", "full")
    with pytest.raises(errwise.EnvError) as info:
        Err(carried).unwrap()
    assert info.value is carried


def test_unwrap_of_an_err_carrying_a_value_raises_an_internal_error() -> None:
    with pytest.raises(errwise.InternalError) as info:
        Err({"reason": "no"}).unwrap()
    assert info.value.code == "ERR_INTERNAL"
    assert info.value.context == {"error": "{'reason': 'no'}"}


def test_expect_of_an_err_raises_an_internal_error_with_the_message() -> None:
    carried = errwise.env("ERR_NOT_FOUND", "gone")
    with pytest.raises(errwise.InternalError) as info:
        Err(carried).expect("the config was checked before")
    assert info.value.message == "the config was checked before"
    assert info.value.__cause__ is carried
    with pytest.raises(errwise.InternalError) as info:
        Err("plain").expect("needed")
    assert info.value.__cause__ is None


@pytest.mark.parametrize(
    "call",
    [
        lambda: Ok(1).map(3),
        lambda: Err(1).map(3),
        lambda: Ok(1).map_err(None),
        lambda: Err(1).map_err(None),
        lambda: Ok(1).and_then("f"),
        lambda: Err(1).and_then("f"),
        lambda: Ok(1).unwrap_or_else(1),
        lambda: Err(1).unwrap_or_else(1),
        lambda: Ok(1).expect(b"bytes"),
        lambda: Err(1).expect(None),
    ],
)
def test_bad_arguments_are_usage_errors_on_both_sides(call: Callable[[], object]) -> None:
    with pytest.raises(errwise.UsageError) as info:
        call()
    assert info.value.code == "ERR_USAGE"


def test_a_type_error_inside_the_mapped_function_is_not_mistaken_for_bad_usage() -> None:
    def broken(x: int) -> int:
        return x + "1"  # type: ignore[operator]

    with pytest.raises(TypeError, match="unsupported operand"):
        Ok(1).map(broken)
    with pytest.raises(TypeError, match="unsupported operand"):
        Ok(1).and_then(broken)  # type: ignore[arg-type]


# -- as_result ---------------------------------------------------------------------------------


@errwise.as_result(OSError, errwise.UsageError)
def read_number(path: str, *, base: int = 10) -> int:
    """Read an integer from a file."""
    if not path:
        raise errwise.usage("ERR_USAGE", "path must not be empty")
    with open(path, encoding="utf-8") as handle:
        return int(handle.read(), base)


def test_as_result_returns_ok_on_success(tmp_path: Path) -> None:
    target = tmp_path / "n.txt"
    target.write_text("ff", encoding="utf-8")
    assert read_number(str(target), base=16) == Ok(255)
    assert read_number.__name__ == "read_number"
    assert read_number.__doc__ == "Read an integer from a file."


def test_as_result_turns_named_exceptions_into_classified_errs() -> None:
    result = read_number("/nonexistent/errwise/n.txt")
    assert isinstance(result, Err)
    assert result.error.code == "ERR_NOT_FOUND"
    assert isinstance(result.error.__cause__, FileNotFoundError)
    assert result.error.__cause__.errno == errno.ENOENT
    usage = read_number("")
    assert isinstance(usage, Err) and usage.error.code == "ERR_USAGE"
    assert usage.error.__cause__ is None  # an errwise.Error passes through unchanged


def test_as_result_lets_other_exceptions_propagate(tmp_path: Path) -> None:
    target = tmp_path / "n.txt"
    target.write_text("not a number", encoding="utf-8")
    with pytest.raises(ValueError, match="invalid literal"):
        read_number(str(target))


def test_as_result_lets_keyboard_interrupt_propagate() -> None:
    @errwise.as_result(Exception)
    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()


async def _coroutine() -> int:
    return 1


def _generator() -> Iterator[int]:
    yield 1


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (errwise.as_result, "at least one exception type"),
        (lambda: errwise.as_result(ValueError, "OSError"), "takes exception classes"),
        (lambda: errwise.as_result(int), "takes exception classes"),
        (lambda: errwise.as_result(ValueError)(3), "decorates a function"),
        (lambda: errwise.as_result(ValueError)(_coroutine), "cannot wrap an async function"),
        (lambda: errwise.as_result(ValueError)(_generator), "cannot wrap a generator function"),
    ],
)
def test_as_result_bad_input(call: Callable[[], object], fragment: str) -> None:
    with pytest.raises(errwise.UsageError, match=fragment):
        call()


def test_as_result_wraps_partials_and_methods() -> None:
    class Reader:
        @errwise.as_result(KeyError)
        def get(self, key: str) -> int:
            return {"a": 1}[key]

    assert Reader().get("a") == Ok(1)
    missing = Reader().get("b")
    assert isinstance(missing, Err) and missing.error.code == "ERR_INTERNAL"
    wrapped = errwise.as_result(ZeroDivisionError)(functools.partial(divmod, 1))
    assert wrapped(0).is_err() and wrapped(1) == Ok((1, 0))
