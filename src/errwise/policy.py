"""The process error policy: what a guard does with an error, and how errors are reported.

Promise:
- `current()` is cheap and thread-safe (one reference read once the policy is known);
  `set_current()` replaces the whole policy atomically, so a reader never sees a half-updated one.
- Until `set_current()` installs one, the process policy comes from the `ERRWISE_*` environment
  variables, read once, lazily, at the first `current()` (so `ERRWISE_ON_ERROR=disable` reaches
  every guard with no call at all). There an invalid value is not an error: it is one
  `RuntimeWarning` per variable and process, naming the variable and the allowed values, and the
  default is used.
- `load()` builds a policy from its sources, highest first: explicit keyword arguments (the API),
  command-line flags (added by `add_arguments`), `ERRWISE_*` environment variables, defaults
  (abort, no partials, warning, stderr, off).
- An invalid value from any source given to `load()` or `Policy()` is a `UsageError`
  ERR_INVALID_POLICY_VALUE whose message names the source (the flag, the variable or the
  argument) and the allowed values. Validation happens when a policy is built or loaded (or the
  environment first read), never at `import errwise`.
"""

from __future__ import annotations

import argparse
import os
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Final, Literal, cast

from errwise.error import UsageError, usage

__all__ = [
    "ENV_VARS",
    "FLAGS",
    "LOG_LEVELS",
    "ON_ERROR_VALUES",
    "LogLevel",
    "OnError",
    "Policy",
    "add_arguments",
    "current",
    "load",
    "set_current",
]

OnError = Literal["abort", "disable"]
LogLevel = Literal["debug", "info", "warning", "error", "critical"]

ON_ERROR_VALUES: Final = ("abort", "disable")
LOG_LEVELS: Final = ("debug", "info", "warning", "error", "critical")
_TRUE: Final = ("1", "true", "yes", "on")
_FALSE: Final = ("0", "false", "no", "off")

ENV_VARS: Final = {
    "on_error": "ERRWISE_ON_ERROR",
    "keep_partial": "ERRWISE_KEEP_PARTIAL",
    "log_level": "ERRWISE_LOG_LEVEL",
    "log_file": "ERRWISE_LOG_FILE",
    "json_errors": "ERRWISE_JSON_ERRORS",
}
"""Policy field -> environment variable. An empty variable counts as unset."""

FLAGS: Final = {
    "on_error": "--on-error",
    "keep_partial": "--keep-partial",
    "log_level": "--log-level",
    "log_file": "--log-file",
    "json_errors": "--json-errors",
}
"""Policy field -> command-line flag added by `add_arguments` (booleans also get `--no-…`)."""

_DEST_PREFIX: Final = "errwise_policy_"


@dataclass(frozen=True, slots=True)
class Policy:
    """What to do on error (`on_error`), whether partial outputs are kept, and where logs go.

    `log_file=None` means stderr. Constructing a policy validates every field (source: the API).
    """

    on_error: OnError = "abort"
    keep_partial: bool = False
    log_level: LogLevel = "warning"
    log_file: str | None = None
    json_errors: bool = False

    def __post_init__(self) -> None:
        for name in _FIELDS:
            value = getattr(self, name)
            checked = _CHECKS[name](value, f"Policy({name}=...)", strict=True)
            if checked is not value:
                object.__setattr__(self, name, checked)

    def replace(self, **changes: Any) -> Policy:
        """A copy with `changes` applied (validated like any policy)."""
        unknown = sorted(set(changes) - set(_FIELDS))
        if unknown:
            raise usage(
                "ERR_INVALID_POLICY_VALUE",
                f"unknown policy field(s): {', '.join(unknown)}; fields are {', '.join(_FIELDS)}",
            )
        return replace(self, **changes)


# -- validation: one function per field; `source` names where the value came from -------------


def _invalid(source: str, value: object, allowed: str) -> UsageError:
    return usage(
        "ERR_INVALID_POLICY_VALUE",
        f"{source}: invalid value {value!r}",
        allowed=allowed,
    )


def _check_on_error(value: object, source: str, *, strict: bool = False) -> OnError:
    if isinstance(value, str):
        text = value if strict else value.strip().lower()
        if text in ON_ERROR_VALUES:
            return cast(OnError, text)
    raise _invalid(source, value, " | ".join(ON_ERROR_VALUES))


def _check_log_level(value: object, source: str, *, strict: bool = False) -> LogLevel:
    if isinstance(value, str):
        text = value.strip().lower()
        if text in LOG_LEVELS and (not strict or text == value):
            return cast(LogLevel, text)
    raise _invalid(source, value, " | ".join(LOG_LEVELS))


def _check_bool(value: object, source: str, *, strict: bool = False) -> bool:
    if type(value) is bool:
        return value
    if not strict and isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    allowed = "True | False" if strict else " | ".join(_TRUE + _FALSE)
    raise _invalid(source, value, allowed)


def _check_log_file(value: object, source: str, *, strict: bool = False) -> str | None:
    if value is None:
        return None
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str):
        if not strict and value == "-":
            return None
        if value and "\0" not in value:
            return value
    allowed = "a file path, or None for stderr" if strict else "a file path, or - for stderr"
    raise _invalid(source, value, allowed)


_CHECKS: Final[dict[str, Any]] = {
    "on_error": _check_on_error,
    "keep_partial": _check_bool,
    "log_level": _check_log_level,
    "log_file": _check_log_file,
    "json_errors": _check_bool,
}
_FIELDS: Final = tuple(f.name for f in fields(Policy))

# -- the process policy -----------------------------------------------------------------------

