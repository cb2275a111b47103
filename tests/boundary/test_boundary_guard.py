"""guard: abort and disable, fallback, on_disable, reset, pass-through, containment, never leaks."""

from __future__ import annotations

import asyncio
import errno
import logging
import threading
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import errwise
from errwise import metrics, policy


def failing(exc: BaseException) -> Callable[[], str]:
    def body() -> str:
        raise exc

    return body


# -- abort -------------------------------------------------------------------------------------


def test_success_path_returns_value_and_passes_arguments() -> None:
    @errwise.guard(fallback="fallback")
    def add(a: int, b: int = 0, *, c: int = 0) -> int:
        return a + b + c

    assert add(1, 2, c=3) == 6
    assert add(1) == 1
    assert add.__name__ == "add"
    assert metrics.snapshot() == {}


def test_abort_raises_classified_error_with_cause() -> None:
    original = ValueError("bad value")
    guarded = errwise.guard(name="cb")(failing(original))
    with pytest.raises(errwise.InternalError) as info:
        guarded()
    err = info.value
    assert err.code == "ERR_INTERNAL"
    assert err.__cause__ is original
    assert err.context["guard"] == "cb"
    assert metrics.snapshot() == {("ERR_INTERNAL", "internal"): 1}


def test_abort_classifies_os_errors_by_errno() -> None:
    guarded = errwise.guard()(failing(OSError(errno.ENOSPC, "No space left", "/x/y")))
    with pytest.raises(errwise.EnvError) as info:
        guarded()
    assert info.value.code == "ERR_DISK_FULL"
    assert info.value.exit_code == 10


def test_abort_reraises_an_errwise_error_unchanged() -> None:
    original = errwise.target("ERR_TARGET_RAISED", "plugin failed", plugin="p")
    guarded = errwise.guard()(failing(original))
    with pytest.raises(errwise.TargetError) as info:
        guarded()
    assert info.value is original
    assert "guard" not in info.value.context
    assert info.value.__traceback__ is not None


def test_error_reraised_by_guard_then_reported_is_counted_once() -> None:
    err = errwise.env("ERR_IO", "disk")
    inner = errwise.guard()(failing(err))
    outer = errwise.guard()(inner)
    with pytest.raises(errwise.EnvError):
        outer()
    assert metrics.snapshot() == {("ERR_IO", "environment"): 1}


# -- disable -----------------------------------------------------------------------------------


def test_disable_calls_hook_once_logs_once_and_returns_fallback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[errwise.Error] = []
    runs = 0

    @errwise.guard(policy="disable", fallback=-1, on_disable=calls.append, name="cb")
    def body(x: int) -> int:
        nonlocal runs
        runs += 1
        if x < 0:
            raise KeyError(x)
        return x

    caplog.set_level(logging.DEBUG, logger="errwise")
    assert body(5) == 5
    assert body(-1) == -1
    assert body(7) == -1  # disabled: the body does not run any more
    assert body(-2) == -1
    assert runs == 2
    assert len(calls) == 1
    assert calls[0].code == "ERR_INTERNAL"
    assert isinstance(calls[0].__cause__, KeyError)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    record = warnings[0]
    assert record.error_code == "ERR_INTERNAL"  # type: ignore[attr-defined]
    assert record.guard == "cb"  # type: ignore[attr-defined]
    assert record.exc_info is not None
    assert metrics.snapshot() == {("ERR_INTERNAL", "internal"): 1}


def test_reset_rearms_a_disabled_guard() -> None:
    boundary = errwise.guard(policy="disable", fallback=0)
    state = {"fail": True}

    @boundary
    def body() -> int:
        if state["fail"]:
            raise ValueError
        return 1

    assert body() == 0
    assert boundary.disabled
    assert boundary.error is not None
    state["fail"] = False
    assert body() == 0
    boundary.reset()
    assert not boundary.disabled
    assert boundary.error is None
    assert body() == 1


def test_process_policy_is_read_at_error_time() -> None:
    guarded = errwise.guard(fallback="fb")(failing(ValueError()))
    with pytest.raises(errwise.InternalError):
        guarded()
    policy.set_current(errwise.Policy(on_error="disable"))
    assert guarded() == "fb"


def test_own_policy_beats_process_policy() -> None:
    policy.set_current(errwise.Policy(on_error="disable"))
    with pytest.raises(errwise.InternalError):
        errwise.guard(policy="abort")(failing(ValueError()))()
    policy.set_current(errwise.Policy(on_error="abort"))
    own = errwise.Policy(on_error="disable")
    boundary = errwise.guard(policy=own, fallback=None)
    assert boundary.policy is own
    assert boundary(failing(ValueError()))() is None


