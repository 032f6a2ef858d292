"""Real clients against a real server: curl with --basic, --digest and a bearer
header, talking to uvicorn over loopback."""

from __future__ import annotations

import subprocess

import pytest

import dyne
from dyne.ext.auth import BasicAuth, DigestAuth, MultiAuth, TokenAuth, authenticate
from tests.conftest import require_tool, serve_in_thread

pytestmark = pytest.mark.server


@pytest.fixture(scope="module", autouse=True)
def _curl_is_installed():
    require_tool("curl", "apt-get install curl")

USERS = {"john": "password", "admin": "password123"}


def curl_version() -> tuple[int, ...]:
    first = subprocess.run(["curl", "--version"], capture_output=True, text=True, check=True).stdout
    return tuple(int(part) for part in first.split()[1].split(".")[:3])


def curl(*args: str) -> tuple[int, str]:
    """Run curl; return (HTTP status, body)."""
    result = subprocess.run(["curl", "--silent", "--show-error", "--max-time", "20",
                             "--write-out", "\n%{http_code}", *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    body, _, status = result.stdout.rpartition("\n")
    return int(status), body


def make_app() -> dyne.App:
    app = dyne.App(secret_key="loopback-test-secret")
    basic = BasicAuth()

    @basic.verify_password
    async def verify_password(username, password):
        return username if USERS.get(username) == password else None

    token = TokenAuth()

    @token.verify_token
    def verify_token(value):
        return "David" if value == "secret_key_123" else None

    backends = {"basic": basic, "token": token}
    for algorithm in ("MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256"):
        digest = DigestAuth(algorithm=algorithm)
        digest.get_password(USERS.get)
        backends[f"digest-{algorithm}"] = digest
    backends["multi"] = MultiAuth(backends["digest-MD5"], token, basic)

    for name, backend in backends.items():
        async def greet(req, resp):
            resp.text = f"Hello, {req.state.user}!"

        app.add_route(f"/{name}", authenticate(backend)(greet))
    return app


@pytest.fixture(scope="module")
def url():
    with serve_in_thread(make_app()) as base:
        yield base


def test_curl_basic(url):
    assert curl("--basic", "-u", "john:password", f"{url}/basic") == (200, "Hello, john!")
    assert curl("--basic", "-u", "john:wrong", f"{url}/basic")[0] == 401
    assert curl(f"{url}/basic")[0] == 401


def test_curl_bearer(url):
    assert curl("-H", "Authorization: Bearer secret_key_123", f"{url}/token") == (200, "Hello, David!")
    assert curl("-H", "Authorization: Bearer nope", f"{url}/token")[0] == 401


def test_curl_digest_md5(url):
    assert curl("--digest", "-u", "john:password", f"{url}/digest-MD5") == (200, "Hello, john!")
    assert curl("--digest", "-u", "john:wrong", f"{url}/digest-MD5")[0] == 401
    assert curl("--digest", "-u", "john:password", f"{url}/digest-MD5?page=2&q=a%20b")[0] == 200


@pytest.mark.parametrize("algorithm", ["MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256"])
def test_curl_digest_other_algorithms(url, algorithm):
    assert curl_version() >= (7, 57, 0), f"curl {curl_version()} predates SHA-256 digest support"
    if algorithm == "SHA-512-256" and curl_version() < (8, 8, 0):
        # curl before 8.8.0 answers a SHA-512-256 challenge with a SHA-256 hash
        # (curl 8.8.0 added real SHA-512/256): that wrong answer must be refused.
        assert curl("--digest", "-u", "admin:password123", f"{url}/digest-{algorithm}")[0] == 401
        return
    assert curl("--digest", "-u", "admin:password123", f"{url}/digest-{algorithm}") == (200, "Hello, admin!")
    assert curl("--digest", "-u", "admin:password", f"{url}/digest-{algorithm}")[0] == 401


def test_curl_against_multi_auth(url):
    assert curl("--basic", "-u", "john:password", f"{url}/multi") == (200, "Hello, john!")
    assert curl("--digest", "-u", "admin:password123", f"{url}/multi") == (200, "Hello, admin!")
    assert curl("-H", "Authorization: Bearer secret_key_123", f"{url}/multi") == (200, "Hello, David!")
    assert curl("--digest", "-u", "admin:nope", f"{url}/multi")[0] == 401
    assert curl("--basic", "-u", "admin:nope", f"{url}/multi")[0] == 401


def test_curl_digest_reuses_its_nonce_across_requests(url):
    # Two URLs in one curl run: the second request reuses the nonce with nc=2.
    result = subprocess.run(["curl", "--silent", "--digest", "-u", "john:password",
                             "--write-out", "%{http_code}\n", "-o", "/dev/null",
                             f"{url}/digest-MD5", "-o", "/dev/null", f"{url}/digest-MD5"],
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["200", "200"]
