"""Policy: precedence of its sources, every invalid value, flags, thread-safe replacement."""

from __future__ import annotations

import argparse
import itertools
import logging
import random
import threading
import time

import pytest
from boundary_helpers import child_env, run_python

import errwise
from errwise import policy

# One distinct non-default value per field and per source, so a wrong winner is visible.
VALUES = {
    "on_error": {"api": "disable", "flag": "disable", "env": "disable"},
    "keep_partial": {"api": True, "flag": True, "env": True},
    "log_level": {"api": "debug", "flag": "error", "env": "critical"},
    "log_file": {"api": "/tmp/api.log", "flag": "/tmp/flag.log", "env": "/tmp/env.log"},
    "json_errors": {"api": True, "flag": True, "env": True},
}
FLAG_ARGS = {
    "on_error": ["--on-error", "disable"],
    "keep_partial": ["--keep-partial"],
    "log_level": ["--log-level", "error"],
    "log_file": ["--log-file", "/tmp/flag.log"],
    "json_errors": ["--json-errors"],
}
ENV_TEXT = {
    "on_error": "disable",
    "keep_partial": "yes",
    "log_level": "CRITICAL",
    "log_file": "/tmp/env.log",
    "json_errors": "1",
}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    policy.add_arguments(parser)
    return parser.parse_args(argv)


def test_defaults() -> None:
    loaded = policy.load(parse([]), environ={})
    assert loaded == errwise.Policy()
    assert (loaded.on_error, loaded.keep_partial, loaded.log_level) == ("abort", False, "warning")
    assert (loaded.log_file, loaded.json_errors) == (None, False)


@pytest.mark.parametrize("field", list(VALUES))
@pytest.mark.parametrize(
    "sources", [s for n in range(4) for s in itertools.combinations(("api", "flag", "env"), n)]
)
def test_precedence_matrix(field: str, sources: tuple[str, ...]) -> None:
    """For every field and every subset of sources, the highest source present wins."""
    argv = FLAG_ARGS[field] if "flag" in sources else []
    environ = {policy.ENV_VARS[field]: ENV_TEXT[field]} if "env" in sources else {}
    explicit = {field: VALUES[field]["api"]} if "api" in sources else {}
    loaded = policy.load(parse(argv), environ=environ, **explicit)
    winner = next((s for s in ("api", "flag", "env") if s in sources), None)
    expected = getattr(errwise.Policy(), field) if winner is None else VALUES[field][winner]
    assert getattr(loaded, field) == expected
    # The other fields keep their defaults.
    for other in VALUES:
        if other != field:
            assert getattr(loaded, other) == getattr(errwise.Policy(), other)


def test_flags_off_beat_environment_on() -> None:
    environ = {"ERRWISE_JSON_ERRORS": "1", "ERRWISE_KEEP_PARTIAL": "true"}
    loaded = policy.load(parse(["--no-json-errors", "--no-keep-partial"]), environ=environ)
    assert loaded.json_errors is False
    assert loaded.keep_partial is False


def test_log_file_dash_means_stderr() -> None:
    assert policy.load(parse(["--log-file", "-"]), environ={}).log_file is None
    assert policy.load(environ={"ERRWISE_LOG_FILE": "-"}).log_file is None


def test_empty_environment_variable_counts_as_unset() -> None:
    environ = {name: "" for name in policy.ENV_VARS.values()}
    assert policy.load(environ=environ) == errwise.Policy()


def test_load_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERRWISE_ON_ERROR", "disable")
    assert policy.load().on_error == "disable"


INVALID_ENV = [
    ("on_error", "ignore", "abort | disable"),
    ("keep_partial", "maybe", "1 | true | yes | on | 0 | false | no | off"),
    ("log_level", "loud", "debug | info | warning | error | critical"),
    ("json_errors", "2", "1 | true | yes | on | 0 | false | no | off"),
    ("log_file", "a\0b", "a file path, or - for stderr"),
]


@pytest.mark.parametrize(("field", "value", "allowed"), INVALID_ENV)
def test_invalid_environment_value_names_variable_and_allowed(
    field: str, value: str, allowed: str
) -> None:
    variable = policy.ENV_VARS[field]
    with pytest.raises(errwise.UsageError) as info:
        policy.load(environ={variable: value})
    err = info.value
    assert err.code == "ERR_INVALID_POLICY_VALUE"
    assert err.exit_code == 2
    assert f"environment variable {variable}" in err.message
    assert repr(value) in err.message
    assert err.context["allowed"] == allowed


INVALID_FLAGS = [
    (["--on-error", "retry"], "--on-error", "abort | disable"),
    (["--log-level", "verbose"], "--log-level", "debug | info | warning | error | critical"),
    (["--log-file", ""], "--log-file", "a file path, or - for stderr"),
]


@pytest.mark.parametrize(("argv", "flag", "allowed"), INVALID_FLAGS)
def test_invalid_flag_value_names_flag_and_allowed(
    argv: list[str], flag: str, allowed: str
) -> None:
    with pytest.raises(errwise.UsageError) as info:
        policy.load(parse(argv), environ={})
    assert info.value.code == "ERR_INVALID_POLICY_VALUE"
    assert f"command-line flag {flag}" in info.value.message
    assert info.value.context["allowed"] == allowed


