"""Precision of `errwise audit` on real code, from labels made by reading that code.

The corpus is a fixed list of source distributions from the package index (applications, tools and
libraries nobody here wrote), downloaded by version on first use and kept in a cache directory
(`$ERRWISE_BENCH_CORPUS`, default `~/.cache/errwise-bench/corpus`); nothing of them is committed.
`bench/labels/precision.csv` holds the labels: one row per finding read (project, version, path,
line, rule, name, label, reason, phase). A finding matches a label by project, path, line and rule
name. `phase` says when the label was made: `before` (on the output of the auditor before the
rules were tuned on this corpus) or `after` (a finding that only exists since).

What it prints, for the default profile and for every rule on the same files (`rules`: the
default profile's files — what a project ships — with `--select` naming every rule; the per-rule
figures the CLI shows come from it):
- per rule: findings, labelled, true, precision; overall precision;
- recall: of the findings labelled true `before`, how many are still reported by the same rule,
  how many by another rule at the same line, and which are lost;
- the findings that have no label yet (all with `--unlabelled FILE`, as JSON for labelling).

Targets (default profile): overall precision >= 85 %, every rule >= 80 % (rules with fewer than
MIN_LABELS labelled findings are shown but not judged), no `before`-true finding lost.

Usage: python bench/precision.py [--quick] [--unlabelled FILE] [--sample N] [--write-precision]
                                [--profile both|rules|strict|default] [--select RULES]
                                [--project NAME] [--details]
  --write-precision  store each rule's measured precision (the `rules` run) in
                     src/errwise/audit/rules/precision.json, which `errwise rules` and
                     `errwise explain` show.
Exit: 0 targets met or skipped (offline), 1 a target missed, 2 usage or corpus error.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LABELS = HERE / "labels" / "precision.csv"
PRECISION_DATA = REPO / "src" / "errwise" / "audit" / "rules" / "precision.json"

CORPUS: tuple[tuple[str, str], ...] = (
    ("aiohttp", "3.11.10"),
    ("alembic", "1.14.0"),
    ("bottle", "0.13.2"),
    ("celery", "5.4.0"),
    ("cherrypy", "18.10.0"),
    ("cookiecutter", "2.6.0"),
    ("coverage", "7.6.9"),
    ("docker", "7.1.0"),
    ("eventlet", "0.38.2"),
    ("fsspec", "2024.10.0"),
    ("GitPython", "3.1.43"),
    ("gunicorn", "23.0.0"),
    ("invoke", "2.2.0"),
    ("kombu", "5.4.2"),
    ("luigi", "3.6.0"),
    ("nox", "2024.10.9"),
    ("paramiko", "3.5.0"),
    ("pexpect", "4.9.0"),
    ("pipx", "1.7.1"),
    ("pre-commit", "4.0.1"),
    ("psutil", "6.1.0"),
    ("pyramid", "2.0.2"),
    ("pytest", "8.3.4"),
    ("scrapy", "2.12.0"),
    ("sh", "2.1.0"),
    ("sphinx", "8.1.3"),
    ("supervisor", "4.2.5"),
    ("tornado", "6.4.2"),
    ("tox", "4.23.2"),
    ("tqdm", "4.67.1"),
    ("twine", "5.1.1"),
    ("waitress", "3.0.2"),
    ("watchdog", "6.0.0"),
    ("werkzeug", "3.1.3"),
)
"""(name on the package index, version). Fixed: labels are only valid for these versions. The
first 16 were labelled in full (every finding the auditor reported before issue 16's tuning);
the others were added to measure the rules that rarely fire (every finding of every rule but
raise-without-cause labelled, on the auditor's output before round 2 of the tuning)."""
QUICK = ("supervisor", "gunicorn", "pipx", "alembic")
HELDOUT: tuple[tuple[str, str], ...] = (
    ("certbot", "3.0.1"),
    ("fabric", "3.2.2"),
    ("jinja2", "3.1.4"),
    ("mkdocs", "1.6.1"),
    ("uvicorn", "0.32.1"),
    ("virtualenv", "20.28.0"),
)
"""Projects never used to tune a rule: their findings (every rule, the default profile's files)
were labelled blind once the tuning was done (`labels/heldout.csv`). Their figures are printed
for information, never judged: tuning on them would make them worthless."""
HELDOUT_LABELS = HERE / "labels" / "heldout.csv"

OVERALL_TARGET = 0.85
RULE_TARGET = 0.80
MIN_LABELS = 5
DOWNLOAD_TIMEOUT_S = 300.0
AUDIT_TIMEOUT_S = 900.0
FIELDS = ("project", "version", "path", "line", "rule", "name", "label", "reason", "phase")


class CorpusError(Exception):
    """The corpus could not be fetched or audited (exit 2), or is offline (skip)."""

    def __init__(self, message: str, *, offline: bool = False) -> None:
        super().__init__(message)
        self.offline = offline


@dataclass(frozen=True)
class Project:
    name: str
    """The project as the labels name it: the source distribution's directory name before the
    version (`pre_commit`, `GitPython`)."""
    version: str
    root: Path


@dataclass(frozen=True)
class Label:
    project: str
    version: str
    path: str
    line: int
    rule: str
    name: str
    true: bool
    reason: str
    phase: str

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.project, self.path, self.line, self.name)


def corpus_dir() -> Path:
    configured = os.environ.get("ERRWISE_BENCH_CORPUS")
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "errwise-bench" / "corpus"


def fetch(requirement: str, version: str, into: Path) -> Project:
    """The unpacked source distribution of requirement==version, downloaded once."""
    marker = into / f"{requirement}=={version}.dir"
    if marker.is_file():
        root = into / marker.read_text(encoding="utf-8").strip()
        if root.is_dir():
            return _project(root)
    into.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=into) as tmp:
        cmd = [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
            "--no-binary", ":all:", "--dest", tmp, f"{requirement}=={version}",
        ]  # fmt: skip
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise CorpusError(
                f"downloading {requirement}=={version} timed out", offline=True
            ) from exc
        if proc.returncode != 0:
            raise CorpusError(
                f"cannot download {requirement}=={version} (offline?): "
                + (proc.stderr.strip().splitlines() or ["pip failed"])[-1],
                offline=True,
            )
        archives = [p for p in Path(tmp).iterdir() if p.is_file()]
        if len(archives) != 1:
            raise CorpusError(f"pip left {len(archives)} files for {requirement}=={version}")
        top = _unpack(archives[0], into)
    marker.write_text(top + "\n", encoding="utf-8")
    return _project(into / top)


