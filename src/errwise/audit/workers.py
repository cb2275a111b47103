"""Worker processes of our own: a small pool that maps a function over batches of items in
fresh interpreters that cannot import the audited code, die with their parent and are stopped
at once.

Promise of `Pool`:
- A worker is `python -P -c BOOT` started in the filesystem root, in its own session, with only
  its two pipes open (stdin: tasks, stdout: results; its stdout is moved away from fd 1, so a
  stray print cannot corrupt them). `-P` puts neither the working directory nor a script's
  directory on `sys.path`, and errwise itself is imported from the parent's package directory,
  passed explicitly, without touching `sys.path`: no module of the audited tree or of the
  caller's working directory can shadow the standard library or errwise in a worker. The
  environment (PYTHONPATH included) is the caller's.
- A worker ends when its stdin closes and, mid-item too, within about `_WATCH_S` seconds of
  its parent's death (a watchdog thread sees `os.getppid()` change): no worker outlives a
  `kill -9` of the pool's process by more than about a second. Workers ignore SIGINT: Ctrl-C
  is the parent's business, which then `close(kill=True)`s them (SIGKILL to each worker's
  process group, then reaped).
- `submit(fn, items, *shared)` runs `fn(items, *shared)` in a worker: an iterator yielding one
  result per item, in order, lazily (the worker says when it starts each item). `poll` returns
  what happened since: `Done(item, result)`; `Lost(item, why, detail)` for an item that ran over
  `item_timeout` seconds (its worker is killed; `why` is "timeout"), whose worker died ("died":
  killed, crashed, out of memory) or whose `fn` raised ("failed", with the traceback text);
  `Returned(items)` for items a lost worker held but had not started: the caller hands them out
  again. A worker that dies before it is ready marks the pool `broken` (with the reason): it
  takes no more work; so does one whose replacement worker cannot be started. The first
  workers not starting at all is the classified `EnvError` from `Pool()`.
- A worker's address space is capped at `memory_limit` bytes (RLIMIT_AS; 0: no cap), so a
  runaway allocation is a `MemoryError` in that worker, not the machine's problem.
- Messages are length-prefixed pickles between this process and the workers it started (never
  anything read from disk); the parent never blocks writing to a worker (a thread per worker
  writes its tasks), so a busy or stuck worker cannot stall it, and a task reaches its worker
  while the parent is busy with its own share.
"""

from __future__ import annotations

import os
import pickle
import queue
import resource
import selectors
import signal
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Final

from errwise.classify import classify
from errwise.error import EnvError, bug, env

__all__ = ["Pool", "Done", "Lost", "Returned", "Outcome", "serve"]

_HEADER: Final = struct.Struct("!Q")
_READ_SIZE: Final = 1 << 20
_WATCH_S: Final = 0.2
"""How often a worker checks that its parent is alive."""
_STOP_GRACE_S: Final = 1.0
"""How long a worker told to stop (stdin closed) has before it is killed."""
_PER_WORKER: Final = 2
"""Tasks in flight per worker: the one it runs and the next, so it never waits for the parent."""

_BOOT: Final = (
    "import importlib.util as u, os, sys\n"
    "p = sys.argv[1]\n"
    "s = u.spec_from_file_location('errwise', os.path.join(p, '__init__.py'),"
    " submodule_search_locations=[p])\n"
    "m = u.module_from_spec(s); sys.modules['errwise'] = m; s.loader.exec_module(m)\n"
    "from errwise.audit.workers import serve\n"
    "serve(int(sys.argv[2]), int(sys.argv[3]))\n"
)
"""The worker's program: errwise from the given package directory, whatever `sys.path` holds."""


@dataclass(frozen=True, slots=True)
class Done:
    item: Any
    result: Any


@dataclass(frozen=True, slots=True)
class Lost:
    item: Any
    why: str
    """'timeout', 'died' or 'failed'."""
    detail: str


@dataclass(frozen=True, slots=True)
class Returned:
    items: list[Any]


Outcome = Done | Lost | Returned


