"""The knowledge base: which exceptions documented calls raise, as data shipped with errwise.

Promise: `default_kb()` loads `raises.toml` (next to this module) once, validated; every class it
names is either a builtin exception of the running interpreter or declared in its `[classes]`
table, every errno name exists in the `errno` module, and every entry cites its documentation.
`KnowledgeBase.extended(...)` returns a new knowledge base with a project's own entries from
`[tool.errwise]` merged in (project entries win); bad entries are a `UsageError` naming the key.

File format (`raises.toml`; the same shapes are accepted from `[tool.errwise]`):

- `[aliases]`: `"other.Name" = "canonical.Name"` — spellings of one class (`IOError` ->
  `OSError`, `requests.exceptions.HTTPError` -> `requests.HTTPError`, `pathlib.PosixPath` ->
  `pathlib.Path`).
- `[classes]`: `"qualified.Class" = ["Base", ...]` — the hierarchy of exception classes (and of
  result types whose methods are listed) that are not builtins.
- `[attributes]`: `"Type.attr" = "Type"` — the type of an attribute's value (`Path.parent`).
- `[[calls]]`: one group of calls that behave alike:
  - `names`: qualified names; methods are `"Type.method"` (`"pathlib.Path.unlink"`);
  - `raises`: exception classes raised in the documented failure modes (TypeError for wrong
    argument types is implied everywhere and not listed);
  - `errno`: for OSError-raising calls, the errno names that matter (`"EXDEV"`);
  - `doc`: the documentation cited (`"os.html#os.link — ..."`, relative to
    https://docs.python.org/3/library/, or a full URL);
  - `returns`: the type of the result (so `p = Path(x); p.unlink()` resolves), `enter`: the
    type bound by `with call() as x` when it differs from `returns`;
  - `when_kw`: `{kw = [classes]}` raised only when the keyword is passed with a value other
    than a literal False/None (`check = ["subprocess.CalledProcessError"]`);
  - `unless_kw`: `{kw = [classes]}` not raised when the keyword is passed a true value
    (`missing_ok`); `["*"]` drops everything;
  - `default_at` / `default_kw` / `default_drops`: a default given at this positional index or
    by this keyword drops these classes (`next(it, None)`, `getattr(o, n, None)`);
  - `const_arg`: the raises apply only when this positional argument is not a literal
    (`re.compile("x+")` cannot raise `re.error` for a valid constant pattern);
  - `incomplete`: the call may raise more than is listed (it runs other code: `exec`,
    `importlib.import_module`);
  - `positional`: parameter names of the leading positional arguments, so `when_kw` /
    `unless_kw` also see them passed by position (`p.wait(5)` is `timeout=5`);
  - `from_arg`: `raises` apply only when at least this many + 1 positional arguments are passed
    (`str(b, "utf-8")` decodes, `str(x)` does not);
  - `callbacks`: positions (`"0"`) or keywords (`"key"`) of callables the call invokes
    (`map`, `sorted(key=)`, `re.sub(repl)`): what they raise counts too.

From `pyproject.toml`:

    [tool.errwise.raises]
    "mylib.fetch" = ["mylib.FetchError", "TimeoutError"]
    "mylib.Client.get" = { raises = ["mylib.FetchError"], returns = "mylib.Response" }
    [tool.errwise.exception-classes]
    "mylib.FetchError" = ["OSError"]
"""

from __future__ import annotations

import builtins
import errno as errno_module
import functools
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from errwise.error import bug, usage

__all__ = [
    "CallSpec",
    "KnowledgeBase",
    "default_kb",
    "kb_from_config",
    "BUILTIN_EXCEPTIONS",
    "ERRNO_CLASS",
    "errno_token",
    "token_class",
    "token_errno",
]

BUILTIN_EXCEPTIONS: dict[str, tuple[str, ...]] = {
    name: tuple(b.__name__ for b in obj.__bases__ if b is not object)
    for name, obj in vars(builtins).items()
    if isinstance(obj, type) and issubclass(obj, BaseException)
}
"""The running interpreter's builtin exception classes and their bases (introspected)."""

