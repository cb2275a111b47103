"""A stand-in for a test command under the sweep agent (run as a script, never collected).

It reads the request the fake `agent_env` (sweep_fake.py) put in FAKE_SWEEP and the project's
scenario.json, and writes a contract-2 agent report, as the real agent would; or hangs, dies
or gets killed, as a scenario says, so the orchestrator's own failure paths can be tested.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any


def main() -> None:
    request = json.loads(os.environ["FAKE_SWEEP"])
    scenario = json.loads(Path("scenario.json").read_text(encoding="utf-8"))
    count = 0
    if request["mode"] == "record":  # record runs are serial: count them for flaky outcomes
        counter = Path(scenario["counter"])
        count = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(count))
    if scenario.get("ledger"):
        fault = request["fault"] or {}
        what = ":".join(str(fault.get(k)) for k in ("path", "line", "operation", "fault"))
        with open(scenario["ledger"], "a", encoding="utf-8") as ledger:
            ledger.write(f"{request['mode']} {what} {fault.get('persistent')} {os.getpid()}\n")
    errors: list[str] = []
    if request["mode"] == "record":
        tests = [_recorded(t, count) for t in scenario["tests"]]
    else:
        tests = _faulted(scenario, request, errors)
    if scenario.get("no_agent"):
        sys.exit(4)
    report = {"agent": 1, "mode": request["mode"], "python": "3.11.7", "pytest": True}
    report["tests"] = tests
    report["errors"] = errors
    out = Path(request["out"])
    temp = out.with_suffix(".tmp")
    temp.write_text(json.dumps(report), encoding="utf-8")
    os.replace(temp, out)


def _recorded(test: dict[str, Any], count: int) -> dict[str, Any]:
    outcome = test.get("outcome", "passed")
    if isinstance(outcome, list):
        outcome = outcome[(count - 1) % len(outcome)]
    return {
        "nodeid": test["nodeid"],
        "outcome": outcome,
        "duration": test.get("duration", 0.01),
        "failure": None,
        "sites": test["sites"],
    }


def _faulted(
    scenario: dict[str, Any], request: dict[str, Any], errors: list[str]
) -> list[dict[str, Any]]:
    fault = request["fault"]
    key = f"{fault['path']}:{fault['line']}:{fault['operation']}"
    how = "persistent" if fault["persistent"] else "transient"
    table = scenario.get("behaviour", {})
    act = table.get(f"{key}:{fault['fault']}:{how}") or table.get(key) or {}
    if act.get("sleep"):
        time.sleep(act["sleep"])
    if act.get("hang"):
        time.sleep(3600)
    if act.get("exit") is not None:
        os._exit(act["exit"])
    if act.get("kill"):
        os.kill(os.getpid(), signal.SIGKILL)
    errors.extend(act.get("errors", []))
    verdict = act.get("verdict", "propagated")
    names = {t["nodeid"] for t in scenario["tests"]}
    if request["test"] not in names:
        return []
    fired = 0 if verdict == "unreached" else act.get("fired", 1)
    site = {"path": fault["path"], "line": fault["line"], "function": "f"}
    return [
        {
            "nodeid": request["test"],
            "outcome": "failed" if verdict in ("propagated", "unsettled") else "passed",
            "duration": 0.01,
            "failure": None,
            "sites": [],
            "fired": fired,
            "injection": None
            if not fired
            else {
                "operation": fault["operation"],
                "fault": fault["fault"],
                "error": f"OSError: {fault['fault']}",
                "site": site,
                "stack": [site],
            },
            "verdict": verdict,
            "reason": act.get("reason", f"fake: {verdict}"),
            "handler": act.get("handler"),
            "handlers": act.get("handlers", [act["handler"]] if act.get("handler") else []),
            "reports": [],
        }
    ]


if __name__ == "__main__":
    main()
