"""Diagnostics and metrics: structured error records, JSON formatter, logging setup, counters."""

from __future__ import annotations

import errno
import io
import json
import logging
import threading
from pathlib import Path
from typing import NoReturn

import pytest

import errwise
from errwise import diagnostics, metrics


def raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


def capture_json(logger_name: str = "errwise.test") -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(errwise.JsonFormatter())
    logger = logging.getLogger(logger_name)
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


# -- log_error ---------------------------------------------------------------------------------


def test_log_error_writes_one_structured_record() -> None:
    logger, stream = capture_json()
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device", "/data/out.json")
        except OSError as exc:
            raise errwise.classify(exc).with_context(job=7) from exc
    except errwise.Error as caught:
        err = caught
    returned = errwise.log_error(err, logger)
    assert returned is err
    (record,) = records(stream)
    assert record["error_code"] == "ERR_DISK_FULL"
    assert record["error_kind"] == "environment"
    assert record["run_id"] == errwise.run_id()
    assert record["level"] == "error"
    context = record["error_context"]
    assert isinstance(context, dict)
    assert (context["job"], context["filename"]) == (7, "/data/out.json")
    assert record["cause_chain"] == [
        {"type": "OSError", "message": "[Errno 28] No space left on device: '/data/out.json'"}
    ]
    traceback_text = record["traceback"]
    assert isinstance(traceback_text, str)
    assert traceback_text.count("Traceback (most recent call last)") == 2  # cause, then error
    assert "The above exception was the direct cause" in traceback_text


def test_the_traceback_is_logged_once_never_twice() -> None:
    logger, stream = capture_json()
    err = raised(ValueError("twice?"))
    classified = errwise.log_error(err, logger)
    again = errwise.log_error(classified, logger, level=logging.WARNING)
    assert again is classified
    first, second = records(stream)
    assert "traceback" in first
    assert "traceback" not in second
    assert str(second["message"]).endswith("(traceback logged earlier)")
    assert first["error_code"] == second["error_code"] == "ERR_INTERNAL"


def test_cause_chain_follows_cause_and_context_and_stops_on_cycles() -> None:
    a = ValueError("a")
    b = KeyError("b")
    b.__context__ = a
    c = errwise.bug("c")
    c.__cause__ = b
    a.__context__ = c  # a cycle
    assert diagnostics.cause_chain(c) == [
        {"type": "KeyError", "message": "'b'"},
        {"type": "ValueError", "message": "a"},
    ]
    suppressed = RuntimeError("s")
    suppressed.__context__ = a
    suppressed.__suppress_context__ = True
    assert diagnostics.cause_chain(suppressed) == []


def test_log_error_bad_input() -> None:
    with pytest.raises(errwise.UsageError):
        errwise.log_error("not an exception")  # type: ignore[arg-type]
    with pytest.raises(errwise.UsageError):
        errwise.log_error(ValueError(), logger="errwise")  # type: ignore[arg-type]
    with pytest.raises(errwise.UsageError):
        errwise.log_error(ValueError(), level=12345)
    with pytest.raises(errwise.UsageError):
        errwise.log_error(ValueError(), message=3)  # type: ignore[arg-type]


# -- JsonFormatter -----------------------------------------------------------------------------


def test_json_formatter_plain_record_and_odd_values() -> None:
    logger, stream = capture_json()

    class Unprintable:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    logger.info("count=%d", 3, extra={"path": Path("/tmp/x"), "odd": Unprintable()})
    logger.info("bad format %d", "not a number")
    first, second = records(stream)
    assert first["message"] == "count=3"
    assert (first["error_code"], first["error_kind"]) == (None, None)
    assert first["run_id"] == errwise.run_id()
    assert first["path"] == "/tmp/x"
    assert "repr() failed" in str(first["odd"])
    assert "formatting failed" in str(second["message"])


def test_json_formatter_classifies_plain_exc_info() -> None:
    logger, stream = capture_json()
    try:
        raise FileNotFoundError(errno.ENOENT, "No such file", "/etc/none")
    except OSError:
        logger.exception("reading config")
    (record,) = records(stream)
    assert (record["error_code"], record["error_kind"]) == ("ERR_NOT_FOUND", "environment")
    assert "FileNotFoundError" in str(record["traceback"])


# -- configure_logging -------------------------------------------------------------------------


def test_configure_logging_to_file_writes_json_lines(tmp_path: Path) -> None:
    log = tmp_path / "errwise.log"
    handler = errwise.configure_logging(errwise.Policy(log_file=str(log), log_level="info"))
    logging.getLogger("app").info("hello")
    logging.getLogger("app").debug("hidden")
    again = errwise.configure_logging(errwise.Policy(log_file=str(log)))
    assert handler not in logging.getLogger().handlers  # replaced, not stacked
    assert again in logging.getLogger().handlers
    diagnostics.remove_logging()
    assert again not in logging.getLogger().handlers
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["logger"], r["message"]) for r in lines] == [("app", "hello")]