def test_one_guard_is_one_switch_for_several_callbacks() -> None:
    boundary = errwise.guard(policy="disable", fallback="off")
    first = boundary(failing(ValueError()))

    @boundary
    def second() -> str:
        return "on"

    assert second() == "on"
    assert first() == "off"
    assert second() == "off"


def test_failing_on_disable_hook_is_contained(caplog: pytest.LogCaptureFixture) -> None:
    def hook(err: errwise.Error) -> None:
        raise OSError(errno.EACCES, "Permission denied", "/sys/tracer")

    guarded = errwise.guard(policy="disable", fallback="fb", on_disable=hook)(failing(ValueError()))
    caplog.set_level(logging.WARNING, logger="errwise")
    assert guarded() == "fb"
    assert guarded() == "fb"
    assert metrics.snapshot() == {
        ("ERR_INTERNAL", "internal"): 1,
        ("ERR_PERMISSION_DENIED", "environment"): 1,
    }
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "on_disable hook" in errors[0].getMessage()
    assert errors[0].error_code == "ERR_PERMISSION_DENIED"  # type: ignore[attr-defined]


def test_on_disable_called_once_when_threads_fail_together() -> None:
    calls: list[errwise.Error] = []
    barrier = threading.Barrier(8)
    boundary = errwise.guard(policy="disable", fallback=None, on_disable=calls.append)

    @boundary
    def body() -> None:
        barrier.wait(timeout=10)
        raise ValueError("together")

    threads = [threading.Thread(target=body) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(calls) == 1
    assert metrics.snapshot() == {("ERR_INTERNAL", "internal"): 8}


# -- pass-through ------------------------------------------------------------------------------


@pytest.mark.parametrize("on_error", ["abort", "disable"])
@pytest.mark.parametrize(
    "exc", [KeyboardInterrupt(), SystemExit(3), GeneratorExit(), asyncio.CancelledError()]
)
def test_control_flow_exceptions_pass_through_untouched(
    on_error: policy.OnError, exc: BaseException
) -> None:
    calls: list[errwise.Error] = []
    boundary = errwise.guard(policy=on_error, fallback="fb", on_disable=calls.append)
    with pytest.raises(type(exc)) as info:
        boundary(failing(exc))()
    assert info.value is exc
    with pytest.raises(type(exc)) as info_cm, boundary:
        raise exc
    assert info_cm.value is exc
    assert not boundary.disabled
    assert calls == []
    assert metrics.snapshot() == {}


# -- context-manager form ----------------------------------------------------------------------


def test_context_manager_abort_raises_classified() -> None:
    original = ZeroDivisionError("x")
    with pytest.raises(errwise.InternalError) as info, errwise.guard(name="block"):
        raise original
    assert info.value.__cause__ is original
    assert info.value.context["guard"] == "block"


def test_context_manager_abort_reraises_errwise_error_as_is() -> None:
    original = errwise.usage("ERR_USAGE", "bad")
    with pytest.raises(errwise.UsageError) as info, errwise.guard():
        raise original
    assert info.value is original


def test_context_manager_disable_suppresses_and_records() -> None:
    calls: list[errwise.Error] = []
    boundary = errwise.guard(policy="disable", on_disable=calls.append)
    after = []
    with boundary:
        raise ValueError("contained")
    after.append("ran")
    assert after == ["ran"]
    assert boundary.disabled
    assert boundary.error is not None
    assert isinstance(boundary.error.__cause__, ValueError)
    # A later block still runs (Python cannot skip it); its error is contained and counted, but
    # the hook and the warning are not repeated.
    ran = []
    with boundary:
        ran.append(1)
        raise OSError(errno.EIO, "I/O error")
    assert ran == [1]
    assert len(calls) == 1
    assert boundary.error.code == "ERR_IO"
    assert metrics.snapshot() == {("ERR_INTERNAL", "internal"): 1, ("ERR_IO", "environment"): 1}


def test_context_manager_success_path() -> None:
    boundary = errwise.guard()
    with boundary as entered:
        value = 1
    assert entered is boundary
    assert value == 1
    assert metrics.snapshot() == {}


# -- bad input ---------------------------------------------------------------------------------


def test_bad_input_is_a_usage_error() -> None:
    with pytest.raises(errwise.UsageError, match="parentheses"):
        errwise.guard(lambda: None)  # type: ignore[call-overload]
    with pytest.raises(errwise.UsageError, match="invalid value 'ignore'"):
        errwise.guard(policy="ignore")  # type: ignore[call-overload]
    with pytest.raises(errwise.UsageError):
        errwise.guard(policy=3)  # type: ignore[call-overload]
    with pytest.raises(errwise.UsageError):
        errwise.guard(on_disable="unhook")  # type: ignore[call-overload]
    with pytest.raises(errwise.UsageError, match="one argument, the error"):
        errwise.guard(on_disable=lambda: None)  # type: ignore[arg-type]
    with pytest.raises(errwise.UsageError):
        errwise.guard(name="")
    with pytest.raises(errwise.UsageError):
        errwise.guard()(42)  # type: ignore[arg-type]


def test_async_and_generator_functions_are_rejected() -> None:
    async def coroutine() -> None:
        return None

    def generator() -> object:
        yield 1

    with pytest.raises(errwise.UsageError, match="async"):
        errwise.guard()(coroutine)
    with pytest.raises(errwise.UsageError, match="generator"):
        errwise.guard()(generator)


def test_repr_shows_state() -> None:
    boundary = errwise.guard(policy="disable", name="tracer")
    assert repr(boundary) == "<errwise.Guard name='tracer' policy=disable armed>"
    boundary(failing(ValueError()))()
    assert "disabled" in repr(boundary)


# -- never leaks (property) --------------------------------------------------------------------


def _exception_types() -> list[type[Exception]]:
    found: list[type[Exception]] = []
    pending: list[type[BaseException]] = [Exception]
    while pending:
        cls = pending.pop()
        if issubclass(cls, Exception) and not cls.__module__.startswith("errwise"):
            found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(set(found), key=lambda c: f"{c.__module__}.{c.__qualname__}")


EXCEPTION_TYPES = _exception_types()


def _make(cls: type[Exception], text: str) -> Exception | None:
    """An instance of `cls`, however its constructor wants to be called (None if it cannot)."""
    # The last shape is urllib's HTTPError(url, code, msg, hdrs, fp); fp must be None or a real
    # file: a text fp is wrapped as one, and the wrapper's finaliser fails when it is collected.
    for args in ((text,), (), (text, text), (1, text), (text, 0, 1, 2, None)):
        try:
            return cls(*args)
        # errwise: ignore[broad-catch] -- probing constructors: try the next argument shape
        except Exception:
            continue
    return None


CONSTRUCTIBLE = [cls for cls in EXCEPTION_TYPES if _make(cls, "probe") is not None]


errwise_errors = st.sampled_from(
    [
        errwise.usage("ERR_USAGE", "u"),
        errwise.env("ERR_DISK_FULL", "e"),
        errwise.target("ERR_TARGET_RAISED", "t"),
        errwise.bug("b"),
    ]
)
foreign_errors = st.builds(
    lambda cls, text: _make(cls, text) or cls("unreachable"),
    st.sampled_from(CONSTRUCTIBLE),
    st.text(max_size=20),
)


@settings(max_examples=150, deadline=None)
@given(
    exc=st.one_of(foreign_errors, errwise_errors),
    fail_at=st.integers(min_value=0, max_value=3),
    on_error=st.sampled_from(["abort", "disable"]),
    form=st.sampled_from(["decorator", "with"]),
)
def test_guard_never_leaks(exc: Exception, fail_at: int, on_error: str, form: str) -> None:
    """Whatever is raised wherever in the body, only a classified errwise.Error (abort) or the
    fallback (disable) comes out."""
    logging.getLogger("errwise").setLevel(logging.CRITICAL + 1)
    try:
        steps: list[int] = []
        boundary = errwise.guard(policy=on_error, fallback="fb")  # type: ignore[arg-type]

        def body() -> str:
            for step in range(4):
                if step == fail_at:
                    raise exc
                steps.append(step)
            return "done"

        outcome: object
        try:
            if form == "decorator":
                outcome = boundary(body)()
            else:
                outcome = "no value"
                with boundary:
                    body()
        except errwise.Error as err:
            assert on_error == "abort"
            if isinstance(exc, errwise.Error):
                assert err is exc
            else:
                assert err.__cause__ is exc
            return
        assert on_error == "disable"
        assert outcome == ("fb" if form == "decorator" else "no value")
        assert boundary.disabled
        assert steps == list(range(fail_at))
    finally:
        logging.getLogger("errwise").setLevel(logging.NOTSET)


def test_guarded_methods_bind_self() -> None:
    class Plugin:
        def __init__(self) -> None:
            self.calls = 0

        @errwise.guard(policy="disable", fallback="off")
        def hook(self, value: int) -> str:
            self.calls += 1
            if value < 0:
                raise ValueError(value)
            return f"on {value}"

    plugin = Plugin()
    assert plugin.hook(1) == "on 1"
    assert plugin.hook(-1) == "off"
    assert plugin.hook(2) == "off"
    assert plugin.calls == 2