def _unpack(archive: Path, into: Path) -> str:
    """Unpack a source distribution under `into`; its single top-level directory's name."""
    staging = Path(tempfile.mkdtemp(dir=into))
    try:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(staging)
        else:
            with tarfile.open(archive) as tf:
                tf.extractall(staging, filter="data")
        tops = list(staging.iterdir())
        if len(tops) != 1 or not tops[0].is_dir():
            raise CorpusError(f"{archive.name}: expected one top-level directory")
        target = into / tops[0].name
        if target.exists():
            shutil.rmtree(target)
        tops[0].rename(target)
        return target.name
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _project(root: Path) -> Project:
    name, _, version = root.name.rpartition("-")
    return Project(name, version, root)


def audit(
    project: Project, profile: str, cache: Path, select: str | None = None
) -> list[dict[str, object]]:
    """The findings of `errwise audit` on the project, as a user runs it (default settings)."""
    if profile == "rules":
        profile = "default"
        if not select:
            from errwise.audit.rules import all_rules

            select = ",".join(rule.id for rule in all_rules())
    cmd = [sys.executable, "-m", "errwise", "audit", "--format", "json", "--profile", profile, "."]
    if select:
        cmd[4:4] = ["--select", select]
    env = {**os.environ, "ERRWISE_CACHE_DIR": str(cache)}
    try:
        proc = subprocess.run(
            cmd, cwd=project.root, env=env, capture_output=True, timeout=AUDIT_TIMEOUT_S,
            check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise CorpusError(f"auditing {project.root.name} timed out") from exc
    if proc.returncode not in (0, 1, 10):  # 10: some file could not be analysed (a diagnostic)
        tail = proc.stderr.decode(errors="replace").strip()[-2000:]
        raise CorpusError(f"auditing {project.root.name} exited {proc.returncode}: {tail}")
    findings: list[dict[str, object]] = json.loads(proc.stdout)["findings"]
    return findings


def load_labels(path: Path = LABELS) -> dict[tuple[str, str, int, str], Label]:
    labels: dict[tuple[str, str, int, str], Label] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh), start=2):
            if row["label"] not in ("true", "false") or row["phase"] not in ("before", "after"):
                raise CorpusError(f"{path}:{n}: label must be true/false, phase before/after")
            label = Label(
                row["project"], row["version"], row["path"], int(row["line"]), row["rule"],
                row["name"], row["label"] == "true", row["reason"], row["phase"],
            )  # fmt: skip
            if label.key in labels:
                raise CorpusError(f"{path}:{n}: a second label for {label.key}")
            labels[label.key] = label
    return labels


