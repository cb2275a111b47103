"""Errors cross a real process pool with their code, kind, context, hints, notes and cause."""

from __future__ import annotations

import errno
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest

import errwise
from errwise import Err, Kind, Result

START_METHODS = [m for m in ("fork", "spawn") if m in multiprocessing.get_all_start_methods()]


def fail_in_worker(path: str) -> None:
    """Raise a classified disk-full error, enriched on the way up, from inside a worker."""
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device", path)
        except OSError as exc:
            raise errwise.classify(exc).with_context(job="nightly-report") from exc
    except errwise.Error as err:
        err.add_hint("or write the report elsewhere with --out")
        err.add_note("raised in a worker process")
        raise


@errwise.as_result(OSError)
def read_in_worker(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def raise_worker_only_code() -> None:
    """Raise an error whose code only the worker process has registered."""
    code = errwise.codes.register(
        "ERR_FACADE_WORKER_ONLY",
        Kind.TARGET,
        "worker-only code",
        doc="Registered inside a pool worker, never in the parent.",
        recoverable=True,
    )
    raise errwise.target(code, "plugin failed", plugin="thumbnails")


def pool(method: str) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context(method))


@pytest.mark.parametrize("method", START_METHODS)
def test_an_error_raised_in_a_worker_arrives_whole(method: str) -> None:
    with pool(method) as executor:
        future = executor.submit(fail_in_worker, "/var/reports/out.json")
        with pytest.raises(errwise.EnvError) as info:
            future.result(timeout=60)
    err = info.value
    assert (err.code, err.kind, err.exit_code, err.recoverable) == (
        "ERR_DISK_FULL",
        Kind.ENVIRONMENT,
        10,
        False,
    )
    assert err.context == {
        "filename": "/var/reports/out.json",
        "errno": errno.ENOSPC,
        "strerror": "No space left on device",
        "job": "nightly-report",
    }
    assert err.hints == [
        "free space on the device holding /var/reports",
        "or write the report elsewhere with --out",
    ]
    assert err.__notes__ == ["raised in a worker process"]
    assert err.spec is errwise.codes.ERR_DISK_FULL
    # The pool replaces __cause__ with the worker's formatted traceback (which shows the cause);
    # the original cause object still arrives, as the context it also was in the worker.
    assert "OSError: [Errno 28] No space left on device" in str(err.__cause__)
    original = err.__context__
    assert isinstance(original, OSError)
    assert (original.errno, original.filename) == (errno.ENOSPC, "/var/reports/out.json")
    assert err.to_dict()["context"]["job"] == "nightly-report"


@pytest.mark.parametrize("method", START_METHODS)
def test_an_err_returned_by_a_worker_keeps_its_cause(method: str) -> None:
    with pool(method) as executor:
        result: Result[str, errwise.Error] = executor.submit(
            read_in_worker, "/nonexistent/errwise/in.txt"
        ).result(timeout=60)
    assert isinstance(result, Err)
    err = result.error
    assert type(err) is errwise.EnvError
    assert err.code == "ERR_NOT_FOUND"
    assert err.context["filename"] == "/nonexistent/errwise/in.txt"
    assert isinstance(err.__cause__, FileNotFoundError)
    assert err.__cause__.errno == errno.ENOENT


@pytest.mark.parametrize("method", START_METHODS)
def test_an_application_code_registered_only_in_the_worker_arrives(method: str) -> None:
    with pool(method) as executor:
        future = executor.submit(raise_worker_only_code)
        with pytest.raises(errwise.TargetError) as info:
            future.result(timeout=60)
    err = info.value
    assert (err.code, err.title, err.recoverable) == (
        "ERR_FACADE_WORKER_ONLY",
        "worker-only code",
        True,
    )
    assert err.context == {"plugin": "thumbnails"}
    assert err.exit_code == 20
