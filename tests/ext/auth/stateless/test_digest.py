"""DigestAuth: RFC 7616 answers, algorithms, HA1 passwords, nonce expiry,
replay refusal and the nonce/opaque hooks."""

from __future__ import annotations

import hashlib
import hmac
import re
import time

import pytest

try:
    import httpx2 as httpx
except ModuleNotFoundError:  # pragma: no cover
    import httpx

import dyne
from dyne.ext.auth import DigestAuth, MemoryNonceStore, authenticate
from dyne.ext.auth.stateless import backends as backends_module
from dyne.ext.auth.stateless import digest as digest_module

from ..clients import digest, digest_challenge

USERS = {"john": "password", "admin": "password123", "zoë": "pässword"}


def digest_app(backend=None, app=None, **options):
    if backend is None:
        backend = DigestAuth(**options)

        @backend.get_password
        async def get_password(username):
            return USERS.get(username)

    app = app or dyne.App()

    @app.route("/greet")
    @authenticate(backend)
    async def greet(req, resp):
        resp.text = f"Hello to {req.state.user}"

    @app.route("/other")
    @authenticate(backend)
    async def other(req, resp):
        resp.text = "other"

    return app


def challenge_for(client, path="/greet"):
    response = client.get(path)
    assert response.status_code == 401
    return digest_challenge(response.headers["www-authenticate"])


def test_the_challenge_carries_realm_nonce_opaque_algorithm_and_qop():
    client = digest_app().client
    response = client.get("/greet")
    header = response.headers["www-authenticate"]
    assert header.startswith('Digest realm="Authentication Required", nonce="')
    params = digest_challenge(header)
    assert params["algorithm"] == "MD5"
    assert params["qop"] == "auth"
    assert len(params["opaque"]) == 32
    assert "stale" not in params


@pytest.mark.parametrize("algorithm", ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256",
                                       "SHA-512-256-sess"])
def test_algorithms(algorithm):
    client = digest_app(algorithm=algorithm).client
    challenge = challenge_for(client)
    assert challenge["algorithm"] == algorithm
    answer = digest(challenge, "john", "password", uri="/greet")
    assert client.get("/greet", headers=answer).text == "Hello to john"
    wrong = digest(challenge_for(client), "john", "Password", uri="/greet")
    assert client.get("/greet", headers=wrong).status_code == 401


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256", "MD5-sess", "SHA-256-sess"])
def test_httpx_digest_client(algorithm):
    client = digest_app(algorithm=algorithm).client
    assert client.get("/greet", auth=httpx.DigestAuth("admin", "password123")).text == "Hello to admin"
    assert client.get("/greet", auth=httpx.DigestAuth("admin", "password")).status_code == 401


def test_utf8_usernames_and_passwords():
    client = digest_app(algorithm="SHA-256").client
    answer = digest(challenge_for(client), "zoë", "pässword", uri="/greet")
    response = client.get("/greet", headers={"Authorization": answer["Authorization"].encode("utf-8")})
    assert response.text == "Hello to zoë"
    latin1 = answer["Authorization"].encode("latin-1")  # not UTF-8: refused, not a 500
    assert client.get("/greet", headers={"Authorization": latin1}).status_code == 401


def test_precomputed_ha1_passwords():
    backend = DigestAuth(realm="My App", use_ha1_pw=True)

    @backend.get_password
    def get_ha1(username):
        password = USERS.get(username)
        return None if password is None else hashlib.md5(f"{username}:My App:{password}".encode()).hexdigest()

    client = digest_app(backend).client
    assert client.get("/greet", auth=httpx.DigestAuth("admin", "password123")).status_code == 200
    assert client.get("/greet", auth=httpx.DigestAuth("admin", "password")).status_code == 401


def test_unknown_user_and_wrong_password_look_the_same():
    client = digest_app().client
    unknown = client.get("/greet", headers=digest(challenge_for(client), "ghost", "x", uri="/greet"))
    wrong = client.get("/greet", headers=digest(challenge_for(client), "john", "x", uri="/greet"))
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.content == wrong.content
    assert "stale" not in unknown.headers["www-authenticate"]
    assert "stale" not in wrong.headers["www-authenticate"]