@dataclass
class Tally:
    findings: int = 0
    labelled: int = 0
    true: int = 0

    @property
    def precision(self) -> float | None:
        return self.true / self.labelled if self.labelled else None


def tally(
    found: dict[str, list[dict[str, object]]], labels: dict[tuple[str, str, int, str], Label]
) -> tuple[dict[str, Tally], Tally, list[dict[str, object]]]:
    per_rule: dict[str, Tally] = defaultdict(Tally)
    overall = Tally()
    unlabelled: list[dict[str, object]] = []
    for project, findings in found.items():
        for f in findings:
            key = (project, str(f["path"]), int(str(f["line"])), str(f["name"]))
            for t in (per_rule[str(f["name"])], overall):
                t.findings += 1
            label = labels.get(key)
            if label is None:
                unlabelled.append({"project": project, **f})
                continue
            for t in (per_rule[str(f["name"])], overall):
                t.labelled += 1
                t.true += label.true
    return dict(per_rule), overall, unlabelled


def _pct(value: float | None) -> str:
    return "   -  " if value is None else f"{100 * value:5.1f}%"


def print_table(title: str, per_rule: dict[str, Tally], overall: Tally) -> None:
    print(f"\n{title}")
    print(f"  {'rule':30} {'found':>6} {'labelled':>8} {'true':>5} {'precision':>9}")
    for name in sorted(per_rule, key=lambda n: (-per_rule[n].findings, n)):
        t = per_rule[name]
        print(f"  {name:30} {t.findings:6} {t.labelled:8} {t.true:5} {_pct(t.precision):>9}")
    print(
        f"  {'overall':30} {overall.findings:6} {overall.labelled:8} {overall.true:5} "
        f"{_pct(overall.precision):>9}"
    )


def print_details(
    found: dict[str, list[dict[str, object]]],
    labels: dict[tuple[str, str, int, str], Label],
    select: str | None,
) -> None:
    """Every reported finding with its label, then the true-labelled ones no longer reported
    (of the selected rules, when --select names them)."""
    wanted = {s.strip() for s in select.split(",")} if select else None
    reported = set()
    for project, findings in sorted(found.items()):
        for f in findings:
            key = (project, str(f["path"]), int(str(f["line"])), str(f["name"]))
            reported.add(key)
            label = labels.get(key)
            mark = "?" if label is None else ("T" if label.true else "F")
            reason = "" if label is None else f" — {label.reason}"
            print(f"  {mark} {project} {key[1]}:{key[2]} {key[3]}: {f['message']}{reason}")
    for label in labels.values():
        in_scope = wanted is None or label.name in wanted or label.rule in wanted
        if label.true and in_scope and label.project in found and label.key not in reported:
            print(f"  LOST {label.project} {label.path}:{label.line} {label.name} — {label.reason}")


def recall(
    found: dict[str, list[dict[str, object]]], labels: dict[tuple[str, str, int, str], Label]
) -> tuple[int, int, list[Label]]:
    """Of the `before`-true labels whose project was audited: kept by the same rule, replaced
    by another rule's finding at the same line, lost."""
    present = {
        (p, str(f["path"]), int(str(f["line"])), str(f["name"]))
        for p, fs in found.items()
        for f in fs
    }
    lines = {(p, path, line) for p, path, line, _ in present}
    kept = replaced = 0
    lost: list[Label] = []
    for label in labels.values():
        if not label.true or label.phase != "before" or label.project not in found:
            continue
        if label.key in present:
            kept += 1
        elif label.key[:3] in lines:
            replaced += 1
        else:
            lost.append(label)
    return kept, replaced, lost


def stratified(items: list[dict[str, object]], n: int, seed: int) -> list[dict[str, object]]:
    """n findings, every rule represented by up to 8 before the rest is drawn at random."""
    rng = random.Random(seed)
    by_rule: dict[str, list[dict[str, object]]] = defaultdict(list)
    for item in items:
        by_rule[str(item["name"])].append(item)
    chosen = [
        x for name in sorted(by_rule) for x in rng.sample(by_rule[name], min(8, len(by_rule[name])))
    ]
    rest = [x for x in items if x not in chosen]
    chosen += rng.sample(rest, max(0, min(len(rest), n - len(chosen))))
    return chosen


