"""`errwise sweep` on real test suites: the sample project and two third-party projects.

For `examples/sweepdemo` (the sample project, whose handlers propagate, report and swallow on
purpose) and each project of `PROJECTS` (source distributions from the package index that ship
their test suites, downloaded by version into the corpus directory of `bench/precision.py`,
`$ERRWISE_BENCH_CORPUS`, default `~/.cache/errwise-bench/corpus`; nothing of them is committed):

1. a virtual environment and a working copy of the project, both under the corpus directory
   (never in this repository) and reused across runs (keyed by project, version and Python),
   hold the project (installed editable from the working copy, so the tests run its unpacked
   source; the sample project is copied afresh on every run), its pinned test dependencies, and
   this errwise (installed from this checkout, not editable, as users get it; reinstalled on
   every run);
2. in the working copy: `errwise sweep --format json --output F -- python -m pytest -q -p
   no:randomly TESTS`, with the venv first on PATH, as a user with the venv active types it;
3. it prints tests, swept tests, sites, runs, wall time, verdict counts, coverage, the silent
   survivals grouped by the handler where the error vanished (its finding, faults, sites, tests
   and a replay command) and the cross-link (confirmed / miss / refuted). Each of a third-party
   project's own handlers was read by hand: `bench/labels/sweep.csv` says whether the error lost
   there is a real defect or benign by design, and why; the bench shows that beside the handler
   and counts the handlers not labelled yet (survivals absorbed by the standard library, e.g.
   `os.path.exists()` answering False, are shown apart and not labelled).

Judged: every sweep exits 0 or 1 with a complete, well-formed report; no sweep changes a file of
the project it sweeps; the sample project shows what it was built to show (a silent survival with
its handler, a propagated and a reported run, a confirmed finding and an auditor miss). A real
project's survivals are findings to read, never a failure of the benchmark.

Usage: python bench/sweep.py [--quick] [--project NAME]... [--max-runs N] [--time-budget S]
                             [--jobs N] [--keep] [--plain]
  --plain  the projects' tests without the sweep: the setup check (they pass offline in their
           venv, how many, how long).
Exit: 0 all judged checks hold or skipped (offline), 1 a check failed, 2 usage or setup error.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LABELS = HERE / "labels" / "sweep.csv"
LABEL_FIELDS = ("project", "version", "handler", "label", "reason")
if str(HERE) not in sys.path:  # run as a script, or loaded by path from a test
    sys.path.insert(0, str(HERE))

from precision import CorpusError, corpus_dir, fetch  # noqa: E402


@dataclass(frozen=True)
class BenchProject:
    """One project the sweep runs on."""

    name: str
    """As the package index names it (`pip download NAME==VERSION`); for the sample project, its
    directory under `examples/`."""
    version: str
    """Pinned: the figures are only comparable for one version."""
    tests: tuple[str, ...]
    """The pytest arguments naming the tests, relative to the project's directory."""
    deps: tuple[str, ...]
    """The test dependencies, pinned (`name==version`)."""
    install: bool = True
    """Install the project itself (editable) into the venv; False for a project whose tests put
    it on the path themselves."""
    note: str = ""
    """Why this project, and what its suite needs."""
    example: bool = False
    """The sample project in this repository (no download; judged by `DEMO_EXPECTS`)."""


