"""`make fuzz`'s driver: a hang is caught by the watchdog, a crash is minimised and written out.

The failures are injected (`FUZZ_INJECT`, see `fuzz_run.checker`) into the programs of fixed
seeds: seed 3's program has a `match` statement (it "hangs"), seeds 1 and 3 name `name_1`
(they "crash"), seeds 0 and 2 have neither.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pysource_codegen import generate

DRIVER = Path(__file__).with_name("fuzz_run.py")
NODE_LIMIT = 60
DRIVE = [sys.executable, str(DRIVER), "--node-limit", str(NODE_LIMIT)]


def test_the_seeds_hold_what_the_injection_needs() -> None:
    programs = [generate(seed, node_limit=NODE_LIMIT) for seed in range(4)]
    assert ["match " in p for p in programs] == [False, False, False, True]
    assert ["name_1" in p for p in programs] == [False, True, False, True]


def test_hang_and_crash_are_reported_and_minimised(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["-n", "4", "--jobs", "2", "--timeout", "1.5", "--minimize-budget", "3"]
    done = subprocess.run(
        [*DRIVE, *args, "--out", str(out)],
        env={**os.environ, "FUZZ_INJECT": "hang:match ,crash:name_1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    # seeds 0-2 as generated and dressed, seed 3 until it hangs
    assert (summary["seeds_checked"], summary["programs"]) == (3, 7)
    assert summary["hangs"] == [[3, "generated"]]
    # dressing renames `name_1`: only the program as generated shows the crash
    assert summary["crash_seeds"] == {"InjectedCrash": [[1, "generated"]]}
    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    assert sorted((f["seed"], f["variant"]) for f in failures) == [
        (1, "generated"),
        (3, "generated"),
    ]
    crash = out / "seed1-generated-InjectedCrash.py"
    assert f"minimised: {crash}" in done.stdout
    # pysource-minimize keeps only what the failure needs: the one name
    assert crash.read_text().splitlines()[1:] == ["name_1"]
    hang = out / "seed3-generated-hang.py"
    assert f"minimised: {hang}" in done.stdout
    assert "match " in hang.read_text()
    assert "hangs:              1 3/generated\n" in done.stdout


def test_a_clean_run_exits_zero(tmp_path: Path) -> None:
    done = subprocess.run(
        [*DRIVE, "-n", "2", "--jobs", "1", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert (summary["programs"], summary["internal_errors"], summary["hangs"]) == (4, 0, [])
    assert (tmp_path / "failures.jsonl").read_text() == ""


def test_a_generated_program_that_does_not_parse_is_audited_not_dressed(tmp_path: Path) -> None:
    # pysource-codegen's program for seed 5750 has a backslash in an f-string expression,
    # which Python 3.11 does not parse: errwise says ERR_PARSE, and there is nothing to dress
    done = subprocess.run(
        [sys.executable, str(DRIVER), "-n", "1", "--start", "5750", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert done.returncode == 0, done.stdout + done.stderr
    assert (summary["programs"], summary["undressed"], summary["worker_deaths"]) == (1, 1, {})
    assert summary["diagnostics"] == {"ERR_PARSE": 1}
