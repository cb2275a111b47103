"""EW107 subprocess-without-timeout: child processes that can hang forever, and look-alikes
that cannot (interactive children, children in the user's terminal, fixed local commands)."""

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
    # The command was `git rev-parse HEAD`: a fixed local command that finishes on its own, so
    # "waits forever" was a false claim; the shape (an explicit `timeout=None`) stays reported on
    # a command that waits on a server.
    "from_import_check_output_explicit_none": (
        """
        from subprocess import check_output
        def remote_head():
            return check_output(["git", "ls-remote", "origin", "HEAD"], timeout=None)
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
                self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
            def stop(self):
                self.proc.wait()
        """,
        "`self.proc.wait()`",
        "low",
    ),
    # The command was `git --version`, which finishes on its own ("waits forever" was false);
    # the chained shape stays reported on a command that talks to a server.
    "chained_popen_communicate": (
        """
        from subprocess import Popen, PIPE
        def remote_refs():
            return Popen(["git", "ls-remote", "origin"], stdout=PIPE).communicate()[0]
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
    "generic_runner_captures_output_under_lock": (
        """
        import subprocess
        def run_locked(lock, cmd):
            with lock:
                return subprocess.check_output(cmd)
        """,
        "while holding `lock`",
        "medium",
    ),
    "network_command_captured": (
        """
        import subprocess
        def fetch(root):
            subprocess.run(["git", "-C", root, "fetch", "origin"], check=True, capture_output=True)
        """,
        "`subprocess.run()` has no timeout",
        "low",
    ),
    "popen_of_unknown_command_not_polled": (
        """
        import subprocess
        def build(cmd):
            proc = subprocess.Popen(cmd)
            proc.wait()
        """,
        "`proc.wait()` on a `subprocess.Popen` has no timeout",
        "low",
    ),
    "user_shell_running_a_script_captured": (
        """
        import os, subprocess
        def run_script(script):
            shell = os.environ.get("SHELL", "/bin/sh")
            return subprocess.run([shell, "-c", script], capture_output=True)
        """,
        "`subprocess.run()` has no timeout",
        "low",
    ),
    "ssh_with_remote_command_captured": (
        """
        import subprocess
        def uptime(host):
            return subprocess.check_output(["ssh", host, "uptime"])
        """,
        "`subprocess.check_output()` has no timeout",
        "low",
    ),
}

NEGATIVES = {
    "editor_from_environment": """
        import os, subprocess
        def edit(path):
            editor = os.environ.get("EDITOR", "vi")
            subprocess.check_call([editor, path], stdout=subprocess.PIPE)
        """,
    "editor_found_by_helper": """
        import subprocess
        def open_in_editor(filename, environ=None):
            editor = _find_editor(environ)
            subprocess.check_call([editor, filename])
        """,
    "pager_popen_waited": """
        import subprocess
        def page(text):
            pager = subprocess.Popen(["less", "-R"], stdin=subprocess.PIPE)
            pager.communicate(text)
        """,
    "git_commit_opens_editor": """
        import subprocess
        def commit(root):
            subprocess.check_output(["git", "commit"], cwd=root)
        """,
    "open_dash_w_waits_for_user": """
        import subprocess
        def show(path):
            subprocess.run(["open", "-W", path], capture_output=True)
        """,
    "shell_session_exits_with_status": """
        import os, subprocess, sys
        def shell(args):
            sys.exit(subprocess.call(args or [os.environ.get("SHELL", "bash")]))
        """,
    "exec_app_exits_with_returncode": """
        import subprocess, sys
        def exec_app(cmd, env):
            sys.exit(subprocess.run(cmd, env=env, stdout=None, stderr=None).returncode)
        """,
    "child_in_users_terminal": """
        import subprocess
        def run_hook(hook, args, stdin):
            return subprocess.run([hook, *args], input=stdin).returncode
        """,
    "fixed_local_git_query_captured": """
        import subprocess
        def ancestors(sha):
            return subprocess.check_output(("git", "rev-list", sha, "--topo-order")).decode()
        """,
    "version_query_of_found_tool": """
        import shutil, subprocess
        UV = shutil.which("uv")
        def uv_version():
            return subprocess.run([UV, "version"], capture_output=True, text=True)
        """,
    "interpreter_inline_script": """
        import shutil, subprocess
        def locate(version):
            py = shutil.which("py")
            py = subprocess.run([py, f"-{version}", "-c", "import sys; print(sys.executable)"],
                                capture_output=True, text=True).stdout
            return py
        """,
    "local_tool_popen_with_path_join": """
        import os, subprocess
        def is_cygwin(git_dir):
            uname_cmd = os.path.join(git_dir, "uname")
            process = subprocess.Popen([uname_cmd], stdout=subprocess.PIPE)
            out, _ = process.communicate()
            return "CYGWIN" in out
        """,
    "explicit_wait_flag": """
        import subprocess
        class Trick:
            def on_event(self, command):
                self.process = subprocess.Popen(command, shell=True, stdout=subprocess.PIPE)
                if self.wait_for_process:
                    self.process.wait()
        """,
    "polled_popen": """
        import subprocess, time
        def watch(cmd):
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
            while proc.poll() is None:
                time.sleep(0.1)
            return proc.communicate()
        """,
    "network_is_another_rule": """
        import requests
        def fetch(url):
            return requests.get(url).json()
        """,
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
    "wait_on_something_else": """
        import threading
        def join(event, cond):
            event.wait()
            cond.wait()
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
    # `subprocess.call(["make"])` wrote to the user's terminal (who sees a stall and can press
    # Ctrl-C): no longer reported; a captured command from elsewhere still is.
    (finding,) = audit(
        """
        import subprocess
        subprocess.call(COMMAND, stdout=subprocess.DEVNULL)
        """,
        "EW107",
    )
    assert "errwise.run(cmd, timeout=" in finding.recommendation
    assert finding.line == 3


def test_test_code_is_not_reported(audit):
    source = """
        import subprocess
        def run_tool(cmd):
            return subprocess.check_output(cmd)
        """
    assert audit(source, "EW107", path="tests/test_cli.py") == []
    assert len(audit(source, "EW107", path="pkg/cli.py")) == 1


# -- round 2 (issue 16): developer scripts ------------------------------------------------------


def test_ci_script_is_silent_and_package_code_fires(audit):
    source = """
        import subprocess
        def upload(dist):
            subprocess.run(["git", "fetch", dist], capture_output=True)
        """
    assert audit(source, "EW107", path="ci/github_releases.py") == []
    assert audit(source, "EW107", path="tools/release.py") == []
    assert [f.rule for f in audit(source, "EW107", path="pkg/release.py")] == ["EW107"]


def test_credential_helper_may_prompt(audit):
    # a credential helper can wait for a keychain unlock or a gpg pinentry: the wait is a person's
    source = """
        import subprocess
        class Store:
            def _execute(self, subcmd, data):
                return subprocess.check_output([self.exe, subcmd], input=data)
        """
    assert audit(source, "EW107", path="pkg/credentials/store.py") == []
    # the same call in a module that says nothing of credentials still fires
    assert [f.rule for f in audit(source, "EW107", path="pkg/store.py")] == ["EW107"]