ERRNO_CLASS: dict[str, str] = {
    "EEXIST": "FileExistsError",
    "ENOENT": "FileNotFoundError",
    "EACCES": "PermissionError",
    "EPERM": "PermissionError",
    "ENOTCAPABLE": "PermissionError",
    "ESRCH": "ProcessLookupError",
    "ECHILD": "ChildProcessError",
    "EISDIR": "IsADirectoryError",
    "ENOTDIR": "NotADirectoryError",
    "EINTR": "InterruptedError",
    "EAGAIN": "BlockingIOError",
    "EWOULDBLOCK": "BlockingIOError",
    "EALREADY": "BlockingIOError",
    "EINPROGRESS": "BlockingIOError",
    "EPIPE": "BrokenPipeError",
    "ESHUTDOWN": "BrokenPipeError",
    "ECONNABORTED": "ConnectionAbortedError",
    "ECONNREFUSED": "ConnectionRefusedError",
    "ECONNRESET": "ConnectionResetError",
    "ETIMEDOUT": "TimeoutError",
}
"""PEP 3151: the OSError subclass Python raises for an errno (others raise plain OSError)."""

_TOKEN = "E:"


def errno_token(name: str) -> str:
    """The raise-set item standing for an OSError with this errno (`"E:EXDEV"`)."""
    return _TOKEN + name


def token_errno(item: str) -> str | None:
    """The errno name of an errno item, None for a class item."""
    return item[len(_TOKEN) :] if item.startswith(_TOKEN) else None


def token_class(item: str) -> str:
    """The exception class of a raise-set item (an errno item's PEP 3151 class)."""
    if item.startswith(_TOKEN):
        return ERRNO_CLASS.get(item[len(_TOKEN) :], "OSError")
    return item


