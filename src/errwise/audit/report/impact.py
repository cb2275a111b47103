"""Production impact and failure-injection test sketches, derived from what the code does.

Promise: `impact(finding)` lists what a user or operator sees when the defect fires: one line
for the rule's harm, then one per effect of the judged code (lock, cleanup, disk, process,
network), most severe first. `effect_impacts()` gives every effect line (for `errwise explain`).
`failure_test(finding)` is a pytest function, as text, that injects the failure the finding is
about (monkeypatches a call of the judged code to raise, or to return its failure value) and
asserts it surfaces; it names only identifiers taken from the code, so it is safe to place in a
code block once that block is fenced (`escape.md_fence`). Pure functions of the finding.
"""

from __future__ import annotations

import re

from errwise.audit.finding import Finding, FindingDetails
from errwise.audit.report.escape import one_line

__all__ = ["impact", "effect_impacts", "effects_matter", "rule_impact", "failure_test"]

_RULE_IMPACT = {
    "EW101": "Nothing reaches the logs: operators see only the consequences, far from the cause.",
    "EW102": "Callers take the failure for a real answer and act on it (e.g. treat a lock they "
    "could not read as absent).",
    "EW103": "The program carries on with a default it never checked; the real cause surfaces "
    "later as a cryptic error somewhere else.",
    "EW104": "Each failed step is logged and skipped: the run ends looking finished while part of "
    "the work was never done.",
    "EW105": "Bugs (`TypeError`, `AttributeError`) and exhaustion (`MemoryError`) get the same "
    "routine treatment as the expected failure, so they hide behind it. (`except Exception` "
    "does not catch Ctrl-C or `sys.exit()`; those are `BaseException`s.)",
    "EW106": "The error escapes without the ids or paths of the operation: operators cannot tell "
    "which item failed.",
    "EW107": "The process can hang forever; someone must notice and kill it, and a lock it holds "
    "goes stale meanwhile.",
    "EW108": "A failed command or call is treated as success; the missing effect shows up later.",
    "EW109": "'someone else got there first' and 'the disk or permissions are broken' get the "
    "same treatment: a real failure is reported as contention, or the reverse.",
    "EW110": "Ctrl-C and `sys.exit()` are swallowed: the program cannot be stopped normally and "
    "operators resort to `kill -9`, which skips every cleanup.",
    "EW111": "Ctrl-C (or `sys.exit()`) at the wrong moment skips the cleanup, which runs only for "
    "`Exception`s: the state stays half changed.",
    "EW112": "The traceback reads as a second bug in the handler; the original error is not "
    "linked as the cause.",
    "EW113": "The log says that something failed, but not where: there is no traceback to debug "
    "from.",
    "EW114": "Under concurrency (another process, a cleanup job) the check passes and the use "
    "fails with the very error the check meant to avoid.",
    "EW115": "Unexpected input crashes with `ValueError: not enough values to unpack`, which names "
    "neither the input nor the expected format.",
    "EW116": "Any exception raised in the `try` (Ctrl-C included) vanishes: the function looks "
    "successful.",
    "EW117": "An unknown kind is silently skipped while the program reports success.",
    "EW118": "A failure or a crash between the steps leaves two versions of the state, or none, "
    "on disk.",
    "EW119": "Callers must catch `RuntimeError`/`Exception` (and unrelated bugs with it) and parse "
    "the message text to handle this error.",
    "EW120": "The handler can never run: the error it was written for is handled nowhere.",
    "EW121": "The later handler never runs: the handling written for that error is dead code.",
    "EW122": "A server that stops answering hangs the program forever; someone must notice and "
    "kill it, and the locks and threads it holds stay taken meanwhile.",
    "EW123": "One failing step of a cleanup leaves the resources after it open: child processes "
    "keep running, files, connections and temporary directories pile up, and a second close() "
    "may do nothing.",
}
_EFFECT_IMPACT = {
    "lock": "A lock can stay held after the failure (nobody can take the work until someone "
    "removes it by hand), or look free while its owner still works.",
    "cleanup": "Rollback or cleanup stops part-way: the state is left half changed and only "
    "manual repair brings it back.",
    "disk": "Files can be left half-written, missing or in two versions; the next run trips over "
    "them.",
    "process": "A failed or hung command goes unnoticed; its missing result surfaces later as a "
    "confusing error elsewhere.",
    "network": "A failed request looks like success; retries and alerts never happen.",
}
_LOSES_ERROR = frozenset(
    {"EW101", "EW102", "EW103", "EW104", "EW105", "EW108", "EW109", "EW110", "EW111", "EW113"}
    | {"EW116", "EW117", "EW118"}
)
"""Rules whose defect leaves the judged code's effects undone or unnoticed."""


