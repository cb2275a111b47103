"""The sweep's in-child agent: code that runs inside the command under test.

Promise: loaded by `-p errwise.sweep.agent.plugin` (pytest) or by the interpreter bootstrap
(`sitecustomize`, any other command) that `errwise.sweep.agent.launch.child_env` sets up, it
records the I/O sites each test reaches, or arms exactly one fault and proves its verdict, and
writes one JSON file outside the project. Without its `ERRWISE_SWEEP_*` environment it does
nothing. Importing this package imports nothing else.
"""
