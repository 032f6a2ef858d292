"""One node of the multinode tests: every piece of shared state on Redis.

Run as ``uvicorn tests.multinode.node:app`` with ``NODE_NAME``,
``REDIS_URL``, ``REDIS_PREFIX`` (this test's namespace) and ``SECRET_KEY``
(the same on every node) in the environment. Every response says which node
answered (``X-Node``).
"""

import os

import redis.asyncio

import dyne
from dyne.ext.auth import DigestAuth, RedisNonceStore, authenticate
from dyne.ext.cache import Cache
from dyne.ext.channels import Channels, RedisChannelBackend
from dyne.ext.ratelimit import RateLimiter
from dyne.ext.ratelimit.redis import RedisStore
from dyne.ext.sessions import RedisSessionStore, ServerSideSessions

NODE = os.environ["NODE_NAME"]
REDIS_URL = os.environ["REDIS_URL"]
PREFIX = os.environ["REDIS_PREFIX"]
LIMIT = int(os.environ.get("RATE_LIMIT", "10"))

app = dyne.App(secret_key=os.environ["SECRET_KEY"])
app.config["CACHE_BACKEND"] = "redis"
app.config["CACHE_REDIS_URL"] = REDIS_URL
app.config["CACHE_KEY_PREFIX"] = PREFIX + "cache:"

cache = Cache(app)
channels = Channels(app, backend=RedisChannelBackend(REDIS_URL, key_prefix=PREFIX + "channel:"))
ServerSideSessions(app, store=RedisSessionStore(REDIS_URL, key_prefix=PREFIX + "session:"))
# The test checks that two nodes share one exact limit, not what a Redis timeout does: a
# timed-out decision fails closed (503), and on a busy machine a burst's first calls can take
# longer than the default 1 s.
limiter = RateLimiter(requests=LIMIT, period=3600,
                      store=RedisStore(REDIS_URL, key_prefix=PREFIX + "ratelimit:",
                                       timeout=float(os.environ.get("RATE_LIMIT_TIMEOUT", "1"))))
digest = DigestAuth(nonce_store=RedisNonceStore(REDIS_URL, key_prefix=PREFIX + "nonce:"))
counter = redis.asyncio.Redis.from_url(REDIS_URL)


@digest.get_password
def get_password(username):
    return {"john": "password"}.get(username)


@app.after_request
def say_which_node(req, resp):
    resp.headers["X-Node"] = NODE


@app.route("/health")
def health(req, resp):
    resp.media = {"node": NODE}


@app.route("/session/{value}", methods=["POST"])
def write_session(req, resp, *, value):
    req.session["value"] = value


@app.route("/session", methods=["GET"])
def read_session(req, resp):
    resp.media = {"value": req.session.get("value")}


@app.route("/limited")
@limiter.limit()
def limited(req, resp):
    resp.text = "ok"


@app.route("/report")
@cache.cache(tags=["report"])
async def report(req, resp):
    computations = await counter.incr(PREFIX + "report-computations")
    resp.media = {"computed_by": NODE, "computation": computations}


@app.route("/report", methods=["DELETE"])
async def invalidate_report(req, resp):
    await cache.invalidate_tags("report")
    resp.status_code = 204


@app.route("/rooms/{room}", websocket=True)
async def room(ws, *, room):
    await ws.accept()
    await channels.forward(ws, room, ready={"joined": room, "node": NODE})


@app.route("/rooms/{room}", methods=["POST"])
async def publish(req, resp, *, room):
    await channels.publish(room, {"from": NODE, "text": (await req.media())["text"]})


@app.route("/private")
@authenticate(digest)
def private(req, resp):
    resp.text = f"hello {req.state.user}"


@app.on_event("shutdown")
async def close_counter():
    await counter.aclose()
