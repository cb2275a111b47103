"""A transparent file object that routes read/write/flush/close/fileno through the dispatcher.

Promise: `FaultFile(raw, name)` behaves as `raw` does — context manager, iteration, attribute
access, `isinstance(f, type(raw))` — except that each read, write, flush, close and fileno call
may be failed by an active plan. A short read returns fewer bytes than asked for (the rest stays
in the file); a short write writes a prefix and returns its length; a failed close still closes
the underlying file (as close(2) releases the descriptor) before raising.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any

from errwise.faults.dispatch import busy, dispatch
from errwise.faults.errors import make_error

__all__ = ["FaultFile"]

_NOT_SHORT = ("short",)


class FaultFile:
    """Wraps an open file; see the module docstring."""

    __slots__ = ("_errwise_file", "_errwise_name")

    def __init__(self, raw: Any, name: str | None) -> None:
        object.__setattr__(self, "_errwise_file", raw)
        object.__setattr__(self, "_errwise_name", name)

    # transparency
    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return type(self._errwise_file)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_errwise_"):  # a copy made without __init__: no recursion
            raise AttributeError(name)
        return getattr(self._errwise_file, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._errwise_file, name, value)

    def __repr__(self) -> str:
        return repr(self._errwise_file)

    def __enter__(self) -> FaultFile:
        self._errwise_file.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        self._fault("file.read", _NOT_SHORT)
        return next(self._errwise_file)

    def _unwritten(self) -> tuple[str, ...]:
        """What a flush or close of a file opened for reading only cannot get: it has nothing
        to write, so no write(2) error (a full disk, a quota, a broken pipe)."""
        return () if self._errwise_file.writable() else _WRITE_SIDE

    def _fault(self, operation: str, exclude: tuple[str, ...] = ()) -> str | None:
        injection = dispatch(operation, self._errwise_name, build=_bare(operation), exclude=exclude)
        if injection is None:
            return None
        if injection.exception is not None:
            raise injection.exception
        return injection.fault

    # reads
    def read(self, size: int | None = -1, /) -> Any:
        if self._fault("file.read") == "short":
            if size is None or size < 0:
                size = _half(_remaining(self._errwise_file))
            else:
                size = max(1, size // 2) if size else 0
        return self._errwise_file.read(size)

    def read1(self, size: int = -1, /) -> Any:
        if self._fault("file.read") == "short" and size > 1:
            size //= 2
        return self._errwise_file.read1(size)

    def readinto(self, buffer: Any, /) -> Any:
        if self._fault("file.read") == "short":
            view = memoryview(buffer).cast("B")
            return self._errwise_file.readinto(view[: max(1, len(view) // 2)])
        return self._errwise_file.readinto(buffer)

    def readline(self, size: int | None = -1, /) -> Any:
        self._fault("file.read", _NOT_SHORT)
        return self._errwise_file.readline(size)

    def readlines(self, hint: int = -1, /) -> Any:
        self._fault("file.read", _NOT_SHORT)
        return self._errwise_file.readlines(hint)

    # writes
    def write(self, data: Any, /) -> Any:
        if self._fault("file.write") == "short":
            return self._errwise_file.write(data[: len(data) // 2])
        return self._errwise_file.write(data)

    def writelines(self, lines: Iterable[Any], /) -> None:
        self._fault("file.write", _NOT_SHORT)
        self._errwise_file.writelines(lines)

    def flush(self) -> None:
        self._fault("file.flush", self._unwritten())
        self._errwise_file.flush()

    def fileno(self) -> int:
        self._fault("file.fileno")
        result: int = self._errwise_file.fileno()
        return result

    def close(self) -> None:
        if self._errwise_file.closed:
            self._errwise_file.close()
            return
        injection = dispatch(
            "file.close", self._errwise_name, build=_bare("file.close"), exclude=self._unwritten()
        )
        if injection is not None and injection.exception is not None:
            with busy():
                self._errwise_file.close()
            raise injection.exception
        self._errwise_file.close()


_WRITE_SIDE = ("ENOSPC", "EDQUOT", "EFBIG", "EPIPE", "EAGAIN")


def _bare(operation: str) -> Callable[[str], BaseException | None]:
    """Errors of calls on an open file name no file, as the real ones do."""
    return lambda fault: None if fault == "short" else make_error(operation, fault)


def _remaining(raw: Any) -> int:
    """Bytes (or characters) left to read in a seekable file; 2 when unknown."""
    with busy():
        if not raw.seekable():
            return 2
        here = raw.tell()
        end = raw.seek(0, 2)
        raw.seek(here)
    return int(end - here) if isinstance(end, int) and isinstance(here, int) else 2


def _half(count: int) -> int:
    return max(1, count // 2)