@dataclass(frozen=True, slots=True)
class CallSpec:
    """What one documented call raises (one name of a `[[calls]]` group)."""

    name: str
    raises: tuple[str, ...]
    errnos: tuple[str, ...] = ()
    doc: str = ""
    returns: str | None = None
    enter: str | None = None
    when_kw: tuple[tuple[str, tuple[str, ...]], ...] = ()
    unless_kw: tuple[tuple[str, tuple[str, ...]], ...] = ()
    default_at: int | None = None
    default_kw: str | None = None
    default_drops: tuple[str, ...] = ()
    const_arg: int | None = None
    incomplete: bool = False
    positional: tuple[str, ...] = ()
    from_arg: int | None = None
    callbacks: tuple[str, ...] = ()

    def items(
        self,
        true_keywords: Iterable[str],
        nargs: int,
        const_args: Iterable[int] = (),
    ) -> frozenset[str]:
        """The raise-set items of one call: classes plus errno items, after the conditions."""
        kws = set(true_keywords)
        if self.const_arg is not None and self.const_arg in set(const_args):
            return frozenset()
        names = set(self.raises) | {errno_token(e) for e in self.errnos}
        if self.from_arg is not None and nargs <= self.from_arg:
            names = set()
        for kw, extra in self.when_kw:
            if kw in kws:
                names.update(extra)
        drops: set[str] = set()
        for kw, dropped in self.unless_kw:
            if kw in kws:
                drops.update(dropped)
        has_default = (self.default_at is not None and nargs > self.default_at) or (
            self.default_kw is not None and self.default_kw in kws
        )
        if has_default:
            drops.update(self.default_drops)
        if "*" in drops:
            return frozenset()
        return frozenset(n for n in names if n not in drops and token_class(n) not in drops)


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """Documented raises of calls, exception classes and result types (see the module doc)."""

    calls: Mapping[str, CallSpec]
    classes: Mapping[str, tuple[str, ...]]
    aliases: Mapping[str, str]
    attributes: Mapping[str, str] = field(default_factory=dict)

    def canonical(self, name: str) -> str:
        """The canonical spelling of a class or call name (`builtins.` and aliases removed)."""
        name = name.removeprefix("builtins.")
        alias = self.aliases.get(name)
        if alias is not None:
            return alias
        head, dot, tail = name.rpartition(".")
        if dot and head in self.aliases:
            return f"{self.aliases[head]}.{tail}"
        return name

    def spec(self, name: str) -> CallSpec | None:
        """The entry for a qualified call name (aliases resolved)."""
        return self.calls.get(name) or self.calls.get(self.canonical(name))

    def method(self, type_name: str, attr: str) -> CallSpec | None:
        """The entry for `attr` called on a value of `type_name`, looked up through its bases."""
        seen: set[str] = set()
        todo = [self.canonical(type_name)]
        while todo:
            current = todo.pop(0)
            if current in seen:
                continue
            seen.add(current)
            spec = self.calls.get(f"{current}.{attr}")
            if spec is not None:
                return spec
            todo.extend(self.canonical(b) for b in self.classes.get(current, ()))
        return None

    def attribute_type(self, type_name: str, attr: str) -> str | None:
        return self.attributes.get(f"{self.canonical(type_name)}.{attr}")

    def is_class(self, name: str) -> bool:
        """Is `name` a known exception class (builtin or declared)?"""
        name = self.canonical(name)
        return name in BUILTIN_EXCEPTIONS or name in self.classes

    def extended(
        self,
        raises: Mapping[str, Any] | None = None,
        classes: Mapping[str, Any] | None = None,
        source: str = "[tool.errwise]",
    ) -> KnowledgeBase:
        """A copy with a project's entries merged in (they win over the shipped ones).

        `raises` maps a call name to a list of classes or to a table with the `[[calls]]` keys;
        `classes` maps a class name to its list of bases. Bad shapes raise a UsageError."""
        new_classes = dict(self.classes)
        for name, bases in (classes or {}).items():
            new_classes[_key(name, source, "exception-classes")] = _str_list(
                bases, f"{source} exception-classes.{name}"
            )
        new_calls = dict(self.calls)
        for name, value in (raises or {}).items():
            key = _key(name, source, "raises")
            where = f"{source} raises.{key}"
            if isinstance(value, list):
                new_calls[key] = CallSpec(key, _str_list(value, where), doc=f"from {source}")
            elif isinstance(value, Mapping):
                table = dict(value)
                table.setdefault("doc", f"from {source}")
                table["names"] = [key]
                for spec in _specs(table, where):
                    new_calls[spec.name] = spec
            else:
                raise usage(
                    "ERR_USAGE",
                    f"{where} must be a list of exception names or a table, "
                    f"not {type(value).__name__}",
                )
        kb = KnowledgeBase(new_calls, new_classes, dict(self.aliases), dict(self.attributes))
        kb.validate(source)
        return kb

    def validate(self, source: str) -> None:
        """Check every class and errno named is known; a UsageError names the first bad one."""
        for name, bases in self.classes.items():
            for base in bases:
                if not self.is_class(base):
                    raise usage(
                        "ERR_USAGE",
                        f"{source}: base {base!r} of {name!r} is not a known exception class",
                    )
        for spec in self.calls.values():
            for cls in (*spec.raises, *spec.default_drops):
                if not self.is_class(cls):
                    raise usage(
                        "ERR_USAGE",
                        f"{source}: {spec.name!r} raises {cls!r}, which is not a known "
                        "exception class (declare it in exception-classes)",
                    )
            for name in spec.errnos:
                if not name.startswith("E") or type(getattr(errno_module, name, None)) is not int:
                    raise usage("ERR_USAGE", f"{source}: {spec.name!r}: unknown errno {name!r}")


def _key(name: object, source: str, table: str) -> str:
    if not isinstance(name, str) or not name or name.startswith(".") or name.endswith("."):
        raise usage("ERR_USAGE", f"{source} {table}: {name!r} is not a qualified name")
    return name