INVALID_API = [
    ("on_error", "Abort"),
    ("on_error", None),
    ("keep_partial", "yes"),
    ("keep_partial", 1),
    ("log_level", "WARNING"),
    ("log_level", 30),
    ("log_file", ""),
    ("log_file", 3),
    ("json_errors", None),
]


@pytest.mark.parametrize(("field", "value"), INVALID_API)
def test_invalid_api_value(field: str, value: object) -> None:
    with pytest.raises(errwise.UsageError) as info:
        policy.load(environ={}, **{field: value})
    assert info.value.code == "ERR_INVALID_POLICY_VALUE"
    assert f"policy argument {field}" in info.value.message
    with pytest.raises(errwise.UsageError) as direct:
        errwise.Policy(**{field: value})  # type: ignore[arg-type]
    assert f"Policy({field}=...)" in direct.value.message


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(errwise.UsageError, match="unknown policy field"):
        policy.load(environ={}, on_eror="abort")
    with pytest.raises(errwise.UsageError, match="unknown policy field"):
        errwise.Policy().replace(json_error=True)


def test_replace_validates() -> None:
    assert errwise.Policy().replace(on_error="disable").on_error == "disable"
    with pytest.raises(errwise.UsageError):
        errwise.Policy().replace(on_error="explode")


def test_bad_arguments_to_policy_functions() -> None:
    with pytest.raises(errwise.UsageError):
        policy.load(args={"on_error": "abort"})  # type: ignore[arg-type]
    with pytest.raises(errwise.UsageError):
        policy.load(environ=[("ERRWISE_ON_ERROR", "abort")])  # type: ignore[arg-type]
    with pytest.raises(errwise.UsageError):
        policy.set_current("disable")  # type: ignore[arg-type]
    with pytest.raises(errwise.UsageError):
        policy.add_arguments(object())


def test_flags_in_parser_and_subparser_do_not_overwrite_each_other() -> None:
    parser = argparse.ArgumentParser()
    policy.add_arguments(parser)
    sub = parser.add_subparsers(dest="cmd")
    policy.add_arguments(sub.add_parser("run"))
    before = policy.load(parser.parse_args(["--json-errors", "run"]), environ={})
    after = policy.load(parser.parse_args(["run", "--on-error", "disable"]), environ={})
    assert before.json_errors is True
    assert (after.on_error, after.json_errors) == ("disable", False)


def test_bad_environment_never_fails_at_import() -> None:
    env = child_env(ERRWISE_ON_ERROR="explode", ERRWISE_LOG_LEVEL="loud")
    code = (
        "import errwise, sys\n"
        "assert errwise.policy.current().on_error == 'abort'\n"
        "try:\n"
        "    errwise.policy.load()\n"
        "except errwise.UsageError as err:\n"
        "    sys.stdout.write(err.code)\n"
    )
    proc = run_python(["-c", code], env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "ERR_INVALID_POLICY_VALUE"


def test_set_current_returns_previous_and_current_reads_it() -> None:
    new = errwise.Policy(on_error="disable")
    old = policy.set_current(new)
    assert old == errwise.Policy()
    assert policy.current() is new


def test_threads_replacing_policy_while_guards_read_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer swaps two whole policies; guards and readers only ever see one or the other."""
    monkeypatch.setattr(logging.getLogger("errwise"), "level", logging.CRITICAL + 1)
    aborting = errwise.Policy(on_error="abort", keep_partial=True, log_level="error")
    disabling = errwise.Policy(on_error="disable", keep_partial=False, log_level="critical")
    rng = random.Random(1234)
    stop = threading.Event()
    problems: list[str] = []
    outcomes = {"raised": 0, "fallback": 0}
    lock = threading.Lock()

    def writer() -> None:
        # Swap for at least 0.2 s, and until both outcomes were seen (10 s at most on a slow box).
        start = time.monotonic()
        i = 0
        while time.monotonic() - start < 10:
            # Random, not alternating: a switch of threads must not always see the same one.
            policy.set_current(aborting if rng.random() < 0.5 else disabling)
            i += 1
            if i % 100 == 0 and time.monotonic() - start > 0.2:
                with lock:
                    if outcomes["raised"] and outcomes["fallback"]:
                        break
            if i % 1000 == 0:
                time.sleep(0)  # let the readers run on a loaded machine
        stop.set()

    def reader() -> None:
        while not stop.is_set():
            seen = policy.current()
            if (seen.on_error == "abort") != seen.keep_partial:
                problems.append(f"torn policy: {seen}")

    def guarded_caller() -> None:
        boundary = errwise.guard(fallback="fallback")

        @boundary
        def fails() -> str:
            raise ValueError("boom")

        while not stop.is_set():
            boundary.reset()
            try:
                result = fails()
            except errwise.InternalError:
                kind = "raised"
            else:
                if result != "fallback":
                    problems.append(f"unexpected result {result!r}")
                kind = "fallback"
            with lock:
                outcomes[kind] += 1

    threads = [threading.Thread(target=writer)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    threads += [threading.Thread(target=guarded_caller) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert problems == []
    assert outcomes["raised"] > 0
    assert outcomes["fallback"] > 0
