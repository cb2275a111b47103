"""Run `errwise` in a child process with the fake agent installed (for Ctrl-C and kill tests)."""

from __future__ import annotations

import sys

import sweep_fake

from errwise.cli import main

if __name__ == "__main__":
    sweep_fake.install(setattr)
    sys.exit(main(sys.argv[1:]))
