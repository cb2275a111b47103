"""The programs the fuzz tests audit: pysource-codegen's (as generated and "dressed"), and
error-handling code composed by a Hypothesis strategy.

pysource-codegen names everything `name_0` … `name_5`, so its programs call nothing the rules
know (no `open`, `subprocess.run`, `logging.exception`, `except OSError`). `dressed(source,
seed)` renames them, deterministically per seed: a name read becomes one of the modules,
functions and exception types the rules reason about (`os.remove`, `subprocess.run`,
`OSError`, `self.lock`…), an attribute one of the methods they look for (`unlink`, `split`,
`exception`…), a name bound (assigned, caught `as`) an ordinary identifier. The shape of the
program is unchanged, and the result still parses: every read becomes a name or a dotted name,
valid wherever a name is read.

`error_handling()` is a Hypothesis strategy of programs composed of what the rules read: try
statements (except, except*, else, finally) in functions, methods and loops, handler bodies that
swallow, log, record, return sentinels, re-raise, raise anew, exit, and suppression comments
(well-formed, unknown, malformed) on the except lines.

Promise: `generated(seed)` and `dressed(generated(seed), seed)` depend on the seed alone; every
program `error_handling()` draws parses.
"""

from __future__ import annotations

import ast
import random

from hypothesis import strategies as st

__all__ = ["VARIANTS", "dressed", "error_handling", "generated", "variant"]

VARIANTS = ("generated", "dressed")

_READ = (
    "os", "os.remove", "os.unlink", "os.path.exists", "os.path.isfile", "os.rename",
    "os.replace", "os.makedirs", "os.kill", "os.system", "open", "shutil.rmtree",
    "subprocess.run", "subprocess.check_output", "subprocess.Popen", "subprocess.call",
    "requests.get", "httpx.post", "urllib.request.urlopen", "socket.create_connection",
    "logging.exception", "logging.error", "log.warning", "logger.info", "print",
    "Exception", "BaseException", "OSError", "FileNotFoundError", "PermissionError",
    "KeyboardInterrupt", "SystemExit", "ValueError", "RuntimeError", "KeyError",
    "errno.EEXIST", "errno.ENOENT", "self", "self.lock", "self.path", "cls",
    "json.loads", "json.dump", "sys.exit", "time.sleep", "fcntl.flock", "sqlite3.connect",
    "errors.append", "path", "data", "exc",
)  # fmt: skip
_ATTR = (
    "remove", "unlink", "write", "write_text", "read", "close", "run", "exception", "error",
    "warning", "split", "rsplit", "partition", "exists", "is_file", "acquire", "release",
    "rollback", "commit", "errno", "args", "get", "append", "rename", "replace", "wait",
    "communicate", "returncode", "strerror", "filename", "__exit__", "__enter__",
)  # fmt: skip
_BOUND = ("path", "data", "result", "exc", "err", "e", "lock", "proc", "fd", "value", "_")


def generated(seed: int, node_limit: int) -> str:
    """pysource-codegen's program for `seed` (ValueError or other errors of the generator
    propagate: some seeds it cannot unparse)."""
    from pysource_codegen import generate

    return generate(seed, node_limit=node_limit)


def dressed(source: str, seed: int) -> str:
    """`source` with its names renamed from the vocabulary above (see the module docstring);
    SyntaxError when `source` does not parse, or its dressed text would not."""
    tree = ast.parse(source)
    rng = random.Random(seed)
    _Dresser(rng).visit(tree)
    text = ast.unparse(ast.fix_missing_locations(tree))
    ast.parse(text)  # `ast.unparse` has known failures to round-trip (nested f-strings)
    return text


def variant(name: str, seed: int, node_limit: int) -> str:
    """The program of one of `VARIANTS` for `seed`."""
    source = generated(seed, node_limit)
    return dressed(source, seed) if name == "dressed" else source