PYTEST = "pytest==9.2.0"
PROJECTS: tuple[BenchProject, ...] = (
    BenchProject(
        "sweepdemo",
        "repo",
        ("tests",),
        (PYTEST,),
        install=False,
        example=True,
        note="the sample project: its pyproject puts it on the path; handlers of every kind",
    ),
    BenchProject(
        "filelock",
        "3.16.1",
        ("tests",),
        (
            PYTEST,
            "pytest-asyncio==1.5.0",
            "pytest-mock==3.17.0",
            "pytest-timeout==2.4.0",
            "virtualenv==20.35.4",
        ),
        note="lock files: os.open, unlink, fcntl, with suppress(OSError) around cleanup; "
        "131 passed, 24 skipped in 7 s",
    ),
    BenchProject(
        "cachelib",
        "0.17.0",
        ("tests/test_file_system_cache.py",),
        (PYTEST, "pytest-xprocess==1.0.2"),
        note="FileSystemCache: open/write/replace/unlink/listdir behind handlers that log with "
        "the traceback and return False; the other backends' tests need servers (not run); "
        "99 passed in 28 s, most of it sleeps in a few expiry tests",
    ),
    BenchProject(
        "diskcache",
        "5.6.3",
        (
            "tests/test_core.py",
            "tests/test_deque.py",
            "tests/test_index.py",
            "tests/test_fanout.py",
            "tests/test_recipes.py",
        ),
        (PYTEST,),
        note="a disk cache on sqlite3 and files: suppress(OSError) around removals, handlers of "
        "sqlite3.OperationalError; the Django tests and doctests need Django (not run); "
        "179 passed in 25 s",
    ),
)
"""The sample project, then the third-party projects: real file and OS I/O behind error
handlers, tests shipped in the source distribution, plain dependencies, suites that pass offline
under plain pytest in seconds. filelock and cachelib have no finding of `errwise audit --profile
strict` in their library code; diskcache has two (EW109 around sqlite3 calls), so the sweep's
cross-link has findings to confirm or refute."""
QUICK_MAX_RUNS = 40
QUICK_TIME_BUDGET_S = 180.0
DEMO_EXPECTS: tuple[tuple[str, int], ...] = (
    ("silent survivals with a handler", 1),
    ("propagated", 1),
    ("reported", 1),
    ("confirmed", 1),
    ("miss", 1),
)
"""What the sample project is built to show, each at least this many times."""
PIP_TIMEOUT_S = 900.0
TAIL_LINES = 15
STOP_GRACE_S = 60.0
DEFAULT_JOBS = max(1, min(4, os.cpu_count() or 1))
SWEEP_TIMEOUT_S = 3600.0
PLAIN_TIMEOUT_S = 900.0
OFFLINE_MARKERS = (
    "NewConnectionError",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Failed to establish a new connection",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "No matching distribution found",
)
"""pip's words for "the package index cannot be reached": such an install failure skips the
benchmark, like a failed download; any other install failure is an error."""


@dataclass
class Outcome:
    """One project's sweep: its report, or why there is none, and what the benchmark judged."""

    project: BenchProject
    returncode: int | None = None
    wall: float = 0.0
    report: dict[str, object] | None = None
    report_path: Path | None = None
    stderr_tail: str = ""
    changed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def python_tag() -> str:
    return f"py{sys.version_info.major}.{sys.version_info.minor}"


def sweep_command(project: BenchProject) -> list[str]:
    """The command under test, as a user types it in the project's directory."""
    return ["python", "-m", "pytest", "-q", "-p", "no:randomly", *project.tests]


def _pip(python: Path, args: Sequence[str], what: str) -> None:
    cmd = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise CorpusError(f"installing {what} timed out (offline?)", offline=True) from exc
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["pip failed"])[-1]
        offline = any(marker in proc.stderr for marker in OFFLINE_MARKERS)
        raise CorpusError(
            f"cannot install {what}" + (" (offline?)" if offline else "") + f": {last}",
            offline=offline,
        )


def ensure_env(project: BenchProject, source: Path, base: Path) -> tuple[Path, Path]:
    """The project's venv and working copy: its python, and the directory the sweep runs in.

    Both are made together once and reused (keyed by project, version and Python; remade when the
    pinned dependencies change): the project is installed editable from that working copy, so
    its tests run the unpacked source. A project that is not installed (the sample project, which
    changes with this checkout) gets a fresh copy on every run.
    """
    home = base / "envs" / f"{project.name}-{project.version}-{python_tag()}"
    venv = home / "venv"
    workcopy = home / source.name
    python = venv / "bin" / "python"
    stamp = home / "deps.json"
    wanted = json.dumps({"deps": project.deps, "install": project.install, "source": str(source)})
    if python.is_file() and stamp.is_file() and stamp.read_text(encoding="utf-8") == wanted:
        if not project.install:
            fresh_copy(source, workcopy)
        return python, workcopy
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    fresh_copy(source, workcopy)
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(venv)],
            capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=True,
        )  # fmt: skip
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise CorpusError(f"cannot create the venv {venv}: {exc}") from exc
    _pip(python, [*(["-e", str(workcopy)] if project.install else []), *project.deps], project.name)
    stamp.write_text(wanted, encoding="utf-8")
    return python, workcopy


