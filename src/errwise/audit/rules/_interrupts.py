"""Where an interruption can really be lost, and whether guarded code can wait long enough for
one to arrive.

Promise:
- `blocking_call(model, body)` names the first thing in the statements that can wait on the
  world — an `await` (a coroutine's cancellation arrives there), a network, subprocess, sleep or
  wait call of the standard library or a well-known client, a method whose name says it talks
  to something (`connect`, `recv`, `wait`, `result`, `stat`, `info`, `rm`, ...) on an object
  that is not a local standard-library module, or such a call inside a function or method of
  the same file that the statements call (followed three levels deep) — or `None` when none of
  that is visible. A `connect` in a function that only makes Unix-domain sockets is local.
  Calls of a plain local value (a callback, `getattr(...)()`), conversions, string methods and
  local file operations are no evidence of waiting.
- `instant_only(model, body)` is true when every call in the statements is a local, instant
  computation: a conversion, a probe of a value (not a method of the file's own class), a
  string or container method, an `os.path`/`time` formatting function, a read-only `ioctl`
  query, an exception constructor, or `open(...).close()` asking whether a file can be opened.
- `in_worker_thread(model, function)` is true for code that runs in another thread (a
  `target=` function, a method of a class deriving a `...Thread` directly or through the
  classes the linked program knows): Ctrl-C is delivered to the main thread only.
- `own_sigint_handler(model, function)` is true when the code around the function (its class,
  or outside a class the function itself) installs its own SIGINT handler with
  `signal.signal(SIGINT, handler)` or an event loop's `add_signal_handler(SIGINT, handler)`:
  Ctrl-C then runs that handler instead of raising `KeyboardInterrupt`. Restoring
  `signal.default_int_handler`, or a handler of this file that raises `KeyboardInterrupt`
  itself, does not count.
None of them raises on any model.
"""

from __future__ import annotations

import ast

from errwise.audit.effects import Effect
from errwise.audit.infer import program_for
from errwise.audit.model import CallInfo, FileModel, FunctionInfo, walk_scope
from errwise.audit.rules._handler_context import in_thread, thread_targets
from errwise.audit.rules._probe import INSTANT_CALLS

__all__ = [
    "blocking_call",
    "foreign_call",
    "in_worker_thread",
    "instant_only",
    "own_sigint_handler",
]

_BLOCKING_PREFIXES = (
    "socket.",
    "ssl.",
    "select.",
    "selectors.",
    "subprocess.",
    "urllib.request.",
    "http.client.",
    "requests.",
    "httpx.",
    "urllib3.",
    "aiohttp.",
    "smtplib.",
    "ftplib.",
)
"""Modules whose calls talk to another host or a child process."""

_BLOCKING_FUNCS = frozenset(
    {
        "time.sleep",
        "shutil.copytree",
        "shutil.rmtree",
        "shutil.copyfileobj",
        "shutil.copyfile",
        "shutil.copy",
        "shutil.copy2",
        "shutil.move",
        "shutil.make_archive",
        "shutil.unpack_archive",
        "input",
        "getpass.getpass",
        "os.system",
        "os.wait",
        "os.waitpid",
        "os.wait3",
        "os.wait4",
        "asyncio.run",
        "signal.pause",
    }
)

_QUICK_IN_BLOCKING_MODULES = frozenset(
    {"socket", "getfqdn_cached", "inet_aton", "inet_ntoa", "htons", "ntohs", "gethostname"}
)
"""Calls of those modules that never wait (creating a socket object, converting addresses)."""

_BLOCKING_VERBS = frozenset(
    {
        "connect",
        "connect_ex",
        "create_connection",
        "recv",
        "recv_into",
        "recvfrom",
        "send",
        "sendall",
        "sendto",
        "accept",
        "request",
        "urlopen",
        "fetch",
        "download",
        "upload",
        "wait",
        "wait_for",
        "join",
        "result",
        "communicate",
        "sleep",
        "acquire",
        "sync",
        "info",
        "stat",
        "ls",
        "rm",
        "mkdir",
        "exists",
        "gethostbyname",
        "getaddrinfo",
        "resolve",
    }
)
"""Method names that talk to something when the receiver is not a local module (`self.fs.rm`,
`self.info`, `sock.recv`, `future.result`)."""

