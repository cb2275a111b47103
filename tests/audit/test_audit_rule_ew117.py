"""EW117 silent-dispatch-default: kind-string dispatch without `else`, then "success"."""

from __future__ import annotations

import pytest

POSITIVES = {
    "seed_rollback_logs_complete": (
        """
        import logging
        logger = logging.getLogger(__name__)
        def rollback(transaction):
            for op in reversed(transaction.operations):
                if op.rollback_type == "remove_lock":
                    op.lock_path.unlink()
                elif op.rollback_type == "move_wo_to_pending":
                    op.running.rename(op.pending)
            logger.info("Rollback complete")
        """,
        "critical",
        "logs 'rollback complete'",
    ),
    "returns_true_after_dispatch": (
        """
        def apply(change, store):
            if change["kind"] == "add":
                store.add(change["item"])
            elif change["kind"] in ("drop", "remove"):
                store.discard(change["item"])
            return True
        """,
        "medium",
        "`return True` at line 7",
    ),
    "reversed_comparison_and_ok_result": (
        """
        from errwise import Ok
        def handle(event):
            if "created" == event.type:
                count = 1
            elif "deleted" == event.type:
                count = -1
            return Ok(event)
        """,
        "medium",
        "`return Ok(...)`",
    ),
    "match_without_wildcard": (
        """
        import logging
        log = logging.getLogger(__name__)
        def undo(step):
            match step.kind:
                case "unlock":
                    step.lock.release()
                case "unmove" | "restore":
                    step.path.rename(step.origin)
            log.info("undo finished for %s", step.name)
        """,
        "critical",
        "has no `case _:`",
    ),
    "prints_done_after_state_change": (
        """
        import os, shutil
        def cleanup(kind, path):
            if kind == "file":
                os.remove(path)
            elif kind == "tree":
                shutil.rmtree(path)
            print("Cleanup done")
        """,
        "critical",
        "'cleanup done'",
    ),
}

NEGATIVES = {
    "has_else": """
        def rollback(op):
            if op.kind == "remove_lock":
                op.path.unlink()
            elif op.kind == "move":
                op.src.rename(op.dst)
            else:
                raise ValueError(op.kind)
            return True
        """,
    "raises_right_after_chain": """
        def make(kind):
            if kind == "a":
                return 1
            elif kind == "b":
                return 2
            raise ValueError(f"unknown kind {kind!r}")
        """,
    "validated_before": """
        KINDS = ("a", "b", "c")
        def apply(kind, store):
            if kind not in KINDS:
                raise ValueError(kind)
            if kind == "a":
                store.a()
            elif kind == "b":
                store.b()
            return True
        """,
    "no_success_reported": """
        def colour(level):
            style = ""
            if level == "error":
                style = "red"
            elif level == "warning":
                style = "yellow"
            return style
        """,
    "different_subjects": """
        def check(args):
            if args.mode == "fast":
                args.jobs = 8
            elif args.output == "json":
                args.quiet = True
            return True
        """,
    "single_branch": """
        def apply(kind, store):
            if kind == "reset":
                store.clear()
            return True
        """,
    "loop_over_the_literal_values": """
        def build(store):
            for kind in ("index", "cache"):
                if kind == "index":
                    store.reindex()
                elif kind == "cache":
                    store.warm()
            return True
        """,
    "match_with_wildcard": """
        def undo(step):
            match step.kind:
                case "unlock":
                    step.lock.release()
                case "unmove":
                    step.path.rename(step.origin)
                case other:
                    raise ValueError(other)
            return True
        """,
    "getopt_loop": """
        import getopt
        def main(argv):
            opts, args = getopt.getopt(argv, "vq")
            for opt, value in opts:
                if opt == "-v":
                    verbose = True
                elif opt == "-q":
                    verbose = False
            return True
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_positive(audit, name):
    source, severity, text = POSITIVES[name]
    findings = audit(source, "silent-dispatch-default")
    assert [f.rule for f in findings] == ["EW117"], findings
    assert findings[0].severity.value == severity
    assert "has no `else`" in findings[0].message or "has no `case _:`" in findings[0].message
    assert text in findings[0].message
    assert "raise errwise.bug(" in findings[0].recommendation


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative(audit, name):
    assert audit(NEGATIVES[name], "EW117") == []