def rule_impact(rule_id: str) -> str | None:
    return _RULE_IMPACT.get(rule_id)


def effects_matter(rule_id: str) -> bool:
    """Does this rule's defect leave what the judged code does undone or unnoticed?"""
    return rule_id in _LOSES_ERROR


def effect_impacts() -> dict[str, str]:
    return dict(_EFFECT_IMPACT)


def impact(finding: Finding) -> list[str]:
    lines = []
    own = _RULE_IMPACT.get(finding.rule)
    if own:
        lines.append(own)
    details = finding.details or FindingDetails()
    if finding.rule in _LOSES_ERROR:
        lines.extend(_EFFECT_IMPACT[e] for e in details.effects if e in _EFFECT_IMPACT)
    return lines


# -- test sketches ------------------------------------------------------------------------------

_INTERRUPT_RULES = frozenset({"EW110", "EW111"})
_IDENT = re.compile(r"[^0-9A-Za-z_]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\Z")


def _injected(finding: Finding, details: FindingDetails) -> tuple[str, str]:
    """(exception expression to raise, exception name to expect)."""
    if finding.rule in _INTERRUPT_RULES:
        return "KeyboardInterrupt()", "KeyboardInterrupt"
    hidden = [h for h in finding.hidden_errors if _NAME.match(h)]
    if hidden:
        name = hidden[0]
        short = name.rsplit(".", 1)[-1]
        if short in {"PermissionError", "OSError"}:
            return f'{name}(errno.EACCES, "Permission denied (injected)")', name
        if short == "CalledProcessError":
            return f'{name}(1, ["cmd"], stderr="injected by the test")', name
        if short == "TimeoutExpired":
            return f'{name}(["cmd"], 60)', name
        return f'{name}("injected by the test")', name
    if {"lock", "disk", "cleanup"} & set(details.effects):
        return 'PermissionError(errno.EACCES, "Permission denied (injected)")', "PermissionError"
    return 'OSError(errno.EIO, "I/O error (injected)")', "OSError"


def _subject_call(finding: Finding) -> str:
    """How the test reaches the code (with a comment saying what to fill in)."""
    call, note = _subject_call_parts(finding)
    return f"{call}  # {note}"


def _subject_call_parts(finding: Finding) -> tuple[str, str]:
    function = finding.function
    if not function:
        return "importlib.reload(subject)", "the code runs at import"
    parts = function.split(".")
    if len(parts) > 1 and parts[0][:1].isupper():
        return f"subject.{parts[0]}(...).{'.'.join(parts[1:])}(...)", "arguments that reach it"
    if len(parts) > 1:
        return f"subject.{parts[0]}(...)", f"reaches {function}()"
    return f"subject.{parts[0]}(...)", f"arguments that reach line {finding.line}"


def _module(finding: Finding, details: FindingDetails) -> str:
    if details.module:
        return details.module
    stem = finding.path.rsplit("/", 1)[-1].removesuffix(".py")
    return _IDENT.sub("_", stem) or "subject_module"


def _patch(target: str) -> str:
    if "." in target:
        return f'monkeypatch.setattr("{target}", fail)'
    extra = ", raising=False" if target == "open" else ""  # a builtin: not a module attribute
    return f'monkeypatch.setattr(subject, "{target}", fail{extra})'


