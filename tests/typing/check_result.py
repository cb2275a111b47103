"""Static typing proof for errwise.Result and the façade: checked by `mypy --strict` (`make
typecheck`), never collected by pytest. Every `assert_type` is a claim mypy verifies; every
`type: ignore[code]` is a mistake mypy must catch (strict mode flags an unused ignore, so if
mypy stopped catching one, the check would fail).
"""

from __future__ import annotations

import subprocess
from typing import Any, Protocol, assert_type

import errwise
from errwise import Err, Error, Ok, Result


def parse(text: str) -> Result[int, Error]:
    if text.isdigit():
        return Ok(int(text))
    return Err(errwise.usage("ERR_USAGE", "not a number", text=text))


def half(number: int) -> Result[float, Error]:
    if number % 2:
        return Err(errwise.usage("ERR_USAGE", "odd", number=number))
    return Ok(number / 2)


def check_inference_through_the_chain() -> None:
    r = parse("4")
    assert_type(r, Ok[int] | Err[Error])
    assert_type(r.map(str), Ok[str] | Err[Error])
    assert_type(r.map(lambda n: n * 1.5), Ok[float] | Err[Error])
    assert_type(r.map_err(lambda e: e.code), Ok[int] | Err[str])
    assert_type(r.and_then(half), Ok[float] | Err[Error])
    assert_type(r.and_then(half).map(round), Ok[int] | Err[Error])
    assert_type(r.unwrap(), int)
    assert_type(r.expect("validated before"), int)
    assert_type(r.unwrap_or(0), int)
    assert_type(r.unwrap_or(None), int | None)
    assert_type(r.unwrap_or_else(lambda e: len(e.message)), int)
    assert_type(Ok(1).map(str), Ok[str])
    assert_type(Ok(1).map(str).unwrap(), str)
    assert_type(Ok("x").and_then(parse), Ok[int] | Err[Error])
    assert_type(Err(ValueError("v")).map_err(str), Err[str])

    r.map(str).unwrap().upper()
    r.unwrap().upper()  # type: ignore[attr-defined]
    r.and_then(str)  # type: ignore[arg-type]


def check_narrowing() -> None:
    r = parse("4")
    match r:
        case Ok(value):
            assert_type(value, int)
        case Err(error):
            assert_type(error, Error)
            assert_type(error.code, str)
        case _:
            errwise.never(r)  # exhaustive: Ok and Err are final, so nothing is left here
    if isinstance(r, Ok):
        assert_type(r, Ok[int])
        assert_type(r.value, int)
    else:
        assert_type(r, Err[Error])
        assert_type(r.error, Error)


class ReadSignature(Protocol):
    def __call__(self, path: str, *, limit: int = ...) -> Result[bytes, Error]: ...


@errwise.as_result(OSError, subprocess.SubprocessError)
def read(path: str, *, limit: int = -1) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(limit)


def check_as_result_keeps_the_signature() -> None:
    signature: ReadSignature = read  # parameters kept: positional path, keyword-only limit
    signature("p", limit=1)
    assert_type(read("p"), Ok[bytes] | Err[Error])
    assert_type(read("p", limit=3), Ok[bytes] | Err[Error])
    read(3)  # type: ignore[arg-type]
    read("p", size=3)  # type: ignore[call-arg]
    match read("p"):
        case Ok(data):
            assert_type(data, bytes)
        case Err(error):
            assert_type(error.hints, list[str])


def check_the_facade() -> None:
    assert_type(errwise.usage("ERR_USAGE", "m", flag="--x"), errwise.UsageError)
    assert_type(errwise.env(errwise.codes.ERR_IO, "m"), errwise.EnvError)
    assert_type(errwise.target("ERR_TARGET_RAISED", "m"), errwise.TargetError)
    assert_type(errwise.bug("m"), errwise.InternalError)
    assert_type(errwise.classify(ValueError()), Error)
    assert_type(errwise.env("ERR_IO", "m").with_context(a=1), errwise.EnvError)
    assert_type(errwise.env("ERR_IO", "m").add_hint("h"), errwise.EnvError)
    assert_type(errwise.env("ERR_IO", "m").to_dict(), dict[str, Any])
    assert_type(errwise.env("ERR_IO", "m").exit_code, int)
    assert_type(errwise.env("ERR_IO", "m").kind, errwise.Kind)
    errwise.env("ERR_IO", "m", **{"a": 1})
    errwise.ensure(True, "ERR_IO", "m", path="/p")
    errwise.env("ERR_IO")  # type: ignore[call-arg]
    errwise.env("ERR_IO", b"m")  # type: ignore[arg-type]
    errwise.Error("ERR_IO", "m", recoverable=1)  # type: ignore[arg-type]
