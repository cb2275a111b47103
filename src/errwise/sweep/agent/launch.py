"""The orchestrator's side of the agent: which commands are pytest, and the child's environment.

Promise: `child_env` returns `base` plus everything the agent needs in the child, and touches
nothing inside the project: it writes a bootstrap directory under `workdir` (a `sitecustomize.py`
and a link to the errwise package this process runs, so the child imports errwise even when its
python is another environment), puts it first on PYTHONPATH, loads the pytest plugin with `-p` in
PYTEST_ADDOPTS (never by editing the user's configuration), disables pytest's cache and bytecode
writing, and passes the request in `ERRWISE_SWEEP_*` variables. The child pops those variables
and restores PYTHONPATH and PYTEST_ADDOPTS, so the processes it starts are not armed.
Standard library only; importing it is cheap.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from errwise.ops.atomic import atomic_write
from errwise.sweep.agent.bootstrap import is_pytest

__all__ = [
    "FaultRequest",
    "is_pytest",
    "child_env",
    "ENV_MODE",
    "ENV_ROOT",
    "ENV_OUT",
    "ENV_FAULT",
    "ENV_TEST",
    "ENV_BOOT",
    "ENV_ORIG_PYTHONPATH",
    "ENV_ORIG_ADDOPTS",
    "PLUGIN",
]

ENV_MODE = "ERRWISE_SWEEP_MODE"
"""`record` or `fault`."""
ENV_ROOT = "ERRWISE_SWEEP_ROOT"
"""The project root (absolute)."""
ENV_OUT = "ERRWISE_SWEEP_OUT"
"""The agent's JSON report (absolute, outside the project)."""
ENV_FAULT = "ERRWISE_SWEEP_FAULT"
"""Fault mode: the `FaultRequest` as a JSON object."""
ENV_TEST = "ERRWISE_SWEEP_TEST"
"""Fault mode under pytest: the one node id that runs."""
ENV_BOOT = "ERRWISE_SWEEP_BOOT"
"""The bootstrap directory (first on PYTHONPATH)."""
ENV_ORIG_PYTHONPATH = "ERRWISE_SWEEP_ORIG_PYTHONPATH"
"""The PYTHONPATH the child restores (JSON: a string, or null when it was unset)."""
ENV_ORIG_ADDOPTS = "ERRWISE_SWEEP_ORIG_PYTEST_ADDOPTS"
"""The PYTEST_ADDOPTS the child restores (JSON: a string, or null when it was unset)."""

PLUGIN = "errwise.sweep.agent.plugin"
"""The pytest plugin module the child loads with `-p`."""


@dataclass(frozen=True)
class FaultRequest:
    """The one fault a fault-mode child arms: `operation` failing with `fault` at the project
    site `path` (relative to the root, "/"-separated) : `line`; the first matching call fails,
    and every later one too when `persistent`."""

    operation: str
    fault: str
    path: str
    line: int
    persistent: bool

    def to_json(self) -> str:
        """The request as one JSON object (the value of ERRWISE_SWEEP_FAULT)."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> FaultRequest:
        """Parse `to_json`'s output; a malformed request is a usage error naming what is wrong."""
        from errwise.error import usage

        try:
            data = json.loads(text)
        except ValueError as exc:
            raise usage("ERR_USAGE", f"{ENV_FAULT} is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise usage("ERR_USAGE", f"{ENV_FAULT} is not a JSON object")
        fields = {"operation": str, "fault": str, "path": str, "line": int, "persistent": bool}
        for name, kind in fields.items():
            value = data.get(name)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise usage("ERR_USAGE", f"{ENV_FAULT}.{name} must be a {kind.__name__}")
        return cls(
            operation=data["operation"],
            fault=data["fault"],
            path=data["path"],
            line=data["line"],
            persistent=data["persistent"],
        )


def child_env(
    base: Mapping[str, str],
    *,
    mode: Literal["record", "fault"],
    root: Path,
    out: Path,
    fault: FaultRequest | None = None,
    test: str | None = None,
    workdir: Path,
) -> dict[str, str]:
    """The environment of one child run (see the module promise).

    `root` is the project; `out` the agent's report and `workdir` the directory for the
    bootstrap, both outside the project. Fault mode needs `fault`; `test` (a pytest node id)
    selects the one test that runs. Bad arguments are usage errors; a bootstrap that cannot be
    written is the classified OS error.
    """
    from errwise.error import usage

    if mode not in ("record", "fault"):
        raise usage("ERR_USAGE", "mode must be 'record' or 'fault'", got=repr(mode))
    if mode == "fault" and fault is None:
        raise usage("ERR_USAGE", "fault mode needs a FaultRequest")
    if mode == "record" and (fault is not None or test is not None):
        raise usage("ERR_USAGE", "record mode takes no fault and no test")
    root = Path(os.path.abspath(root))
    out = Path(os.path.abspath(out))
    workdir = Path(os.path.abspath(workdir))
    for name, path in (("out", out), ("workdir", workdir)):
        if _inside(path, root):
            raise usage(
                "ERR_USAGE",
                f"the agent's {name} must be outside the project",
                path=str(path),
                root=str(root),
            )
    boot = _write_bootstrap(workdir)
    env = dict(base)
    env[ENV_ORIG_PYTHONPATH] = json.dumps(base.get("PYTHONPATH"))
    env[ENV_ORIG_ADDOPTS] = json.dumps(base.get("PYTEST_ADDOPTS"))
    old_path = base.get("PYTHONPATH")
    env["PYTHONPATH"] = str(boot) + (os.pathsep + old_path if old_path else "")
    addopts = f"-p {PLUGIN} -p no:cacheprovider"
    old_addopts = base.get("PYTEST_ADDOPTS")
    env["PYTEST_ADDOPTS"] = addopts + (" " + old_addopts if old_addopts else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env[ENV_MODE] = mode
    env[ENV_ROOT] = str(root)
    env[ENV_OUT] = str(out)
    env[ENV_BOOT] = str(boot)
    env.pop(ENV_FAULT, None)
    env.pop(ENV_TEST, None)
    if fault is not None:
        env[ENV_FAULT] = fault.to_json()
    if test is not None:
        env[ENV_TEST] = test
    return env


def _inside(path: Path, root: Path) -> bool:
    real, real_root = os.path.realpath(path), os.path.realpath(root)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def _write_bootstrap(workdir: Path) -> Path:
    """`workdir/bootstrap`: our sitecustomize and a link to this errwise package (idempotent)."""
    import errwise
    from errwise.classify import classify
    from errwise.sweep.agent import bootstrap

    boot = workdir / "bootstrap"
    package = Path(errwise.__file__).resolve().parent
    try:
        boot.mkdir(parents=True, exist_ok=True)
        link = boot / "errwise"
        if not (link.is_symlink() and link.resolve() == package):
            # A fresh link under a private name, renamed over: parallel runs sharing `workdir`
            # never see a missing or half-made link.
            fresh = boot / f".errwise.{os.getpid()}.{threading.get_ident()}.tmp"
            fresh.unlink(missing_ok=True)
            fresh.symlink_to(package, target_is_directory=True)
            os.replace(fresh, link)
        source = Path(bootstrap.__file__).read_text(encoding="utf-8")
        script = boot / "sitecustomize.py"
        if not script.is_file() or script.read_text(encoding="utf-8") != source:
            atomic_write(script, source)
    except OSError as exc:
        raise classify(exc).with_context(bootstrap=str(boot)) from exc
    return boot
