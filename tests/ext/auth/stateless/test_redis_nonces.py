"""RedisNonceStore: a digest nonce use accepted by one worker is a replay on
every other; Redis down or stuck refuses authentication (503) in bounded time."""

import asyncio
import time

import pytest

import dyne
from dyne.ext.auth import DigestAuth, RedisNonceStore, authenticate

from ..clients import digest, digest_challenge


def worker(store, secret="shared-secret"):
    """One worker: its own app and DigestAuth, sharing the secret and the store."""
    app = dyne.App(secret_key=secret)
    auth = DigestAuth(nonce_store=store)

    @auth.get_password
    def get_password(username):
        return {"john": "password"}.get(username)

    @app.route("/greet")
    @authenticate(auth)
    async def greet(req, resp):
        resp.text = f"Hello {req.state.user}"

    return app


def test_a_nonce_used_on_one_worker_is_refused_on_another(redis_url, redis_prefix):
    one = worker(RedisNonceStore(redis_url, key_prefix=redis_prefix))
    two = worker(RedisNonceStore(redis_url, key_prefix=redis_prefix))
    challenge = digest_challenge(one.client.get("/greet").headers["www-authenticate"])
    answer = digest(challenge, "john", "password", uri="/greet", cnonce="c1", nc=1)
    assert one.client.get("/greet", headers=answer).text == "Hello john"
    replayed = two.client.get("/greet", headers=answer)
    assert replayed.status_code == 401
    assert "stale=TRUE" in replayed.headers["www-authenticate"]
    # The next count of the same nonce is a new use, accepted on either worker.
    following = digest(challenge, "john", "password", uri="/greet", cnonce="c1", nc=2)
    assert two.client.get("/greet", headers=following).status_code == 200


async def test_entries_expire_with_the_nonce(redis_url, redis_prefix):
    store = RedisNonceStore(redis_url, key_prefix=redis_prefix)
    assert await store.remember("nonce\x00c\x0001" * 50, 0.2) is True
    assert await store.remember("nonce\x00c\x0001" * 50, 0.2) is False
    keys = [key async for key in store.client.scan_iter(match=redis_prefix + "*")]
    assert len(keys) == 1 and len(keys[0]) == len(redis_prefix) + 64  # a digest, not the input
    await asyncio.sleep(0.3)
    assert await store.remember("nonce\x00c\x0001" * 50, 0.2) is True
    await store.close()


@pytest.mark.parametrize("port_fixture", ["closed_port", "silent_port"])
def test_redis_down_or_stuck_fails_closed(port_fixture, request):
    port = request.getfixturevalue(port_fixture)
    app = worker(RedisNonceStore(f"redis://127.0.0.1:{port}/0", timeout=0.3))
    challenge = digest_challenge(app.client.get("/greet").headers["www-authenticate"])
    started = time.monotonic()
    answer = app.client.get("/greet", headers=digest(challenge, "john", "password", uri="/greet"))
    assert answer.status_code == 503
    assert time.monotonic() - started < 3