def install_errwise(python: Path) -> None:
    """This checkout's errwise, built as a wheel from a copy (no build files land in the repo)."""
    with tempfile.TemporaryDirectory(prefix="errwise-bench-src-") as tmp:
        src = Path(tmp) / "errwise"
        src.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(REPO / name, src / name)
        shutil.copytree(
            REPO / "src",
            src / "src",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
        )
        _pip(python, ["--no-deps", "--force-reinstall", str(src)], "errwise")


def fresh_copy(source: Path, dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def snapshot(root: Path) -> dict[str, str]:
    """Every file under root: its relative path -> the digest of its content."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            found[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def changed_files(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """What the sweep left behind in the project: added, changed and removed files."""
    out = [f"+{p}" for p in sorted(after.keys() - before.keys())]
    out += [f"~{p}" for p in sorted(before.keys() & after.keys()) if before[p] != after[p]]
    out += [f"-{p}" for p in sorted(before.keys() - after.keys())]
    return out


def sweep_env(venv_python: Path, cache: Path) -> dict[str, str]:
    """The environment of a user with the project's venv active (no inherited Python settings)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "PYTEST_ADDOPTS", "VIRTUAL_ENV")
        and not k.startswith("ERRWISE_SWEEP_")
    }
    bindir = venv_python.parent
    env["VIRTUAL_ENV"] = str(bindir.parent)
    env["PATH"] = str(bindir) + os.pathsep + env.get("PATH", "")
    env["ERRWISE_CACHE_DIR"] = str(cache)
    return env


def run_teed(
    cmd: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float
) -> tuple[int | None, bool, str]:
    """Run cmd with its stderr (the sweep's progress) shown as it comes, and kept: its exit
    status (None: it had to be killed), whether it overran `timeout` seconds (then it is
    interrupted as by Ctrl-C, so it writes its partial report, and killed a minute later), and
    the last lines of its stderr. Ctrl-C here is passed on the same way, then re-raised."""
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, errors="replace", start_new_session=True,
    )  # fmt: skip
    assert proc.stderr is not None

    def copy(stream: IO[str]) -> None:
        for line in stream:
            tail.append(line.rstrip("\n"))
            sys.stderr.write("    | " + line)
            sys.stderr.flush()

    reader = threading.Thread(target=copy, args=(proc.stderr,), daemon=True)
    reader.start()
    overran = False
    try:
        returncode = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        overran = True
        returncode = _stop(proc)
    except KeyboardInterrupt:
        _stop(proc)
        raise
    finally:
        reader.join(timeout=10.0)
        proc.stderr.close()
    return returncode, overran, "\n".join(tail)


def _stop(proc: subprocess.Popen[str]) -> int | None:
    """Interrupt the process group as Ctrl-C does; kill it if it has not ended a minute later."""
    os.killpg(proc.pid, signal.SIGINT)
    try:
        return proc.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