def test_responses_are_compared_in_constant_time(monkeypatch):
    compared = []
    real_compare = hmac.compare_digest
    monkeypatch.setattr(backends_module.hmac, "compare_digest",
                        lambda a, b: compared.append((a, b)) or real_compare(a, b))
    client = digest_app().client
    answer = digest(challenge_for(client), "john", "password", uri="/greet")
    assert client.get("/greet", headers=answer).status_code == 200
    sent = answer["Authorization"].split('response="')[1].split('"')[0].encode()
    assert any(b == sent for _, b in compared)


# -- replays and nonces ----------------------------------------------------------------

def test_a_replayed_request_is_refused():
    client = digest_app().client
    answer = digest(challenge_for(client), "john", "password", uri="/greet", cnonce="c1", nc=1)
    assert client.get("/greet", headers=answer).status_code == 200
    replayed = client.get("/greet", headers=answer)
    assert replayed.status_code == 401
    assert "stale=TRUE" in replayed.headers["www-authenticate"]


def test_a_nonce_serves_many_requests_with_increasing_counts():
    client = digest_app().client
    challenge = challenge_for(client)
    for nc in (1, 2, 3):
        answer = digest(challenge, "john", "password", uri="/greet", cnonce="c1", nc=nc)
        assert client.get("/greet", headers=answer).status_code == 200
    answer = digest(challenge, "john", "password", uri="/greet", cnonce="c1", nc=2)
    assert client.get("/greet", headers=answer).status_code == 401


def test_credentials_for_one_url_do_not_open_another():
    client = digest_app().client
    answer = digest(challenge_for(client), "john", "password", uri="/greet")
    assert client.get("/other", headers=answer).status_code == 401
    query = digest(challenge_for(client), "john", "password", uri="/greet?x=1")
    assert client.get("/greet?x=1", headers=query).status_code == 200
    assert client.get("/greet?x=2", headers=digest(challenge_for(client), "john", "password",
                                                    uri="/greet?x=1")).status_code == 401


def test_expired_nonces_are_stale(monkeypatch):
    client = digest_app(nonce_max_age=60).client
    challenge = challenge_for(client)
    later = time.time() + 61
    monkeypatch.setattr(digest_module.time, "time", lambda: later)
    right = client.get("/greet", headers=digest(challenge, "john", "password", uri="/greet"))
    assert right.status_code == 401
    fresh = digest_challenge(right.headers["www-authenticate"])
    assert fresh["stale"] == "TRUE"
    assert fresh["nonce"] != challenge["nonce"]
    # A wrong password with an expired nonce is not told "stale".
    wrong = client.get("/greet", headers=digest(challenge, "john", "nope", uri="/greet"))
    assert "stale" not in wrong.headers["www-authenticate"]
    # The fresh nonce works.
    assert client.get("/greet", headers=digest(fresh, "john", "password", uri="/greet")).status_code == 200


def test_forged_and_tampered_nonces_and_opaques_are_refused():
    client = digest_app().client
    challenge = challenge_for(client)
    nonce = challenge["nonce"]
    # A middle character: every bit of it counts (the last one's low bits do not).
    tampered = nonce[:20] + ("B" if nonce[20] == "A" else "A") + nonce[21:]
    for overrides in ({"nonce": tampered}, {"nonce": "made-up"}, {"opaque": "0" * 32}):
        forged = {**challenge, **overrides}
        assert client.get("/greet", headers=digest(forged, "john", "password", uri="/greet")
                          ).status_code == 401
    no_opaque = {key: value for key, value in challenge.items() if key != "opaque"}
    assert client.get("/greet", headers=digest(no_opaque, "john", "password", uri="/greet")
                      ).status_code == 401


