"""The programs the fuzz tests audit: pysource-codegen's, as generated and "dressed".

pysource-codegen names everything `name_0` … `name_5`, so its programs call nothing the rules
know (no `open`, `subprocess.run`, `logging.exception`, `except OSError`). `dressed(source,
seed)` renames them, deterministically per seed: a name read becomes one of the modules,
functions and exception types the rules reason about (`os.remove`, `subprocess.run`,
`OSError`, `self.lock`…), an attribute one of the methods they look for (`unlink`, `split`,
`exception`…), a name bound (assigned, caught `as`) an ordinary identifier. The shape of the
program is unchanged, and the result still parses: every read becomes a name or a dotted name,
valid wherever a name is read.

Promise: `generated(seed)` and `dressed(generated(seed), seed)` depend on the seed alone.
"""

from __future__ import annotations

import ast
import random

__all__ = ["VARIANTS", "dressed", "generated", "variant"]

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
    """`source` with its names renamed from the vocabulary above (see the module docstring)."""
    tree = ast.parse(source)
    rng = random.Random(seed)
    _Dresser(rng).visit(tree)
    return ast.unparse(ast.fix_missing_locations(tree))


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