@dataclass(slots=True)
class _Task:
    items: list[Any]
    next: int = 0
    """The index of the next item whose result is due."""
    started: float | None = None
    """When the worker started item `next` (its monotonic clock: the machine's), if it has."""


@dataclass(slots=True)
class _Worker:
    proc: subprocess.Popen[bytes]
    ready: bool = False
    tasks: deque[_Task] = field(default_factory=deque)
    inbox: bytearray = field(default_factory=bytearray)
    outbox: queue.SimpleQueue[bytes | None] = field(default_factory=queue.SimpleQueue)
    """What its writer thread is to write to its stdin; None: close it."""
    closed: bool = False
    """Its stdout reached end of file: it is gone."""


class Pool:
    """Up to `size` worker processes (see the module promise). Use as a context manager, or
    call `close`: workers are killed when the pool is left by an exception."""

    def __init__(self, size: int, *, item_timeout: float | None, memory_limit: int) -> None:
        self.size = size
        self.item_timeout = item_timeout
        self.memory_limit = memory_limit
        self.broken: str | None = None
        """Why the pool takes no more work (a worker could not start), or None."""
        self._workers: list[_Worker] = []
        self._selector = selectors.DefaultSelector()
        self._package = _package_dir()
        try:
            for _ in range(size):
                self._start()
        except BaseException:
            self.close(kill=True)
            raise

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        self.close(kill=exc is not None)

    # -- handing out work ---------------------------------------------------------------------

    def wants(self) -> bool:
        """Would a task submitted now find a worker with room for it?"""
        return self.broken is None and (
            len(self._workers) < self.size or any(len(w.tasks) < _PER_WORKER for w in self._workers)
        )

    def busy(self) -> bool:
        """Is some submitted item not yet accounted for by `poll`?"""
        return any(w.tasks for w in self._workers)

    def submit(self, fn: Callable[..., Iterator[Any]], items: list[Any], *shared: Any) -> bool:
        """Hand `fn(items, *shared)` to the least loaded worker (see the module promise);
        False when the worker it needed could not be started (the pool is `broken` then)."""
        if not self.wants():
            raise bug("Pool.submit() with no worker free: ask wants() first")
        if len(self._workers) < self.size:
            try:
                self._start()
            except EnvError as err:
                self.broken = f"cannot start another worker process: {err}"
                if not self._workers:
                    return False
        worker = min(self._workers, key=lambda w: len(w.tasks))
        data = pickle.dumps((fn, items, shared), protocol=pickle.HIGHEST_PROTOCOL)
        worker.tasks.append(_Task(list(items)))
        worker.outbox.put(_HEADER.pack(len(data)) + data)
        return True

    # -- hearing back -------------------------------------------------------------------------

    def poll(self, timeout: float | None) -> list[Outcome]:
        """Wait up to `timeout` seconds (None: until something happens) for results; return
        every outcome since the last call (see the module promise)."""
        outcomes: list[Outcome] = []
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = self._until_overdue()
            if deadline is not None:
                left = max(0.0, deadline - time.monotonic())
                wait = left if wait is None else min(wait, left)
            if not any(w.tasks for w in self._workers):
                wait = 0.0 if wait is None else wait
            for key, _events in self._selector.select(wait):
                self._receive(key.data, outcomes)
            for worker in list(self._workers):
                if worker.closed:
                    self._lose(worker, "died", _how_it_ended(worker.proc), outcomes)
                else:
                    self._check_time(worker, outcomes)
            if outcomes or (deadline is not None and time.monotonic() >= deadline):
                return outcomes
            if not any(w.tasks for w in self._workers):
                return outcomes

    def _until_overdue(self) -> float | None:
        if self.item_timeout is None:
            return None
        now = time.monotonic()
        waits = [
            max(0.0, w.tasks[0].started + self.item_timeout - now)
            for w in self._workers
            if w.tasks and w.tasks[0].started is not None
        ]
        return min(waits) + 0.01 if waits else None

    def _check_time(self, worker: _Worker, outcomes: list[Outcome]) -> None:
        if self.item_timeout is None or not worker.tasks:
            return
        started = worker.tasks[0].started
        if started is not None and time.monotonic() - started > self.item_timeout:
            self._lose(
                worker, "timeout", f"over the time budget of {self.item_timeout:g} s", outcomes
            )

    def _receive(self, worker: _Worker, outcomes: list[Outcome]) -> None:
        assert worker.proc.stdout is not None
        try:
            chunk = os.read(worker.proc.stdout.fileno(), _READ_SIZE)
        except BlockingIOError:
            return
        if not chunk:
            worker.closed = True
            return
        worker.inbox += chunk
        while len(worker.inbox) >= _HEADER.size:
            (length,) = _HEADER.unpack_from(worker.inbox)
            if len(worker.inbox) < _HEADER.size + length:
                return
            message = pickle.loads(worker.inbox[_HEADER.size : _HEADER.size + length])
            del worker.inbox[: _HEADER.size + length]
            self._handle(worker, message, outcomes)

    def _handle(self, worker: _Worker, message: tuple[Any, ...], outcomes: list[Outcome]) -> None:
        what = message[0]
        if what == "ready":
            worker.ready = True
            return
        task = worker.tasks[0]
        if what == "start":
            task.started = message[1] if task.next < len(task.items) else None
        elif what == "done":
            outcomes.append(Done(task.items[task.next], message[1]))
            task.next += 1
            task.started = None
        elif what == "failed":  # `fn` raised: its iterator is over, the worker goes on
            outcomes.append(Lost(task.items[task.next], "failed", message[1]))
            rest = task.items[task.next + 1 :]
            if rest:
                outcomes.append(Returned(rest))
            worker.tasks.popleft()
        else:  # "end"
            worker.tasks.popleft()

    def _lose(self, worker: _Worker, why: str, detail: str, outcomes: list[Outcome]) -> None:
        """The worker is dead or must die: account for everything it held (the item it was
        on is lost, the others are returned); `submit` starts a replacement when there is
        work. A worker that was never ready breaks the pool: nothing it held is lost."""
        _kill(worker.proc)
        self._forget(worker)
        current = worker.tasks[0] if worker.tasks else None
        on_item = current is not None and current.next < len(current.items)
        returned: list[Any] = []
        for task in worker.tasks:
            returned.extend(task.items[task.next :])
        worker.tasks.clear()
        if worker.ready and on_item:
            outcomes.append(Lost(returned.pop(0), why, detail))
        elif not worker.ready and self.broken is None:
            self.broken = f"a worker process ended before it was ready ({detail})"
        if returned:
            outcomes.append(Returned(returned))

    # -- life and death -----------------------------------------------------------------------

    def _start(self) -> None:
        command = [
            sys.executable,
            "-P",
            "-c",
            _BOOT,
            self._package,
            str(os.getpid()),
            str(self.memory_limit),
        ]
        try:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                cwd=os.path.abspath(os.sep),
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            raise classify(exc).with_context(command=sys.executable) from exc
        assert proc.stdin is not None and proc.stdout is not None
        worker = _Worker(proc)
        try:
            os.set_blocking(proc.stdout.fileno(), False)
            # Its own thread writes the tasks (blocking): a worker busy with a file, or stuck,
            # stalls that thread only, and a task reaches its worker while this process scans.
            threading.Thread(
                target=_feed, args=(proc.stdin, worker.outbox), name="errwise-feed", daemon=True
            ).start()
        except BaseException:
            _kill(proc)
            raise
        self._selector.register(proc.stdout.fileno(), selectors.EVENT_READ, worker)
        self._workers.append(worker)

    def _forget(self, worker: _Worker) -> None:
        """Take a (dead) worker out of the pool and close its pipes."""
        if worker in self._workers:
            self._workers.remove(worker)
        worker.outbox.put(None)  # its writer thread closes its stdin
        stream = worker.proc.stdout
        if stream is not None and not stream.closed:
            registered = self._selector.get_map()
            if registered is not None and stream.fileno() in registered:
                self._selector.unregister(stream.fileno())
            stream.close()

    def close(self, *, kill: bool = False) -> None:
        """Stop every worker and reap it: at once with `kill` (an interrupt, an error), else by
        closing its stdin and killing it if it is not gone after `_STOP_GRACE_S`. Idempotent."""
        workers, self._workers = self._workers, []
        if self._selector.get_map() is None:
            return
        try:
            if not kill:
                for worker in workers:
                    worker.outbox.put(None)  # the end of its stdin, once its tasks are written
                deadline = time.monotonic() + _STOP_GRACE_S
                for worker in workers:
                    try:
                        worker.proc.wait(max(0.0, deadline - time.monotonic()))
                    except subprocess.TimeoutExpired:
                        break  # the rest is killed below
        finally:
            for worker in workers:
                _kill(worker.proc)
                self._forget(worker)
            self._selector.close()


