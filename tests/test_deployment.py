"""docs/deployment.md's proxy configuration and Dockerfile, run for real.

The HAProxy block terminates TLS in front of ``dyne run``; the app must see the
client's address and the https scheme from the trusted proxy, and a client that
forges the same headers straight to the app must not. The Dockerfile's ``CMD``
and ``HEALTHCHECK`` run with its ``ENV`` in a directory laid out as its
``WORKDIR`` would be (there is no Docker daemon on the test machines, so the
image itself is not built).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import (
    ROOT,
    free_port,
    require_tool,
    serve_in_subprocess,
    service_unavailable,
    wait_for_port,
)
from tests.test_docs import code_blocks

HAPROXY = os.environ.get("DYNE_HAPROXY", "/usr/sbin/haproxy")
PAGE = ROOT / "docs" / "deployment.md"

MAIN = textwrap.dedent("""
    import dyne

    app = dyne.App(enable_hsts=True)

    @app.route("/health")
    def health(req, resp):
        resp.media = {"status": "healthy"}

    @app.route("/whoami")
    def whoami(req, resp):
        resp.media = {"client": req.client.host, "scheme": req.url.scheme,
                      "secure": req.is_secure}
""")


def block(name: str) -> str:
    for _language, options, source, *_ in code_blocks(PAGE):
        if options.get("file") == name:
            return source
    raise AssertionError(f"docs/deployment.md has no {name} block")


def dyne_command() -> str:
    return str(Path(sys.executable).with_name("dyne"))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "main.py").write_text(MAIN)
    return tmp_path


def self_signed_pem(directory: Path) -> Path:
    openssl = require_tool("openssl", "apt-get install openssl")
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    pem = directory / "site.pem"
    pem.write_bytes(cert.read_bytes() + key.read_bytes())
    return pem


def test_behind_the_documented_tls_proxy_the_app_sees_the_client_and_https(project):
    if not (os.path.isfile(HAPROXY) or shutil.which(HAPROXY)):
        service_unavailable("HAProxy", f"no haproxy at {HAPROXY} (apt-get install haproxy)")
    (project / "proxy.cfg").write_text(block("proxy.cfg"))
    pem = self_signed_pem(project)
    app_port, proxy_port = free_port(), free_port()
    with serve_in_subprocess([dyne_command(), "--app", "main:app", "run", "--port", str(app_port)],
                             app_port, cwd=project):
        env = {**os.environ, "PROXY_PORT": str(proxy_port), "APP": f"127.0.0.1:{app_port}",
               "CERT_PEM": str(pem)}
        proxy = subprocess.Popen([HAPROXY, "-db", "-f", str(project / "proxy.cfg")], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            wait_for_port(proxy_port, process=proxy)
            # The client connects from 127.0.0.2, so its address differs from the proxy's.
            through_proxy = httpx.Client(
                verify=False, transport=httpx.HTTPTransport(local_address="127.0.0.2", verify=False))
            with through_proxy:
                r = through_proxy.get(f"https://127.0.0.1:{proxy_port}/whoami")
            assert r.status_code == 200, r.text
            assert r.json() == {"client": "127.0.0.2", "scheme": "https", "secure": True}
            assert r.headers["strict-transport-security"].startswith("max-age=")
        finally:
            proxy.terminate()
            proxy.wait(timeout=10)

        # Straight to the app from an untrusted address, the same headers are ignored:
        # plain HTTP is redirected to https (HSTS), and the address is the real one.
        direct = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"))
        forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
        with direct:
            r = direct.get(f"http://127.0.0.1:{app_port}/whoami", headers=forged)
        assert r.status_code in (301, 307, 308)
        assert r.headers["location"].startswith("https://")


def test_forwarded_allow_ips_names_the_trusted_proxies(project):
    """Trusting 127.0.0.2 (as --forwarded-allow-ips) makes its headers count."""
    port = free_port()
    with serve_in_subprocess([dyne_command(), "--app", "main:app", "run", "--port", str(port),
                              "--forwarded-allow-ips", "127.0.0.2"], port, cwd=project):
        client = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"))
        with client:
            r = client.get(f"http://127.0.0.1:{port}/whoami",
                           headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
        assert r.json() == {"client": "203.0.113.9", "scheme": "https", "secure": True}


def dockerfile_instructions() -> list[tuple[str, str]]:
    instructions = []
    for line in block("Dockerfile").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def exec_form(text: str) -> list[str]:
    value = json.loads(text)
    assert isinstance(value, list), f"use the exec form (a JSON list), not {text!r}"
    return value


def test_the_documented_dockerfile_runs_its_cmd_and_passes_its_healthcheck(project):
    instructions = dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]
    # Dependencies are installed before the code is copied (a layer cached across code changes),
    # and the process does not run as root.
    assert keywords.index("RUN") < keywords.index("COPY", keywords.index("RUN"))
    assert "USER" in keywords and keywords.index("USER") > keywords.index("COPY")

    env: dict[str, str] = {}
    for keyword, rest in instructions:
        if keyword == "ENV":
            for item in shlex.split(rest):
                name, _, value = item.partition("=")
                env[name] = value
    port = int(env["PORT"])
    cmd = exec_form(next(rest for keyword, rest in instructions if keyword == "CMD"))
    healthcheck = next(rest for keyword, rest in instructions if keyword == "HEALTHCHECK")
    probe = exec_form(healthcheck[healthcheck.index("CMD") + 3:].strip())
    assert f"EXPOSE {port}" in block("Dockerfile")

    # The image's executables are the project's environment's.
    cmd[0] = dyne_command() if cmd[0] == "dyne" else cmd[0]
    probe[0] = sys.executable if probe[0] == "python" else probe[0]
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            pytest.fail(f"port {port}, which the Dockerfile uses, is taken on this machine")
    with serve_in_subprocess(cmd, port, env=env, cwd=project) as server:
        # PORT makes `dyne run` bind every interface, as a container needs.
        r = httpx.get(f"http://127.0.0.1:{port}/health", headers={"X-Forwarded-Proto": "https"})
        assert r.json() == {"status": "healthy"}
        # A probe without the header would be sent to https (enable_hsts): the reason it has it.
        assert httpx.get(f"http://127.0.0.1:{port}/health").status_code == 307
        result = subprocess.run(probe, env={**os.environ, **env}, capture_output=True, text=True,
                                timeout=30)
        assert result.returncode == 0, result.stderr
        # WEB_CONCURRENCY: uvicorn starts a parent process and that many workers.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            output = "".join(server.output_tail)
            if output.count("Started server process") == int(env["WEB_CONCURRENCY"]):
                break
            time.sleep(0.1)
        assert "Started parent process" in output
        assert output.count("Started server process") == int(env["WEB_CONCURRENCY"])
