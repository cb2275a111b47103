"""Exception-flow inference: which exceptions a piece of code can really raise.

Promise: the auditor learns what calls raise from a knowledge base shipped as data
(`raises.toml`, format in `kb.py`, extensible from `[tool.errwise]` via
`KnowledgeBase.extended`), reasons with the exception class hierarchy (`Hierarchy`: builtins
introspected, library classes from the knowledge base, the audited code's own classes), and
propagates raise-sets across the audited program to a fixpoint.

How the pieces are used:
- configuration: `kb = kb_from_config(pyproject["tool"]["errwise"])` (keys `raises`,
  `exception-classes`; see `kb.py`);
- per file (in worker processes): `facts = summarize(model, kb)` — a picklable `FileFacts`;
- once: `program = Program(all_facts, kb)`; set `model.program = program` before running the
  rules on a model (the model's `path` must be the one its facts were built with); then
  `program.raise_set("pkg.mod.func")`, `program.hidden_errors(path, except_line)`,
  `program.errnos(path, except_line)`, `program.handler(path, line, col)` (a `HandlerResult`);
- rules: `program_for(model)` — the runner's Program when it set `model.program`, else a
  one-file Program built (once) from the model;
- findings: `fill_hidden_errors(findings, program)`.
"""

from __future__ import annotations

import functools
import json

from errwise.audit.config import AuditConfig
from errwise.audit.infer.facts import FileFacts
from errwise.audit.infer.hidden import describe, fill_hidden_errors, hidden_for
from errwise.audit.infer.hierarchy import NEVER_DEAD, Hierarchy, errnos_of, item_class
from errwise.audit.infer.kb import (
    ERRNO_CLASS,
    CallSpec,
    KnowledgeBase,
    default_kb,
    kb_from_config,
)
from errwise.audit.infer.program import Flow, HandlerResult, Program
from errwise.audit.infer.summarize import summarize
from errwise.audit.model import FileModel

__all__ = [
    "CallSpec",
    "ERRNO_CLASS",
    "FileFacts",
    "Flow",
    "HandlerResult",
    "Hierarchy",
    "KnowledgeBase",
    "NEVER_DEAD",
    "Program",
    "default_kb",
    "describe",
    "errnos_of",
    "fill_hidden_errors",
    "hidden_for",
    "item_class",
    "kb_for",
    "kb_from_config",
    "program_for",
    "summarize",
]


def kb_for(config: AuditConfig) -> KnowledgeBase:
    """The knowledge base of a configuration: the shipped one, extended by the project's
    `raises` / `exception-classes` tables (built once per process and configuration)."""
    return _kb_for_text(config.knowledge)


@functools.cache
def _kb_for_text(knowledge: str | None) -> KnowledgeBase:
    if knowledge is None:
        return default_kb()
    return kb_from_config(json.loads(knowledge))


def program_for(model: FileModel) -> Program:
    """The program-wide facts for a file's rules (see the module doc)."""
    if model.program is None:
        kb = kb_for(model.config)
        model.program = Program([summarize(model, kb)], kb)
    return model.program
