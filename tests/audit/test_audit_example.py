"""The example project `examples/workorder`: its findings are pinned — rule, line and function.

How to extend: `EXPECTED` lists every defect the example holds, one row per finding, by rule,
file, function and a snippet that occurs once in that function on the reported line. Rows of
rules that are not in the catalog yet are skipped automatically, so merging a rule turns its rows
on; if the rule reports a different line (or more findings), fix the row or the example. `unless`
names a more specific rule that, once present, claims the same except clause instead.
`workorder/safe.py` does the same jobs correctly and must have no finding at all.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from errwise.audit.rules import all_rules

Cli = Callable[..., Any]

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = "examples/workorder/workorder"
CATALOG = {f"EW{n}" for n in range(101, 122)}


@dataclass(frozen=True)
class Expect:
    rule: str
    file: str
    function: str
    snippet: str
    unless: str | None = None


EXPECTED = [
    # gitops.py: run_command without timeout; silent fallback to "main"; unguarded unpack of git
    # output; a handler shadowed by its superclass; cleanup that drops a command's status and
    # logs failures without the traceback.
    Expect("EW107", "gitops.py", "run_command", "subprocess.run("),
    Expect("EW103", "gitops.py", "git_get_default_branch", "except Exception:"),
    Expect("EW101", "gitops.py", "git_get_default_branch", "except Exception:", unless="EW103"),
    Expect("EW115", "gitops.py", "list_worktrees", 'key, value = line.split(" ", 1)'),
    Expect("EW121", "gitops.py", "create_worktree", "except subprocess.CalledProcessError:"),
    Expect("EW108", "gitops.py", "cleanup_worktree", '"branch", "-D"'),
    Expect("EW113", "gitops.py", "cleanup_worktree", "except Exception:"),
    Expect("EW113", "gitops.py", "cleanup_worktree", "except Exception as exc:"),
    # lock.py: EEXIST and EACCES conflated; heartbeat returns False for "gone" and for "failed";
    # an exists-then-unlink race and a cleanup Ctrl-C skips; (False, None) for "no lock" and
    # for "cannot read"; a swallowed unlink of the lock; a bare except that eats Ctrl-C in the
    # heartbeat loop, which also drops the heartbeat's failure result.
    Expect("EW109", "lock.py", "create_lock", "except OSError:"),
    Expect("EW102", "lock.py", "update_lock_heartbeat", "except Exception as exc:"),
    Expect("EW111", "lock.py", "update_lock_heartbeat", "except Exception as exc:"),
    Expect("EW114", "lock.py", "update_lock_heartbeat", "os.unlink(temp_path)"),
    Expect("EW109", "lock.py", "check_lock_validity", "except (OSError, ValueError) as exc:"),
    Expect("EW102", "lock.py", "check_lock_validity", "except (OSError, ValueError) as exc:"),
    Expect("EW102", "lock.py", "check_lock_validity", "except Exception as exc:"),
    Expect("EW101", "lock.py", "remove_lock", "except Exception:"),
    Expect("EW101", "lock.py", "heartbeat_loop", "except:"),
    Expect("EW110", "lock.py", "heartbeat_loop", "except:"),
    Expect("EW108", "lock.py", "heartbeat_loop", "update_lock_heartbeat(lock_path)"),
    # state.py: unguarded `key: value` unpack; state moved by write-then-unlink with no undo;
    # a free-text RuntimeError (EW119) raised without `from` (EW112: the example is audited with
    # every rule, `--profile strict`, where EW112 makes its full claims; its default-profile
    # judgement reports only a plug-in's errors turned into one fixed error).
    Expect("EW115", "state.py", "read_state", 'key, value = line.split(":", 1)'),
    Expect("EW112", "state.py", "load_journal", "raise RuntimeError("),
    Expect("EW118", "state.py", "move_to_running", "running.write_text("),
    Expect("EW118", "state.py", "move_to_pending", 'open(pending, "w"'),
    Expect("EW119", "state.py", "load_journal", "raise RuntimeError("),
    # rollback.py: the best-effort rollback loop; dispatch on the step kind without an else;
    # `return` in `finally`...
    Expect("EW104", "rollback.py", "execute_rollback", "except Exception as exc:"),
    Expect("EW117", "rollback.py", "execute_rollback", 'if op.kind == "remove_lock":'),
    Expect("EW116", "rollback.py", "release_all", "return released"),
    # ...and drops the bool failure result of `gitops.cleanup_worktree`, another module's helper.
    Expect("EW108", "rollback.py", "execute_rollback", "cleanup_worktree(root,"),
    # cli.py: failure returns 1, like "locked"; rollback only in `except Exception` (Ctrl-C
    # skips it); os.system's status dropped.
    Expect("EW102", "cli.py", "take", "except Exception as exc:"),
    Expect("EW111", "cli.py", "take", "except Exception as exc:"),
    Expect("EW108", "cli.py", "take", "os.system("),
]


def line_of(file: str, function: str, snippet: str) -> int:
    """The one line of `function` in `file` that contains `snippet`."""
    source = (REPO / EXAMPLE / file).read_text(encoding="utf-8")
    tree = ast.parse(source)
    defs = [
        n
        for n in ast.walk(tree)
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == function
    ]
    assert len(defs) == 1, f"{file}: {len(defs)} functions named {function}"
    node = defs[0]
    lines = source.splitlines()
    hits = [
        number
        for number in range(node.lineno, (node.end_lineno or node.lineno) + 1)
        if snippet in lines[number - 1]
    ]
    assert len(hits) == 1, f"{file}:{function}: {snippet!r} found on lines {hits}"
    return hits[0]


def expected_now() -> set[tuple[str, str, int, str]]:
    present = {r.id for r in all_rules()}
    return {
        (e.rule, f"{EXAMPLE}/{e.file}", line_of(e.file, e.function, e.snippet), e.function)
        for e in EXPECTED
        if e.rule in present and (e.unless is None or e.unless not in present)
    }


def test_table_is_well_formed() -> None:
    for e in EXPECTED:
        assert e.rule in CATALOG and (e.unless is None or e.unless in CATALOG), e
        line_of(e.file, e.function, e.snippet)
    covered = {e.rule for e in EXPECTED}
    # The example shows most of the catalog (EW105 is always out-claimed here; EW106 and EW120
    # belong to a later issue).
    assert CATALOG - covered == {"EW105", "EW106", "EW120"}


def test_example_findings_are_pinned(cli: Cli) -> None:
    run = cli(
        "audit",
        "--profile",
        "strict",
        "--format",
        "json",
        "--no-config",
        "examples/workorder",
        cwd=REPO,
    )
    doc = run.json()
    assert doc["diagnostics"] == []
    actual = {(f["rule"], f["path"], f["line"], f["function"]) for f in doc["findings"]}
    expected = expected_now()
    assert sorted(actual - expected) == [], "unexpected findings"
    assert sorted(expected - actual) == [], "missing findings"
    assert run.code == 1
    assert not [f for f in doc["findings"] if f["path"].endswith("/safe.py")]


def test_example_has_critical_findings_and_text_output(cli: Cli) -> None:
    run = cli(
        "audit",
        "--profile",
        "strict",
        "--no-config",
        "--fail-on",
        "critical",
        "examples/workorder",
        cwd=REPO,
    )
    assert run.code == 1
    assert f"{EXAMPLE}/lock.py:" in run.out and "[critical]" in run.out


@pytest.mark.parametrize("name", ["__init__.py", "safe.py"])
def test_correct_code_is_clean_alone(cli: Cli, name: str) -> None:
    run = cli("audit", "--profile", "strict", "--no-config", f"{EXAMPLE}/{name}", cwd=REPO)
    assert (run.code, run.out) == (0, "")
