"""What a child process is, read from the call that starts it: which program with which
arguments, whether it is interactive (a human drives it), whether it shares the user's terminal,
and whether it is a fixed local command that finishes on its own.

Promise: pure functions over a `FileModel` and one `subprocess` call; a command is read from
literals, from names assigned once in the same function or module (`exe = shutil.which("git")`,
`cmd = ["git", "log"]`) and from `sys.executable`; whatever cannot be read stays unknown
(`None`), and an unknown command is never called local or interactive by its words alone.
"""

from __future__ import annotations

import ast
import shlex
from dataclasses import dataclass, field

from errwise.audit.model import CallInfo, FileModel
from errwise.audit.names import dotted
from errwise.audit.rules._flow import assignments

__all__ = [
    "shown_to_the_user",
    "Command",
    "command_of",
    "interactive_reason",
    "inherits_terminal",
    "finishes",
]

_INTERACTIVE_ENV = frozenset({"EDITOR", "VISUAL", "PAGER", "BROWSER", "SHELL", "GIT_EDITOR"})
_INTERACTIVE_WORDS = ("editor", "pager", "browser")
_PROMPTING_HELPERS = ("credential", "askpass", "pinentry", "passphrase")
"""Helpers that may ask the user (a keychain unlock, a gpg pinentry): the wait is a person's."""
_VIEWERS = frozenset(
    {"less", "more", "most", "vi", "vim", "nvim", "nano", "emacs", "pico", "micro", "ed"}
    | {"top", "htop", "watch", "sensible-editor", "sensible-pager", "xdg-open"}
)
_SHELLS = frozenset(
    {"bash", "sh", "zsh", "fish", "csh", "tcsh", "cmd", "powershell", "pwsh", "ipython"}
    | {"pdb", "gdb", "lldb"}
)
_INTERACTIVE_PROGRAMS = _VIEWERS | _SHELLS
_INTERPRETERS = ("python", "py", "pypy")
_QUERY_ARGS = frozenset({"--version", "-V", "version", "--help", "-h"})
_SSH = frozenset({"ssh", "scp", "sftp", "rsync", "telnet", "nc", "ncat", "ftp", "mosh"})
_NETWORK_PROGRAMS = _SSH | frozenset(
    {"curl", "wget", "sudo", "su", "kubectl", "helm", "aws", "gcloud", "az", "gsutil"}
    | {"terraform", "ansible", "ansible-playbook", "ping", "sleep", "tail", "cat", "read"}
)
_NETWORK_SUBCOMMANDS = {
    "git": frozenset(
        {"fetch", "pull", "push", "clone", "ls-remote", "submodule", "remote", "archive"}
        | {"lfs", "credential", "commit", "rebase", "merge", "tag", "send-email", "svn"}
    ),
    **{
        tool: frozenset({"install", "download", "update", "upgrade", "sync", "add", "pull"})
        for tool in (
            *("pip", "pip3", "uv", "npm", "yarn", "pnpm", "poetry", "pipenv", "conda"),
            *("mamba", "apt", "apt-get", "yum", "dnf", "brew", "cargo", "go", "gem", "bundle"),
        )
    },
    **{
        tool: frozenset({"pull", "push", "login", "run", "build", "exec", "attach", "wait"})
        for tool in ("docker", "podman", "docker-compose", "nerdctl")
    },
    "hg": frozenset({"pull", "push", "clone", "incoming", "outgoing", "commit"}),
    "svn": frozenset({"checkout", "co", "update", "up", "commit", "ci", "export", "ls"}),
}
_SHELL_OPERATORS = frozenset({"|", "||", "&&", ";", "&", "`", "$("})
_GIT_OPTIONS_WITH_VALUE = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace"})


@dataclass(frozen=True)
class Command:
    """A child's command as far as the code shows it."""

    words: tuple[str | None, ...]
    """The argv, one entry per argument; None for an argument not known statically."""
    complete: bool
    """Every argument is listed (no `*rest`, no unknown list)."""
    names: frozenset[str] = field(default_factory=frozenset)
    """Identifiers and env variables the command was built from (lower-case)."""

    @property
    def program(self) -> str | None:
        """The program's base name (`/usr/bin/git.exe` -> `git`), None when unknown."""
        if not self.words or self.words[0] is None:
            return None
        name = self.words[0].replace("\\", "/").rsplit("/", 1)[-1].lower()
        return name.removesuffix(".exe")


_EMPTY = Command((), False)


def command_of(model: FileModel, call: ast.Call, *, argv: bool = False) -> Command:
    """The command of a `subprocess.*` / `Popen` call (first argument or `args=`); with `argv`,
    the positional arguments are the argv (`asyncio.create_subprocess_exec(prog, *args)`)."""
    if argv:
        return _Reader(model, call, False).read(ast.List(elts=list(call.args)), 0)
    expr = call.args[0] if call.args else None
    for kw in call.keywords:
        if kw.arg == "args":
            expr = kw.value
    if expr is None or isinstance(expr, ast.Starred):
        return _EMPTY
    shell = any(
        kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and not kw.value.value)
        for kw in call.keywords
    )
    return _Reader(model, call, shell).read(expr, 0)


