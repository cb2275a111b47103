"""Read the auditor's settings from `[tool.errwise]` in the nearest `pyproject.toml`.

Promise: `find_pyproject(start)` returns the nearest `pyproject.toml` (anything of that name but a
directory) walking up from `start`; `load_pyproject(path)` turns its `[tool.errwise]` table into a
validated `AuditConfig` (a file without the table gives the defaults). Every problem is a
`UsageError` ERR_USAGE (exit 2) whose message names the file and the reason, and the key and the
allowed values where there is one: an unknown key, a wrong type, an unknown rule, a bad severity,
invalid TOML, a file that cannot be read, is not valid UTF-8, nests too deeply, is larger than
`MAX_PYPROJECT_BYTES` or is not a regular file (a FIFO, a device, a link to `/dev/zero`: refused
without blocking or reading it). Rule references (ids or names, any case) are stored as canonical
ids. The same file's `[tool.ruff]` is read for one fact only: the rule codes the project
explicitly ignores (`ignore` / `extend-ignore`, at the top or under `lint`), kept as
`AuditConfig.lint_ignores`. That table is ruff's, not errwise's: nothing is run, and a
malformed one (not a table, not a list of strings) is not an error of this run — the ruff part
is left out, so no finding is suppressed because of it.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

from errwise.audit.config import AuditConfig
from errwise.audit.finding import Severity
from errwise.audit.rule import PROFILES, Profile, Rule
from errwise.audit.rules import all_rules
from errwise.error import Error, UsageError, usage
from errwise.ops.safeio import read_regular

__all__ = [
    "KEYS",
    "MAX_PYPROJECT_BYTES",
    "find_pyproject",
    "load_pyproject",
    "config_from_table",
    "resolve_rules",
    "rule_by_key",
    "parse_profile",
    "ruff_ignores",
]

KEYS = (
    "profile",
    "select",
    "ignore",
    "exclude",
    "per-file-ignores",
    "fail-on",
    "boundaries",
    "extend-state-changing",
    "raises",
    "exception-classes",
    "file-timeout",
    "file-memory",
    "sweep",
)
"""The keys `[tool.errwise]` accepts (`sweep` is `errwise sweep`'s table: the auditor skips it)."""

_SEVERITIES = ", ".join(s.value for s in Severity)

MAX_PYPROJECT_BYTES = 4 * 1024 * 1024
"""A larger `pyproject.toml` is refused (a usage error) rather than read."""


def find_pyproject(start: str) -> str | None:
    """The nearest `pyproject.toml` in `start` (a file's directory) or one of its parents."""
    directory = os.path.abspath(start)
    if not os.path.isdir(directory):
        directory = os.path.dirname(directory)
    while True:
        candidate = os.path.join(directory, "pyproject.toml")
        # Not `isfile`: a FIFO, a device link or a dangling link there is a broken configuration
        # to report, not a reason to silently use the defaults (or a parent's file).
        if os.path.lexists(candidate) and not os.path.isdir(candidate):
            return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def load_pyproject(path: str) -> AuditConfig:
    """The `AuditConfig` of `[tool.errwise]` in `path` (see the module promise)."""
    text = _read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _unusable(path, f"is not valid TOML: {exc}") from exc
    except RecursionError as exc:
        raise _unusable(path, "nests arrays or tables too deeply to be read") from exc
    except ValueError as exc:  # e.g. an integer beyond the interpreter's digit limit
        raise _unusable(path, f"holds a value that cannot be read: {exc}") from exc
    tool = data.get("tool", {})
    table = tool.get("errwise") if isinstance(tool, dict) else None
    lint_ignores = ruff_ignores(tool.get("ruff") if isinstance(tool, dict) else None)
    if table is None:
        return AuditConfig(source=path, lint_ignores=lint_ignores)
    if not isinstance(table, dict):
        raise _bad(path, "tool.errwise", "must be a table", "[tool.errwise] with the keys below")
    return replace(config_from_table(table, path), lint_ignores=lint_ignores)


def ruff_ignores(ruff: object) -> frozenset[str]:
    """The rule codes a `[tool.ruff]` table explicitly ignores (`ignore`, `extend-ignore`, at
    its top or under `lint`), upper-case. An ignored prefix that a longer selector re-selects
    (`select = ["B904"]`, `ignore = ["B"]`: ruff's more specific selector wins) is left out, so a
    code counts as ignored only when it surely is. Anything malformed in the table (a table that
    is not one, a value that is not a list of strings) makes the whole ruff part unusable:
    empty, so nothing counts as decided."""
    if not isinstance(ruff, dict):
        return frozenset()
    tables: list[object] = [ruff]
    if "lint" in ruff:
        tables.append(ruff["lint"])
    found: dict[str, set[str]] = {"ignore": set(), "select": set()}
    for table in tables:
        if not isinstance(table, dict):
            return frozenset()
        for key, kind in _RUFF_KEYS:
            value = table.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return frozenset()
            found[kind].update(v.strip().upper() for v in value if v.strip())
    selected = found["select"]
    return frozenset(
        code
        for code in found["ignore"]
        if not any(len(s) > len(code) and s.startswith(code) for s in selected)
    )


_RUFF_KEYS = (
    ("ignore", "ignore"),
    ("extend-ignore", "ignore"),
    ("select", "select"),
    ("extend-select", "select"),
)


def config_from_table(table: Mapping[str, object], source: str) -> AuditConfig:
    """Validate a `[tool.errwise]` table (already parsed) into an `AuditConfig`."""
    for key in table:
        if key not in KEYS:
            near = difflib.get_close_matches(key.replace("_", "-"), KEYS, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise _bad(source, key, f"is not a setting{hint}", ", ".join(KEYS))
    config = AuditConfig(source=source)
    if "profile" in table:
        config = replace(config, profile=parse_profile(table["profile"], source))
    if "select" in table:
        selected = resolve_rules(_strings(table, "select", source), where=_at(source, "select"))
        if not selected:
            raise _bad(source, "select", "names no rule", "rule ids or names from `errwise rules`")
        config = replace(config, select=selected)
    if "ignore" in table:
        config = replace(
            config,
            ignore=resolve_rules(_strings(table, "ignore", source), where=_at(source, "ignore")),
        )
    if "exclude" in table:
        config = replace(config, exclude=tuple(_strings(table, "exclude", source)))
    if "per-file-ignores" in table:
        config = replace(
            config, per_file_ignores=_per_file_ignores(table["per-file-ignores"], source)
        )
    if "fail-on" in table:
        value = table["fail-on"]
        if not isinstance(value, str):
            raise _bad(source, "fail-on", "must be a string", _SEVERITIES)
        try:
            config = replace(config, fail_on=Severity.parse(value))
        except UsageError:
            raise _bad(
                source, "fail-on", f"has the unknown severity {value!r}", _SEVERITIES
            ) from None
    if "boundaries" in table:
        config = replace(config, boundaries=tuple(_strings(table, "boundaries", source)))
    if "extend-state-changing" in table:
        config = replace(
            config,
            extend_state_changing=tuple(_strings(table, "extend-state-changing", source)),
        )
    if "file-timeout" in table:
        seconds = _limit(table["file-timeout"], "file-timeout", source, "seconds")
        config = replace(config, file_timeout=float(seconds))
    if "file-memory" in table:
        mebibytes = _limit(table["file-memory"], "file-memory", source, "MiB")
        if mebibytes != int(mebibytes):
            raise _bad(source, "file-memory", "must be a whole number", "MiB; 0: no limit")
        config = replace(config, file_memory=int(mebibytes))
    knowledge = {k: table[k] for k in ("raises", "exception-classes") if k in table}
    if knowledge:
        from errwise.audit.infer import kb_from_config

        kb_from_config(knowledge, f"[tool.errwise] in {source}")  # validate now, not per file
        try:
            text = json.dumps(knowledge, sort_keys=True, default=_not_plain(source))
        except (TypeError, ValueError, RecursionError) as exc:
            raise _bad(
                source, "raises", f"cannot be stored: {exc}", "strings, lists and tables"
            ) from exc
        config = replace(config, knowledge=text)
    return config


def parse_profile(value: object, source: str | None = None) -> Profile:
    """`default` or `strict`; anything else is a usage error naming the allowed values (and the
    configuration file, when it came from one)."""
    for profile in PROFILES:
        if value == profile:
            return profile
    if source is not None:
        raise _bad(source, "profile", f"is {value!r}", " or ".join(PROFILES))
    raise usage("ERR_USAGE", f"unknown profile {value!r}; allowed: {', '.join(PROFILES)}")


def _not_plain(source: str) -> Callable[[object], object]:
    def reject(value: object) -> object:
        raise _bad(
            source,
            "raises / exception-classes",
            f"holds a {type(value).__name__} value ({value!r})",
            "strings, lists and tables",
        )

    return reject


def _read_text(path: str) -> str:
    """The text of the configuration file: a regular file (a link to one is followed: monorepos
    share configurations that way), at most `MAX_PYPROJECT_BYTES`, UTF-8; read without blocking
    (`errwise.ops.safeio.read_regular`)."""
    try:
        raw = read_regular(path, limit=MAX_PYPROJECT_BYTES, follow_symlinks=True)
    except Error as err:
        reason = err.context.get("reason")
        if reason == "too large":
            raise _unusable(
                path,
                f"is larger than {MAX_PYPROJECT_BYTES // (1024 * 1024)} MiB: not read as a config",
            ) from err
        detail = str(err.context.get("detail") or err.message)
        if reason in ("missing", "unreadable"):  # an OS error: `detail` says which
            detail = f"cannot be read: {detail}"
        raise _unusable(path, detail) from err
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise _unusable(
            path, f"is not valid UTF-8 text (line {line}, byte offset {exc.start}): {exc.reason}"
        ) from exc


def _unusable(path: str, problem: str) -> UsageError:
    return usage("ERR_USAGE", f"{path} {problem}", file=path)


def rule_by_key() -> dict[str, Rule]:
    """Every rule under its id and its name, lower-cased."""
    index: dict[str, Rule] = {}
    for rule in all_rules():
        index[rule.id.lower()] = rule
        index[rule.name.lower()] = rule
    return index


def resolve_rules(values: Iterable[str], *, where: str) -> frozenset[str]:
    """Canonical rule ids for rule references; an unknown one is a usage error naming `where`."""
    index = rule_by_key()
    ids: set[str] = set()
    for raw in values:
        key = raw.strip().lower()
        if not key:
            continue
        rule = index.get(key)
        if rule is None:
            near = difflib.get_close_matches(key, list(index), n=1)
            hint = ""
            if near:
                match = index[near[0]]
                hint = (
                    f" (did you mean {match.id if near[0] == match.id.lower() else match.name!r}?)"
                )
            known = ", ".join(f"{r.id} {r.name}" for r in all_rules())
            raise usage(
                "ERR_USAGE",
                f"{where}: unknown rule {raw.strip()!r}{hint}; allowed: a rule id or name "
                f"from `errwise rules`: {known}",
            )
        ids.add(rule.id)
    return frozenset(ids)


def _at(source: str, key: str) -> str:
    return f"{source}: [tool.errwise] {key}"


def _bad(source: str, key: str, problem: str, allowed: str) -> UsageError:
    return usage(
        "ERR_USAGE",
        f"{source}: [tool.errwise] {key} {problem}; allowed: {allowed}",
        key=key,
        file=source,
    )


def _limit(value: object, key: str, source: str, unit: str) -> float:
    """A budget: a number >= 0 (0: no limit)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise _bad(source, key, "must be a number >= 0", f"{unit}; 0: no limit")
    return value


def _strings(table: Mapping[str, object], key: str, source: str) -> list[str]:
    return _string_list(table[key], key, source)


def _string_list(value: object, key: str, source: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(source, key, "must be a list of strings", 'e.g. ["a", "b"]')
    return list(value)


def _per_file_ignores(value: object, source: str) -> tuple[tuple[str, frozenset[str]], ...]:
    key = "per-file-ignores"
    if not isinstance(value, dict):
        raise _bad(source, key, "must be a table of glob = [rules]", '{"tests/*" = ["EW105"]}')
    pairs: list[tuple[str, frozenset[str]]] = []
    for pattern, rules in value.items():
        names = _string_list(rules, f"{key} {pattern!r}", source)
        ids = resolve_rules(names, where=f"{_at(source, key)} {pattern!r}")
        pairs.append((pattern, ids))
    return tuple(pairs)