_current: Policy | None = None
"""The installed policy; None until the environment is read or `set_current()` is called."""
_write_lock = threading.Lock()


def current() -> Policy:
    """The policy in force for this process (one reference read once known; the first call
    reads the environment)."""
    policy = _current
    if policy is None:
        return _from_environment()
    return policy


def set_current(policy: Policy) -> Policy:
    """Replace the process policy atomically; returns the previous one."""
    global _current
    if not isinstance(policy, Policy):
        raise usage("ERR_USAGE", "set_current() takes an errwise.Policy", got=type(policy).__name__)
    previous = current()
    with _write_lock:
        previous, _current = (_current or previous), policy
    return previous


def _from_environment() -> Policy:
    """Install the policy the `ERRWISE_*` variables describe (once), warning about bad values."""
    global _current  # noqa: PLW0603 - installed once, read without a lock
    with _write_lock:
        if _current is None:
            _current = _environment_policy(os.environ)
        return _current


def _environment_policy(environ: Mapping[str, str]) -> Policy:
    values: dict[str, Any] = {}
    for name in _FIELDS:
        variable = ENV_VARS[name]
        raw = environ.get(variable)
        if not raw:
            continue
        try:
            values[name] = _CHECKS[name](raw, f"environment variable {variable}")
        except UsageError as exc:
            allowed = exc.context.get("allowed", "")
            warnings.warn(
                f"errwise: environment variable {variable}={raw!r} is not valid (allowed: "
                f"{allowed}); using the default {getattr(Policy(), name)!r}",
                RuntimeWarning,
                stacklevel=4,
            )
    return Policy(**values)


def _installed() -> Policy | None:
    """The installed policy without reading the environment (for `run_main`'s save/restore)."""
    return _current


def _reinstall(policy: Policy | None) -> None:
    """Put back what `_installed()` returned (None: the environment is read again when needed)."""
    global _current  # noqa: PLW0603 - the save/restore of run_main
    with _write_lock:
        _current = policy


# -- loading ----------------------------------------------------------------------------------


def load(
    args: argparse.Namespace | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    **explicit: Any,
) -> Policy:
    """Build a policy from `explicit` values, then flags in `args`, then `environ`, then defaults.

    `args` is a namespace parsed by a parser that `add_arguments` extended (flags not given are
    absent from it); `environ` defaults to `os.environ`. Does not install the policy: pass the
    result to `set_current`.
    """
    if args is not None and not isinstance(args, argparse.Namespace):
        raise usage(
            "ERR_USAGE", "load() args must be an argparse.Namespace", got=type(args).__name__
        )
    if environ is None:
        environ = os.environ
    elif not isinstance(environ, Mapping):
        raise usage("ERR_USAGE", "load() environ must be a mapping", got=type(environ).__name__)
    unknown = sorted(set(explicit) - set(_FIELDS))
    if unknown:
        raise usage(
            "ERR_INVALID_POLICY_VALUE",
            f"unknown policy field(s): {', '.join(unknown)}; fields are {', '.join(_FIELDS)}",
        )
    values: dict[str, Any] = {}
    for name in _FIELDS:
        check = _CHECKS[name]
        if name in explicit:
            values[name] = check(explicit[name], f"policy argument {name}", strict=True)
            continue
        flag_value = getattr(args, _DEST_PREFIX + name, None) if args is not None else None
        if flag_value is not None:
            values[name] = check(flag_value, f"command-line flag {FLAGS[name]}")
            continue
        env_value = environ.get(ENV_VARS[name])
        if env_value:
            values[name] = check(env_value, f"environment variable {ENV_VARS[name]}")
    return Policy(**values)


def add_arguments(parser: argparse.ArgumentParser | Any) -> None:
    """Add the policy flags to an argparse parser (or argument group).

    Flags not given on the command line leave no attribute in the namespace, so the same flags can
    be added to a parser and to its sub-parsers without one overwriting the other. Values are
    checked by `load()`, which names the flag in its UsageError.
    """
    if not hasattr(parser, "add_argument"):
        raise usage(
            "ERR_USAGE",
            "add_arguments() takes an argparse parser or argument group",
            got=type(parser).__name__,
        )
    suppress = argparse.SUPPRESS
    parser.add_argument(
        FLAGS["on_error"],
        dest=_DEST_PREFIX + "on_error",
        metavar="{" + ",".join(ON_ERROR_VALUES) + "}",
        default=suppress,
        help="what a guard does with an error: re-raise it (abort) or detach and fall back "
        f"(disable); env {ENV_VARS['on_error']}",
    )
    parser.add_argument(
        FLAGS["keep_partial"],
        dest=_DEST_PREFIX + "keep_partial",
        action=argparse.BooleanOptionalAction,
        default=suppress,
        help=f"keep partial outputs of a failed run; env {ENV_VARS['keep_partial']}",
    )
    parser.add_argument(
        FLAGS["log_level"],
        dest=_DEST_PREFIX + "log_level",
        metavar="{" + ",".join(LOG_LEVELS) + "}",
        default=suppress,
        help=f"lowest level logged; env {ENV_VARS['log_level']}",
    )
    parser.add_argument(
        FLAGS["log_file"],
        dest=_DEST_PREFIX + "log_file",
        metavar="PATH",
        default=suppress,
        help=f"write logs (JSON lines) to PATH instead of stderr; env {ENV_VARS['log_file']}",
    )
    parser.add_argument(
        FLAGS["json_errors"],
        dest=_DEST_PREFIX + "json_errors",
        action=argparse.BooleanOptionalAction,
        default=suppress,
        help="end with one JSON line on stderr describing the outcome; "
        f"env {ENV_VARS['json_errors']}",
    )
