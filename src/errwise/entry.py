"""The command-line entry boundary: `run_main(main)` turns whatever happens into an exit code.

Promise (`sys.exit(errwise.run_main(main))`):
- The policy is loaded (environment, and flags when a parser is given) and installed before
  `main` runs; a bad policy value is a usage error, exit 2.
- Exit codes follow the error kind (2 usage, 10 environment, 20 target, 70 internal); an
  unclassified exception is 70 with a message that says it is a bug and where the traceback went;
  Ctrl-C is 130 and SIGTERM 143, each with one line and no traceback, after the same cleanup path
  (SIGTERM raises `Terminated`, a `KeyboardInterrupt`, so `finally` blocks and interrupt handlers
  run). `sys.exit(n)` inside `main` returns n. A stdout closed early (`| head`) exits 141, quietly.
- The human message goes to stderr (never stdout), hints as `hint: …` lines. With `json_errors`
  on, exactly one JSON line (design.md's form plus `run_id`) is written to stderr last, whatever
  happened; on success or a plain `sys.exit` its error fields are null.
- Every error is counted once in `errwise.metrics`; log handlers are flushed and closed; the
  previous process policy and signal handlers are restored before returning.
- With `hard_exit=True` it does not return: once all of the above is done and stdout and stderr
  are flushed, the process ends with the exit code (`os._exit`), before anything `main` built —
  an interrupted `main`'s frames included — is freed.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import logging
import os
import select
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any, NoReturn, overload

from errwise import policy as _policy
from errwise.classify import classify
from errwise.diagnostics import configure_logging, log_error, remove_logging
from errwise.error import Error, bug, env, usage
from errwise.kind import EXIT_INTERRUPTED, EXIT_TERMINATED, Kind
from errwise.metrics import count_error
from errwise.runid import run_id

__all__ = ["EXIT_BROKEN_PIPE", "Terminated", "entrypoint", "run_main"]

EXIT_BROKEN_PIPE = 141
"""Exit code when stdout was closed by its reader (128 + SIGPIPE, as a shell reports it)."""


class Terminated(KeyboardInterrupt):
    """Raised in the main thread by `run_main`'s SIGTERM handler; a KeyboardInterrupt, so the
    cleanup that runs for Ctrl-C runs for SIGTERM too."""


@dataclass(slots=True)
class _Outcome:
    exit_code: int
    error: Error | None = None
    message: str | None = None
    """A one-line human message for outcomes that are not errors (a signal, a broken pipe)."""
    quiet: bool = False
    """The human message was printed already (argparse prints its own usage errors)."""


@overload
def run_main(
    main: Callable[[], object],
    argv: None = None,
    *,
    configure_logs: bool = True,
    hard_exit: bool = False,
) -> int: ...


@overload
def run_main(
    main: Callable[[argparse.Namespace], object],
    argv: Sequence[str] | None = None,
    *,
    parser: argparse.ArgumentParser,
    configure_logs: bool = True,
    hard_exit: bool = False,
) -> int: ...


def run_main(
    main: Callable[..., object],
    argv: Sequence[str] | None = None,
    *,
    parser: argparse.ArgumentParser | None = None,
    configure_logs: bool = True,
    hard_exit: bool = False,
) -> int:
    """Run `main` inside the entry boundary and return the process exit code.

    Without `parser`, `main()` is called with no arguments and the policy comes from the
    environment. With `parser`, the policy flags are added to it (unless already present), `argv`
    (default `sys.argv[1:]`) is parsed, the policy is loaded from flags and environment, and
    `main(namespace)` is called. `main` returns an exit code (an int) or None for 0.
    With `configure_logs` (the default) logging is set up from the policy (`configure_logging`)
    for the run; pass False when the application configures logging itself (the policy's
    log_level and log_file are then the application's business).
    With `hard_exit`, the process ends right there (`os._exit` with the exit code, once the
    outcome is reported, the logs closed and stdout and stderr flushed) instead of returning:
    what `main` allocated is not torn down object by object, so a command line that built a
    large structure, or was interrupted in the middle of building one, ends at once. Only for a
    program whose process ends with the call anyway: `atexit` handlers do not run.
    """
    if not callable(main):
        raise usage("ERR_USAGE", "run_main() takes a callable main", got=type(main).__name__)
    if parser is not None and not isinstance(parser, argparse.ArgumentParser):
        raise usage(
            "ERR_USAGE", "run_main(parser=...) takes an argparse.ArgumentParser", got=repr(parser)
        )
    if argv is not None:
        if parser is None:
            raise usage("ERR_USAGE", "run_main(argv=...) needs parser=: main takes no arguments")
        if isinstance(argv, str) or not all(isinstance(a, str) for a in argv):
            raise usage("ERR_USAGE", "run_main() argv must be a sequence of str", got=repr(argv))
    if type(configure_logs) is not bool:
        raise usage("ERR_USAGE", "run_main(configure_logs=...) must be a bool")
    if type(hard_exit) is not bool:
        raise usage("ERR_USAGE", "run_main(hard_exit=...) must be a bool")
    prog = parser.prog if parser is not None else _prog_name()
    run = _Run(main, argv, parser, prog, configure_logs)
    code = run.execute()
    if hard_exit:
        # `run` still holds an interrupt's traceback, so nothing `main` built is freed first.
        _end_process(code)
    return code


def _end_process(code: int) -> NoReturn:
    """`os._exit(code)` once what was written is flushed."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        # errwise: ignore[swallowed-exception] -- run_main already flushed and reported both
        # streams; a failure now (a reader gone) has nothing left to lose or to report to
        except (OSError, ValueError):
            continue
    os._exit(code)


def entrypoint(main: Callable[[], object]) -> Callable[[], NoReturn]:
    """Decorator form: `@errwise.entrypoint def main(): ...`; calling `main()` runs it through
    `run_main` and exits the process with its exit code."""
    if not callable(main):
        raise usage("ERR_USAGE", "entrypoint decorates a callable", got=type(main).__name__)

    @functools.wraps(main)
    def run() -> NoReturn:
        sys.exit(run_main(main))

    return run


def _prog_name() -> str:
    return os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"


class _Run:
    """One run of `run_main`: state shared by its phases."""

    def __init__(
        self,
        main: Callable[..., object],
        argv: Sequence[str] | None,
        parser: argparse.ArgumentParser | None,
        prog: str,
        configure_logs: bool,
    ) -> None:
        self.main = main
        self.configure_logs = configure_logs
        self.argv = list(argv) if argv is not None else None
        self.parser = parser
        self.prog = prog
        # Not `current()`: that would read (and warn about) the environment, which `load()` below
        # reads again and reports as an error.
        self.policy = _policy._installed() or _policy.Policy()
        self.logs_to_file = False
        self.restore_sigterm: Callable[[], None] | None = None
        self.parse_failed = False
        self.interrupt: KeyboardInterrupt | None = None
        """The interrupt that ended `main`, kept (with its traceback, so with what `main`'s
        frames hold) for `hard_exit`, which ends the process without freeing any of it."""

    def execute(self) -> int:
        previous_policy = _policy._installed()
        self.restore_sigterm = _install_sigterm()
        try:
            outcome = self._guarded()
            try:
                self._report(outcome)
            except Terminated:
                return EXIT_TERMINATED  # a signal while reporting: stop talking, keep the code
            except KeyboardInterrupt:
                return EXIT_INTERRUPTED
            return outcome.exit_code
        finally:
            if self.configure_logs:
                remove_logging()
            _policy._reinstall(previous_policy)
            if self.restore_sigterm is not None:
                self.restore_sigterm()

    def _guarded(self) -> _Outcome:
        """Run the phases; every exception becomes an outcome (the boundary's one job)."""
        try:
            return self._phases()
        except Terminated as exc:
            self.interrupt = exc
            return _Outcome(EXIT_TERMINATED, message="terminated (SIGTERM)")
        except KeyboardInterrupt as exc:
            self.interrupt = exc
            return _Outcome(EXIT_INTERRUPTED, message="interrupted (Ctrl-C)")
        except SystemExit as exc:
            return self._system_exit(exc)
        except BrokenPipeError as exc:
            if _stdout_is_broken():
                return _Outcome(EXIT_BROKEN_PIPE)
            err = classify(exc)
            return _Outcome(err.exit_code, error=err)
        # errwise: ignore[broad-catch] -- the top-level boundary: every failure becomes an exit code
        except Exception as exc:
            err = classify(exc)
            return _Outcome(err.exit_code, error=err)

    def _phases(self) -> _Outcome:
        args = self._load_policy()
        if self.configure_logs:
            try:
                configure_logging(self.policy, prog=self.prog)
            except Error as err:
                # The policy's log file cannot be opened: report on stderr, with no log handler.
                return _Outcome(err.exit_code, error=err)
            self.logs_to_file = self.policy.log_file is not None
        result = self.main(args) if args is not None else self.main()
        code = self._exit_code(result)
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            return _Outcome(EXIT_BROKEN_PIPE)
        except OSError as exc:  # e.g. stdout redirected to a full disk: the output is lost
            raise classify(exc).with_context(stream="stdout") from exc
        return _Outcome(code)

    def _load_policy(self) -> argparse.Namespace | None:
        args: argparse.Namespace | None = None
        if self.parser is not None:
            # The parser may carry the policy flags already (added by the application).
            with contextlib.suppress(argparse.ArgumentError):
                _policy.add_arguments(self.parser)
            try:
                args = self.parser.parse_args(self.argv)
            except SystemExit:
                # argparse printed its message (or --help); honour --json-errors for the last line.
                self.policy = _fallback_policy(self.argv)
                self.parse_failed = True
                raise
        try:
            self.policy = _policy.load(args)
        except Error:
            self.policy = _fallback_policy(self.argv if self.parser is not None else [])
            raise
        _policy.set_current(self.policy)
        return args

    def _exit_code(self, result: object) -> int:
        if result is None:
            return 0
        if type(result) is int and 0 <= result <= 255:
            return result
        raise bug(
            "main() must return an exit code (an int from 0 to 255) or None", got=repr(result)
        ).add_hint("return 0 for success, or raise an errwise error for a failure")

    def _system_exit(self, exc: SystemExit) -> _Outcome:
        code = exc.code
        if self.parse_failed and code == 2:
            err = usage("ERR_USAGE", "invalid command line; the usage message above says why")
            return _Outcome(2, error=err, quiet=True)
        if code is None:
            return _Outcome(0)
        if type(code) is int:
            return _Outcome(code & 0xFF if code >= 0 else 1)
        # sys.exit("message"): Python prints the message and exits 1; keep that meaning.
        return _Outcome(1, message=str(code))

    # -- reporting ----------------------------------------------------------------------------

    def _report(self, outcome: _Outcome) -> None:
        err = outcome.error
        where = ""
        if err is not None:
            count_error(err)
            where = self._log(err)
        elif outcome.exit_code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
            count_error(env("ERR_INTERRUPTED", outcome.message or "interrupted"))
        if outcome.exit_code == EXIT_BROKEN_PIPE:
            _silence_stdout()
        else:
            with contextlib.suppress(OSError, ValueError):
                sys.stdout.flush()
        lines = [] if outcome.quiet else self._human_lines(outcome, where)
        json_line = self._json_line(outcome) if self.policy.json_errors else None
        if self.configure_logs:
            remove_logging()  # flush the logs before the last lines, which must come last
        _write_stderr(lines + ([json_line] if json_line is not None else []))

    def _log(self, err: Error) -> str:
        """Log the error once; return where its traceback went (for a bug's message).

        With a log file, every error is logged there at ERROR with its traceback. On stderr, a
        classified error is logged at DEBUG only (its message says it all); a bug's traceback is
        logged at ERROR, or written directly when the log level hides errors.
        """
        serious = self.logs_to_file or err.kind is Kind.INTERNAL
        level = logging.ERROR if serious or not self.configure_logs else logging.DEBUG
        logger = logging.getLogger("errwise")
        try:
            if logger.isEnabledFor(level):
                log_error(err, logger, level=level)
                if not self.configure_logs:
                    return "the traceback went to the application's log (logger 'errwise')"
                if self.logs_to_file:
                    return f"the traceback is in the log file {self.policy.log_file}"
                return "the traceback is printed above"
        # errwise: ignore[broad-catch] -- a failing log handler must not change the exit code
        except Exception as exc:
            _write_stderr([f"{self.prog}: cannot log the error: {classify(exc)}"])
        if err.kind is Kind.INTERNAL:
            _write_stderr(["".join(traceback.format_exception(err)).rstrip("\n")])
            return "the traceback is printed above"
        return ""

    def _human_lines(self, outcome: _Outcome, where: str) -> list[str]:
        err = outcome.error
        if err is None:
            return [f"{self.prog}: {outcome.message}"] if outcome.message else []
        if err.kind is Kind.INTERNAL:
            lines = [f"{self.prog}: internal error (a bug): {err}"]
            lines += [f"hint: {hint}" for hint in err.hints]
            lines.append(f"hint: {where}; please report this bug in {self.prog}")
            return lines
        return [f"{self.prog}: error: {err}"] + [f"hint: {hint}" for hint in err.hints]

    def _json_line(self, outcome: _Outcome) -> str:
        err = outcome.error
        if err is not None:
            data: dict[str, Any] = err.to_dict()
        else:
            data = {
                "code": None,
                "kind": None,
                "title": None,
                "message": outcome.message,
                "context": {},
                "hints": [],
                "recoverable": None,
                "cause": None,
            }
            if outcome.exit_code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
                interrupted = env("ERR_INTERRUPTED", outcome.message or "interrupted")
                data = interrupted.to_dict()
        data["exit_code"] = outcome.exit_code
        data["run_id"] = run_id()
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _fallback_policy(argv: Sequence[str] | None) -> _policy.Policy:
    """The policy to report a failed policy load with: the defaults, with json_errors on when
    the command line (last flag wins) or the environment asks for it, whatever else was wrong."""
    json_errors: bool | None = None
    for arg in sys.argv[1:] if argv is None else argv:
        if arg in ("--json-errors", "--no-json-errors"):
            json_errors = arg == "--json-errors"
    if json_errors is None:
        raw = os.environ.get(_policy.ENV_VARS["json_errors"], "")
        json_errors = raw.strip().lower() in ("1", "true", "yes", "on")
    return _policy.Policy(json_errors=json_errors)


def _install_sigterm() -> Callable[[], None] | None:
    """Make SIGTERM raise `Terminated` in the main thread; return a function restoring it."""
    if threading.current_thread() is not threading.main_thread():
        return None
    previous = signal.getsignal(signal.SIGTERM)
    if previous not in (signal.SIG_DFL, None):
        return None  # the application handles SIGTERM itself

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise Terminated("SIGTERM")

    signal.signal(signal.SIGTERM, on_sigterm)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore


def _stdout_is_broken() -> bool:
    """Is stdout a pipe whose reader has gone (so a BrokenPipeError came from our output)?"""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return True
    except (OSError, ValueError):
        return False
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        events = poller.poll(0)
    except (OSError, ValueError, AttributeError):
        return False
    return any(mask & select.POLLERR for _fd, mask in events)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _write_stderr(lines: list[str]) -> None:
    if not lines:
        return
    # stderr is the last channel; if it is gone too, the exit code is all that is left.
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write("".join(line + "\n" for line in lines))
        sys.stderr.flush()
