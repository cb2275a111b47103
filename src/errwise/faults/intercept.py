"""Install and remove interception: patch what has no audit event, hook what has one.

Promise: `install()` patches every target in `PATCHES` and every name bound to one of the
originals in an already-loaded module (`from os import stat`; a module that finished importing
is read in full once, later only the names that held an original are checked), all or
nothing: if any step fails, what was done is undone and an `InternalError` chained to the cause
is raised. `uninstall()` restores every patched name exactly (a name someone rebound meanwhile
is left alone) and kills children started for Popen timeouts. The audit hook is added once per
process."""

from __future__ import annotations

import builtins
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from errwise.error import bug
from errwise.faults import hooks_fs, hooks_net, hooks_proc

__all__ = ["Patch", "PATCHES", "install", "uninstall", "installed"]


@dataclass(frozen=True, slots=True)
class Patch:
    """Replace `owner.name` with `wrap(original, operation)` while a plan is active."""

    owner: Any
    name: str
    operation: str
    wrap: Callable[[Callable[..., Any], str], Callable[..., Any]]
    rebind: bool = True  # also replace the original where other modules bound it by name


def _path_call(original: Callable[..., Any], operation: str) -> Callable[..., Any]:
    return hooks_fs.wrap_path_call(original, operation)


def _two_path_call(original: Callable[..., Any], operation: str) -> Callable[..., Any]:
    return hooks_fs.wrap_path_call(original, operation, two_paths=True)


PATCHES: list[Patch] = [
    Patch(builtins, "open", "open", hooks_fs.wrap_open),
    Patch(os, "read", "os.read", hooks_fs.wrap_os_read),
    Patch(os, "write", "os.write", hooks_fs.wrap_os_write),
    Patch(os, "fsync", "os.fsync", _path_call),
    Patch(os, "stat", "os.stat", _path_call),
    Patch(os, "replace", "os.replace", _two_path_call),
    Patch(os, "rename", "os.rename", _two_path_call),
    Patch(os, "unlink", "os.unlink", _path_call),
    Patch(os, "remove", "os.remove", _path_call),
    Patch(os, "makedirs", "os.makedirs", _path_call),
    Patch(shutil, "copy", "shutil.copy", _two_path_call),
    Patch(shutil, "copy2", "shutil.copy2", _two_path_call),
    Patch(shutil, "copyfile", "shutil.copyfile", _two_path_call),
    Patch(shutil, "copytree", "shutil.copytree", _two_path_call),
    Patch(shutil, "move", "shutil.move", _two_path_call),
    Patch(shutil, "rmtree", "shutil.rmtree", hooks_fs.wrap_rmtree),
    Patch(subprocess, "run", "subprocess.run", hooks_proc.wrap_runner),
    Patch(subprocess, "call", "subprocess.call", hooks_proc.wrap_runner),
    Patch(subprocess, "check_call", "subprocess.check_call", hooks_proc.wrap_runner),
    Patch(subprocess, "check_output", "subprocess.check_output", hooks_proc.wrap_runner),
    Patch(subprocess.Popen, "__init__", "subprocess.Popen", hooks_proc.wrap_popen_init, False),
    Patch(sqlite3, "connect", "sqlite3.connect", hooks_net.wrap_sqlite_connect),
    *(
        Patch(socket.socket, method, f"socket.{method}", hooks_net.wrap_socket_method, False)
        for method in ("connect", "send", "sendall", "sendto", "recv", "recv_into")
    ),
]
"""Everything patched, in order. Operations not listed come through the audit hook."""


@dataclass(slots=True)
class _Done:
    namespace: Any  # an object (setattr) or a module dict
    name: str
    original: Any
    wrapper: Any
    owned: bool  # the name was in the owner's own __dict__ before


_done: list[_Done] = []


def installed() -> bool:
    """True while the patches are in place."""
    return bool(_done)


def _set(owner: Any, name: str, value: Any) -> None:
    setattr(owner, name, value)


def install() -> None:
    """Patch everything (all or nothing) and make sure the audit hook is in place."""
    if _done:
        raise bug("fault interception is already installed")
    try:
        hooks_fs.ensure_audit_hook()
        swaps: dict[int, tuple[Any, Any]] = {}
        for patch in PATCHES:
            original = getattr(patch.owner, patch.name)
            owned = patch.name in vars(patch.owner)
            wrapper = patch.wrap(original, patch.operation)
            _set(patch.owner, patch.name, wrapper)
            _done.append(_Done(patch.owner, patch.name, original, wrapper, owned))
            if patch.rebind:
                swaps[id(original)] = (original, wrapper)
        _rebind(swaps)
    except BaseException as error:
        _undo()
        raise bug("could not install fault interception; nothing stays patched") from error


class _Index:
    """Which names of each fully imported module held an original, so that a later activation
    re-checks those names instead of every name of every module (valid while the originals are
    the same objects and the module object is the same)."""

    def __init__(self) -> None:
        self.key: frozenset[int] = frozenset()
        self.names: dict[str, tuple[object, tuple[str, ...]]] = {}


_index = _Index()


def _rebind(swaps: dict[int, tuple[Any, Any]]) -> None:
    key = frozenset(swaps)
    if key != _index.key:
        _index.key, _index.names = key, {}
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("errwise.faults") or module_name in sys.builtin_module_names:
            continue  # posix, _io ...: the originals' home; the import system calls them
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        known = _index.names.get(module_name)
        if known is not None and known[0] is module:
            candidates: Iterable[str] = known[1]
        else:
            candidates = [name for name, value in list(namespace.items()) if id(value) in swaps]
            if not getattr(getattr(module, "__spec__", None), "_initializing", False):
                _index.names[module_name] = (module, tuple(candidates))
        for name in candidates:
            value = namespace.get(name)
            swap = swaps.get(id(value))
            if swap is not None and swap[0] is value:
                namespace[name] = swap[1]
                _done.append(_Done(namespace, name, value, swap[1], True))


def _undo() -> None:
    while _done:
        done = _done.pop()
        if isinstance(done.namespace, dict):
            if done.namespace.get(done.name) is done.wrapper:
                done.namespace[done.name] = done.original
        elif getattr(done.namespace, done.name, None) is done.wrapper:
            if done.owned:
                setattr(done.namespace, done.name, done.original)
            else:
                delattr(done.namespace, done.name)


def uninstall() -> None:
    """Restore everything `install` changed and end the Popen-timeout children."""
    try:
        _undo()
    finally:
        hooks_proc.kill_sleepers()
