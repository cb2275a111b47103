"""Staged outputs: a directory of results appears complete, or it is kept explicitly partial.

Promise of `with staged_output(dest_dir) as staging:`:
- `staging` is a fresh, empty directory next to `dest_dir` (same parent, so same file system),
  named `.<name>.errwise-staging-<pid>-<start>-<random>` (its writer, see
  `errwise.ops.leftovers`); the body writes its outputs there. Before creating it, the parent is
  swept: staging directories and temp files of dead writers older than a safe age are removed
  (and a tree moved aside by a dead writer once its replacement is in place).
- On a clean exit the staged tree is fsynced and published with `rename`. When `dest_dir`
  already exists it is replaced as one step: rename it aside
  (`.<name>.errwise-old-<pid>-<start>-<random>`),
  rename the staging directory in, then delete the old tree. If the second rename fails the
  old directory is renamed back (rollback) and the error raised; if even the rollback fails,
  ERR_ROLLBACK_FAILED says where the old and the new trees are and how to put them back.
  Readers see the old tree or the new one — or, between the two renames (microseconds), no
  `dest_dir` at all; they never see a mix. A symlink at `dest_dir` is replaced, not followed.
- On failure (any exception from the body, `KeyboardInterrupt` included, or from publishing)
  the staging directory is removed — or, with `keep_partial` (default: the policy's
  `keep_partial`), kept at `<dest_dir>.partial` with a `PARTIAL.json` marker: the error's JSON
  form (design.md), the destination and a UTC timestamp. The exception is re-raised unchanged;
  where the partial output went (or what could not be cleaned up) is added to it as a note and,
  for an `errwise.Error`, to its context. The original error is never replaced.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from errwise import policy
from errwise.classify import classify
from errwise.error import Error, env, usage
from errwise.ops import leftovers
from errwise.ops.atomic import atomic_write, fsync_directory

__all__ = ["staged_output", "PARTIAL_MARKER", "PARTIAL_SUFFIX"]

PARTIAL_MARKER = "PARTIAL.json"
"""The marker file written into a kept partial output."""
PARTIAL_SUFFIX = ".partial"
"""A kept partial output of `dest_dir` lives at `dest_dir + PARTIAL_SUFFIX`."""

_log = logging.getLogger("errwise.ops")


@contextmanager
def staged_output(
    dest_dir: str | os.PathLike[str],
    *,
    keep_partial: bool | None = None,
    fsync: bool = True,
) -> Iterator[Path]:
    """Give a staging directory; publish it atomically at `dest_dir` on success.

    See the module promise. `fsync=False` skips the fsyncs (still atomic for readers, not
    durable across a power loss).
    """
    dest = _check_dest(dest_dir)
    if keep_partial is None:
        keep_partial = policy.current().keep_partial
    elif not isinstance(keep_partial, bool):
        raise usage("ERR_USAGE", "keep_partial must be a bool or None", got=type(keep_partial))
    if not isinstance(fsync, bool):
        raise usage("ERR_USAGE", "fsync must be a bool", got=type(fsync).__name__)
    _check_replaceable(dest)
    staging = _make_staging(dest)
    try:
        yield staging
        _publish(staging, dest, fsync=fsync)
    except BaseException as exc:
        if _exists(staging):
            _dispose(staging, dest, exc, keep_partial=keep_partial)
        raise


# -- steps -------------------------------------------------------------------------------------


def _check_dest(dest_dir: object) -> Path:
    if isinstance(dest_dir, os.PathLike):
        dest_dir = os.fspath(dest_dir)
    if not isinstance(dest_dir, str):
        raise usage(
            "ERR_USAGE", "dest_dir must be a str or os.PathLike[str]", got=type(dest_dir).__name__
        )
    if not dest_dir or "\0" in dest_dir:
        raise usage("ERR_USAGE", "dest_dir must be a non-empty path without NUL")
    path = Path(os.path.abspath(dest_dir))
    if path.name in ("", ".", "..") or path == path.parent:
        raise usage("ERR_USAGE", "dest_dir must name a directory entry, not a root", path=dest_dir)
    return path


def _check_replaceable(dest: Path) -> None:
    """Fail before any work when `dest` exists as something other than a directory."""
    try:
        st = os.lstat(dest)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _os_error(exc, dest, "stat destination") from exc
    if not (stat.S_ISDIR(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        raise env(
            "ERR_NOT_A_DIRECTORY",
            f"cannot publish a directory at {dest}: a file is in the way",
            path=str(dest),
        )


def _make_staging(dest: Path) -> Path:
    leftovers.sweep(str(dest.parent))
    owner = leftovers.owner_tag()
    for _ in range(16):
        staging = (
            dest.parent / f".{_short(dest.name)}.errwise-staging-{owner}-{os.urandom(8).hex()}"
        )
        try:
            os.mkdir(staging, 0o777)
        except FileExistsError:
            continue
        except OSError as exc:
            raise _os_error(exc, dest, "create staging directory") from exc
        return staging
    raise env("ERR_ALREADY_EXISTS", "no free staging directory name", path=str(dest))


def _publish(staging: Path, dest: Path, *, fsync: bool) -> None:
    if fsync:
        _fsync_tree(staging, dest)
    owner = leftovers.owner_tag()
    aside = dest.parent / f".{_short(dest.name)}.errwise-old-{owner}-{os.urandom(8).hex()}"
    try:
        os.rename(dest, aside)
    except FileNotFoundError:
        aside_used = False
    except OSError as exc:
        raise _os_error(exc, dest, "move the old directory aside") from exc
    else:
        aside_used = True
    try:
        os.rename(staging, dest)
    except OSError as exc:
        err = _os_error(exc, dest, "rename the staged directory into place")
        if aside_used:
            _roll_back(aside, dest, err)
        raise err from exc
    if fsync:
        fsync_directory(str(dest.parent), target=str(dest))
    if aside_used:
        _remove_tree(aside, what="the replaced directory")


def _roll_back(aside: Path, dest: Path, err: Error) -> None:
    """Put the old directory back after the rename-in failed; escalate if that fails too."""
    try:
        os.rename(aside, dest)
    except OSError as rollback_exc:
        failure = env(
            "ERR_ROLLBACK_FAILED",
            f"publishing {dest} failed and the old directory could not be put back",
            path=str(dest),
            old_directory=str(aside),
            publish_error=err.to_dict(),
            rollback_error=str(rollback_exc),
        )
        failure.add_hint(f"the previous {dest.name} is intact at {aside}: mv '{aside}' '{dest}'")
        raise failure from err
    err.with_context(rolled_back=True)


def _dispose(staging: Path, dest: Path, exc: BaseException, *, keep_partial: bool) -> None:
    """Remove the staging directory, or keep it as `<dest>.partial`; record the outcome on exc."""
    if not keep_partial:
        try:
            shutil.rmtree(staging)
        except OSError as rm_exc:
            _note(exc, f"the staging directory {staging} could not be removed: {rm_exc}")
            _context(exc, leftover_staging=str(staging))
        return
    partial = dest.with_name(dest.name + PARTIAL_SUFFIX)
    try:
        _write_marker(staging, dest, exc)
        _clear_old_partial(partial)
        os.rename(staging, partial)
    except (OSError, Error) as keep_exc:
        _note(exc, f"the partial output could not be kept at {partial}: {keep_exc}")
        _note(exc, f"the partial output is at {staging}")
        _context(exc, partial=str(staging))
        return
    _note(exc, f"partial output kept at {partial} (see {PARTIAL_MARKER})")
    _context(exc, partial=str(partial))


def _write_marker(staging: Path, dest: Path, exc: BaseException) -> None:
    error = exc if isinstance(exc, Error) else classify(exc)
    marker = {
        "dest": str(dest),
        "timestamp": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "error": error.to_dict(),
    }
    atomic_write(staging / PARTIAL_MARKER, json.dumps(marker, ensure_ascii=False, indent=2) + "\n")


def _clear_old_partial(partial: Path) -> None:
    """Remove a previous failure's partial output — only one carrying our marker."""
    try:
        st = os.lstat(partial)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode) and (partial / PARTIAL_MARKER).is_file():
        shutil.rmtree(partial)
        return
    raise env(
        "ERR_ALREADY_EXISTS",
        f"{partial} exists and is not an errwise partial output; not replacing it",
        path=str(partial),
    )