def test_configure_logging_to_stderr_never_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    errwise.configure_logging(errwise.Policy(log_level="debug"), prog="tool")
    logging.getLogger("errwise.x").debug("detail")
    errwise.log_error(errwise.env("ERR_TIMEOUT", "slow").add_hint("retry later"))
    errwise.configure_logging(errwise.Policy(), json_format=True)
    logging.getLogger("errwise.x").warning("as json")
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines[:3] == [
        "tool: debug: detail",
        "tool: error: [ERR_TIMEOUT] slow",
        "errwise.error.EnvError: [ERR_TIMEOUT] slow",
    ]
    assert json.loads(lines[-1])["message"] == "as json"


def test_configure_logging_unopenable_file_is_classified(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def denied(self: logging.FileHandler) -> NoReturn:
        raise PermissionError(errno.EACCES, "Permission denied", self.baseFilename)

    monkeypatch.setattr(logging.FileHandler, "_open", denied)
    with pytest.raises(errwise.EnvError) as info:
        errwise.configure_logging(errwise.Policy(log_file=str(tmp_path / "a.log")))
    assert info.value.code == "ERR_PERMISSION_DENIED"
    assert info.value.context["setting"] == "log_file"


def test_configure_logging_bad_input() -> None:
    with pytest.raises(errwise.UsageError):
        errwise.configure_logging({"log_level": "info"})  # type: ignore[arg-type]
    with pytest.raises(errwise.UsageError):
        errwise.configure_logging(json_format="yes")  # type: ignore[arg-type]


# -- metrics -----------------------------------------------------------------------------------


def test_counts_and_snapshot_are_thread_safe() -> None:
    def work() -> None:
        for _ in range(500):
            metrics.count("ERR_IO", errwise.Kind.ENVIRONMENT)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    snap = metrics.snapshot()
    assert snap == {("ERR_IO", "environment"): 4000}
    snap[("ERR_IO", "environment")] = 0
    assert metrics.snapshot() == {("ERR_IO", "environment"): 4000}  # a copy


def test_export_hook_receives_code_kind_delta_without_message_or_path() -> None:
    seen: list[tuple[str, str, int]] = []

    def hook(code: str, kind: str, delta: int) -> None:
        seen.append((code, kind, delta))

    metrics.add_export_hook(hook)
    metrics.add_export_hook(hook)  # idempotent
    try:
        metrics.count("ERR_TIMEOUT", "environment", 2)
        guarded = errwise.guard(policy="disable")(
            lambda: Path("/nonexistent/secret/path.txt").read_text(encoding="utf-8")
        )
        logging.getLogger("errwise").setLevel(logging.CRITICAL + 1)
        guarded()
    finally:
        logging.getLogger("errwise").setLevel(logging.NOTSET)
        metrics.remove_export_hook(hook)
    assert seen == [("ERR_TIMEOUT", "environment", 2), ("ERR_NOT_FOUND", "environment", 1)]
    metrics.count("ERR_IO", "environment")
    assert len(seen) == 2  # removed


def test_failing_export_hook_is_contained(caplog: pytest.LogCaptureFixture) -> None:
    def broken(code: str, kind: str, delta: int) -> None:
        raise ConnectionError("exporter down")

    metrics.add_export_hook(broken)
    try:
        metrics.count("ERR_IO", "environment")
    finally:
        metrics.remove_export_hook(broken)
    assert metrics.snapshot() == {("ERR_IO", "environment"): 1, ("ERR_INTERNAL", "internal"): 1}
    (record,) = [r for r in caplog.records if r.name == "errwise.metrics"]
    assert "export hook" in record.getMessage()
    assert record.exc_info is not None


def test_count_error_counts_each_error_once() -> None:
    err = errwise.env("ERR_IO", "x")
    assert metrics.count_error(err) is True
    assert metrics.count_error(err) is False
    assert metrics.snapshot() == {("ERR_IO", "environment"): 1}


@pytest.mark.parametrize(
    "call",
    [
        lambda: metrics.count("ERR_NOPE", "environment"),
        lambda: metrics.count("ERR_IO", "weird"),
        lambda: metrics.count("ERR_IO", "environment", 0),
        lambda: metrics.count("ERR_IO", "environment", True),
        lambda: metrics.count_error(ValueError()),
        lambda: metrics.add_export_hook("not callable"),
        lambda: metrics.remove_export_hook(print),
    ],
)
def test_metrics_bad_input(call: object) -> None:
    with pytest.raises(errwise.UsageError):
        call()  # type: ignore[operator]
