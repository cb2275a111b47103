"""EW122 network-call-without-timeout: a requests / httpx / urllib / socket call that can wait
forever for a server.

Promise: flags `requests` calls and methods of a `requests.Session` bound in the same function
(or on `self` in the same class) without `timeout=`, `httpx` calls that pass `timeout=None`
(httpx has a 5 s default otherwise), `urllib.request.urlopen` and `http.client.HTTPConnection`
without a timeout, `socket.create_connection` without a timeout, and `connect()` on a
`socket.socket` bound here that the scope never gives a timeout (`settimeout`/`setblocking`).
Not flagged: calls with a `**kwargs` splat (it may carry the timeout), sessions with a mounted
adapter that may set a default timeout, `AF_UNIX`/datagram sockets, sockets handed on or never
read, the urllib, http and socket calls of a file that sets `socket.setdefaulttimeout(...)`,
and test code.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from errwise.audit.finding import Finding, Severity
from errwise.audit.model import CallInfo, FileModel
from errwise.audit.names import dotted
from errwise.audit.rule import Rule
from errwise.audit.rules._flow import in_test_code
from errwise.audit.rules._timeouts import (
    bound_here,
    bound_objects,
    calls_on,
    has_splat,
    is_none,
    missing_timeout,
    waits_forever,
)

_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")
_REQUESTS = frozenset(f"requests.{m}" for m in _VERBS)
_SESSION_METHODS = frozenset({*_VERBS, "send"})
_SESSIONS = frozenset({"requests.Session", "requests.session", "requests.sessions.Session"})
_POSITIONAL = {
    "urllib.request.urlopen": 2,
    "urllib2.urlopen": 2,
    "http.client.HTTPConnection": 2,
    "http.client.HTTPSConnection": 2,
    "socket.create_connection": 1,
}
_DEFAULT_TIMEOUT = "socket.setdefaulttimeout"
_SOCKET_TIMEOUTS = frozenset({"settimeout", "setblocking"})
_SOCKET_READS = frozenset({"recv", "recv_into", "recvfrom", "recvmsg", "makefile", "sendall"})
_CONNECTIONS = frozenset({"http.client.HTTPConnection", "http.client.HTTPSConnection"})


def check(model: FileModel) -> Iterator[Finding]:
    sessions = bound_objects(model, _SESSIONS)
    sockets = bound_objects(model, frozenset({"socket.socket"}))
    created = bound_objects(model, frozenset({"socket.create_connection"}))
    default_timeout = any(c.qualname == _DEFAULT_TIMEOUT for c in model.calls)
    for call in model.calls:
        node = call.node
        if has_splat(node) or in_test_code(model, node):
            continue
        qual = call.qualname or ""
        if qual in _REQUESTS:
            problem = missing_timeout(node, None)
            if problem:
                yield _finding(model, call, f"`{qual}()`", problem, fix="http")
        elif qual in _POSITIONAL:
            problem = missing_timeout(node, _POSITIONAL[qual])
            if problem and not default_timeout and not _timeout_set_later(model, call, created):
                if qual == "socket.create_connection":
                    yield _socket_finding(model, call, f"`{qual}()` {problem}")
                elif qual in _CONNECTIONS:
                    yield _report(
                        model,
                        call,
                        f"`{qual}()` {problem}: if the server stops responding, a request on "
                        "this connection waits forever",
                        "http",
                    )
                else:
                    yield _finding(model, call, f"`{qual}()`", problem, fix="http")
        elif qual.startswith("httpx.") and any(
            kw.arg == "timeout" and is_none(kw.value) for kw in node.keywords
        ):
            if qual.endswith(("Client", "Timeout")):
                yield _report(
                    model,
                    call,
                    f"`{qual}()` passes `timeout=None`: it disables httpx's default timeout, so "
                    "a request that passes no timeout of its own waits forever if the server "
                    "stops responding",
                    "httpx",
                )
            else:
                yield _finding(model, call, f"`{qual}()`", "passes `timeout=None`", fix="httpx")
        elif isinstance(node.func, ast.Attribute):
            method = node.func.attr
            receiver = dotted(node.func.value)
            if receiver is None:
                continue
            if method in _SESSION_METHODS and bound_here(call, receiver, sessions):
                problem = missing_timeout(node, None)
                if problem and not _mounts_adapter(model, call, receiver):
                    yield _finding(
                        model,
                        call,
                        f"`{receiver}.{method}()` on a `requests.Session`",
                        problem,
                        fix="http",
                    )
            elif method == "connect" and not default_timeout:
                starts = bound_here(call, receiver, sockets)
                if (
                    starts
                    and not any(_local_socket(model, s) for s in starts)
                    and not _gets_timeout(model, call, receiver)
                    and not _escapes(model, call, receiver)
                    and _reads(model, call, receiver)
                    and not _loopback(node)
                ):
                    yield _socket_finding(
                        model,
                        call,
                        f"`{receiver}.connect()` on a `socket.socket` that is never given a "
                        "timeout",
                    )


def _mounts_adapter(model: FileModel, call: CallInfo, receiver: str) -> bool:
    """`session.mount(prefix, TimeoutAdapter(timeout=5))`: an adapter that may supply a default
    timeout (its arguments say `timeout`, or the file defines an adapter class that does)."""
    mounts = [
        c.node
        for c in calls_on(model, call, receiver)
        if isinstance(c.node.func, ast.Attribute) and c.node.func.attr == "mount"
    ]
    if not mounts:
        return False
    if any("timeout" in ast.unparse(m).lower() for m in mounts):
        return True
    return any(
        any("adapter" in ast.unparse(b).lower() for b in c.node.bases)
        and "timeout" in ast.unparse(c.node).lower()
        for c in model.classes
    )


def _gets_timeout(model: FileModel, call: CallInfo, receiver: str) -> bool:
    return any(
        isinstance(c.node.func, ast.Attribute) and c.node.func.attr in _SOCKET_TIMEOUTS
        for c in calls_on(model, call, receiver)
    )


def _timeout_set_later(
    model: FileModel, call: CallInfo, created: dict[str, dict[str, list[ast.Call]]]
) -> bool:
    """`sock = socket.create_connection(addr); sock.settimeout(5)`."""
    if call.qualname != "socket.create_connection":
        return False
    for scope in created.values():
        for name, starts in scope.items():
            if call.node in starts and _gets_timeout(model, call, name):
                return True
    return False


def _local_socket(model: FileModel, start: ast.Call) -> bool:
    """An `AF_UNIX` socket (a local peer) or a datagram one (`connect` only sets the peer)."""
    args = {
        0: start.args[0] if start.args else None,
        1: start.args[1] if len(start.args) > 1 else None,
    }
    for kw in start.keywords:
        if kw.arg in ("family", "type"):
            args[0 if kw.arg == "family" else 1] = kw.value
    names = [(model.qualify(a) or dotted(a) or "") if a is not None else "" for a in args.values()]
    return names[0].endswith("AF_UNIX") or names[1].endswith(("SOCK_DGRAM", "SOCK_RAW"))


def _escapes(model: FileModel, call: CallInfo, receiver: str) -> bool:
    """The socket is handed on (`self.sock = sock`, `Transport(sock)`, `return sock`): whoever
    receives it may give it a timeout."""
    fn = call.ctx.function
    if receiver.startswith("self."):
        return True
    for node in ast.walk(fn.node if fn is not None else model.tree):
        if isinstance(node, ast.Name) and node.id == receiver and isinstance(node.ctx, ast.Load):
            parent = model.parents.get(node)
            if not isinstance(parent, ast.Attribute):
                return True
    return False


def _reads(model: FileModel, call: CallInfo, receiver: str) -> bool:
    """The scope reads from (or streams to) the socket: the calls that can block forever."""
    return any(
        isinstance(c.node.func, ast.Attribute) and c.node.func.attr in _SOCKET_READS
        for c in calls_on(model, call, receiver)
    )


def _loopback(node: ast.Call) -> bool:
    text = ast.unparse(node)
    return any(h in text for h in ("127.0.0.1", "localhost", "::1", "getsockname"))


_FIXES = {
    "http": "pass `timeout=(connect, read)` seconds, e.g. `timeout=(3.05, 30)`, and handle the "
    "timeout error as a classified `errwise.env(...)` error",
    "httpx": "drop `timeout=None` (httpx defaults to 5 s) or pass a finite `httpx.Timeout(…)`",
    "socket": "pass `timeout=` to `socket.create_connection(...)` or call `sock.settimeout(…)` "
    "before connecting, and handle `TimeoutError` as a classified `errwise.env(...)` error",
}


def _finding(model: FileModel, call: CallInfo, what: str, problem: str, *, fix: str) -> Finding:
    return _report(
        model,
        call,
        f"{what} {problem}: if the server stops responding, this call waits forever",
        fix,
    )


def _socket_finding(model: FileModel, call: CallInfo, what: str) -> Finding:
    return _report(
        model,
        call,
        f"{what}: the socket blocks without limit, so if the peer stops answering, a read "
        "on it waits forever",
        "socket",
    )


def _report(model: FileModel, call: CallInfo, message: str, fix: str) -> Finding:
    return waits_forever(RULE, model, call, message, _FIXES[fix])


RULE = Rule(
    id="EW122",
    name="network-call-without-timeout",
    severity=Severity.LOW,
    summary="A requests, httpx, urllib or socket call that can hang forever.",
    what="""