def _fsync_tree(root: Path, dest: Path) -> None:
    """fsync every file and directory under `root` (deepest first), so the publish is durable."""
    try:
        for dirpath, _dirnames, filenames in os.walk(root, topdown=False, onerror=_raise):
            for name in filenames:
                path = os.path.join(dirpath, name)
                if os.path.islink(path):
                    continue
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            fsync_directory(dirpath, target=str(dest))
    except OSError as exc:
        raise _os_error(exc, dest, "fsync staged output") from exc


def _raise(exc: OSError) -> None:
    raise exc


def _remove_tree(path: Path, *, what: str) -> None:
    try:
        shutil.rmtree(path)
    except OSError as exc:
        # The publish succeeded; the leftover is garbage, not a failure of the caller's work.
        # Say so loudly rather than raise an error that would make the caller retry.
        _log.warning("errwise: %s could not be removed: %s: %s", what, path, exc)


def _exists(path: Path) -> bool:
    try:
        os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError:
        return True  # cannot tell: let the disposal try and report what it finds
    return True


def _short(name: str) -> str:
    """At most 120 bytes of `name`, so that the sibling names we make fit NAME_MAX (255)."""
    return os.fsdecode(os.fsencode(name)[:120])


def _os_error(exc: OSError, dest: Path, operation: str) -> Error:
    err = classify(exc)
    err.message = f"cannot publish {dest} ({operation}): {err.message}"
    return err.with_context(path=str(dest), operation=operation)


def _note(exc: BaseException, text: str) -> None:
    exc.add_note("errwise: " + text)


def _context(exc: BaseException, **context: object) -> None:
    if isinstance(exc, Error):
        exc.with_context(**context)
