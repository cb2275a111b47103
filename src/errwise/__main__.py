"""`python -m errwise`: the `errwise` command, for environments where its script is not on PATH."""

from errwise.cli import console_main

console_main()
