"""EW110 swallows-interrupt: bare / BaseException clauses that eat Ctrl-C; look-alike negatives."""

from __future__ import annotations

import pytest

POSITIVES = {
    "bare_in_job_loop": (
        """
        import logging
        log = logging.getLogger(__name__)
        def run_all(jobs):
            for job in jobs:
                try:
                    job.run()
                except:
                    log.warning("job failed")
        """,
        "high",
        "the loop goes on",
    ),
    # Was `int(text)`: a conversion cannot block, so Ctrl-C arriving exactly there is theory
    # (the "could in theory does not count"); the same shape around a blocking read
    # is the defect.
    "base_exception_fallback": (
        """
        def parse_count(sock):
            try:
                return int(sock.recv(16))
            except BaseException:
                return 0
        """,
        "medium",
        "carries on",
    ),
    "bare_logs_traceback_still_eats_ctrl_c": (
        """
        import logging, shutil
        log = logging.getLogger(__name__)
        def mirror(src, dst):
            try:
                shutil.copytree(src, dst)
            except:
                log.exception("mirror failed")
        """,
        "high",
        "`KeyboardInterrupt`",
    ),
    "generator": (
        """
        def lines(paths):
            for p in paths:
                try:
                    yield p.read_text()
                except:
                    pass
        """,
        "high",
        "GeneratorExit",
    ),
}

NEGATIVES = {
    "reraises": """
        import os
        def write(path, data):
            try:
                open(path, "w").write(data)
            except BaseException:
                os.unlink(path)
                raise
        """,
    "exits": """
        import sys
        def main():
            try:
                run()
            except BaseException as exc:
                print(exc, file=sys.stderr)
                sys.exit(1)
        """,
    "except_exception_is_not_bare": """
        def parse_count(text):
            try:
                return int(text)
            except Exception:
                return 0
        """,
    "instant_conversion": """
        def parse_count(text):
            try:
                return int(text.strip())
            except BaseException:
                return 0
        """,
    "interrupt_handled_earlier": """
        def serve(conn):
            try:
                conn.handle()
            except KeyboardInterrupt:
                raise
            except:
                conn.close()
        """,
    "interrupt_tuple_reraised_earlier": """
        _reraised = (ExitNow, KeyboardInterrupt, SystemExit)
        def readwrite(obj):
            try:
                obj.handle_read_event()
            except _reraised:
                raise
            except:
                obj.handle_error()
        """,
    "exception_handed_on": """
        def work(future, fn):
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)
        """,
    "thread_target": """
        import threading
        def _pump(queue):
            while True:
                try:
                    queue.get().send()
                except:
                    pass
        threading.Thread(target=_pump, args=(q,), daemon=True).start()
        """,
    "repl_reports_interrupt": """
        class Console:
            def runcode(self, future):
                try:
                    return future.result()
                except SystemExit:
                    raise
                except BaseException:
                    self.write("KeyboardInterrupt")
        """,
    "repl_shows_traceback": """
        class Interpreter:
            def runcode(self, code):
                try:
                    exec(code, self.locals)
                except:
                    self.showtraceback()
        """,
    "forked_child_exits": """
        from os import fork, execv, _exit
        def spawn(path, args):
            pid = fork()
            if not pid:
                try:
                    execv(path, args)
                except:
                    _exit(127)
            return pid
        """,
    "thread_subclass": """
        import threading
        class Worker(threading.Thread):
            def run(self):
                try:
                    self.step()
                except:
                    self.failed = True
        """,
    "raises_right_after": """
        import sys
        def quit(code=None):
            try:
                sys.stdin.close()
            except:
                pass
            raise SystemExit(code)
        """,
    "process_exit_code": """
        import sys, traceback
        def bootstrap(target):
            try:
                target()
                exitcode = 0
            except:
                exitcode = 1
                traceback.print_exc()
            return exitcode
        """,
    "in_del": """
        class F:
            def __del__(self):
                try:
                    self.close()
                except:
                    pass
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_positive(audit, name):
    source, severity, text = POSITIVES[name]
    findings = audit(source, "swallows-interrupt")
    assert [f.rule for f in findings] == ["EW110"], findings
    assert findings[0].severity.value == severity
    assert text in findings[0].message


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative(audit, name):
    assert audit(NEGATIVES[name], "EW110") == []


def test_does_not_claim_the_clause(audit):
    # swallowed-exception judges the error; swallows-interrupt the interruption: both report
    findings = audit(POSITIVES["generator"][0])
    assert {f.rule for f in findings} >= {"EW101", "EW110"}