def run_sweep(
    project: BenchProject,
    source: Path,
    *,
    base: Path,
    out_dir: Path,
    options: Sequence[str],
    timeout: float,
) -> Outcome:
    """Sweep a fresh working copy of the project; the report and what the sweep left behind."""
    outcome = Outcome(project)
    python, workcopy = ensure_env(project, source, base)
    install_errwise(python)
    report = out_dir / f"{project.name}.json"
    report.unlink(missing_ok=True)
    outcome.report_path = report
    cmd = [
        str(python.parent / "errwise"), "sweep", "--format", "json", "--output", str(report),
        *options, "--", *sweep_command(project),
    ]  # fmt: skip
    print(f"  $ cd {shlex.quote(str(workcopy))} && {shlex.join(cmd)}", flush=True)
    before = snapshot(workcopy)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="errwise-bench-cache-") as cache:
        returncode, overran, outcome.stderr_tail = run_teed(
            cmd, cwd=workcopy, env=sweep_env(python, Path(cache)), timeout=timeout
        )
    outcome.wall = time.monotonic() - start
    if overran:
        outcome.problems.append(f"the sweep did not finish in {timeout:g} s (interrupted)")
    if returncode is None:
        outcome.problems.append("the sweep had to be killed")
        return outcome
    outcome.returncode = returncode
    outcome.changed = changed_files(before, snapshot(workcopy))
    if outcome.changed:
        outcome.problems.append(
            f"the sweep changed {len(outcome.changed)} file(s) of the project: "
            + ", ".join(outcome.changed[:10])
        )
    if returncode not in (0, 1):
        outcome.problems.append(f"errwise sweep exited {returncode}")
    if not report.is_file():
        outcome.problems.append("no JSON report written")
        return outcome
    try:
        loaded = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        outcome.problems.append(f"the JSON report cannot be read: {exc}")
        return outcome
    if not isinstance(loaded, dict):
        outcome.problems.append("the JSON report is not an object")
        return outcome
    outcome.report = loaded
    outcome.problems += check_report(loaded, returncode)
    if project.example and summarize(loaded)["complete"]:
        outcome.problems += check_demo(loaded)
    elif project.example:
        print("  (a partial sweep: what the sample project should show is not judged)")
    return outcome


