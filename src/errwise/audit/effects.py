"""What a call does to the world: the knowledge the auditor uses to judge severity.

Promise: `effects_of_call(qualname, attr, call)` classifies a call as mutating the file system,
spawning a process, talking to the network, taking or releasing a lock, or rolling back / cleaning
up — from its qualified name, its method name and (for `open`) its mode argument. Projects extend
the state-changing set with `extend-state-changing` in `[tool.errwise]`.
"""

from __future__ import annotations

import ast
import enum
import fnmatch
import functools
from collections.abc import Iterable

__all__ = ["Effect", "effects_of_call", "StateChangeMatcher"]


class Effect(enum.Flag):
    NONE = 0
    DISK = enum.auto()
    """Creates, writes, moves or deletes files or directories."""
    PROCESS = enum.auto()
    """Spawns or signals a process."""
    NETWORK = enum.auto()
    """Talks to another host."""
    LOCK = enum.auto()
    """Takes or releases a lock."""
    CLEANUP = enum.auto()
    """Rolls back, undoes, restores or cleans up state."""

    @property
    def state_changing(self) -> bool:
        return bool(self.value & _STATE_CHANGING)


_STATE_CHANGING = (Effect.DISK | Effect.PROCESS | Effect.LOCK | Effect.CLEANUP).value

_DISK_FUNCS = frozenset(
    {
        "os.remove",
        "os.unlink",
        "os.rename",
        "os.renames",
        "os.replace",
        "os.mkdir",
        "os.makedirs",
        "os.rmdir",
        "os.removedirs",
        "os.link",
        "os.symlink",
        "os.chmod",
        "os.chown",
        "os.lchown",
        "os.truncate",
        "os.ftruncate",
        "os.write",
        "os.utime",
        "os.mkfifo",
        "os.fsync",
        "shutil.rmtree",
        "shutil.move",
        "shutil.copy",
        "shutil.copy2",
        "shutil.copyfile",
        "shutil.copytree",
        "shutil.copymode",
        "shutil.copystat",
        "shutil.make_archive",
        "shutil.unpack_archive",
        "shutil.chown",
        "json.dump",
        "pickle.dump",
        "yaml.dump",
        "yaml.safe_dump",
        "tomli_w.dump",
        "tempfile.mkstemp",
        "tempfile.mkdtemp",
    }
)
_DISK_METHODS = frozenset(
    {
        "write_text",
        "write_bytes",
        "unlink",
        "rename",
        "replace",
        "mkdir",
        "rmdir",
        "touch",
        "chmod",
        "symlink_to",
        "hardlink_to",
        "link_to",
        "rmtree",
        "truncate",
    }
)
_PROCESS_PREFIXES = ("subprocess.", "asyncio.create_subprocess_", "os.exec", "os.spawn", "pty.")
_PROCESS_FUNCS = frozenset({"os.system", "os.popen", "os.kill", "os.killpg", "os.fork"})
_NETWORK_PREFIXES = (
    "requests.",
    "httpx.",
    "urllib.request.",
    "urllib3.",
    "socket.",
    "http.client.",
    "aiohttp.",
    "smtplib.",
    "ftplib.",
    "paramiko.",
)
_LOCK_METHODS = frozenset({"acquire", "release", "flock", "lockf", "lock", "unlock"})
_OS_OPEN_WRITE_FLAGS = frozenset(
    {"O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND", "O_EXCL", "O_TMPFILE"}
)
_CLEANUP_WORDS = (
    "rollback",
    "roll_back",
    "undo",
    "revert",
    "restore",
    "cleanup",
    "clean_up",
    "teardown",
    "tear_down",
    "release",
    "remove_lock",
    "unlock",
)
_WRITE_MODE_CHARS = frozenset("wax+")


def _open_mode(call: ast.Call) -> str | None:
    mode: ast.expr | None = call.args[1] if len(call.args) > 1 else None
    for kw in call.keywords:
        if kw.arg == "mode":
            mode = kw.value
    if mode is None:
        return "r"
    if isinstance(mode, ast.Constant) and isinstance(mode.value, str):
        return mode.value
    return None


def _os_open_writes(call: ast.Call) -> bool:
    """Do the flags of an `os.open` call ask for writing (unknown flags: assume they do)?"""
    flags = call.args[1] if len(call.args) > 1 else None
    for kw in call.keywords:
        if kw.arg == "flags":
            flags = kw.value
    if flags is None:
        return False
    names = {
        n.attr if isinstance(n, ast.Attribute) else n.id
        for n in ast.walk(flags)
        if isinstance(n, (ast.Attribute, ast.Name))
    }
    if not names:
        return True
    return bool(names & _OS_OPEN_WRITE_FLAGS) or not any(n.startswith("O_") for n in names)


class StateChangeMatcher:
    """Matches project-declared state-changing calls (`extend-state-changing` patterns)."""

    __slots__ = ("_patterns",)

    def __init__(self, patterns: Iterable[str] = ()) -> None:
        self._patterns = tuple(patterns)

    def __call__(self, qualname: str | None) -> bool:
        if qualname is None or not self._patterns:
            return False
        return any(fnmatch.fnmatchcase(qualname, p) for p in self._patterns)


def effects_of_call(
    qualname: str | None,
    attr: str | None,
    call: ast.Call,
    extra: StateChangeMatcher | None = None,
) -> Effect:
    """The effects of one call (see the module promise)."""
    name = qualname or ""
    if name in ("open", "io.open", "codecs.open"):
        mode = _open_mode(call)
        disk = mode is None or bool(_WRITE_MODE_CHARS & set(mode))
    elif name == "os.open":
        disk = _os_open_writes(call)
    else:
        disk = name in _DISK_FUNCS or (attr in _DISK_METHODS and "." in name)
    effect = _named_effects(name, attr, disk)
    if extra is not None and extra(qualname):
        effect |= Effect.DISK
    return effect


@functools.lru_cache(maxsize=4096)
def _named_effects(name: str, attr: str | None, disk: bool) -> Effect:
    """The effects a call's names imply, given whether it touches the disk (memoised: a
    program calls the same names over and over)."""
    effect = Effect.DISK if disk else Effect.NONE
    if name.startswith(_PROCESS_PREFIXES) or name in _PROCESS_FUNCS:
        effect |= Effect.PROCESS
    if name.startswith(_NETWORK_PREFIXES):
        effect |= Effect.NETWORK
    if (
        attr in _LOCK_METHODS
        or name in ("fcntl.flock", "fcntl.lockf")
        or (attr is not None and "lock" in attr.lower() and not attr[:1].isupper())
    ):
        effect |= Effect.LOCK
    if disk and "lock" in name.lower():
        effect |= Effect.LOCK  # a lock file: `lock_path.unlink()`, `os.remove(LOCK_FILE)`
    lowered = (attr or name).lower()
    if any(word in lowered for word in _CLEANUP_WORDS):
        effect |= Effect.CLEANUP
    return effect