def _failure_value(finding: Finding) -> str:
    """What a call that reports failure by its return value returns when it fails (EW108)."""
    if "exit status" in finding.message:
        return "256  # os.system's status for exit code 1"
    if "check=False" in finding.message:
        return 'subprocess.CompletedProcess(args, 1, "", "injected failure")'
    match = re.search(r"returns `([^`\n]{1,40})`", finding.message)
    return match.group(1) if match else "False"


def failure_test(finding: Finding) -> str:
    """A pytest function injecting the failure of `finding` (see the module promise)."""
    details = finding.details or FindingDetails()
    where = one_line(f"{finding.rule} {finding.name} at {finding.path}:{finding.line}")
    func = _IDENT.sub("_", finding.function or "module").strip("_").lower() or "module"
    call = _subject_call(finding)
    raise_expr, expected = _injected(finding, details)
    header = f"import {_module(finding, details)} as subject\n\n\n"
    body: list[str]
    if finding.rule == "EW108" and details.calls:
        target, written = details.calls[0]
        value = _failure_value(finding)
        name = f"test_{func}_notices_when_{_IDENT.sub('_', written).strip('_').lower()}_fails"
        body = [
            f"def {name}(monkeypatch):",
            f"    # {where}",
            "    # the call reports failure through its result, which the code drops",
            "    def fail(*args, **kwargs):",
            f"        return {value}",
            "",
            f"    {_patch(target)}",
            "    with pytest.raises(errwise.Error):  # the failure must surface",
            f"        {call}",
        ]
    elif finding.rule == "EW117":
        subject = re.search(r"dispatch on `([^`\n]{1,60})`", finding.message)
        on = subject.group(1) if subject else "the kind"
        reach = _subject_call_parts(finding)[0]
        body = [
            f"def test_{func}_rejects_an_unknown_kind():",
            f"    # {where}",
            "    with pytest.raises(errwise.Error):  # an unhandled kind must not pass silently",
            f"        {reach}  # with {one_line(on)} set to 'no-such-kind'",
        ]
    elif finding.rule == "EW107" and details.calls:
        target, _ = details.calls[0]
        body = [
            f"def test_{func}_bounds_its_subprocess(monkeypatch):",
            f"    # {where}",
            "    def fake(*args, **kwargs):",
            '        assert kwargs.get("timeout") is not None, "no timeout: this can hang forever"',
            '        raise subprocess.TimeoutExpired("cmd", kwargs["timeout"])',
            "",
            f'    monkeypatch.setattr("{target}", fake)',
            "    with pytest.raises((subprocess.TimeoutExpired, errwise.Error)):",
            f"        {call}",
        ]
    else:
        body = [
            f"def test_{func}_surfaces_{_IDENT.sub('_', expected).strip('_').lower()}"
            f"_line_{finding.line}(monkeypatch):",
            f"    # {where}",
        ]
        if details.calls:
            target, written = details.calls[0]
            body += [
                "    def fail(*args, **kwargs):",
                f"        raise {raise_expr}",
                "",
                f"    {_patch(target)}"
                + (f"  # {one_line(written)}()" if written != target else ""),
            ]
        else:
            body.append(f"    # make the guarded code raise {expected} (patch one of its calls)")
        catch = expected if finding.rule in _INTERRUPT_RULES else f"({expected}, errwise.Error)"
        body += [
            f"    with pytest.raises({catch}):",
            f"        {call}",
        ]
        if finding.rule == "EW111":
            body.append("    # ...and assert the rollback ran: the state is as before the call")
        elif finding.rule not in _INTERRUPT_RULES:
            body.append("    # (or, once it returns errwise.Result: assert the result is an Err)")
    text = "\n".join(body) + "\n"
    return _import_block(text) + header + text


def _import_block(code: str) -> str:
    """The import lines `code` needs, grouped and sorted the way ruff/isort would."""
    raised = set(re.findall(r"raise ([a-z_][a-z0-9_]*)\.", code)) - {"errwise", "pytest"}
    stdlib = sorted({m for m in ("errno", "importlib", "subprocess") if f"{m}." in code} | raised)
    third = [m for m in ("errwise", "pytest") if f"{m}." in code]
    groups = ["\n".join(f"import {m}" for m in group) for group in (stdlib, third) if group]
    return "\n\n".join(groups) + "\n\n"
