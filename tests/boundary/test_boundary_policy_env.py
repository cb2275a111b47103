"""Policy from the environment: every `ERRWISE_*` setting reaches the code that reads the process
policy (every guard, `staged_output`, logging) with no call to `policy.load()` or `run_main`; an
invalid value is one warning per process naming the variable and the allowed values.

Each test runs a fresh interpreter: the environment is read once per process.
"""

from __future__ import annotations

import json
from pathlib import Path

from boundary_helpers import child_env, run_python

GUARDS_IN_THREADS = """
import json, sys, threading
import errwise

@errwise.guard(fallback="fell back")
def decorated():
    raise OSError(5, "boom")

results = []
def worker():
    results.append(decorated())
    with errwise.guard() as g:
        raise ValueError("inside with")
    results.append(g.disabled)

threads = [threading.Thread(target=worker) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
sys.stdout.write(json.dumps(results))
"""


def test_on_error_disable_reaches_every_guard_without_any_call() -> None:
    proc = run_python(["-c", GUARDS_IN_THREADS], env=child_env(ERRWISE_ON_ERROR="disable"))
    assert proc.returncode == 0, proc.stderr
    assert sorted(map(str, json.loads(proc.stdout))) == ["True"] * 3 + ["fell back"] * 3


def test_without_the_variable_guards_abort() -> None:
    code = (
        "import errwise\n"
        "@errwise.guard(fallback=1)\n"
        "def f():\n"
        "    raise OSError(5, 'boom')\n"
        "try:\n"
        "    f()\n"
        "except errwise.Error as err:\n"
        "    print('raised', err.code)\n"
    )
    proc = run_python(["-c", code], env=child_env())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "raised ERR_IO"


def test_every_documented_variable_sets_the_process_policy() -> None:
    env = child_env(
        ERRWISE_ON_ERROR="Disable",
        ERRWISE_KEEP_PARTIAL="yes",
        ERRWISE_LOG_LEVEL="ERROR",
        ERRWISE_LOG_FILE="/tmp/errwise-env.log",
        ERRWISE_JSON_ERRORS="1",
    )
    code = (
        "import dataclasses, json, sys\n"
        "from errwise import policy\n"
        "sys.stdout.write(json.dumps(dataclasses.asdict(policy.current())))\n"
    )
    proc = run_python(["-c", code], env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "on_error": "disable",
        "keep_partial": True,
        "log_level": "error",
        "log_file": "/tmp/errwise-env.log",
        "json_errors": True,
    }
    assert proc.stderr == ""


def test_keep_partial_from_the_environment_keeps_a_failed_output(tmp_path: Path) -> None:
    code = (
        "import os, sys\n"
        "import errwise\n"
        "dest = os.path.join(sys.argv[1], 'out')\n"
        "try:\n"
        "    with errwise.staged_output(dest) as staging:\n"
        "        (staging / 'half.txt').write_text('half')\n"
        "        raise RuntimeError('stop')\n"
        "except RuntimeError:\n"
        "    pass\n"
        "print(sorted(os.listdir(dest + '.partial')))\n"
    )
    proc = run_python(["-c", code, str(tmp_path)], env=child_env(ERRWISE_KEEP_PARTIAL="1"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['PARTIAL.json', 'half.txt']"


def test_an_invalid_value_warns_once_naming_the_variable_and_uses_the_default() -> None:
    code = (
        "import errwise\n"
        "@errwise.guard(fallback=1)\n"
        "def f():\n"
        "    raise OSError(5, 'boom')\n"
        "outcomes = []\n"
        "for _ in range(5):\n"
        "    try:\n"
        "        outcomes.append(f())\n"
        "    except errwise.Error as err:\n"
        "        outcomes.append(err.code)\n"
        "print(outcomes, errwise.policy.current().log_level)\n"
    )
    env = child_env(ERRWISE_ON_ERROR="ignore", ERRWISE_LOG_LEVEL="loud")
    proc = run_python(["-c", code], env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['ERR_IO', 'ERR_IO', 'ERR_IO', 'ERR_IO', 'ERR_IO'] warning"
    warnings = [line for line in proc.stderr.splitlines() if "RuntimeWarning" in line]
    assert len(warnings) == 2, proc.stderr
    on_error, log_level = sorted(warnings, key=lambda line: "ERRWISE_LOG_LEVEL" in line)
    assert "ERRWISE_ON_ERROR='ignore'" in on_error and "abort | disable" in on_error
    assert "ERRWISE_LOG_LEVEL='loud'" in log_level
    assert "debug | info | warning | error | critical" in log_level


def test_set_current_and_load_still_override_the_environment() -> None:
    code = (
        "import errwise\n"
        "from errwise import policy\n"
        "previous = policy.set_current(errwise.Policy(on_error='abort'))\n"
        "print(previous.on_error, policy.current().on_error,"
        " policy.load(on_error='abort').on_error)\n"
    )
    proc = run_python(["-c", code], env=child_env(ERRWISE_ON_ERROR="disable"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["disable", "abort", "abort"]


def test_run_main_reports_an_invalid_variable_once_as_a_usage_error() -> None:
    code = "import sys, errwise\nsys.exit(errwise.run_main(lambda: 0))\n"
    proc = run_python(["-c", code], env=child_env(ERRWISE_ON_ERROR="ignore"))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("ERRWISE_ON_ERROR") == 1, proc.stderr
    assert "RuntimeWarning" not in proc.stderr