_LOCAL_MODULES = frozenset(
    {"os", "os.path", "posixpath", "ntpath", "shutil", "pathlib", "str", "time", "json", "re"}
)
"""Standard-library modules whose same-named functions act on the local machine (`os.stat`,
`os.mkdir`, `os.path.exists`, `str.join`)."""

_DEPTH = 3


def blocking_call(model: FileModel, body: list[ast.stmt]) -> str | None:
    """The first call (or `await`) in `body` that can wait on the world, as text; else None."""
    return _blocking(model, body, _DEPTH, set())


def _blocking(model: FileModel, body: list[ast.stmt], depth: int, seen: set[str]) -> str | None:
    for node in walk_scope(body):
        if isinstance(node, (ast.Await, ast.AsyncFor, ast.AsyncWith)):
            return "an `await`"
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return "a `yield`"
    calls = list(model.calls_in(body))
    for call in calls:  # what the statements themselves do comes first
        direct = _direct_wait(model, call)
        if direct is not None:
            return direct
    for call in calls:
        func = call.node.func
        own: FunctionInfo | None = None
        if isinstance(func, ast.Name) and "." not in (call.qualname or ""):
            own = _own_function(model, func.id, None, seen)
        elif isinstance(func, ast.Attribute):
            own = _own_method(model, func, call.node, seen)
        if own is None or depth <= 0 or isinstance(own.node, ast.Lambda):
            continue
        seen.add(own.qualname)
        inner = _blocking(model, own.node.body, depth - 1, seen)
        if inner is not None:
            return f"`{ast.unparse(func)}()` (which calls {inner})"
    return None


_STORAGE_VERBS = frozenset({"stat", "exists", "mkdir", "info", "ls", "rm"})
"""Verbs that wait only on a remote store: counted on the class's own methods or an object it
holds (`self.stat()`, `self.fs.rm()`), not on a local value such as a `Path`."""


def _direct_wait(model: FileModel, call: CallInfo) -> str | None:
    qualname = call.qualname or ""
    func = call.node.func
    if _blocking_module_call(qualname):
        return f"`{_short(qualname)}()`"
    if not isinstance(func, ast.Attribute):
        return None
    receiver = qualname.rsplit(".", 1)[0] if "." in qualname else ""
    if receiver in _LOCAL_MODULES or receiver.startswith(("os.", "shutil.")):
        return None
    if func.attr not in _BLOCKING_VERBS or _unix_socket_connect(model, call.node):
        return None
    if func.attr in _STORAGE_VERBS and not _held_by_self(func.value):
        return None
    return f"`{ast.unparse(func)}()`"


def _held_by_self(node: ast.expr) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


_QUICK_METHODS = INSTANT_CALLS | frozenset(
    {
        "append",
        "extend",
        "insert",
        "pop",
        "popleft",
        "add",
        "discard",
        "remove",
        "update",
        "setdefault",
        "get",
        "items",
        "keys",
        "values",
        "copy",
        "clear",
        "index",
        "count",
        "sort",
        "join",
        "lower",
        "upper",
        "startswith",
        "endswith",
        "replace",
        "rstrip",
        "lstrip",
        "splitlines",
        "rsplit",
        "partition",
        "match",
        "search",
        "fullmatch",
        "sub",
        "findall",
        "increment",
        "debug",
        "info",
        "warning",
        "warn",
        "error",
        "exception",
    }
)
"""Method names of containers, strings, patterns and loggers: they return at once."""


def foreign_call(model: FileModel, body: list[ast.stmt]) -> str | None:
    """The first call in `body` into code this file does not show and that is not a quick
    container, string or logging method (`job.run()`, an imported `process(item)`); else None.
    A plain local value called (a callback, `getattr(...)()`) is not counted: nothing is known
    about it either way."""
    for call in model.calls_in(body):
        qualname = call.qualname or ""
        func = call.node.func
        if isinstance(func, ast.Name):
            if "." in qualname and not qualname.startswith("builtins."):
                return f"`{func.id}()`"
            continue
        if not isinstance(func, ast.Attribute) or func.attr in _QUICK_METHODS:
            continue
        receiver = qualname.rsplit(".", 1)[0] if "." in qualname else ""
        if receiver in _LOCAL_MODULES or receiver.startswith(("os.", "shutil.")):
            continue
        if isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
            continue
        return f"`{ast.unparse(func)}()`"
    return None


