"""The user's errwise cache home: where the audit cache lives by default, and the secret key
that authenticates its entries.

Promise: `user_cache_root()` is `$ERRWISE_CACHE_DIR` when set, else `$XDG_CACHE_HOME/errwise`
(an absolute `XDG_CACHE_HOME`), else the platform's user cache directory: `~/.cache/errwise`
on Linux and other POSIX systems, `~/Library/Caches/errwise` on macOS,
`%LOCALAPPDATA%\\errwise\\Cache` on Windows. It is never inside an audited repository unless the
user puts it there. `project_directory(project)` is the cache of one project there:
`ROOT/projects/<digest of the project's absolute path>`.

`load_key(root)` returns the 32 random bytes of `ROOT/key`, creating them on first use. The key
file is created `0600` and exclusively (`O_CREAT | O_EXCL | O_NOFOLLOW` under a temporary
name, then hard-linked into place, which fails if a key is already there), so two runs racing
on a new directory agree on one key and nobody ever sees a half-written key. It is read with
`errwise.ops.safeio.read_regular` (no symlink, a regular file of exactly 32 bytes, owned by the
effective user and private). Any problem is an `errwise.Error` (EnvError) that says which file
and why; the caller turns its cache off. Keys are remembered per process and root.
"""

from __future__ import annotations

import errno
import os
import sys
import threading
from pathlib import Path

from errwise.error import Error, env
from errwise.ops.safeio import read_regular

__all__ = ["ENV_VAR", "KEY_BYTES", "KEY_NAME", "load_key", "project_directory", "user_cache_root"]

ENV_VAR = "ERRWISE_CACHE_DIR"
KEY_NAME = "key"
KEY_BYTES = 32

_keys: dict[str, bytes] = {}
_lock = threading.Lock()
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
_CREATE |= getattr(os, "O_CLOEXEC", 0)


def user_cache_root() -> Path:
    """The directory errwise keeps its caches and key in (see the module promise); an EnvError
    when it cannot be told (no home directory)."""
    chosen = os.environ.get(ENV_VAR)
    if chosen:
        return Path(os.path.abspath(chosen))
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg) and sys.platform != "darwin":
        return Path(xdg) / "errwise"
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        if local and os.path.isabs(local):
            return Path(local) / "errwise" / "Cache"
    home = os.path.expanduser("~")
    if not os.path.isabs(home):
        err = env(
            "ERR_NOT_FOUND", "cannot tell where the user cache directory is (no home directory)"
        )
        raise err.add_hint(f"set {ENV_VAR} to a directory of your own, or pass --cache-dir")
    if sys.platform == "darwin":
        return Path(home) / "Library" / "Caches" / "errwise"
    return Path(home) / ".cache" / "errwise"


def project_directory(project: str | os.PathLike[str], root: Path | None = None) -> Path:
    """The cache directory of the project whose configuration lives in `project`."""
    from errwise.audit.cache import digest  # the cache's digest: one definition

    where = root if root is not None else user_cache_root()
    return where / "projects" / digest("errwise project", os.path.abspath(project))


def load_key(root: Path | None = None) -> bytes:
    """The secret key of the cache home `root` (default: `user_cache_root()`), made on first
    use (see the module promise)."""
    where = root if root is not None else user_cache_root()
    name = str(where)
    with _lock:
        known = _keys.get(name)
        if known is None:
            known = _keys[name] = _read_or_create(where / KEY_NAME)
    return known


def _read_or_create(path: Path) -> bytes:
    try:
        return _read(path)
    except Error as err:
        if err.context.get("reason") != "missing":
            raise
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise _key_error(path, f"cannot create {path.parent}: {exc.strerror or exc}") from exc
    temp = path.parent / f".{KEY_NAME}.{os.getpid()}.{os.urandom(8).hex()}"
    try:
        fd = os.open(temp, _CREATE, 0o600)
    except OSError as exc:
        raise _key_error(path, f"cannot create {temp}: {exc.strerror or exc}") from exc
    try:
        try:
            if os.write(fd, os.urandom(KEY_BYTES)) != KEY_BYTES:
                raise OSError(errno.EIO, "short write", str(temp))
            os.fsync(fd)  # a key linked into place after a power cut is whole
        finally:
            os.close(fd)
        os.link(temp, path)
    except FileExistsError:
        pass  # another run made the key first: use theirs
    except OSError as exc:
        raise _key_error(path, f"cannot create it: {exc.strerror or exc}") from exc
    finally:
        _remove(temp)
    return _read(path)


def _read(path: Path) -> bytes:
    try:
        key = read_regular(path, limit=KEY_BYTES, private=True)
    except Error as err:
        if err.context.get("reason") == "missing":
            raise
        raise _key_error(path, err.message) from err
    if len(key) != KEY_BYTES:
        raise _key_error(path, f"{path} holds {len(key)} bytes, not {KEY_BYTES}")
    return key


def _remove(temp: Path) -> None:
    try:
        os.unlink(temp)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _key_error(temp, f"cannot remove {temp}: {exc.strerror or exc}") from exc


def _key_error(path: Path, why: str) -> Error:
    err = env("ERR_IO", f"the cache key {path} cannot be used: {why}", path=str(path))
    return err.add_hint(f"delete {path} to make a new key (the cache is then rebuilt)")
