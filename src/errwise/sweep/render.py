"""The sweep report as text, JSON, SARIF 2.1.0 or Markdown.

Promise: `render(fmt, report)` returns the whole document as a string. Text: a summary table
(tests, sites, runs, verdict counts, coverage, cross-link, time), then each silent survival
(fault, operation, site, handler, tests, finding, replay), the benign and stale declarations,
the tests not swept and the sites never faulted. JSON: the report itself (contract section 3).
SARIF: one result per silent survival, located at its handler (at the site when no handler is
known), rule `silent-error`; benign survivals are results with a suppression. Markdown: the
text report's content as tables, for a pull-request comment or a CI summary.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from errwise import __version__
from errwise.sweep.model import VERDICTS

__all__ = ["FORMATS", "render"]

RULE_ID: Final = "silent-error"


def render(fmt: str, report: Mapping[str, Any]) -> str:
    return FORMATS[fmt](report)


def _json(report: Mapping[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=False) + "\n"


def _where(place: Mapping[str, Any] | None) -> str:
    if not place:
        return "(unknown)"
    function = place.get("function")
    return f"{place['path']}:{place['line']}" + (f" in {function}" if function else "")


def _summary_rows(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    s, c = report["summary"], report["coverage"]
    ratio = "n/a" if c["ratio"] is None else f"{c['ratio']:.0%}"
    verdicts = ", ".join(f"{v} {s['verdicts'][v]}" for v in VERDICTS)
    state = "complete" if s["complete"] else "INCOMPLETE (see sites not faulted)"
    if report.get("shard"):
        state += f", shard {report['shard']}"
    return [
        ("tests", f"{s['tests']} ({s['swept_tests']} swept)"),
        ("sites", f"{s['sites']} reached, {c['sites_faulted']} faulted"),
        ("runs", f"{s['runs']} of {s['planned']} planned"),
        ("verdicts", verdicts),
        (
            "silent",
            f"{s['silent']} survival(s), {s['benign']} benign, "
            f"{s.get('absorbed', 0)} absorbed outside the project",
        ),
        (
            "coverage",
            f"{c['handlers_reached']}/{c['handlers_guarding']} guarding handlers reached ({ratio})",
        ),
        (
            "auditor",
            f"confirmed {s['confirmed']}, miss {s['miss']}, refuted {s['refuted']}",
        ),
        ("time", f"{s['seconds']:.1f} s, {state}"),
    ]


def _text(report: Mapping[str, Any]) -> str:
    lines = ["errwise sweep: " + " ".join(report["command"]), ""]
    rows = _summary_rows(report)
    width = max(len(k) for k, _ in rows)
    lines += [f"  {k.ljust(width)}  {v}" for k, v in rows]
    survivals: Sequence[Mapping[str, Any]] = report["survivals"]
    if survivals:
        lines += ["", f"Silent survivals ({len(survivals)}): the error vanished"]
        for n, s in enumerate(survivals, 1):
            how = "persistent" if s["persistent"] else "transient"
            lines += [
                f"  {n}. {s['fault']} ({how}) at {s['operation']} {_where(s['site'])}",
                f"     handler: {_where(s['handler'])}",
                f"     tests:   {', '.join(t for t in s['tests']) or '(the whole command)'}",
                f"     finding: {_finding(s, 'none (an auditor miss)')}",
                f"     replay:  {s['replay']}",
            ]
    for title, entries in (("Benign", report["benign"]),):
        if entries:
            lines += ["", f"{title} ({len(entries)}):"]
            lines += [
                f"  {e['fault']} at {e['operation']} {_where(e['site'])}, handler "
                f"{_where(e['handler'])}: {e['reason']}"
                for e in entries
            ]
    for title, entries in (
        ("Stale benign declarations (matched nothing)", report["stale_benign"]),
        (
            "Benign declarations not checked (the sweep was not complete)",
            report.get("unchecked_benign") or [],
        ),
    ):
        if entries:
            lines += ["", f"{title}:"]
            for e in entries:
                where = f"handler {e['handler']}" if e.get("handler") else f"site {e.get('site')}"
                lines.append(f"  {where}: {e['reason']}")
    absorbed = report.get("absorbed") or []
    if absorbed:
        places = sorted({_where(e["handler"]) for e in absorbed})
        lines += [
            "",
            f"Absorbed outside the project ({len(absorbed)} run group(s)): a library the project "
            "called caught the error and answered in its own way, at:",
        ]
        lines += [f"  {p}" for p in places]
    hangs = [r for r in report["runs"] if r.get("hang")]
    if hangs:
        lines += ["", f"Hung under a persistent fault ({len(hangs)}):"]
        lines += [f"  {r['id']}: {r['reason']}" for r in hangs]
    if report["not_swept"]:
        lines += ["", f"Not swept ({len(report['not_swept'])}):"]
        lines += [f"  {e['test'] or '(the command)'}: {e['reason']}" for e in report["not_swept"]]
    unanalysed = report["coverage"].get("unanalysed") or []
    if unanalysed:
        lines += ["", "Not analysed for coverage (changed since the baseline?):"]
        lines += [f"  {e['path']}: [{e['code']}] {e['message']}" for e in unanalysed]
    if report["unfaulted_sites"]:
        lines += ["", f"Sites never faulted ({len(report['unfaulted_sites'])}):"]
        lines += [
            f"  {e['path']}:{e['line']} {e['operation']}: {e['reason']}"
            for e in report["unfaulted_sites"]
        ]
    return "\n".join(lines) + "\n"


def _finding(survival: Mapping[str, Any], miss: str) -> str:
    """The confirmed rule id, else a miss (a survival's handler is in the project: those
    outside it are `absorbed`, listed apart)."""
    if survival["finding"]:
        return str(survival["finding"])
    if survival["handler"] is None:
        return "none (no handler named)"
    return miss


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _markdown(report: Mapping[str, Any]) -> str:
    out = ["## errwise sweep", "", f"`{_cell(' '.join(report['command']))}`", ""]
    out += ["| | |", "|---|---|"]
    out += [f"| {k} | {_cell(v)} |" for k, v in _summary_rows(report)]
    if report["survivals"]:
        out += [
            "",
            f"### Silent survivals ({len(report['survivals'])})",
            "",
            "| fault | operation | site | handler | tests | finding | replay |",
            "|---|---|---|---|---|---|---|",
        ]
        for s in report["survivals"]:
            how = " (persistent)" if s["persistent"] else ""
            out.append(
                f"| {_cell(s['fault'] + how)} | `{_cell(s['operation'])}` | "
                f"`{_cell(_where(s['site']))}` | `{_cell(_where(s['handler']))}` | "
                f"{_cell(', '.join(s['tests']) or '(command)')} | {_cell(_finding(s, 'miss'))} "
                f"| `{_cell(s['replay'])}` |"
            )
    else:
        out += ["", "No silent survival."]
    if report.get("absorbed"):
        out += [
            "",
            f"{len(report['absorbed'])} silent run group(s) were absorbed outside the project "
            "(a library caught the error and answered in its own way); they do not fail the sweep.",
        ]
    if report["benign"] or report["stale_benign"]:
        out += ["", "### Benign", ""]
        out += [
            f"- `{_cell(_where(e['handler'] or e['site']))}` {_cell(e['fault'])}: "
            f"{_cell(e['reason'])}"
            for e in report["benign"]
        ]
        out += [
            f"- stale: `{_cell(e.get('handler') or e.get('site'))}`: {_cell(e['reason'])}"
            for e in report["stale_benign"]
        ]
    if report["not_swept"]:
        out += ["", "### Not swept", ""]
        out += [f"- `{_cell(e['test'])}`: {_cell(e['reason'])}" for e in report["not_swept"]]
    if report["unfaulted_sites"]:
        out += ["", "### Sites never faulted", ""]
        out += [
            f"- `{_cell(e['path'])}:{e['line']}` {_cell(e['operation'])}: {_cell(e['reason'])}"
            for e in report["unfaulted_sites"]
        ]
    return "\n".join(out) + "\n"


def _sarif(report: Mapping[str, Any]) -> str:
    results = [_sarif_result(s, None) for s in report["survivals"]]
    results += [_sarif_result(s, s["reason"]) for s in report["benign"]]
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "errwise sweep",
                        "version": __version__,
                        "informationUri": "https://github.com/errwise/errwise",
                        "rules": [
                            {
                                "id": RULE_ID,
                                "name": "SilentError",
                                "shortDescription": {
                                    "text": "an injected I/O error vanished in a handler"
                                },
                                "fullDescription": {
                                    "text": "errwise sweep failed an operation the tests reach; "
                                    "the test passed and nothing logged, warned, reported or "
                                    "re-raised the error."
                                },
                                "defaultConfiguration": {"level": "error"},
                            }
                        ],
                    }
                },
                "originalUriBaseIds": {"ROOT": {"uri": _dir_uri(report["root"])}},
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _dir_uri(root: str) -> str:
    uri = Path(root).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _sarif_result(survival: Mapping[str, Any], benign: str | None) -> dict[str, Any]:
    place = survival["handler"] or survival["site"]
    site = survival["site"]
    how = "persistent" if survival["persistent"] else "transient"
    handler = survival["handler"]
    where = f"the handler at line {handler['line']}" if handler else "an unknown handler"
    text = (
        f"{survival['fault']} ({how}) injected at {survival['operation']} "
        f"{site['path']}:{site['line']} vanished in {where}: the test passed and nothing "
        f"reported it. Replay: {survival['replay']}"
    )
    result: dict[str, Any] = {
        "ruleId": RULE_ID,
        "ruleIndex": 0,
        "level": "error",
        "message": {"text": text},
        "locations": [_location(place)],
        "relatedLocations": [
            {**_location(site), "id": 1, "message": {"text": "the failed operation"}}
        ],
        "partialFingerprints": {
            "errwiseSweep/v1": ":".join(
                str(x)
                for x in (
                    survival["operation"],
                    survival["fault"],
                    how,
                    site["path"],
                    site["line"],
                    place["path"],
                    place["line"],
                )
            )
        },
        "properties": {
            "tests": list(survival["tests"]),
            "finding": survival["finding"],
            "replay": survival["replay"],
        },
    }
    if benign is not None:
        result["suppressions"] = [{"kind": "external", "justification": benign}]
    return result


def _location(place: Mapping[str, Any]) -> dict[str, Any]:
    artifact = {"uri": str(place["path"]), "uriBaseId": "ROOT"}  # the project's: see _finding
    return {
        "physicalLocation": {
            "artifactLocation": artifact,
            "region": {"startLine": int(place["line"])},
        }
    }


FORMATS: Final[dict[str, Callable[[Mapping[str, Any]], str]]] = {
    "text": _text,
    "json": _json,
    "sarif": _sarif,
    "markdown": _markdown,
}