def _blocking_module_call(qualname: str) -> bool:
    if qualname in _BLOCKING_FUNCS:
        return True
    if not qualname.startswith(_BLOCKING_PREFIXES):
        return False
    return qualname.rsplit(".", 1)[-1] not in _QUICK_IN_BLOCKING_MODULES


def _short(qualname: str) -> str:
    return qualname.rsplit(".", 1)[-1] if qualname.startswith("socket.") else qualname


def _own_function(
    model: FileModel, name: str, class_name: str | None, seen: set[str]
) -> FunctionInfo | None:
    wanted = name if class_name is None else f"{class_name}.{name}"
    if wanted in seen:
        return None
    for fn in model.functions:
        if fn.qualname == wanted and not isinstance(fn.node, ast.Lambda):
            return fn
    return None


def _own_method(
    model: FileModel, func: ast.Attribute, call: ast.Call, seen: set[str]
) -> FunctionInfo | None:
    """`self.name(...)` where the calling method's class defines `name` in this file."""
    if not (isinstance(func.value, ast.Name) and func.value.id in ("self", "cls")):
        return None
    fn = model.ctx(call).function
    while fn is not None and fn.class_name is None:
        fn = fn.parent
    if fn is None or fn.class_name is None:
        return None
    class_qualname = fn.qualname.rsplit(".", 1)[0]
    return _own_function(model, func.attr, class_qualname, seen)