class _Dresser(ast.NodeTransformer):
    def __init__(self, rng: random.Random) -> None:
        self.read = {f"name_{i}": rng.choice(_READ) for i in range(6)}
        self.attr = {f"name_{i}": rng.choice(_ATTR) for i in range(6)}
        self.bound = {f"name_{i}": rng.choice(_BOUND) for i in range(6)}

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if not isinstance(node.ctx, ast.Load):
            node.id = self.bound.get(node.id, node.id)
            return node
        dotted = self.read.get(node.id)
        if dotted is None:
            return node
        first, *rest = dotted.split(".")
        expr: ast.expr = ast.Name(first, ast.Load())
        for part in rest:
            expr = ast.Attribute(expr, part, ast.Load())
        return ast.copy_location(expr, node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        self.generic_visit(node)
        node.attr = self.attr.get(node.attr, node.attr)
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.ExceptHandler:
        self.generic_visit(node)
        if node.name is not None:
            node.name = self.bound.get(node.name, node.name)
        return node


# --- error-handling programs ----------------------------------------------------------------
#
# Random programs are mostly expressions; the rules read try statements, handlers and the
# calls around them. `error_handling()` composes those: functions, methods and loops around
# try/except/else/finally (and except*), with handler bodies that swallow, log, record, return
# sentinels, re-raise, raise anew with or without `from`, exit, dispatch on kind strings.

_CALLS = (
    "os.remove(path)", "os.rename(src, dst)", "os.replace(tmp, path)", "os.kill(pid, 0)",
    "os.makedirs(path, exist_ok=True)", "shutil.rmtree(path)", "open(path, 'w')",
    "open(path).read()", "path.unlink()", "path.write_text(data)", "tmp.rename(path)",
    "subprocess.run(cmd)", "subprocess.run(cmd, check=False, timeout=5)",
    "subprocess.check_output(cmd, timeout=1)", "subprocess.Popen(cmd).wait()",
    "os.system(cmd)", "requests.get(url)", "requests.get(url, timeout=3)",
    "urllib.request.urlopen(url)", "socket.create_connection(addr)", "json.loads(text)",
    "int(text)", "data[key]", "next(it)", "self.lock.acquire()", "self.lock.release()",
    "conn.commit()", "conn.rollback()", "fcntl.flock(fd, fcntl.LOCK_EX)", "helper(x)",
    "self.save(x)", "cls.load()", "os.path.exists(path)", "path.exists()", "time.sleep(1)",
)  # fmt: skip
_TYPES = (
    "Exception", "BaseException", "OSError", "IOError", "FileNotFoundError",
    "FileExistsError", "PermissionError", "KeyError", "ValueError", "(OSError, ValueError)",
    "(KeyError, IndexError)", "KeyboardInterrupt", "SystemExit", "subprocess.SubprocessError",
    "subprocess.TimeoutExpired", "json.JSONDecodeError", "requests.RequestException",
    "socket.timeout", "MyError", "errors.Retry", "ZeroDivisionError", "StopIteration",
)  # fmt: skip
_VALUES = (
    "None", "False", "True", "0", "-1", "''", "[]", "{}", "(False, None)", "x", "result",
    "default", "DEFAULT", "e", "str(e)", "e.errno", "e.args[0]", "len(items)",
)  # fmt: skip
_HANDLING = (
    "pass", "...", "continue", "break", "raise", "raise e", "raise RuntimeError('failed')",
    "raise ValueError(f'bad {path}') from e", "raise MyError(path) from None",
    "return", "return None", "return False", "return -1", "return default",
    "logging.exception('failed')", "log.error('failed: %s', e)", "log.warning(e)",
    "logger.error('x', exc_info=True)", "print(e)", "errors.append(e)", "sys.exit(1)",
    "os._exit(2)", "traceback.print_exc()", "self.failed = True", "result = None",
    "if e.errno == errno.EEXIST:\n    pass\nelse:\n    raise",
    "if isinstance(e, KeyError):\n    return None\nraise",
    "warnings.warn(str(e))", "del e", "e = None", "cleanup()", "conn.rollback()\nraise",
)  # fmt: skip
_SIMPLE = (
    "a, b = line.split(',', 1)", "k, v = text.partition('=')[::2]", "x, = items",
    "first, *rest = s.rsplit(':')", "name, value = pair", "result = default",
    "x = compute()", "items.append(x)", "total += 1", "yield x", "await job()",
    "assert x", "global state", "nonlocal count", "return x", "return result", "return True",
    "del cache[key]", "with lock:\n    x = read()",
    "if kind == 'a':\n    do_a()\nelif kind == 'b':\n    do_b()",
    "if not os.path.exists(path):\n    os.makedirs(path)",
    "if os.path.isfile(path):\n    os.remove(path)",
)  # fmt: skip


def _indent(text: str) -> str:
    return "\n".join("    " + line if line else line for line in text.splitlines())


def error_handling() -> st.SearchStrategy[str]:
    """Programs composed of error-handling statements (see above); every one parses."""
    simple = st.one_of(st.sampled_from(_CALLS), st.sampled_from(_SIMPLE))
    handling = st.sampled_from(_HANDLING)

    def compound(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        body = st.lists(inner, min_size=1, max_size=4).map("\n".join)
        handler = st.tuples(
            st.one_of(st.none(), st.sampled_from(_TYPES)),
            st.booleans(),
            st.lists(st.one_of(handling, inner), min_size=1, max_size=3).map("\n".join),
            st.sampled_from(_COMMENTS),
        ).map(
            lambda h: (
                ("except" if h[0] is None else f"except {h[0]}")
                + (" as e" if h[0] is not None and h[1] else "")
                + ":"
                + h[3]
                + "\n"
                + _indent(h[2])
            )
        )
        star_handler = st.tuples(st.sampled_from(_TYPES[2:12]), body).map(
            lambda h: f"except* {h[0]} as eg:\n" + _indent(h[1])
        )
        tries = st.tuples(
            body,
            st.one_of(
                st.lists(handler, min_size=0, max_size=3),
                st.lists(star_handler, min_size=1, max_size=2),
            ),
            st.one_of(st.none(), body),
            st.one_of(st.none(), body),
        ).map(_try)
        return st.one_of(
            tries,
            st.tuples(st.sampled_from(_DEFS + _LOOPS), body).map(_nest),
            st.tuples(st.sampled_from(_VALUES), body, body).map(
                lambda d: f"if {d[0]}:\n{_indent(d[1])}\nelse:\n{_indent(d[2])}"
            ),
        )

    statement = st.recursive(simple, compound, max_leaves=12)
    return st.lists(statement, min_size=1, max_size=5).map(
        lambda stmts: "import os, subprocess, logging\n\n" + "\n".join(stmts) + "\n"
    )


_COMMENTS = (
    "", "", "", "", "  # errwise: ignore", "  # errwise: ignore[broad-catch] -- a boundary",
    "  # errwise: ignore[EW101, swallowed-exception]", "  # errwise: ignore[EW999]",
    "  # errwise: ignore[no-such-rule] -- why", "  # errwise:ignore[", "  # noqa: EW105",
    "  # noqa: E722, EW110", "  # noqa", "  # ERRWISE: IGNORE[*]", "  # errwise: ignore[]",
    "  # type: ignore", "  # errwise: ignore[broad-catch]  # errwise: ignore[EW110]",
)  # fmt: skip
"""Trailing comments for an except line: mostly none, else suppressions good and bad."""

_DEFS = (
    "def save(path, data):", "async def fetch(url):", "def run(self, cmd):",
    "class Store:\n    def close(self):", "def __exit__(self, *exc):", "def main():",
    "def _cleanup(path, default=None):", "lambda_ = lambda: 0\ndef helper(x):",
    "@contextlib.contextmanager\ndef locked(path):",
)  # fmt: skip
_LOOPS = (
    "for item in items:", "for path in paths:", "while True:", "while retries:",
    "with open(path) as f:", "async with session:", "async for chunk in stream:",
)  # fmt: skip


def _nest(parts: tuple[str, str]) -> str:
    """`header` (its last line opening a block) with `body` in that block."""
    header, body = parts
    last = header.splitlines()[-1]
    depth = len(last) - len(last.lstrip())
    return header + "\n" + "\n".join(" " * depth + line for line in _indent(body).splitlines())


def _try(parts: tuple[str, list[str], str | None, str | None]) -> str:
    body, handlers, orelse, final = parts
    if not handlers and final is None:
        final = "pass"
    text = "try:\n" + _indent(body)
    for handler in handlers:
        text += "\n" + handler
    if orelse is not None and handlers:
        text += "\nelse:\n" + _indent(orelse)
    if final is not None:
        text += "\nfinally:\n" + _indent(final)
    return text
