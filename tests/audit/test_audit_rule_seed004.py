"""Seed 004's defects, on code shaped like the seed's helpers: each is found by the right rule,
and the seed's wrong claim (MEDIUM-1: `except Exception` catches Ctrl-C) is not repeated."""

from __future__ import annotations

SEED_SHAPED = r"""
    import logging, os, subprocess, tempfile
    from pathlib import Path
    logger = logging.getLogger(__name__)
    DEFAULT_BRANCH = "main"

    def run_command(cmd, cwd=None, check=True):
        return subprocess.run(cmd, cwd=cwd, check=check, capture_output=True, text=True, timeout=60)

    def git_get_default_branch(root):
        try:
            result = run_command(["git", "symbolic-ref", "refs/remotes/origin/HEAD"],
                                 cwd=root, check=False)
            if result.returncode == 0:
                return result.stdout.strip().split("/")[-1]
        except Exception:
            pass
        for branch in ["main", "master"]:
            result = run_command(["git", "rev-parse", "--verify", branch], cwd=root, check=False)
            if result.returncode == 0:
                return branch
        return DEFAULT_BRANCH

    def cleanup_worktree(root, wo_id, worktree_path, branch):
        try:
            if worktree_path.exists():
                run_command(["git", "worktree", "remove", str(worktree_path)], cwd=root)
            run_command(["git", "worktree", "prune"], cwd=root)
            try:
                run_command(["git", "branch", "-D", branch], cwd=root, check=False)
                logger.info(f"Removed branch: {branch}")
            except Exception:
                logger.info(f"Branch {branch} not removed (may not exist)")
            return True
        except Exception as e:
            logger.error(f"Failed to cleanup worktree: {e}")
            return False

    def create_lock(lock_path, wo_id):
        if lock_path.exists():
            logger.warning(f"Lock already exists: {lock_path}")
            return False
        temp_fd, temp_path = tempfile.mkstemp(prefix=f"{wo_id}.", suffix=".lock",
                                              dir=lock_path.parent)
        os.close(temp_fd)
        try:
            with open(temp_path, "w") as f:
                f.write(f"PID: {os.getpid()}\n")
            try:
                os.link(temp_path, lock_path)
                os.unlink(temp_path)
                return True
            except OSError:
                try:
                    os.rename(temp_path, lock_path)
                    return True
                except OSError:
                    os.unlink(temp_path)
                    logger.warning(f"Failed to acquire lock: {lock_path}")
                    return False
        except Exception as e:
            logger.error(f"Error creating lock: {e}")
            if os.path.exists(temp_path):
                os.unlink(temp_path)
            return False

    def update_lock_heartbeat(lock_path):
        if not lock_path.exists():
            logger.warning(f"Lock file not found for heartbeat: {lock_path}")
            return False
        temp_path = str(lock_path) + ".tmp"
        try:
            with open(temp_path, "w") as f:
                f.write("beat")
            os.replace(temp_path, lock_path)
            return True
        except Exception as e:
            logger.error(f"Failed to update heartbeat: {e}")
            if os.path.exists(temp_path):
                os.unlink(temp_path)
            return False

    def check_lock_validity(lock_path):
        if not lock_path.exists():
            return False, None
        try:
            content = lock_path.read_text()
            metadata = dict(line.split(": ", 1) for line in content.splitlines())
            pid = int(metadata["PID"])
            os.kill(pid, 0)
            return True, metadata
        except (OSError, ValueError) as e:
            logger.error(f"Error parsing lock metadata: {type(e).__name__}: {e}")
            return False, None
        except Exception as e:
            logger.error(f"Unexpected error reading lock: {type(e).__name__}: {e}")
            return False, None

    def execute_rollback(transaction, root):
        failed_ops = []
        for op in reversed(transaction.operations):
            try:
                if op.rollback_type == "remove_lock":
                    op.lock_path.unlink()
                elif op.rollback_type == "move_wo_to_pending":
                    op.move()
            except Exception as e:
                error_msg = f"{op.name}: {type(e).__name__}: {e}"
                logger.error(f"Rollback failed: {error_msg}")
                failed_ops.append(error_msg)
        return len(failed_ops) == 0, failed_ops

    def take(root, wo_id, transaction, branch, worktree, running_path, wo, job_path):
        try:
            create_worktree(root, wo_id, branch, Path(worktree))
        except Exception as e:
            logger.error(f"Failed to create worktree: {e}")
            all_succeeded, failed_ops = execute_rollback(transaction, root)
            if not all_succeeded:
                logger.error(f"Rollback partially failed: {failed_ops}")
            return 1
        try:
            write_yaml(running_path, wo)
            job_path.unlink()
        except Exception as e:
            logger.error(f"Failed to move WO: {e}")
            execute_rollback(transaction, root)
            return 1
        update_lock_heartbeat(root / "lock")
        cleanup_worktree(root, wo_id, worktree, branch)
        return 0
"""

MINE = (
    "EW102",
    "EW103",
    "EW104",
    "EW105",
    "EW108",
    "EW110",
    "EW111",
    "EW113",
)


def test_seed_defects_are_found_by_the_right_rules(audit):
    findings = audit(SEED_SHAPED, *MINE)
    got = {(f.line, f.rule, f.severity.value) for f in findings}
    expected = {
        (16, "EW103", "high"),  # HIGH-1: silent fallback to DEFAULT_BRANCH
        (30, "EW108", "high"),  # HIGH-3: `git branch -D` with check=False, result dropped
        (35, "EW113", "high"),  # HIGH-3: cleanup logs str(e) only, returns False
        (57, "EW102", "critical"),  # HIGH-4: create_lock False for "held" and for errors
        (61, "EW102", "critical"),
        (77, "EW102", "critical"),  # CRITICAL-2: heartbeat False for "no lock" and errors
        (92, "EW102", "critical"),  # CRITICAL-3: (False, None) for "no lock" and errors
        (95, "EW102", "critical"),
        (107, "EW104", "critical"),  # CRITICAL-1: best-effort rollback loop
        (116, "EW111", "critical"),  # MEDIUM-1 done right: Ctrl-C skips the rollback
        (125, "EW111", "critical"),
        (129, "EW108", "critical"),  # the heartbeat's False dropped by its caller
        (130, "EW108", "high"),
    }
    assert expected <= got, sorted(got)


def test_except_exception_is_not_said_to_catch_ctrl_c(audit):
    findings = audit(SEED_SHAPED, "EW110")
    assert findings == []  # no bare/BaseException clause: nothing eats Ctrl-C here


def test_each_rule_finds_its_own_documented_example(audit):
    from errwise.audit.rules import all_rules

    for rule in all_rules():
        if rule.id in MINE:
            findings = audit(rule.example, rule.id)
            assert [f.rule for f in findings][:1] == [rule.id], (rule.id, findings)
            assert rule.doc_markdown().count("```") >= 2