def _unix_socket_connect(model: FileModel, call: ast.Call) -> bool:
    """A `connect` in a function that only makes Unix-domain sockets: a local path, no wait."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "connect"):
        return False
    fn = model.ctx(call).function
    scope: ast.AST = fn.node if fn is not None else model.tree
    families = {
        node.attr if isinstance(node, ast.Attribute) else node.id
        for node in ast.walk(scope)
        if isinstance(node, (ast.Attribute, ast.Name))
        and (node.attr if isinstance(node, ast.Attribute) else node.id).startswith("AF_")
    }
    return families == {"AF_UNIX"}


def in_worker_thread(model: FileModel, function: FunctionInfo | None) -> bool:
    """Code of a `target=` function or of a class deriving a `...Thread`, directly or through
    ancestors the program knows."""
    if in_thread(model, function, thread_targets(model)):
        return True
    if function is None or (function.class_name is None and function.parent is None):
        return False
    program = program_for(model)
    module = model.module_name or ""
    while function is not None:
        if function.class_name is not None:
            owner = function.qualname.rsplit(".", 1)[0]
            class_qualname = f"{module}.{owner}" if module else owner
            ancestors = program.hierarchy.ancestors(class_qualname)
            if any(a.rsplit(".", 1)[-1].endswith("Thread") for a in ancestors):
                return True
        function = function.parent
    return False


def own_sigint_handler(model: FileModel, function: FunctionInfo | None) -> bool:
    """The function's class (or, outside a class, the function) installs a SIGINT handler that
    does not raise `KeyboardInterrupt` (see the module doc)."""
    if function is None:
        return False
    scope: ast.AST = function.node
    node: ast.AST | None = function.node
    while node is not None and not isinstance(node, ast.ClassDef):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            scope = node  # the outermost function, unless a class encloses it
        node = model.parents.get(node)
    if node is not None:
        scope = node
    for call in ast.walk(scope):
        if not isinstance(call, ast.Call) or len(call.args) < 2:
            continue
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "add_signal_handler":
            pass
        elif model.qualify(func) != "signal.signal":
            continue
        signum = call.args[0]
        name = signum.attr if isinstance(signum, ast.Attribute) else getattr(signum, "id", "")
        if name == "SIGINT" and not _raises_interrupt(model, call.args[1]):
            return True
    return False


def _raises_interrupt(model: FileModel, handler: ast.expr) -> bool:
    """The SIGINT handler gives Ctrl-C back as `KeyboardInterrupt`: Python's default handler,
    or a function of this file whose body raises it (or calls the default handler)."""
    if (model.qualify(handler) or "").endswith("default_int_handler"):
        return True
    name = handler.attr if isinstance(handler, ast.Attribute) else getattr(handler, "id", "")
    if isinstance(handler, ast.Lambda):
        body: list[ast.AST] = [handler.body]
    else:
        body = [fn.node for fn in model.functions if fn.name == name]
    for root in body:
        for node in ast.walk(root):
            if isinstance(node, ast.Name) and node.id in (
                "KeyboardInterrupt",
                "default_int_handler",
            ):
                return True
            if isinstance(node, ast.Attribute) and node.attr == "default_int_handler":
                return True
    return False


_CHANGES = Effect.DISK | Effect.PROCESS | Effect.NETWORK | Effect.LOCK

_PURE_MODULES = ("os.path.", "posixpath.", "ntpath.", "time.", "math.", "datetime.", "array.")
_BUILTIN_TYPES = frozenset(
    {"list", "dict", "set", "tuple", "frozenset", "bytearray", "min", "max", "sum", "sorted"}
)
_GET_REQUEST = ("TIOCG", "FIONREAD")


def instant_only(model: FileModel, body: list[ast.stmt], depth: int = 2) -> bool:
    """Every call in `body` is a local, instant computation (see the module doc); a private
    helper of the file (`self._parse(line)`, `_convert(x)`) counts when its own calls do."""
    if blocking_call(model, body) is not None:
        return False
    calls = list(model.calls_in(body))
    if not calls:
        return False  # nothing called: another shape (an attribute read, an index)
    for call in calls:
        qualname = call.qualname or ""
        func = call.node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in ("self", "cls")
        ):
            if _instant_helper(model, _own_method(model, func, call.node, set()), depth):
                continue
            return False  # the class's own code, perhaps overridden: unknown work
        if isinstance(func, ast.Name) and _instant_helper(
            model, _own_function(model, name, None, set()), depth
        ):
            continue
        if qualname == "time.sleep" or call.effects & _CHANGES:
            return False  # `os.remove(path)` is no `list.remove(item)`
        if qualname.startswith(_PURE_MODULES) or name in _BUILTIN_TYPES:
            continue
        if name == "ioctl" and _get_request(call.node):
            continue
        if name == "close" and isinstance(func, ast.Attribute) and _open_probe(func):
            continue
        if name == "open" and _closed_at_once(model, call.node):
            continue
        if name == "get" and _url_argument(call.node):
            return False
        if name in _QUICK_METHODS or (name[:1].isupper() and name.endswith(("Error", "Exception"))):
            continue
        return False
    return True


def _instant_helper(model: FileModel, helper: FunctionInfo | None, depth: int) -> bool:
    """A private helper of the file (`_parse`) whose own calls are all instant."""
    if helper is None or depth <= 0 or not helper.name.startswith("_"):
        return False
    node = helper.node
    return not isinstance(node, ast.Lambda) and instant_only(model, node.body, depth - 1)


def _url_argument(call: ast.Call) -> bool:
    """`session.get(url)`: a request, not a lookup."""
    for arg in call.args[:1]:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value.startswith(("http:", "https:"))
        text = ast.unparse(arg).lower()
        return "url" in text or "uri" in text or "endpoint" in text
    return False


def _get_request(call: ast.Call) -> bool:
    """`ioctl(fd, TIOCGWINSZ, ...)`: a query, not a change."""
    if len(call.args) < 2:
        return False
    request = call.args[1]
    text = request.attr if isinstance(request, ast.Attribute) else getattr(request, "id", "")
    return isinstance(text, str) and text.startswith(_GET_REQUEST)


def _open_probe(func: ast.Attribute) -> bool:
    """`open(path[, "r"]).close()`."""
    opened = func.value
    if not (
        isinstance(opened, ast.Call)
        and isinstance(opened.func, ast.Name)
        and opened.func.id == "open"
    ):
        return False
    modes = [a for a in opened.args[1:2] if isinstance(a, ast.Constant)]
    return all(isinstance(m.value, str) and set(m.value) <= {"r", "b", "t"} for m in modes)


def _closed_at_once(model: FileModel, call: ast.Call) -> bool:
    parent = model.parents.get(call)
    return isinstance(parent, ast.Attribute) and parent.attr == "close" and _open_probe(parent)
