"""Read the auditor's settings from `[tool.errwise]` in the nearest `pyproject.toml`.

Promise: `find_pyproject(start)` returns the nearest `pyproject.toml` walking up from `start`;
`load_pyproject(path)` turns its `[tool.errwise]` table into a validated `AuditConfig` (a file
without the table gives the defaults). Every problem is a `UsageError` (exit 2) whose message
names the key, the file and the allowed values — an unknown key, a wrong type, an unknown rule,
a bad severity, invalid TOML — except an unreadable file, which is an environment error (exit 10).
Rule references (ids or names, any case) are stored as canonical ids.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import replace

from errwise.audit.config import AuditConfig
from errwise.audit.finding import Severity
from errwise.audit.rule import Rule
from errwise.audit.rules import all_rules
from errwise.classify import classify
from errwise.error import UsageError, usage

__all__ = [
    "KEYS",
    "find_pyproject",
    "load_pyproject",
    "config_from_table",
    "resolve_rules",
    "rule_by_key",
]

KEYS = (
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
)
"""The keys `[tool.errwise]` accepts."""

_SEVERITIES = ", ".join(s.value for s in Severity)


def find_pyproject(start: str) -> str | None:
    """The nearest `pyproject.toml` in `start` (a file's directory) or one of its parents."""
    directory = os.path.abspath(start)
    if not os.path.isdir(directory):
        directory = os.path.dirname(directory)
    while True:
        candidate = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def load_pyproject(path: str) -> AuditConfig:
    """The `AuditConfig` of `[tool.errwise]` in `path` (see the module promise)."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise usage("ERR_USAGE", f"{path} is not valid TOML: {exc}", file=path) from exc
    except OSError as exc:
        raise classify(exc).with_context(config=path) from exc
    tool = data.get("tool", {})
    table = tool.get("errwise") if isinstance(tool, dict) else None
    if table is None:
        return AuditConfig(source=path)
    if not isinstance(table, dict):
        raise _bad(path, "tool.errwise", "must be a table", "[tool.errwise] with the keys below")
    return config_from_table(table, path)


def config_from_table(table: Mapping[str, object], source: str) -> AuditConfig:
    """Validate a `[tool.errwise]` table (already parsed) into an `AuditConfig`."""
    for key in table:
        if key not in KEYS:
            near = difflib.get_close_matches(key.replace("_", "-"), KEYS, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise _bad(source, key, f"is not a setting{hint}", ", ".join(KEYS))
    config = AuditConfig(source=source)
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
        config = replace(config, knowledge=json.dumps(knowledge, sort_keys=True))
    return config


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