class _Reader:
    def __init__(self, model: FileModel, call: ast.Call, shell: bool) -> None:
        self.model = model
        self.call = call
        self.shell = shell
        self.names: set[str] = set()

    def read(self, expr: ast.expr, depth: int) -> Command:
        words, complete = self._words(expr, depth)
        return Command(tuple(words), complete, frozenset(self.names))

    def _words(self, expr: ast.expr, depth: int) -> tuple[list[str | None], bool]:
        if depth > 4:
            return [], False
        if isinstance(expr, (ast.List, ast.Tuple)):
            words: list[str | None] = []
            for element in expr.elts:
                if isinstance(element, ast.Starred):
                    return words, False
                words.append(self._word(element, depth + 1))
            return words, True
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            try:
                parts = shlex.split(expr.value)
            except ValueError:
                return [], False
            return list(parts), True
        if isinstance(expr, ast.JoinedStr):
            head = expr.values[0] if expr.values else None
            if isinstance(head, ast.Constant) and isinstance(head.value, str):
                first = head.value.split()
                if first and (len(first) > 1 or head.value[-1:].isspace()):
                    if not head.value[-1:].isspace():
                        first = first[:-1]  # `f"git log{x}"`: the last word is incomplete
                    return [*first, None], False
            self._collect_names(expr)
            return [None], False
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left, _ = self._words(expr.left, depth + 1)
            return left, False
        if isinstance(expr, ast.Call):
            qual = self.model.qualify(expr.func)
            if qual == "shlex.split" and expr.args:
                return self._words(expr.args[0], depth + 1)
            if qual in ("list", "tuple") and expr.args:
                return self._words(expr.args[0], depth + 1)
            self._collect_names(expr)
            return [], False
        value = self._assigned(expr)
        self._collect_names(expr)
        if value is not None:
            return self._words(value, depth + 1)
        return [], False

    def _word(self, expr: ast.expr, depth: int) -> str | None:
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return expr.value
        qual = self.model.qualify(expr)
        if qual == "sys.executable":
            return "python"
        self._collect_names(expr)
        if isinstance(expr, ast.Call):
            qual = self.model.qualify(expr.func) or ""
            if qual in ("shutil.which", "os.path.join", "str", "os.fspath") or qual.endswith(
                (".join", "Path")
            ):
                consts = [
                    a.value
                    for a in expr.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)
                ]
                if consts and isinstance(expr.args[-1], ast.Constant):
                    return consts[-1]
                if len(expr.args) == 1 and depth <= 4:
                    return self._word(expr.args[0], depth + 1)
            return None
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Div):
            return self._word(expr.right, depth + 1)  # Path(dir) / "bin" / "python3"
        value = self._assigned(expr)
        if value is not None and depth <= 4:
            return self._word(value, depth + 1)
        return None

    def _assigned(self, expr: ast.expr) -> ast.expr | None:
        """The value of a name assigned exactly once in the call's function (else the module)."""
        if not isinstance(expr, ast.Name):
            return None
        fn = self.model.function_of(self.call)
        if fn is not None and not isinstance(fn.node, ast.Lambda):
            values = assignments(self.model, fn.node).get(expr.id, [])
            if values:
                return values[0] if len(values) == 1 else None
        values = assignments(self.model, self.model.tree).get(expr.id, [])
        return values[0] if len(values) == 1 else None

    def _collect_names(self, expr: ast.expr) -> None:
        for node in ast.walk(expr):
            if isinstance(node, ast.Name):
                self.names.add(node.id.lower())
            elif isinstance(node, ast.Attribute):
                self.names.add(node.attr.lower())
            elif isinstance(node, ast.Constant) and node.value in _INTERACTIVE_ENV:
                self.names.add("$" + str(node.value).lower())
        value = self._assigned(expr)
        if value is not None and value is not expr:
            for node in ast.walk(value):
                if isinstance(node, ast.Name):
                    self.names.add(node.id.lower())
                elif isinstance(node, ast.Attribute):
                    self.names.add(node.attr.lower())
                elif isinstance(node, ast.Constant) and node.value in _INTERACTIVE_ENV:
                    self.names.add("$" + str(node.value).lower())