def write_precision(per_rule: dict[str, Tally]) -> None:
    from errwise.audit.rules import all_rules

    ids = {rule.name: rule.id for rule in all_rules()}
    data = {
        "corpus": ", ".join(f"{n} {v}" for n, v in CORPUS),
        "rules": {
            ids[name]: {"precision": round(t.true / t.labelled, 3), "labels": t.labelled}
            for name, t in sorted(per_rule.items())
            if t.labelled and name in ids
        },
    }
    PRECISION_DATA.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"\nwrote {PRECISION_DATA.relative_to(REPO)}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    parser.add_argument("--unlabelled", type=Path, help="write the unlabelled findings (JSON) here")
    parser.add_argument(
        "--sample", type=int, default=0, help="with --unlabelled: a stratified sample of N"
    )
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--write-precision", action="store_true")
    parser.add_argument(
        "--profile",
        choices=("both", "rules", "strict", "default"),
        default="both",
        help="which runs: default (what users get; the targets are judged on it), rules (every "
        "rule on the default profile's files), strict, both (default and rules; the default)",
    )
    parser.add_argument("--select", help="only these rules (passed to errwise audit --select)")
    parser.add_argument("--project", action="append", help="only this project (repeatable)")
    parser.add_argument(
        "--details",
        action="store_true",
        help="list every reported finding with its label and reason, and the true ones lost",
    )
    args = parser.parse_args()

    try:
        labels = load_labels()
        held_labels = load_labels(HELDOUT_LABELS)
        projects = [
            fetch(req, ver, corpus_dir())
            for req, ver in CORPUS
            if (not args.quick or req in QUICK) and (not args.project or req in args.project)
        ]
        held = [] if args.quick or args.project else [fetch(r, v, corpus_dir()) for r, v in HELDOUT]
    except CorpusError as exc:
        if exc.offline:
            print(f"precision: skipped: {exc}", file=sys.stderr)
            return 0
        print(f"precision: {exc}", file=sys.stderr)
        return 2
    print(f"corpus: {len(projects)} projects in {corpus_dir()}; {len(labels)} labels")

    runs = ("default", "rules") if args.profile == "both" else (args.profile,)
    try:
        results = audit_all(projects, runs, args.select)
        held_results = audit_all(held, runs, args.select) if held else {}
    except CorpusError as exc:
        print(f"precision: {exc}", file=sys.stderr)
        return 2
    ok = True
    for profile in ("strict", "rules", "default"):
        if profile not in results:
            continue
        per_rule, overall, unlabelled = tally(results[profile], labels)
        print_table(f"profile {profile}", per_rule, overall)
        if args.details:
            print_details(results[profile], labels, args.select)
        if profile == "rules" and args.write_precision and not (args.select or args.project):
            write_precision(per_rule)
        kept, replaced, lost = recall(results[profile], labels)
        print(
            f"  recall ({profile}): of the findings labelled true before tuning, {kept} kept, "
            f"{replaced} reported by another rule at the same line, {len(lost)} not reported"
        )
        if profile != "default":
            continue
        verdict = "ok" if (overall.precision or 0.0) >= OVERALL_TARGET else "MISSED"
        ok &= verdict == "ok"
        print(
            f"  overall precision {_pct(overall.precision)} "
            f"(target >= {OVERALL_TARGET:.0%}): {verdict}"
        )
        for name, t in sorted(per_rule.items()):
            if t.labelled >= MIN_LABELS and (t.precision or 0.0) < RULE_TARGET:
                ok = False
                print(f"  {name}: {_pct(t.precision)} < {RULE_TARGET:.0%}: MISSED")
        counts = Counter(str(f["name"]) for f in unlabelled)
        print(
            f"  unlabelled findings (default profile): {len(unlabelled)} "
            + ("(" + ", ".join(f"{n} {c}" for n, c in counts.most_common()) + ")" if counts else "")
        )
    for profile in ("rules", "default"):
        if profile in held_results:
            per_rule, overall, _ = tally(held_results[profile], held_labels)
            print_table(f"held-out, profile {profile} (information)", per_rule, overall)
    widest = next(results[p] for p in ("strict", "rules", "default") if p in results)
    unlabelled_all = tally(widest, labels)[2]
    if args.unlabelled:
        chosen = (
            stratified(unlabelled_all, args.sample, args.seed) if args.sample else unlabelled_all
        )
        args.unlabelled.write_text(json.dumps(chosen, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {len(chosen)} unlabelled findings to {args.unlabelled}")
    print("\nprecision targets: " + ("ok" if ok else "MISSED"))
    return 0 if ok else 1


def audit_all(
    projects: list[Project], runs: tuple[str, ...], select: str | None
) -> dict[str, dict[str, list[dict[str, object]]]]:
    """Each run's findings per project, every audit with a fresh cache of its own."""
    results: dict[str, dict[str, list[dict[str, object]]]] = {}
    with tempfile.TemporaryDirectory() as cache:
        for profile in runs:
            results[profile] = {p.name: audit(p, profile, Path(cache), select) for p in projects}
    return results


if __name__ == "__main__":
    sys.exit(main())