def test_nonces_are_unique_and_bound_to_the_secret_key():
    secret_a = dyne.App(secret_key="a" * 32)
    client_a = digest_app(app=secret_a).client
    nonces = {challenge_for(client_a)["nonce"] for _ in range(200)}
    assert len(nonces) == 200
    # Another worker sharing the key accepts the nonce; a different key does not.
    backend = DigestAuth()
    backend.get_password(USERS.get)
    challenge = challenge_for(client_a)
    worker_b = digest_app(backend, app=dyne.App(secret_key="a" * 32)).client
    assert worker_b.get("/greet", headers=digest(challenge, "john", "password", uri="/greet")
                        ).status_code == 200
    stranger = digest_app(app=dyne.App(secret_key="b" * 32)).client
    assert stranger.get("/greet", headers=digest(challenge_for(client_a), "john", "password",
                                                 uri="/greet")).status_code == 401


@pytest.mark.parametrize("overrides", [
    {"realm": "Elsewhere"}, {"algorithm": "SHA-256"}, {"qop": "auth-int"}, {"nc": "1"},
    {"nc": "0000000g"}, {"cnonce": ""}, {"username": ""}, {"response": "0" * 32},
])
def test_answers_that_do_not_match_the_challenge_are_refused(overrides):
    client = digest_app().client
    answer = digest(challenge_for(client), "john", "password", uri="/greet", replace=overrides)
    assert client.get("/greet", headers=answer).status_code == 401


@pytest.mark.parametrize("header", [
    "Digest", "Digest ", 'Digest username="john"', "Digest garbage", 'Digest username="jo',
    'Digest username="john", username="admin"', "Digest =x", "Digest a=b c=d",
    "Digest " + "x" * 10000,
])
def test_malformed_digest_headers_are_401(header):
    client = digest_app().client
    assert client.get("/greet", headers={"Authorization": header}).status_code == 401


def test_legacy_mode_without_qop_uses_single_use_nonces():
    client = digest_app(qop=None).client
    challenge = challenge_for(client)
    assert "qop" not in challenge
    answer = digest(challenge, "john", "password", uri="/greet")
    assert "qop=" not in answer["Authorization"]
    assert client.get("/greet", headers=answer).status_code == 200
    assert client.get("/greet", headers=answer).status_code == 401


def test_custom_nonce_and_opaque_hooks_shared_by_every_client():
    backend = DigestAuth()
    backend.get_password(USERS.get)
    seen = []

    @backend.generate_nonce
    async def gen_nonce(request):
        seen.append(request.url.path)
        return "static-nonce"

    @backend.verify_nonce
    def ver_nonce(request, nonce):
        return hmac.compare_digest("static-nonce", nonce)

    @backend.generate_opaque
    async def gen_opaque(request):
        return "static-opaque"

    @backend.verify_opaque
    async def ver_opaque(request, opaque):
        return opaque == "static-opaque"

    client = digest_app(backend).client
    challenge = challenge_for(client)
    assert (challenge["nonce"], challenge["opaque"]) == ("static-nonce", "static-opaque")
    assert seen == ["/greet"]
    for cnonce in ("first-client", "second-client"):  # both start at nc=1
        answer = digest(challenge, "john", "password", uri="/greet", cnonce=cnonce)
        assert client.get("/greet", headers=answer).status_code == 200
        assert client.get("/greet", headers=answer).status_code == 401  # but cannot replay
    wrong = {**challenge, "nonce": "other-nonce"}
    assert client.get("/greet", headers=digest(wrong, "john", "password", uri="/greet")).status_code == 401


def test_non_ascii_nonces_never_reach_the_hooks():
    backend = DigestAuth()
    backend.get_password(USERS.get)
    backend.generate_nonce(lambda request: "static")
    backend.verify_nonce(lambda request, nonce: hmac.compare_digest("static", nonce))  # str only: ASCII
    backend.generate_opaque(lambda request: "opaque")
    backend.verify_opaque(lambda request, opaque: hmac.compare_digest("opaque", opaque))
    client = digest_app(backend).client
    challenge = {**challenge_for(client), "nonce": "stätic"}
    header = digest(challenge, "john", "password", uri="/greet")["Authorization"]
    assert client.get("/greet", headers={"Authorization": header.encode("utf-8")}).status_code == 401


def test_half_a_hook_pair_is_a_clear_error():
    backend = DigestAuth()
    backend.get_password(USERS.get)
    backend.generate_nonce(lambda request: "n")
    client = digest_app(backend, app=dyne.App(debug=True)).client
    with pytest.raises(RuntimeError, match="both generate_nonce and verify_nonce"):
        client.get("/greet")


