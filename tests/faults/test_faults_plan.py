"""FaultPlan behaviour: selection (nth, persistent, probability, path, module, site), recording,
observe/on_inject, undo on exit/failure/interrupt, all-or-nothing install, thread scoping."""

from __future__ import annotations

import builtins
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import errwise
from errwise import faults
from errwise.faults import dispatch, intercept


def _originals() -> dict[str, object]:
    return {
        "open": builtins.open,
        "os.replace": os.replace,
        "os.stat": os.stat,
        "os.write": os.write,
        "shutil.rmtree": shutil.rmtree,
        "subprocess.run": subprocess.run,
        "Popen.__init__": subprocess.Popen.__init__,
        "socket.send": socket.socket.send,
    }


@pytest.fixture
def pristine() -> Iterator[dict[str, object]]:
    before = _originals()
    yield before
    assert _originals() == before
    assert "send" not in vars(socket.socket)
    assert dispatch.STATE.active == 0
    assert not intercept.installed()


def _touch(path: Path) -> None:
    with open(path, "w") as handle:
        handle.write("x")


# -- selection ---------------------------------------------------------------------------------
def test_nth_fails_only_that_call(tmp_path: Path) -> None:
    with faults.FaultPlan() as plan:
        rule = plan.fail("os.stat", "EIO", nth=2)
        os.stat(tmp_path)
        with pytest.raises(OSError, match="Input/output error"):
            os.stat(tmp_path)
        os.stat(tmp_path)
    assert rule.calls == 3
    assert [i.call for i in rule.injections] == [2]


def test_persistent_fails_from_the_nth_on(tmp_path: Path) -> None:
    outcomes = []
    with faults.FaultPlan() as plan:
        plan.fail("os.stat", "EACCES", nth=2, persistent=True)
        for _ in range(4):
            try:
                os.stat(tmp_path)
                outcomes.append("ok")
            except PermissionError:
                outcomes.append("fail")
    assert outcomes == ["ok", "fail", "fail", "fail"]
    assert len(plan.injections) == 3


def _pattern(seed: int, tmp_path: Path) -> list[bool]:
    result = []
    with faults.FaultPlan() as plan:
        plan.fail("os.stat", "EIO", probability=0.5, seed=seed)
        for _ in range(40):
            try:
                os.stat(tmp_path)
                result.append(False)
            except OSError:
                result.append(True)
    return result


def test_probability_is_seeded_and_reproducible(tmp_path: Path) -> None:
    first = _pattern(7, tmp_path)
    assert first == _pattern(7, tmp_path)
    assert 5 < sum(first) < 35
    assert first != _pattern(8, tmp_path)


def test_path_glob(tmp_path: Path) -> None:
    with faults.FaultPlan() as plan:
        plan.fail("open", "EACCES", path="*.json", persistent=True)
        _touch(tmp_path / "a.txt")
        with pytest.raises(PermissionError) as caught:
            _touch(tmp_path / "a.json")
        (tmp_path / "b.txt").write_text("pathlib goes through open too")
        with pytest.raises(PermissionError):
            (tmp_path / "b.json").write_text("x")
    assert caught.value.filename == str(tmp_path / "a.json")


