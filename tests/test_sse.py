"""Server-Sent Events extras: heartbeats, req.last_event_id, resuming a
stream, and a real client reconnecting with Last-Event-ID against uvicorn."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

import dyne
from tests.conftest import http_scope, run_asgi, serve_in_thread


def parse_events(lines) -> list[dict[str, str]]:
    """A small SSE parser, as EventSource reads a stream: fields until a blank
    line; comments kept under ``":"``."""
    events, current = [], {}
    for line in lines:
        if line == "":
            if current:
                events.append(current)
            current = {}
        elif line.startswith(":"):
            current[":"] = line[1:].strip()
        else:
            name, _, value = line.partition(":")
            current[name] = value[1:] if value.startswith(" ") else value
    return events


def test_heartbeat_sends_pings_while_the_source_is_idle(app):
    @app.route("/events")
    async def events(req, resp):
        @resp.sse(heartbeat=0.05)
        async def stream():
            yield {"id": "1", "data": "first"}
            await asyncio.sleep(0.18)
            yield {"id": "2", "data": "second"}

    text = app.client.get("/events").text
    first, _, rest = text.partition(": ping\n\n")
    assert first == "id: 1\ndata: first\n\n"
    assert 2 <= text.count(": ping\n\n") <= 4
    assert text.endswith("id: 2\ndata: second\n\n")
    assert rest  # the pings came between the two events


def test_no_ping_when_events_flow_and_sync_sources_work(app):
    @app.route("/busy")
    async def busy(req, resp):
        resp.sse(iter(["a", "b", "c"]), heartbeat=5)

    assert app.client.get("/busy").text == "data: a\n\ndata: b\n\ndata: c\n\n"


def test_heartbeat_must_be_positive(app):
    resp = dyne.Response()
    for bad in (0, -1, "5", True):
        with pytest.raises(ValueError, match="heartbeat"):
            resp.sse(iter(()), heartbeat=bad)
    with pytest.raises(TypeError, match="only heartbeat"):
        resp.sse(None, 1)


def test_last_event_id(app):
    @app.route("/id")
    def show(req, resp):
        resp.media = {"id": req.last_event_id}

    assert app.client.get("/id").json() == {"id": None}
    assert app.client.get("/id", headers={"Last-Event-ID": ""}).json() == {"id": None}
    assert app.client.get("/id", headers={"Last-Event-ID": "42"}).json() == {"id": "42"}
    # EventSource sends the id as UTF-8.
    r = app.client.get("/id", headers=[(b"Last-Event-ID", "évé-7".encode())])
    assert r.json() == {"id": "évé-7"}


@pytest.mark.parametrize("raw", [b"x" * 1025, b"\xff\xfe", b"a\x00b"])
def test_malformed_last_event_id_is_a_400(app, raw):
    @app.route("/id")
    def show(req, resp):
        resp.media = {"id": req.last_event_id}

    # Straight to the ASGI app: the test client would re-encode the header's bytes.
    scope = http_scope("GET", "/id", headers=[(b"host", b"t"), (b"last-event-id", raw)])
    sent, _ = run_asgi(app, scope)
    assert sent[0]["status"] == 400
    assert b"Last-Event-ID" in b"".join(m.get("body", b"") for m in sent[1:])


def test_a_stream_resumes_after_the_last_event_id(app):
    log = [f"message {n}" for n in range(5)]

    @app.route("/feed")
    async def feed(req, resp):
        last = req.last_event_id
        start = int(last) + 1 if last is not None and last.isdigit() else 0

        @resp.sse
        async def stream():
            for n in range(start, len(log)):
                yield {"id": str(n), "data": log[n]}

    full = parse_events(app.client.get("/feed").text.split("\n"))
    assert [e["id"] for e in full] == ["0", "1", "2", "3", "4"]
    resumed = parse_events(app.client.get("/feed", headers={"Last-Event-ID": "2"}).text.split("\n"))
    assert [(e["id"], e["data"]) for e in resumed] == [("3", "message 3"), ("4", "message 4")]


@pytest.mark.server
def test_a_real_client_reconnects_with_last_event_id_under_uvicorn():
    """The server drops the connection after two events; the client reconnects
    as EventSource does (Last-Event-ID = the last id it saw) and gets the rest,
    with heartbeats while the server has nothing to say."""
    app = dyne.App()
    seen_ids: list[str | None] = []

    @app.route("/feed")
    async def feed(req, resp):
        last = req.last_event_id
        seen_ids.append(last)
        start = int(last) + 1 if last else 0

        @resp.sse(heartbeat=0.05)
        async def stream():
            yield {"retry": 10, "comment": "welcome"}
            for n in range(start, min(start + 2, 5)):  # at most two events per connection
                await asyncio.sleep(0.12)
                yield {"id": str(n), "event": "tick", "data": {"n": n}}

    received: list[dict[str, str]] = []
    pings = 0
    with serve_in_thread(app) as url, httpx.Client(timeout=10) as client:
        last_id = None
        deadline = time.monotonic() + 20
        while len(received) < 5 and time.monotonic() < deadline:
            headers = {"Accept": "text/event-stream"}
            if last_id is not None:
                headers["Last-Event-ID"] = last_id
            with client.stream("GET", url + "/feed", headers=headers) as r:
                assert r.headers["content-type"] == "text/event-stream"
                assert r.headers["cache-control"] == "no-cache"
                for event in parse_events(r.iter_lines()):
                    if event.get(":") == "ping":
                        pings += 1
                    if "id" in event:
                        received.append(event)
                        last_id = event["id"]
    assert [e["id"] for e in received] == ["0", "1", "2", "3", "4"]
    assert [e["data"] for e in received] == [f'{{"n":{n}}}' for n in range(5)]
    assert seen_ids == [None, "1", "3"]
    assert pings >= 3


@pytest.mark.server
def test_a_client_going_away_stops_a_heartbeating_source():
    app = dyne.App()
    closed = []

    @app.route("/slow")
    async def slow(req, resp):
        @resp.sse(heartbeat=0.05)
        async def stream():
            try:
                yield "hello"
                await asyncio.sleep(60)  # nothing more to say: only pings go out
                yield "never"
            finally:
                closed.append(True)

    with serve_in_thread(app) as url, httpx.Client(timeout=10) as client:
        with client.stream("GET", url + "/slow") as r:
            lines = r.iter_lines()
            assert next(lines) == "data: hello"
            assert [next(lines) for _ in range(3)] == ["", ": ping", ""]
        deadline = time.monotonic() + 10
        while not closed and time.monotonic() < deadline:
            time.sleep(0.02)
    assert closed == [True]


@pytest.mark.server
def test_a_browser_eventsource_resumes_with_last_event_id(browser, server):
    """Chromium's EventSource, reconnecting by itself after the server ends
    each response, sends Last-Event-ID; the page gets every event once."""
    app = dyne.App()
    seen_ids: list[str | None] = []

    @app.route("/")
    def page(req, resp):
        resp.html = """<!doctype html><body><script>
          window.got = [];
          const source = new EventSource("/feed");
          source.addEventListener("tick", (e) => {
            window.got.push(e.lastEventId + ":" + e.data);
            if (window.got.length === 5) source.close();
          });
        </script></body>"""

    @app.route("/feed")
    async def feed(req, resp):
        last = req.last_event_id
        seen_ids.append(last)
        start = int(last) + 1 if last else 0

        @resp.sse(heartbeat=0.05)
        async def stream():
            yield {"retry": 20}
            for n in range(start, min(start + 2, 5)):
                yield {"id": str(n), "event": "tick", "data": f"message {n}"}

    with server(app) as url:
        context = browser.new_context()
        try:
            tab = context.new_page()
            tab.goto(url + "/")
            tab.wait_for_function("window.got.length === 5", timeout=20_000)
            got = tab.evaluate("window.got")
        finally:
            context.close()
    assert got == [f"{n}:message {n}" for n in range(5)]
    assert seen_ids[:3] == [None, "1", "3"]