def _package_dir() -> str:
    """errwise's package directory, which workers import it from."""
    import errwise

    init: str | None = getattr(errwise, "__file__", None)
    if not init or not os.path.isfile(init):
        raise env("ERR_NOT_FOUND", "errwise is not imported from a directory", where=repr(init))
    return os.path.dirname(os.path.abspath(init))


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker's process group (its session: itself, and anything it started),
    then reap it."""
    if proc.returncode is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # already gone (a zombie is still a group member: this is not reached then)
        except PermissionError:
            proc.kill()  # not our group any more (it called setsid again): the process at least
    proc.wait()


def _feed(stdin: IO[bytes], outbox: queue.SimpleQueue[bytes | None]) -> None:
    """A worker's writer thread: write what is put in `outbox` to the worker's stdin until
    None comes, then close it. Only this thread touches the worker's stdin."""
    fd = stdin.fileno()
    try:
        while (data := outbox.get()) is not None:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
    except BrokenPipeError:
        return  # the worker is gone: the pool hears it from its stdout's end of file
    finally:
        stdin.close()


def _how_it_ended(proc: subprocess.Popen[bytes]) -> str:
    try:
        code = proc.wait(_STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        return "it closed its pipe"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


# -- the worker side ---------------------------------------------------------------------------


def serve(parent: int, memory_limit: int) -> None:
    """The worker's main loop (see the module promise); never returns."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tasks = os.dup(0)
    results = os.dup(1)
    os.dup2(2, 1)  # a stray print goes to stderr, not into the results
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    threading.Thread(target=_watch, args=(parent,), name="errwise-watchdog", daemon=True).start()
    if memory_limit > 0:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or memory_limit < hard:
            resource.setrlimit(resource.RLIMIT_AS, (memory_limit, hard))
    _write(results, ("ready",))
    with os.fdopen(tasks, "rb", buffering=0) as source:
        while True:
            task = _read(source)
            if task is None:
                os._exit(0)  # stdin closed: the parent is done (or gone)
            _run(results, task)


def _run(results: int, task: bytes) -> None:
    """Run one task, saying when each item starts and what it gave."""
    try:
        fn, items, shared = pickle.loads(task)
        outcomes = iter(fn(items, *shared))
        while True:
            _write(results, ("start", time.monotonic()))
            try:
                result = next(outcomes)
            except StopIteration:
                break
            _write(results, ("done", result))
    # errwise: ignore[broad-catch] -- a bug in `fn` is reported for its item, the worker goes on
    except Exception:
        _write(results, ("failed", traceback.format_exc(limit=-8)))
        return
    _write(results, ("end",))


def _read(source: Any) -> bytes | None:
    """The next message's bytes; None at end of file."""
    header = _read_exactly(source, _HEADER.size)
    if header is None:
        return None
    (length,) = _HEADER.unpack(header)
    return _read_exactly(source, length)


def _read_exactly(source: Any, size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = source.read(size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def _write(fd: int, message: tuple[Any, ...]) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    try:
        while view:
            view = view[os.write(fd, view) :]
    except BrokenPipeError:
        os._exit(0)  # the parent is gone


def _watch(parent: int) -> None:
    """End this worker as soon as its parent is gone (even mid-item)."""
    while os.getppid() == parent:
        time.sleep(_WATCH_S)
    os._exit(1)