def test_a_shared_nonce_store_is_used():
    class RecordingStore:
        def __init__(self):
            self.keys = []

        async def remember(self, key, ttl):
            if key in self.keys:
                return False
            self.keys.append(key)
            return True

    store = RecordingStore()
    client = digest_app(nonce_store=store).client
    answer = digest(challenge_for(client), "john", "password", uri="/greet", cnonce="abc")
    assert client.get("/greet", headers=answer).status_code == 200
    assert client.get("/greet", headers=answer).status_code == 401
    assert len(store.keys) == 1 and store.keys[0].endswith("\x00abc\x0000000001")


@pytest.mark.parametrize(("options", "error", "message"), [
    ({"algorithm": "SHA-1"}, ValueError, "Unsupported digest algorithm 'SHA-1' (use one of: MD5, MD5-sess, "
     "SHA-256, SHA-256-sess, SHA-512-256, SHA-512-256-sess)"),
    ({"qop": "auth-int"}, ValueError, "qop must be 'auth' or None, got 'auth-int'"),
    ({"nonce_max_age": 0}, ValueError, "nonce_max_age must be positive"),
    ({"nonce_store": object()}, TypeError, "nonce_store needs an async remember(key, ttl) method"),
])
def test_options_are_checked(options, error, message):
    with pytest.raises(error, match=re.escape(message)):
        DigestAuth(**options)