@pytest.fixture
def target_module(tmp_path: Path) -> Iterator[object]:
    source = tmp_path / "fi_target_mod.py"
    source.write_text(
        "from os import stat\n"
        "import os\n"
        "def by_name(path):\n"
        "    return stat(path)\n"
        "def by_attr(path):\n"
        "    return os.stat(path)\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        import fi_target_mod  # type: ignore[import-not-found]

        yield fi_target_mod
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("fi_target_mod", None)


def test_module_glob(target_module: object, tmp_path: Path) -> None:
    with faults.FaultPlan() as plan:
        plan.fail("os.stat", "ENOENT", module="fi_target_*", persistent=True)
        os.stat(tmp_path)  # this test module: not selected
        with pytest.raises(FileNotFoundError):
            target_module.by_attr(tmp_path)  # type: ignore[attr-defined]
    assert plan.injections[0].site is not None
    assert plan.injections[0].site.module == "fi_target_mod"
    assert plan.injections[0].site.function == "by_attr"
    assert plan.injections[0].site.line == 6


def test_from_import_is_rebound_and_restored(target_module: object, tmp_path: Path) -> None:
    original = os.stat
    assert target_module.stat is original  # type: ignore[attr-defined]
    with faults.FaultPlan() as plan:
        plan.fail("os.stat", "EACCES")
        assert target_module.stat is not original  # type: ignore[attr-defined]
        with pytest.raises(PermissionError):
            target_module.by_name(tmp_path)  # type: ignore[attr-defined]
    assert target_module.stat is original  # type: ignore[attr-defined]
    assert plan.injections[0].site is not None
    assert plan.injections[0].site.function == "by_name"


def test_a_module_imported_between_plans_is_rebound(tmp_path: Path) -> None:
    with faults.FaultPlan():
        pass  # every loaded module has been read once now
    (tmp_path / "fi_late_mod.py").write_text("from os import replace\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import fi_late_mod  # type: ignore[import-not-found]

        with faults.FaultPlan():
            assert fi_late_mod.replace is not os.replace.__wrapped__  # type: ignore[attr-defined]
            assert fi_late_mod.replace is os.replace
        assert fi_late_mod.replace is os.replace
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("fi_late_mod", None)


def test_site_selection_fails_only_that_line(tmp_path: Path) -> None:
    here = os.path.realpath(__file__)
    line = sys._getframe().f_lineno + 5
    with faults.FaultPlan() as plan:
        plan.fail("os.stat", "EIO", site=(here, line), persistent=True)
        os.stat(tmp_path)
        with pytest.raises(OSError):
            os.stat(tmp_path)
        os.stat(tmp_path)
    [injection] = plan.injections
    assert injection.site == faults.Site(here, line, injection.site.function, __name__)  # type: ignore[union-attr]
    assert injection.stack[-1] == injection.site


def test_calls_from_no_site_fail_only_when_asked(tmp_path: Path) -> None:
    seen: list[str] = []
    _touch(tmp_path / "f")
    with faults.FaultPlan(site_filter=lambda path: False) as plan:
        plan.observe(lambda op, site: seen.append(op))
        rule = plan.fail("os.unlink", "EACCES")
        os.stat(tmp_path / "f")
        os.unlink(tmp_path / "f")  # no site: not failed by default
    assert seen == [] and rule.calls == 0
    _touch(tmp_path / "f")
    with faults.FaultPlan(site_filter=lambda path: False, siteless=True) as plan:
        plan.fail("os.stat", "EIO", module="*")
        plain = plan.fail("os.unlink", "EACCES")
        os.stat(tmp_path)  # no site: a module selection cannot match
        with pytest.raises(PermissionError):
            os.unlink(tmp_path / "f")
    assert plain.injections[0].site is None and plain.injections[0].stack == ()


def test_stack_runs_outermost_to_innermost(tmp_path: Path) -> None:
    def inner() -> None:
        os.stat(tmp_path)

    def outer() -> None:
        inner()

    with faults.FaultPlan() as plan:
        plan.fail("os.stat", "EIO")
        with pytest.raises(OSError):
            outer()
    functions = [site.function for site in plan.injections[0].stack]
    assert functions[-3:] == ["test_stack_runs_outermost_to_innermost", "outer", "inner"]


def test_glob_operation_and_default_fault(tmp_path: Path) -> None:
    rule = faults.FaultPlan().fail("os.replace")
    assert rule.fault == "EACCES"  # the operation's first, most typical fault
    with faults.FaultPlan() as plan:
        plan.fail("os.re*", "EXDEV", persistent=True)
        _touch(tmp_path / "a")
        with pytest.raises(OSError, match="cross-device"):
            os.rename(tmp_path / "a", tmp_path / "b")
        with pytest.raises(OSError, match="cross-device"):
            os.replace(tmp_path / "a", tmp_path / "b")
        os.remove(tmp_path / "a")  # os.remove has no EXDEV: not selected
    assert {i.operation for i in plan.injections} == {"os.rename", "os.replace"}


# -- recording ---------------------------------------------------------------------------------
def test_assert_fired_names_the_rules_that_never_fired(tmp_path: Path) -> None:
    with faults.FaultPlan() as plan:
        plan.fail("os.stat", "EIO")
        plan.fail("os.unlink", "EACCES", path="*never*")
        with pytest.raises(OSError):
            os.stat(tmp_path)
    assert plan.fired
    with pytest.raises(AssertionError, match=r"1 fault rule\(s\) never fired") as caught:
        plan.assert_fired()
    assert "os.unlink EACCES path='*never*'" in str(caught.value)
    assert "os.stat" not in str(caught.value)
    idle = faults.FaultPlan()
    assert not idle.fired


def test_observe_and_on_inject(tmp_path: Path) -> None:
    seen: list[tuple[str, str, int]] = []
    before: list[tuple[BaseException | None, bool]] = []
    target = tmp_path / "out"
    with faults.FaultPlan() as plan:

        def on_inject(injection: faults.Injection) -> None:
            # interception is suspended here: this open is neither faulted nor observed
            with open(tmp_path / "side", "w") as side:
                side.write("x")
            before.append((injection.exception, target.exists()))

        plan.observe(lambda op, site: seen.append((op, site.function, site.line)))
        plan.on_inject(on_inject)
        plan.fail("open", "ENOSPC", path=str(target), persistent=True)
        os.stat(tmp_path)
        with pytest.raises(OSError) as caught:
            open(target, "w")  # noqa: SIM115 - it fails
    assert before == [(caught.value, False)]
    assert [entry[0] for entry in seen] == ["os.stat", "open"]
    assert all(entry[1] == "test_observe_and_on_inject" for entry in seen)


def test_nested_calls_are_one_operation(tmp_path: Path) -> None:
    _touch(tmp_path / "a")
    with faults.FaultPlan() as plan:
        opens = plan.fail("open", "EACCES", persistent=True)
        mkdirs = plan.fail("os.mkdir", "EACCES", persistent=True)
        shutil.copy(tmp_path / "a", tmp_path / "b")  # opens inside copy are copy's own
        os.makedirs(tmp_path / "x" / "y")  # mkdirs inside makedirs are makedirs' own
        with pytest.raises(PermissionError):
            os.mkdir(tmp_path / "z")
        with pytest.raises(PermissionError):
            open(tmp_path / "b")  # noqa: SIM115 - it fails
    assert opens.calls == 1 and mkdirs.calls == 1


def test_reentering_an_active_plan_is_a_usage_error(pristine: object) -> None:
    plan = faults.FaultPlan()
    with plan, pytest.raises(errwise.UsageError, match="not re-entrant"):
        plan.__enter__()
    assert not plan.active


# -- undo --------------------------------------------------------------------------------------
def test_undo_on_exit_on_error_and_on_interrupt(pristine: dict[str, object]) -> None:
    with faults.FaultPlan() as plan:
        assert builtins.open is not pristine["open"]
        assert os.replace is not pristine["os.replace"]
        assert "send" in vars(socket.socket)
    assert not plan.active
    with pytest.raises(ValueError), faults.FaultPlan():
        raise ValueError("body failed")
    assert builtins.open is pristine["open"]
    with pytest.raises(KeyboardInterrupt), faults.FaultPlan():
        raise KeyboardInterrupt
    assert os.write is pristine["os.write"]


def test_nested_plans_restore_only_after_the_last(pristine: dict[str, object]) -> None:
    with faults.FaultPlan():
        with faults.FaultPlan():
            pass
        assert os.stat is not pristine["os.stat"]
    assert os.stat is pristine["os.stat"]


class _Refuses:
    """An owner whose attribute cannot be replaced: installing a patch on it fails."""

    def target(self) -> None:
        """Stands for an operation."""

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"read-only: {name}")


def test_install_failure_undoes_partial_patches(
    pristine: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = intercept.Patch(_Refuses(), "target", "os.stat", lambda original, op: original)
    monkeypatch.setattr(intercept, "PATCHES", [*intercept.PATCHES, bad])
    plan = faults.FaultPlan()
    with pytest.raises(errwise.InternalError, match="nothing stays patched") as caught:
        plan.__enter__()
    assert isinstance(caught.value.__cause__, AttributeError)
    assert not plan.active
    assert os.stat is pristine["os.stat"] and builtins.open is pristine["open"]


def test_someone_elses_rebinding_is_left_alone(pristine: dict[str, object]) -> None:
    def mine(*args: object) -> None:
        """A replacement installed by the test while the plan is active."""

    saved = os.fsync
    try:
        with faults.FaultPlan():
            os.fsync = mine
        assert os.fsync is mine
    finally:
        os.fsync = saved


# -- threads -----------------------------------------------------------------------------------
def test_faults_stay_in_the_activating_thread(tmp_path: Path) -> None:
    result: list[object] = []
    with faults.FaultPlan() as plan:
        plan.fail("os.stat", "EIO", persistent=True)
        worker = threading.Thread(target=lambda: result.append(os.stat(tmp_path)))
        worker.start()
        worker.join(30)
        with pytest.raises(OSError):
            os.stat(tmp_path)
    assert len(result) == 1 and not isinstance(result[0], BaseException)


def test_all_threads_reaches_other_threads(tmp_path: Path) -> None:
    caught: list[BaseException] = []

    def work() -> None:
        try:
            os.stat(tmp_path)
        except OSError as error:
            caught.append(error)

    with faults.FaultPlan(all_threads=True) as plan:
        plan.fail("os.stat", "EIO", persistent=True)
        worker = threading.Thread(target=work)
        worker.start()
        worker.join(30)
    assert len(caught) == 1 and caught[0] is plan.injections[0].exception


def test_two_threads_with_their_own_plans(tmp_path: Path) -> None:
    barrier = threading.Barrier(2, timeout=30)
    seen: dict[str, list[str]] = {}

    def work(name: str, fault: str) -> None:
        out = seen.setdefault(name, [])
        with faults.FaultPlan() as plan:
            plan.fail("os.stat", fault, persistent=True)
            barrier.wait()  # both plans are active now
            for _ in range(5):
                try:
                    os.stat(tmp_path)
                    out.append("ok")
                except OSError as error:
                    out.append(type(error).__name__)
            barrier.wait()  # neither leaves before the other is done

    threads = [
        threading.Thread(target=work, args=("a", "ENOENT")),
        threading.Thread(target=work, args=("b", "EACCES")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert seen == {"a": ["FileNotFoundError"] * 5, "b": ["PermissionError"] * 5}
    assert dispatch.STATE.active == 0


# -- decorator and context manager ------------------------------------------------------------
def test_inject_as_context_manager_and_decorator(tmp_path: Path) -> None:
    _touch(tmp_path / "f")
    with (
        faults.inject("os.unlink", "EBUSY", path="*/f") as plan,
        pytest.raises(OSError, match="busy"),
    ):
        os.unlink(tmp_path / "f")
    plan.assert_fired()

    @faults.inject("os.unlink", "EACCES")
    def remove(path: Path) -> None:
        os.unlink(path)

    for _ in range(2):  # a fresh plan per call
        with pytest.raises(PermissionError):
            remove(tmp_path / "f")
    assert (tmp_path / "f").exists()
    os.unlink(tmp_path / "f")


def test_inject_rejects_bad_arguments_where_written() -> None:
    with pytest.raises(errwise.UsageError, match="counts matching calls"):
        faults.inject("os.stat", nth=0)
    with pytest.raises(errwise.UsageError, match="probability"):
        faults.inject("os.stat", probability=2.0)


def test_interrupt_at_an_operation(tmp_path: Path) -> None:
    _touch(tmp_path / "a")
    with faults.FaultPlan() as plan:
        plan.fail("os.replace", "interrupt")
        with pytest.raises(KeyboardInterrupt) as caught:
            os.replace(tmp_path / "a", tmp_path / "b")
    assert caught.value is plan.injections[0].exception
    assert (tmp_path / "a").exists() and not (tmp_path / "b").exists()