def interactive_reason(model: FileModel, call: CallInfo, command: Command) -> str | None:
    """Why the child is driven by a human (an editor, a pager, a shell...), or None."""
    fn = call.ctx.function
    fn_name = fn.name.lower() if fn is not None else ""
    envs = {env for env in _INTERACTIVE_ENV if "$" + env.lower() in command.names}
    if envs - {"SHELL"} or (envs and not _runs_script(command)):
        # `$SHELL -c "..."` runs a script: not a session
        return "a command read from the user's EDITOR/PAGER/BROWSER/SHELL"
    if any(word in name for word in _INTERACTIVE_WORDS for name in command.names):
        return "an editor, pager or browser"
    if any(word in fn_name for word in _INTERACTIVE_WORDS):
        return "an editor, pager or browser"
    owner = " ".join([*command.names, call.ctx.class_name or "", model.path]).lower()
    if any(word in owner for word in _PROMPTING_HELPERS):
        return "a credential or passphrase helper, which may prompt the user"
    program = command.program
    if program in _VIEWERS or (program in _SHELLS and not _runs_script(command)):
        return "an interactive program"
    if program == "open" and "-W" in command.words:
        return "`open -W` (waits for the user to close the application)"
    if program in ("ssh", "mosh") and command.complete and _ssh_session(command):
        return "an interactive ssh session"
    if (
        program == "git"
        and _git_subcommand(command) == "commit"
        and command.complete
        and not any(
            w is None or w.startswith(("-m", "--message", "-F", "--file", "-C", "--no-edit"))
            for w in command.words[2:]
        )
    ):
        return "`git commit` without a message (it opens the editor)"
    return None


def _runs_script(command: Command) -> bool:
    """`bash -c "..."`, `sh script.sh`: a shell running a script, not a session."""
    return not command.complete or any(
        w is None or w == "-c" or not w.startswith("-") for w in command.words[1:]
    )


def _ssh_session(command: Command) -> bool:
    """`ssh host` with no remote command: a login session."""
    positional = [w for w in command.words[1:] if w is not None and not w.startswith("-")]
    return len(positional) <= 1 and None not in command.words


def inherits_terminal(call: ast.Call, qualname: str) -> bool:
    """The child writes to the user's terminal (stdout not captured or redirected): it runs in
    the user's view, who sees it stall and can answer it or press Ctrl-C."""
    if qualname.endswith(("check_output", "getoutput", "getstatusoutput")):
        return False
    for kw in call.keywords:
        if kw.arg == "capture_output" and not (
            isinstance(kw.value, ast.Constant) and not kw.value.value
        ):
            return False
        if kw.arg == "stdout":
            value = kw.value
            if isinstance(value, ast.Constant) and value.value is None:
                continue
            if dotted(value) in ("sys.stdout", "sys.stderr", "sys.__stdout__"):
                continue
            return False
    return True


def finishes(command: Command) -> bool:
    """A fixed, local command that finishes on its own: its program and subcommand are literal
    and none of them waits on a network, a lock or a person (`git rev-parse`, `uname`,
    `python -c "..."`, `tool --version`)."""
    program = command.program
    if any(w in _SHELL_OPERATORS for w in command.words):
        return False
    if len(command.words) > 1 and any(w in _QUERY_ARGS for w in command.words[1:3]):
        return True
    if program is None:
        # `[py, "-3.12", "-c", "import sys; print(sys.executable)"]`, `py` found at run time
        return _inline_script(command) and any(n.startswith(_INTERPRETERS) for n in command.names)
    if program == "timeout":
        return True  # coreutils `timeout N cmd` bounds the child itself
    if program in _NETWORK_PROGRAMS or program in _INTERACTIVE_PROGRAMS:
        return False
    if program.startswith(_INTERPRETERS):
        rest = command.words[1:]
        return _inline_script(command) or "-m" in rest or (bool(rest) and _is_script(rest[0]))
    if program in _NETWORK_SUBCOMMANDS:
        sub = _git_subcommand(command) if program == "git" else _first_positional(command)
        return sub is not None and sub not in _NETWORK_SUBCOMMANDS[program]
    return True


def _inline_script(command: Command) -> bool:
    """`-c` followed by a literal script."""
    words = list(command.words)
    return any(
        w == "-c" and i + 1 < len(words) and words[i + 1] is not None for i, w in enumerate(words)
    )


def _is_script(word: str | None) -> bool:
    return word is not None and word.endswith(".py")


def _first_positional(command: Command) -> str | None:
    for word in command.words[1:]:
        if word is None:
            return None
        if not word.startswith("-"):
            return word
    return None


_GIT_DISPLAY = frozenset({"diff", "log", "show", "status", "shortlog", "whatchanged"})
"""git subcommands that only show something: they change no repository state."""


def shown_to_the_user(call: ast.Call, qualname: str, command: Command) -> bool:
    """A read-only display (`git --no-pager diff`, `git log`) whose output goes to the user's
    terminal: the child prints its own error there, and its failure changes nothing — the
    dropped status hides no failure a program acts on."""
    return (
        command.program == "git"
        and _git_subcommand(command) in _GIT_DISPLAY
        and inherits_terminal(call, qualname)
    )


def _git_subcommand(command: Command) -> str | None:
    words = command.words[1:]
    skip = False
    for word in words:
        if word is None:
            return None
        if skip:
            skip = False
            continue
        if word in _GIT_OPTIONS_WITH_VALUE:
            skip = True
            continue
        if word.startswith("-"):
            continue
        return word
    return None
