"""EW107 subprocess-without-timeout: calls that can hang forever, and look-alikes that cannot."""

from __future__ import annotations

import pytest

POSITIVES = {
    "run_via_module_alias": (
        """
        import subprocess as sp
        def run_command(cmd, cwd):
            return sp.run(cmd, cwd=cwd, check=True, capture_output=True, text=True)
        """,
        "`subprocess.run()` has no timeout",
        "low",
    ),
    "from_import_check_output_explicit_none": (
        """
        from subprocess import check_output
        def head():
            return check_output(["git", "rev-parse", "HEAD"], timeout=None)
        """,
        "`subprocess.check_output()` passes `timeout=None`",
        "low",
    ),
    "popen_communicate_tracked": (
        """
        import subprocess
        def build(cmd):
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
            out, _ = proc.communicate(b"input")
            return out
        """,
        "`proc.communicate()` on a `subprocess.Popen` has no timeout",
        "low",
    ),
    "popen_on_self_in_other_method": (
        """
        import subprocess
        class Server:
            def start(self, cmd):
                self.proc = subprocess.Popen(cmd)
            def stop(self):
                self.proc.wait()
        """,
        "`self.proc.wait()`",
        "low",
    ),
    "chained_popen_communicate": (
        """
        from subprocess import Popen, PIPE
        def version():
            return Popen(["git", "--version"], stdout=PIPE).communicate()[0]
        """,
        "`subprocess.Popen(...).communicate()` has no timeout",
        "low",
    ),
    "asyncio_subprocess_communicate": (
        """
        import asyncio
        async def build(cmd):
            proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE)
            out, _ = await proc.communicate()
            return out
        """,
        "on an asyncio subprocess has no deadline",
        "low",
    ),
    "requests_session_method": (
        """
        import requests
        def fetch(url):
            with requests.Session() as session:
                return session.get(url).json()
        """,
        "`session.get()` on a `requests.Session` has no timeout",
        "low",
    ),
    "requests_module_call_under_lock": (
        """
        import requests
        def report(lock, url, data):
            with lock:
                requests.post(url, json=data)
        """,
        "while holding `lock`",
        "medium",
    ),
    "httpx_timeout_none": (
        """
        import httpx
        def fetch(url):
            return httpx.get(url, timeout=None)
        """,
        "`httpx.get()` passes `timeout=None`",
        "low",
    ),
    "urlopen_without_timeout": (
        """
        from urllib.request import urlopen
        def fetch(url):
            with urlopen(url) as response:
                return response.read()
        """,
        "`urllib.request.urlopen()` has no timeout",
        "low",
    ),
}

NEGATIVES = {
    "timeout_keyword": """
        import subprocess as sp
        def run_command(cmd, timeout):
            return sp.run(cmd, check=True, timeout=timeout)
        """,
    "kwargs_splat_may_carry_timeout": """
        import subprocess
        def run_command(cmd, **kwargs):
            return subprocess.run(cmd, **kwargs)
        """,
    "popen_wait_positional_timeout_and_after_kill": """
        import subprocess
        def stop(cmd):
            proc = subprocess.Popen(cmd)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        """,
    "wait_after_communicate_with_timeout": """
        import subprocess
        def run(cmd):
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
            out, _ = proc.communicate(None, 30)
            return proc.wait(), out
        """,
    "httpx_default_timeout": """
        import httpx
        def fetch(url):
            return httpx.get(url)
        """,
    "wait_on_something_else": """
        import threading
        def join(event, cond):
            event.wait()
            cond.wait()
        """,
    "urlopen_positional_timeout": """
        import urllib.request
        def fetch(url):
            return urllib.request.urlopen(url, None, 10).read()
        """,
    "interactive_pager_ended_by_ctrl_c": """
        import subprocess
        def page(text):
            proc = subprocess.Popen("less", stdin=subprocess.PIPE)
            proc.stdin.write(text)
            proc.stdin.close()
            while True:
                try:
                    proc.wait()
                    break
                except KeyboardInterrupt:
                    pass
        """,
    "asyncio_subprocess_under_deadline": """
        import asyncio
        async def build(cmd):
            proc = await asyncio.create_subprocess_exec(*cmd)
            await asyncio.wait_for(proc.wait(), timeout=60)
            async with asyncio.timeout(10):
                await proc.communicate()
        """,
    "local_run_function_not_subprocess": """
        def run(cmd):
            return cmd()
        def main():
            run(["git", "status"])
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_positive(audit, name):
    source, text, severity = POSITIVES[name]
    findings = audit(source, "subprocess-without-timeout")
    assert [f.rule for f in findings] == ["EW107"], findings
    assert text in findings[0].message
    assert findings[0].severity.value == severity
    assert "timeout" in findings[0].recommendation


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative(audit, name):
    assert audit(NEGATIVES[name], "EW107") == []


def test_recommends_errwise_run_for_subprocess(audit):
    (finding,) = audit(
        """
        import subprocess
        subprocess.call(["make"])
        """,
        "EW107",
    )
    assert "errwise.run(cmd, timeout=" in finding.recommendation
    assert finding.line == 3
