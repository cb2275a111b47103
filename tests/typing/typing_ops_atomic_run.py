"""Static typing checks (run by mypy, not pytest) for atomic_write/atomic_writer and run."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, TextIO, assert_type

import errwise


def writer_types(path: Path) -> None:
    with errwise.atomic_writer(path) as text:
        assert_type(text, TextIO)
    with errwise.atomic_writer(path, binary=True) as binary:
        assert_type(binary, BinaryIO)
    assert_type(errwise.atomic_write(path, b"x"), None)


def run_types() -> None:
    result = errwise.run(["true"], timeout=5)
    assert_type(result, errwise.RunResult)
    assert_type(result.stdout, str)
    outcome = errwise.run_result(["true"], timeout=None)
    assert_type(outcome, errwise.Result[errwise.RunResult, errwise.Error])
    match outcome:
        case errwise.Ok(value):
            assert_type(value, errwise.RunResult)
        case errwise.Err(error):
            assert_type(error, errwise.Error)


def staged_types(path: Path) -> None:
    with errwise.staged_output(path) as staging:
        assert_type(staging, Path)
