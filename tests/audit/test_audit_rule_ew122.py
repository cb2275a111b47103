"""EW122 network-call-without-timeout: network calls that can hang forever, and look-alikes
that cannot (httpx's default timeout, a timeout set on the socket, a datagram socket)."""

from __future__ import annotations

import pytest

POSITIVES = {
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
    "requests_session_on_self_with_plain_retry_adapter": (
        """
        import requests
        from requests.adapters import HTTPAdapter
        class Repository:
            def __init__(self):
                self.session = requests.session()
                self.session.mount("https://", HTTPAdapter(max_retries=3))
            def upload(self, url, data):
                return self.session.post(url, data=data)
        """,
        "`self.session.post()` on a `requests.Session` has no timeout",
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
    "httpx_client_timeout_none": (
        """
        import httpx
        def client():
            return httpx.Client(base_url="https://api", timeout=None)
        """,
        "`httpx.Client()` passes `timeout=None`",
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
    "create_connection_without_timeout": (
        """
        import socket
        def banner(host):
            with socket.create_connection((host, 25)) as sock:
                return sock.recv(1024)
        """,
        "`socket.create_connection()` has no timeout",
        "low",
    ),
    "socket_connect_then_read_without_settimeout": (
        """
        import socket
        def banner(host):
            sock = socket.socket()
            sock.connect((host, 25))
            return sock.recv(1024)
        """,
        "`sock.connect()` on a `socket.socket` that is never given a timeout",
        "low",
    ),
    "http_client_connection": (
        """
        import http.client
        def status(host):
            conn = http.client.HTTPSConnection(host)
            conn.request("GET", "/")
            return conn.getresponse().status
        """,
        "a request on this connection waits forever",
        "low",
    ),
}

NEGATIVES = {
    "httpx_default_timeout": """
        import httpx
        def fetch(url):
            return httpx.get(url)
        """,
    "requests_with_timeout_and_splat": """
        import requests
        def fetch(url, **kwargs):
            requests.get(url, timeout=10)
            return requests.get(url, **kwargs)
        """,
    "urlopen_positional_timeout": """
        import urllib.request
        def fetch(url):
            return urllib.request.urlopen(url, None, 10).read()
        """,
    "urlopen_with_default_timeout_set": """
        import socket, urllib.request
        socket.setdefaulttimeout(30)
        def fetch(url):
            return urllib.request.urlopen(url).read()
        """,
    "create_connection_then_settimeout": """
        import socket
        def banner(host):
            sock = socket.create_connection((host, 25))
            sock.settimeout(5)
            return sock.recv(1024)
        """,
    "udp_socket_connect_sends_nothing": """
        import socket
        def interface_ip(host):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.connect((host, 58162))
            return s.getsockname()[0]
        """,
    "socket_handed_on": """
        import socket
        def transport(host, make):
            sock = socket.socket()
            sock.connect((host, 22))
            return make(sock)
        """,
    "socket_connect_only_to_wake_accept": """
        import socket
        def wake(addr, port):
            s = socket.socket()
            s.connect((addr, port))
            s.close()
        """,
    "session_with_timeout_adapter": """
        import requests
        from requests.adapters import HTTPAdapter
        class TimeoutAdapter(HTTPAdapter):
            def send(self, request, **kwargs):
                kwargs.setdefault("timeout", 10)
                return super().send(request, **kwargs)
        def fetch(url):
            session = requests.Session()
            session.mount("https://", TimeoutAdapter())
            return session.get(url)
        """,
    "subprocess_is_another_rule": """
        import subprocess
        def run(cmd):
            return subprocess.check_output(cmd)
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_positive(audit, name):
    source, text, severity = POSITIVES[name]
    findings = audit(source, "network-call-without-timeout")
    assert [(f.rule, f.name) for f in findings] == [("EW122", "network-call-without-timeout")], (
        findings
    )
    assert text in findings[0].message
    assert findings[0].severity.value == severity
    assert "timeout" in findings[0].recommendation


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative(audit, name):
    assert audit(NEGATIVES[name], "EW122") == []


def test_documentation_and_own_example(audit):
    from errwise.audit.rules import all_rules

    (rule,) = [r for r in all_rules() if r.id == "EW122"]
    assert rule.name == "network-call-without-timeout"
    doc = rule.doc_markdown()
    for heading in ("## What it finds", "## Why it hurts", "## Example", "## Fix"):
        assert heading in doc
    assert "errwise." in rule.fix
    assert "Deliberately not reported" in rule.what
    assert [f.rule for f in audit(rule.example, "EW122")] == ["EW122"]


def test_httpx_client_message_speaks_of_its_requests(audit):
    (finding,) = audit(
        """
        import httpx
        def client():
            return httpx.AsyncClient(timeout=None)
        """,
        "EW122",
    )
    assert "disables httpx's default timeout" in finding.message
    assert "this call waits forever" not in finding.message


def test_test_code_is_not_reported(audit):
    source = """
        import requests
        def ready(url):
            return requests.get(url)
        """
    assert audit(source, "EW122", path="tests/test_integration.py") == []
    assert len(audit(source, "EW122", path="pkg/health.py")) == 1