`requests.get/post/...` and `requests.request` without `timeout=` (requests has no default
timeout); methods of a `requests.Session` created in the same function (or stored on `self` in
the same class) without `timeout=`; `httpx` calls that pass `timeout=None`, including
`httpx.Client(timeout=None)` (httpx applies a 5 s default otherwise, so a plain `httpx.get(url)`
is not reported); `urllib.request.urlopen` and `http.client.HTTPConnection` without a timeout;
`socket.create_connection` without a timeout; `connect()` on a `socket.socket` created here
that the code never gives a timeout (`settimeout`/`setblocking`). Import aliases are resolved.

Deliberately not reported: calls with a `**kwargs` splat (it may carry the timeout); sessions
with a mounted adapter that may set a default timeout; `AF_UNIX` and datagram sockets, sockets
handed on to other code, and sockets never read from; urllib, http.client and socket calls in a
file that calls `socket.setdefaulttimeout(...)`; test code (`test_*.py`, `test*` functions,
`Test*` classes). Child processes are `subprocess-without-timeout` (EW107).
Severity is low, medium when the call runs inside a `with <lock>:` block.
""",
    why="""
A server that accepts the connection and then never answers — a stalled proxy, a half-open TCP
connection, an overloaded API — keeps a call without a timeout waiting forever: the program
hangs with no error, holds its locks and threads, and an operator must find and kill it.
""",
    example="""
import requests

def fetch_release(url):
    return requests.get(url).json()
""",
    fix="""
Give every network call a deadline and turn its expiry into a classified error:

```python
import requests
import errwise

def fetch_release(url):
    try:
        return requests.get(url, timeout=(3.05, 30)).json()
    except requests.Timeout as exc:
        raise errwise.env("ERR_TIMEOUT", f"{url} did not answer in time") from exc
```

`urllib.request.urlopen(url, timeout=30)`; `socket.create_connection(addr, timeout=10)`.
""",
    check=check,
)