def _str_list(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise usage("ERR_USAGE", f"{where} must be a list of names, got {value!r}")
    return tuple(value)


def _opt_str(table: Mapping[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise usage("ERR_USAGE", f"{where}.{key} must be a string, got {value!r}")
    return value


def _opt_int(table: Mapping[str, Any], key: str, where: str) -> int | None:
    value = table.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise usage("ERR_USAGE", f"{where}.{key} must be a non-negative integer, got {value!r}")
    return value


def _kw_table(
    table: Mapping[str, Any], key: str, where: str
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    value = table.get(key, {})
    if not isinstance(value, Mapping):
        raise usage("ERR_USAGE", f"{where}.{key} must be a table of keyword = [names]")
    return tuple((str(k), _str_list(v, f"{where}.{key}.{k}")) for k, v in value.items())


_KEYS = frozenset(
    {
        "names",
        "raises",
        "errno",
        "doc",
        "returns",
        "enter",
        "when_kw",
        "unless_kw",
        "default_at",
        "default_kw",
        "default_drops",
        "const_arg",
        "incomplete",
        "positional",
        "from_arg",
        "callbacks",
    }
)


def _specs(table: Mapping[str, Any], where: str) -> list[CallSpec]:
    unknown = set(table) - _KEYS
    if unknown:
        raise usage(
            "ERR_USAGE", f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_KEYS)}"
        )
    doc = _opt_str(table, "doc", where)
    if not doc:
        raise usage("ERR_USAGE", f"{where}: every entry needs a `doc` citing the documentation")
    incomplete = table.get("incomplete", False)
    if not isinstance(incomplete, bool):
        raise usage("ERR_USAGE", f"{where}.incomplete must be true or false")
    common: dict[str, Any] = {
        "raises": _str_list(table.get("raises", []), f"{where}.raises"),
        "errnos": _str_list(table.get("errno", []), f"{where}.errno"),
        "doc": doc,
        "returns": _opt_str(table, "returns", where),
        "enter": _opt_str(table, "enter", where),
        "when_kw": _kw_table(table, "when_kw", where),
        "unless_kw": _kw_table(table, "unless_kw", where),
        "default_at": _opt_int(table, "default_at", where),
        "default_kw": _opt_str(table, "default_kw", where),
        "default_drops": _str_list(table.get("default_drops", []), f"{where}.default_drops"),
        "const_arg": _opt_int(table, "const_arg", where),
        "incomplete": incomplete,
        "positional": _str_list(table.get("positional", []), f"{where}.positional"),
        "from_arg": _opt_int(table, "from_arg", where),
        "callbacks": _str_list(table.get("callbacks", []), f"{where}.callbacks"),
    }
    names = _str_list(table.get("names"), f"{where}.names")
    return [CallSpec(name, **common) for name in names]


def load_kb(text: str, source: str) -> KnowledgeBase:
    """Parse and validate a knowledge-base file's text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise usage("ERR_USAGE", f"{source}: invalid TOML: {exc}") from exc
    calls: dict[str, CallSpec] = {}
    for index, group in enumerate(data.get("calls", [])):
        for spec in _specs(group, f"{source} calls[{index}]"):
            if spec.name in calls:
                raise usage("ERR_USAGE", f"{source}: {spec.name!r} is listed twice")
            calls[spec.name] = spec
    classes = {
        _key(k, source, "classes"): _str_list(v, f"{source} classes.{k}")
        for k, v in data.get("classes", {}).items()
    }
    aliases = {str(k): str(v) for k, v in data.get("aliases", {}).items()}
    attributes = {str(k): str(v) for k, v in data.get("attributes", {}).items()}
    kb = KnowledgeBase(calls, classes, aliases, attributes)
    kb.validate(source)
    return kb


CONFIG_KEYS = ("raises", "exception-classes")
"""The keys of `[tool.errwise]` that extend the knowledge base."""


def kb_from_config(tool: Mapping[str, Any], source: str = "[tool.errwise]") -> KnowledgeBase:
    """The knowledge base for a project: the shipped one, extended by the `raises` and
    `exception-classes` tables of its `[tool.errwise]` (the shipped one when both are absent).
    A UsageError names the bad key."""
    if not isinstance(tool, Mapping):
        raise usage("ERR_USAGE", f"{source} must be a table, not {type(tool).__name__}")
    raises = tool.get("raises")
    classes = tool.get("exception-classes")
    if raises is None and classes is None:
        return default_kb()
    for key, value in (("raises", raises), ("exception-classes", classes)):
        if value is not None and not isinstance(value, Mapping):
            raise usage("ERR_USAGE", f"{source} {key} must be a table")
    return default_kb().extended(raises=raises, classes=classes, source=source)


@functools.cache
def default_kb() -> KnowledgeBase:
    """The knowledge base shipped with errwise (loaded once per process)."""
    ref = resources.files("errwise.audit.infer").joinpath("raises.toml")
    try:
        text = ref.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise bug("the shipped knowledge base raises.toml cannot be read", error=str(exc)) from exc
    return load_kb(text, "raises.toml")