def run_plain(project: BenchProject, source: Path, base: Path, timeout: float) -> Outcome:
    """The project's tests without the sweep, in the same venv and working copy: the setup check
    (the suite passes offline, how many tests, how long), and the baseline the sweep's wall time
    compares with."""
    outcome = Outcome(project)
    python, workcopy = ensure_env(project, source, base)
    cmd = sweep_command(project)
    print(f"  $ cd {shlex.quote(str(workcopy))} && {shlex.join(cmd)}", flush=True)
    before = snapshot(workcopy)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="errwise-bench-cache-") as cache:
        env = sweep_env(python, Path(cache))
        env["PYTEST_ADDOPTS"] = "-p no:cacheprovider"  # as the sweep's agent runs it
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        try:
            proc = subprocess.run(
                [str(python), *cmd[1:]], cwd=workcopy, env=env, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, timeout=timeout, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            outcome.wall = time.monotonic() - start
            outcome.problems.append(f"the tests did not finish in {timeout:g} s")
            outcome.stderr_tail = _tail(exc.stdout)
            return outcome
    outcome.wall = time.monotonic() - start
    outcome.returncode = proc.returncode
    outcome.stderr_tail = _tail(proc.stdout, 3)
    outcome.changed = changed_files(before, snapshot(workcopy))
    if proc.returncode != 0:
        outcome.problems.append(f"the tests exited {proc.returncode}")
    if outcome.changed:
        outcome.problems.append(
            "the tests left files in the project (the sweep may report them as its own): "
            + ", ".join(outcome.changed[:10])
        )
    return outcome


def _tail(text: str | bytes | None, lines: int = 15) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _dict(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


VERDICTS = ("propagated", "reported", "silent", "unreached", "unsettled")


def summarize(report: Mapping[str, object]) -> dict[str, object]:
    """The figures one table row shows, from a sweep's JSON report (the contract's fields)."""
    summary = _dict(report.get("summary"))
    coverage = _dict(report.get("coverage"))
    verdicts = _dict(summary.get("verdicts"))
    return {
        "tests": _int(summary.get("tests")),
        "swept": _int(summary.get("swept_tests")),
        "sites": _int(summary.get("sites")),
        "runs": _int(summary.get("runs")),
        "planned": _int(summary.get("planned")),
        "seconds": summary.get("seconds"),
        "complete": summary.get("complete") is True,
        **{v: _int(verdicts.get(v)) for v in VERDICTS},
        "survivals": len(_list(report.get("survivals"))),
        "survivals_in_project": sum(
            1 for s in _list(report.get("survivals")) if _in_project(_dict(s).get("handler"))
        ),
        "benign": len(_list(report.get("benign"))),
        "absorbed": len(_list(report.get("absorbed"))),
        "confirmed": _int(summary.get("confirmed")),
        "miss": _int(summary.get("miss")),
        "refuted": _int(summary.get("refuted")),
        "handlers_reached": _int(coverage.get("handlers_reached")),
        "handlers_guarding": _int(coverage.get("handlers_guarding")),
        "sites_faulted": _int(coverage.get("sites_faulted")),
        "not_swept": len(_list(report.get("not_swept"))),
        "unfaulted": len(_list(report.get("unfaulted_sites"))),
    }


def _in_project(handler: object) -> bool:
    """A handler in the project's own files (the report gives those relative to its root; a
    handler in the standard library or another package is an absolute or `<frozen ...>` path)."""
    path = str(_dict(handler).get("path") or "")
    return bool(path) and not path.startswith(("/", "<")) and ":" not in path[:3]


def check_report(report: Mapping[str, object], returncode: int) -> list[str]:
    """What the contract promises of every report, that a reader of the figures relies on."""
    problems = [
        f"the report has no {k!r}" for k in ("runs", "survivals", "summary") if k not in report
    ]
    row = summarize(report)
    runs = _list(report.get("runs"))
    if row["runs"] != len(runs):
        problems.append(f"summary.runs is {row['runs']} but the report lists {len(runs)} runs")
    counted = sum(_int(row[v]) for v in VERDICTS)
    if counted != len(runs):
        problems.append(f"the verdict counts add up to {counted}, not to the {len(runs)} runs")
    for run in runs:
        verdict = _dict(run).get("verdict")
        if verdict not in VERDICTS:
            problems.append(f"run {_dict(run).get('id')!r} has verdict {verdict!r}")
            break
    for survival in _list(report.get("survivals")):
        s = _dict(survival)
        missing = [k for k in ("fault", "operation", "site", "handler", "tests", "finding",
                               "replay") if k not in s]  # fmt: skip
        if missing:
            problems.append(f"a survival lacks {', '.join(missing)}: {s}")
            break
    if returncode in (0, 1) and (returncode == 1) != bool(row["survivals"]):
        problems.append(
            f"exit {returncode} with {row['survivals']} silent survival(s) (0 means none, 1 some)"
        )
    return problems


def check_demo(report: Mapping[str, object]) -> list[str]:
    row = summarize(report)
    with_handler = sum(
        1 for s in _list(report.get("survivals")) if _dict(s).get("handler") is not None
    )
    have = {
        "silent survivals with a handler": with_handler,
        "propagated": _int(row["propagated"]),
        "reported": _int(row["reported"]),
        "confirmed": _int(row["confirmed"]),
        "miss": _int(row["miss"]),
    }
    return [
        f"the sample project shows {have[what]} {what}, expected at least {least}"
        for what, least in DEMO_EXPECTS
        if have[what] < least
    ]


def _where(value: object) -> str:
    d = _dict(value)
    return f"{d.get('path')}:{d.get('line')}" if d else "-"


@dataclass(frozen=True)
class HandlerLabel:
    """What reading the code said of a handler where a sweep found an error silent."""

    project: str
    version: str
    handler: str
    """`path:line` of the except clause (or `with suppress` line), as the sweep names it."""
    defect: bool
    """True: a real defect (the error is lost where it matters); False: benign by design."""
    reason: str


def load_labels(path: Path = LABELS) -> dict[tuple[str, str], HandlerLabel]:
    """The hand labels: (project, handler) -> label. Only for the pinned version of each
    third-party project of `PROJECTS` (a label of another version would name the wrong line;
    the sample project documents its own handlers in its README)."""
    versions = {p.name: p.version for p in PROJECTS if not p.example}
    labels: dict[tuple[str, str], HandlerLabel] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != LABEL_FIELDS:
            raise CorpusError(f"{path}: the columns must be {', '.join(LABEL_FIELDS)}")
        for n, row in enumerate(reader, start=2):
            if row["label"] not in ("defect", "benign") or not row["reason"].strip():
                raise CorpusError(f"{path}:{n}: label must be defect or benign, with a reason")
            if versions.get(row["project"]) != row["version"]:
                raise CorpusError(
                    f"{path}:{n}: {row['project']} {row['version']} is not a pinned project"
                )
            key = (row["project"], row["handler"])
            if key in labels:
                raise CorpusError(f"{path}:{n}: a second label for {row['handler']}")
            labels[key] = HandlerLabel(
                row["project"], row["version"], row["handler"], row["label"] == "defect",
                row["reason"].strip(),
            )  # fmt: skip
    return labels


def survival_lines(
    report: Mapping[str, object],
    labels: Mapping[tuple[str, str], HandlerLabel] | None = None,
    project: str = "",
) -> list[str]:
    """The silent survivals grouped by the handler where the error vanished (the unit a reader
    checks by hand): its finding, the faults and sites that reached it, the tests, one replay.
    The project's own handlers first, then those elsewhere (standard library, dependencies),
    then survivals with no handler named."""
    groups: dict[str, list[dict[str, object]]] = {}
    for survival in _list(report.get("survivals")):
        s = _dict(survival)
        groups.setdefault(_where(s.get("handler")), []).append(s)
    lines = []

    def order(item: tuple[str, list[dict[str, object]]]) -> tuple[int, str]:
        handler = item[1][0].get("handler")
        return (0 if _in_project(handler) else 1 if handler is not None else 2, item[0])

    for handler, group in sorted(groups.items(), key=order):
        findings = sorted({str(s.get("finding")) for s in group if s.get("finding")})
        kinds = sorted({"persistent" if s.get("persistent") else "transient" for s in group})
        tests = {str(t) for s in group for t in _list(s.get("tests"))}
        faults: dict[str, set[str]] = {}
        for s in group:
            key = f"{s.get('operation')} at {_where(s.get('site'))}"
            faults.setdefault(key, set()).add(str(s.get("fault")))
        elsewhere = group[0].get("handler") is not None and not _in_project(group[0].get("handler"))
        outside = " (not in the project)" if elsewhere else ""
        lines.append(
            f"    handler {handler}{outside}: {len(group)} survival(s), finding "
            f"{', '.join(findings) or '-'}, {'+'.join(kinds)}, {len(tests)} test(s)"
        )
        lines += [f"      {where}: {'/'.join(sorted(fs))}" for where, fs in sorted(faults.items())]
        label = (labels or {}).get((project, handler))
        if label is not None:
            lines.append(f"      {'DEFECT' if label.defect else 'benign'}: {label.reason}")
        elif not elsewhere and labels is not None:
            lines.append("      not labelled yet (bench/labels/sweep.csv)")
        lines.append(f"      replay: {group[0].get('replay')}")
    return lines


def label_tally(
    report: Mapping[str, object], labels: Mapping[tuple[str, str], HandlerLabel], project: str
) -> tuple[int, int, int]:
    """Of the project's own handlers where an error was silent: how many read as a real defect,
    how many as benign, how many are not labelled yet."""
    handlers = {
        _where(_dict(s).get("handler"))
        for s in _list(report.get("survivals"))
        if _in_project(_dict(s).get("handler"))
    }
    found = [labels.get((project, h)) for h in handlers]
    defects = sum(1 for label in found if label is not None and label.defect)
    benign = sum(1 for label in found if label is not None and not label.defect)
    return defects, benign, len(found) - defects - benign


def print_outcome(
    outcome: Outcome, labels: Mapping[tuple[str, str], HandlerLabel] | None = None
) -> None:
    p = outcome.project
    print(f"\n{p.name} {p.version}: exit {outcome.returncode}, wall {outcome.wall:.1f} s")
    if outcome.report is None:
        if outcome.stderr_tail:
            print("  stderr (last lines):\n    " + outcome.stderr_tail.replace("\n", "\n    "))
        return
    r = summarize(outcome.report)
    ratio = f"{r['handlers_reached']}/{r['handlers_guarding']}" if r["handlers_guarding"] else "-"
    print(
        f"  tests {r['tests']}, swept {r['swept']} (not swept {r['not_swept']}), "
        f"sites {r['sites']} (faulted {r['sites_faulted']}, never faulted {r['unfaulted']}), "
        f"runs {r['runs']}/{r['planned']} planned, {'complete' if r['complete'] else 'PARTIAL'}"
    )
    print("  verdicts: " + ", ".join(f"{v} {r[v]}" for v in VERDICTS))
    print(f"  coverage: handlers reached by an injected error / guarding a reached site: {ratio}")
    print(
        f"  silent survivals {r['survivals']}, {r['survivals_in_project']} of them caught by a "
        f"handler in the project (benign {r['benign']}; absorbed outside the project "
        f"{r['absorbed']}); cross-link: confirmed "
        f"{r['confirmed']}, miss {r['miss']}, refuted {r['refuted']}"
    )
    labelled = None if p.example else labels
    for line in survival_lines(outcome.report, labelled, p.name):
        print(line)
    if labelled is not None:
        defects, benign, unlabelled = label_tally(outcome.report, labelled, p.name)
        print(
            f"  the project's handlers where an error went silent, read by hand: {defects} real "
            f"defect(s), {benign} benign, {unlabelled} not labelled yet"
        )
    for entry in _list(outcome.report.get("stale_benign")):
        e = _dict(entry)
        where = e.get("handler") or e.get("site")
        print(f"  stale benign declaration (matched nothing): {where}: {e.get('reason')}")
    for entry in _list(outcome.report.get("not_swept"))[:10]:
        e = _dict(entry)
        print(f"  not swept: {e.get('test')}: {e.get('reason')}")
    if outcome.problems and outcome.stderr_tail:
        print("  stderr (last lines):\n    " + outcome.stderr_tail.replace("\n", "\n    "))


def print_table(outcomes: Sequence[Outcome]) -> None:
    print("\nsweep benchmark")
    head = (
        f"  {'project':18} {'tests':>5} {'swept':>5} {'sites':>5} {'runs':>5} {'wall s':>7} "
        f"{'prop':>4} {'rep':>4} {'sil':>4} {'unr':>4} {'uns':>4} {'cover':>7} {'surv':>4} "
        f"{'proj':>4} {'conf':>4} {'miss':>4} {'refu':>4}"
    )
    print(head)
    legend = (
        "  (verdicts: propagated, reported, silent, unreached, unsettled; cover: handlers reached "
        "/ guarding; surv: silent survivals, proj: those caught in the project's own code)"
    )
    print(legend)
    for o in outcomes:
        label = f"{o.project.name} {o.project.version}"[:18]
        if o.report is None:
            print(f"  {label:18} no report ({'; '.join(o.problems) or 'not run'})")
            continue
        r = summarize(o.report)
        cover = f"{r['handlers_reached']}/{r['handlers_guarding']}"
        print(
            f"  {label:18} {r['tests']:5} {r['swept']:5} {r['sites']:5} {r['runs']:5} "
            f"{o.wall:7.1f} {r['propagated']:4} {r['reported']:4} {r['silent']:4} "
            f"{r['unreached']:4} {r['unsettled']:4} {cover:>7} {r['survivals']:4} "
            f"{r['survivals_in_project']:4} {r['confirmed']:4} {r['miss']:4} {r['refuted']:4}"
        )


def sources(projects: Sequence[BenchProject], base: Path) -> dict[str, Path]:
    """Each project's pristine source directory: downloaded (once) or the example's."""
    found: dict[str, Path] = {}
    for project in projects:
        if project.example:
            found[project.name] = REPO / "examples" / project.name
            if not found[project.name].is_dir():
                raise CorpusError(f"examples/{project.name} does not exist in this checkout")
        else:
            found[project.name] = fetch(project.name, project.version, base).root
    return found


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"at most {QUICK_MAX_RUNS} runs and {QUICK_TIME_BUDGET_S:g} s per third-party project "
        "(the sample project is swept in full)",
    )
    names = [p.name for p in PROJECTS]
    parser.add_argument(
        "--project", action="append", choices=names, help="only this project (repeatable)"
    )
    parser.add_argument("--max-runs", type=int, help="passed to errwise sweep, per project")
    parser.add_argument(
        "--time-budget", type=float, help="seconds, passed to errwise sweep, per project"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=DEFAULT_JOBS,
        help=f"passed to errwise sweep (default: {DEFAULT_JOBS}, this machine's CPUs up to 4)",
    )
    parser.add_argument(
        "--plain",
        action="store_true",
        help="run each project's tests without the sweep: the setup check (passes offline, how "
        "many tests, how long)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep each sweep's JSON report (under the corpus directory) and print where",
    )
    args = parser.parse_args(argv)
    for flag in ("max_runs", "jobs"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            parser.error(f"--{flag.replace('_', '-')} must be at least 1")
    if args.time_budget is not None and args.time_budget <= 0:
        parser.error("--time-budget must be positive")
    return args


def sweep_options(args: argparse.Namespace, project: BenchProject) -> tuple[list[str], float]:
    """The options of one project's `errwise sweep`, and how long the bench waits for it.
    `--quick` bounds the third-party projects only: the sample project is small, and is judged
    on a complete sweep."""
    quick = args.quick and not project.example
    max_runs = args.max_runs or (QUICK_MAX_RUNS if quick else None)
    budget = args.time_budget or (QUICK_TIME_BUDGET_S if quick else None)
    options = ["--jobs", str(args.jobs)]
    if max_runs:
        options += ["--max-runs", str(max_runs)]
    if budget:
        options += ["--time-budget", f"{budget:g}"]
    return options, SWEEP_TIMEOUT_S if budget is None else 2 * budget + 600


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    projects = [p for p in PROJECTS if not args.project or p.name in args.project]
    base = corpus_dir()
    base_sweep = base / "sweep"
    try:
        labels = load_labels()
        found = sources(projects, base)
    except CorpusError as exc:
        if exc.offline:
            print(f"sweep: skipped: {exc}", file=sys.stderr)
            return 0
        print(f"sweep: {exc}", file=sys.stderr)
        return 2
    print(f"sweep benchmark: {len(projects)} projects; venvs and working copies in {base_sweep}")
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="errwise-bench-sweep-") as tmp:
        out_dir = base_sweep / "reports" if args.keep else Path(tmp)
        out_dir.mkdir(parents=True, exist_ok=True)
        for project in projects:
            print(f"\n== {project.name} {project.version}: {project.note}", flush=True)
            try:
                if args.plain:
                    outcome = run_plain(project, found[project.name], base_sweep, PLAIN_TIMEOUT_S)
                else:
                    options, timeout = sweep_options(args, project)
                    outcome = run_sweep(
                        project, found[project.name], base=base_sweep, out_dir=out_dir,
                        options=options, timeout=timeout,
                    )  # fmt: skip
            except CorpusError as exc:
                if exc.offline:
                    print(f"sweep: skipped: {exc}", file=sys.stderr)
                    return 0
                print(f"sweep: {exc}", file=sys.stderr)
                return 2
            outcomes.append(outcome)
            if args.plain:
                print(f"  exit {outcome.returncode}, wall {outcome.wall:.1f} s")
                print("    " + outcome.stderr_tail.replace("\n", "\n    "))
                continue
            print_outcome(outcome, labels)
            if args.keep and outcome.report_path is not None:
                print(f"  report: {outcome.report_path}")
    if not args.plain:
        print_table(outcomes)
    failed = [o for o in outcomes if o.problems]
    for o in failed:
        for problem in o.problems:
            print(f"  {o.project.name}: {problem}: MISSED")
    what = "setup checks" if args.plain else "sweep checks"
    print(f"\n{what}: " + ("MISSED" if failed else "ok"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