async def test_memory_nonce_store_expires_and_stays_bounded(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(digest_module.time, "monotonic", lambda: clock[0])
    store = MemoryNonceStore(max_entries=3)
    assert await store.remember("a", ttl=10)
    assert not await store.remember("a", ttl=10)
    clock[0] += 11
    assert await store.remember("a", ttl=10)  # expired, so accepted again
    for key in "bcde":
        assert await store.remember(key, ttl=10)
    assert len(store) == 3
    with pytest.raises(ValueError, match="max_entries must be at least 1"):
        MemoryNonceStore(max_entries=0)


async def test_a_full_nonce_store_forgets_the_oldest_use_not_the_newest():
    store = MemoryNonceStore(max_entries=2)
    for key in "abc":
        assert await store.remember(key, ttl=60)
    assert not await store.remember("c", ttl=60)  # the newest use cannot be replayed
    assert not await store.remember("b", ttl=60)
    assert await store.remember("a", ttl=60)  # the oldest was forgotten to make room
    single = MemoryNonceStore(max_entries=1)  # the smallest store works
    assert await single.remember("x", ttl=60)
    assert not await single.remember("x", ttl=60)


def test_a_stored_ha1_is_recognised_without_use_ha1_pw():
    """The documented HA1 example returns HA1 values without setting use_ha1_pw."""
    hex_password = "0123456789abcdef0123456789abcdef"  # a password that looks like an HA1
    backend = DigestAuth(realm="My App")

    @backend.get_password
    def get_password(username):
        if username == "hexy":
            return hex_password
        return hashlib.md5(f"{username}:My App:{USERS[username]}".encode()).hexdigest()

    client = digest_app(backend).client
    assert client.get("/greet", auth=httpx.DigestAuth("john", "password")).status_code == 200
    assert client.get("/greet", auth=httpx.DigestAuth("hexy", hex_password)).status_code == 200
    assert client.get("/greet", auth=httpx.DigestAuth("john", "password1")).status_code == 401
    strict = DigestAuth(realm="My App", use_ha1_pw=True)
    strict.get_password(lambda username: hex_password)
    # With use_ha1_pw=True the value is only an HA1, never a password.
    assert digest_app(strict).client.get("/greet", auth=httpx.DigestAuth("hexy", hex_password)
                                         ).status_code == 401


def test_a_nonce_has_exactly_one_spelling():
    signer = digest_module.NonceSigner(b"key", max_age=60)
    nonce = signer.make()
    assert signer.check(nonce) is digest_module.NonceState.VALID
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # 40 bytes in 54 characters: the last one carries 2 bits, so the 15 others
    # sharing those bits would decode to the same bytes.
    group = alphabet.index(nonce[-1]) // 16
    siblings = [c for c in alphabet if c != nonce[-1] and alphabet.index(c) // 16 == group]
    assert len(siblings) == 15
    for sibling in siblings:
        assert signer.check(nonce[:-1] + sibling) is digest_module.NonceState.INVALID


def _forged_nonce(key=None):
    """A nonce of the right shape and a fresh timestamp, with a MAC made without
    the server's key (random bytes, or signed with ``key``)."""
    import base64
    import os
    import struct

    payload = struct.pack(">Q", int(time.time())) + os.urandom(16)
    if key is None:
        return base64.urlsafe_b64encode(payload + os.urandom(16)).decode().rstrip("=")
    return digest_module.NonceSigner(key, max_age=60).make()


def test_a_nonce_whose_mac_does_not_match_is_invalid():
    signer = digest_module.NonceSigner(b"server key", max_age=60)
    for forged in (_forged_nonce(), _forged_nonce(b"another key")):
        assert len(forged) == len(signer.make())
        assert signer.check(forged) is digest_module.NonceState.INVALID
    assert signer.check(signer.make()) is digest_module.NonceState.VALID


def test_forged_default_nonces_are_refused_with_custom_opaque_hooks():
    """Custom opaque hooks do not bind the opaque to the nonce, so the nonce's own
    signature is all that stands between a client and a nonce it made up."""
    backend = DigestAuth()
    backend.get_password(USERS.get)
    backend.generate_opaque(lambda request: "fixed-opaque")
    backend.verify_opaque(lambda request, opaque: hmac.compare_digest("fixed-opaque", opaque))
    client = digest_app(backend, app=dyne.App(secret_key="s" * 32)).client
    challenge = challenge_for(client)
    assert challenge["opaque"] == "fixed-opaque"
    genuine = digest(challenge, "john", "password", uri="/greet")
    assert client.get("/greet", headers=genuine).status_code == 200
    for forged_nonce in (_forged_nonce(), _forged_nonce(b"t" * 32)):
        forged = digest({**challenge, "nonce": forged_nonce}, "john", "password", uri="/greet")
        response = client.get("/greet", headers=forged)
        assert response.status_code == 401
        assert "stale" not in digest_challenge(response.headers["www-authenticate"])


def test_a_nonce_s_mac_covers_its_timestamp(monkeypatch):
    """Re-dating an expired nonce (to extend its life) breaks its MAC."""
    import base64
    import struct

    clock = [1_000_000.0]
    monkeypatch.setattr(digest_module.time, "time", lambda: clock[0])
    signer = digest_module.NonceSigner(b"server key", max_age=60)
    raw = base64.urlsafe_b64decode(signer.make() + "==")
    clock[0] += 120
    now = struct.pack(">Q", int(clock[0]))
    redated = base64.urlsafe_b64encode(now + raw[8:]).decode().rstrip("=")
    assert signer.check(redated) is digest_module.NonceState.INVALID


def test_every_nonce_made_is_valid_and_has_its_own_opaque():
    signer = digest_module.NonceSigner(b"server key", max_age=60)
    nonces = [signer.make() for _ in range(500)]  # every last character, whatever it is
    assert all(signer.check(nonce) is digest_module.NonceState.VALID for nonce in nonces)
    assert len({signer.opaque(nonce) for nonce in nonces}) == 500


def test_nonce_age_limits_are_inclusive(monkeypatch):
    clock = [1_000_000.0]
    monkeypatch.setattr(digest_module.time, "time", lambda: clock[0])
    signer = digest_module.NonceSigner(b"server key", max_age=60)
    nonce = signer.make()
    clock[0] += 60
    assert signer.check(nonce) is digest_module.NonceState.VALID  # exactly max_age old
    clock[0] += 1
    assert signer.check(nonce) is digest_module.NonceState.STALE
    clock[0] = 1_000_000.0 - digest_module.NonceSigner.CLOCK_SKEW
    assert signer.check(nonce) is digest_module.NonceState.VALID  # from a clock ahead by the skew
    clock[0] -= 1
    assert signer.check(nonce) is digest_module.NonceState.INVALID
