"""The four kinds of error and the process exit code each one maps to.

Promise: the mapping below is stable (see ../shared/design.md); changing it is a breaking change.
"""

from __future__ import annotations

import enum

__all__ = ["Kind", "EXIT_INTERRUPTED", "EXIT_TERMINATED", "EXIT_OK", "EXIT_FINDINGS"]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class Kind(enum.Enum):
    """Who is to blame, which decides the exit code and who must act."""

    USAGE = "usage"
    """The caller asked for something invalid: bad flags, bad config, bad arguments."""
    ENVIRONMENT = "environment"
    """The world failed: I/O, permissions, a full disk, a missing tool, a timeout."""
    TARGET = "target"
    """The code errwise guards or runs raised or misbehaved."""
    INTERNAL = "internal"
    """A bug in the program itself."""

    @property
    def exit_code(self) -> int:
        """The process exit code for an error of this kind."""
        return _EXIT_CODES[self]


_EXIT_CODES = {Kind.USAGE: 2, Kind.ENVIRONMENT: 10, Kind.TARGET: 20, Kind.INTERNAL: 70}
