import asyncio
import dataclasses
import datetime
import decimal
import uuid

import msgpack
import pytest
import yaml

from dyne.response import Response, ServerSentEvent, format_sse

# -- bodies ---------------------------------------------------------------------------


def test_text_html_content(app):
    @app.route("/text")
    def text(req, resp):
        resp.text = "héllo"

    @app.route("/html")
    def html(req, resp):
        resp.html = "<h1>Hi</h1>"

    @app.route("/bytes")
    def raw(req, resp):
        resp.content = b"\x00raw"

    @app.route("/str-content")
    def str_content(req, resp):
        resp.content = "processing"

    response = app.client.get("/text")
    assert response.text == "héllo"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-length"] == str(len("héllo".encode()))
    assert app.client.get("/html").headers["content-type"] == "text/html; charset=utf-8"
    response = app.client.get("/bytes")
    assert response.content == b"\x00raw"
    assert response.headers["content-type"] == "application/octet-stream"
    assert app.client.get("/str-content").text == "processing"


def test_encoding_is_honoured(app):
    @app.route("/")
    def index(req, resp):
        resp.encoding = "latin-1"
        resp.text = "café"

    response = app.client.get("/")
    assert response.content == "café".encode("latin-1")
    assert response.headers["content-type"] == "text/plain; charset=latin-1"
    assert response.text == "café"


def test_media_is_json_by_default_with_rich_types(app):
    @dataclasses.dataclass
    class Point:
        x: int
        y: int

    @app.route("/")
    def index(req, resp):
        resp.media = {
            "when": datetime.date(2026, 1, 2),
            "id": uuid.UUID(int=1),
            "price": decimal.Decimal("9.99"),
            "point": Point(1, 2),
            "tags": {"a"},
            1: "non-string key",
        }

    response = app.client.get("/")
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "when": "2026-01-02", "id": "00000000-0000-0000-0000-000000000001", "price": "9.99",
        "point": {"x": 1, "y": 2}, "tags": ["a"], "1": "non-string key",
    }


@pytest.mark.parametrize("accept, content_type", [
    (None, "application/json"),
    ("*/*", "application/json"),
    ("text/html,application/xhtml+xml,*/*;q=0.8", "application/json"),
    ("application/x-yaml", "application/x-yaml"),
    ("application/yaml", "application/x-yaml"),
    ("application/x-msgpack", "application/x-msgpack"),
    ("application/json;q=0.5, application/x-msgpack", "application/x-msgpack"),
    ("application/x-yaml;q=0.1, application/json", "application/json"),
    ("application/x-yaml;q=0", "application/json"),
])
def test_media_negotiation(app, accept, content_type):
    @app.route("/data")
    def data(req, resp):
        resp.media = {"key": "value", "n": [1, 2]}

    headers = {"Accept": accept} if accept else {}
    response = app.client.get("/data", headers=headers)
    assert response.headers["content-type"] == content_type
    decoded = {
        "application/json": lambda body: response.json(),
        "application/x-yaml": yaml.safe_load,
        "application/x-msgpack": msgpack.unpackb,
    }[content_type](response.content)
    assert decoded == {"key": "value", "n": [1, 2]}


def test_unserializable_media_is_a_clean_500(app):
    @app.route("/")
    def index(req, resp):
        resp.media = {"x": object()}

    response = app.client.get("/")
    assert response.status_code == 500
    assert response.text == "500 Internal Server Error"


def test_status_code(app):
    @app.route("/")
    def index(req, resp):
        resp.status_code = 201
        resp.media = {"created": True}

    assert app.client.get("/").status_code == 201
    with pytest.raises(ValueError, match="Status code must be between 100 and 599, got 99"):
        Response().status_code = 99


def test_no_body_statuses_send_no_body(app):
    @app.route("/")
    def index(req, resp):
        resp.status_code = 204
        resp.text = "ignored"

    response = app.client.get("/")
    assert response.status_code == 204
    assert response.content == b""
    assert "content-length" not in response.headers


def test_headers_are_case_insensitive_and_case_preserving(app):
    @app.route("/")
    def index(req, resp):
        resp.headers["X-Request-ID"] = "abc"
        assert resp.headers["x-request-id"] == "abc"
        resp.headers["content-type"] = "application/vnd.custom+json"
        resp.content = b"{}"

    response = app.client.get("/")
    assert response.headers["x-request-id"] == "abc"
    assert response.headers["content-type"] == "application/vnd.custom+json"
    assert list(Response().headers) == []


def test_header_injection_is_refused(app):
    @app.route("/")
    def index(req, resp):
        resp.headers["X-Evil"] = "a\r\nSet-Cookie: pwned=1"

    response = app.client.get("/")
    assert response.status_code == 500
    assert "pwned" not in response.headers.get("set-cookie", "")


# -- cookies ------------------------------------------------------------------------

def test_cookie_assignment_and_directives(app):
    @app.route("/")
    def index(req, resp):
        resp.cookies["hello"] = "world"
        resp.set_cookie("session_hint", value="x", max_age=60, domain="example.com",
                        path="/app", secure=True, httponly=False, samesite="strict")
        resp.set_cookie("expiring", "y", expires=datetime.datetime(2030, 1, 1,
                                                                  tzinfo=datetime.UTC))

    cookies = app.client.get("/").headers.get_list("set-cookie")
    assert "hello=world; HttpOnly; Path=/; SameSite=Lax" in cookies
    hint = next(c for c in cookies if c.startswith("session_hint="))
    assert "Max-Age=60" in hint and "Domain=example.com" in hint and "Path=/app" in hint
    assert "Secure" in hint and "SameSite=Strict" in hint and "HttpOnly" not in hint
    expiring = next(c for c in cookies if c.startswith("expiring="))
    assert "expires=Tue, 01 Jan 2030 00:00:00 GMT" in expiring


def test_cookies_round_trip_through_the_client(app):
    @app.route("/set")
    def set_cookie(req, resp):
        resp.cookies["hello"] = "world"

    @app.route("/get")
    def get_cookie(req, resp):
        resp.media = req.cookies

    app.client.get("/set")
    assert app.client.get("/get").json() == {"hello": "world"}


def test_delete_cookie(app):
    @app.route("/")
    def index(req, resp):
        resp.delete_cookie("gone")

    cookie = app.client.get("/").headers["set-cookie"]
    assert cookie.startswith('gone=""') and "Max-Age=0" in cookie
    assert "01 Jan 1970" in cookie


def test_set_cookie_rejects_bad_samesite():
    with pytest.raises(ValueError, match="samesite must be 'lax', 'strict' or 'none'"):
        Response().set_cookie("a", "b", samesite="sometimes")


# -- redirects, files, streams -------------------------------------------------------------

def test_redirect(app):
    @app.route("/old")
    def old(req, resp):
        return resp.redirect("/new place")

    @app.route("/moved")
    def moved(req, resp):
        resp.redirect("https://example.com/", permanent=True)

    @app.route("/see-other")
    def see_other(req, resp):
        resp.redirect("/x", status_code=303)

    response = app.client.get("/old", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "/new%20place"
    assert app.client.get("/moved", follow_redirects=False).status_code == 301
    assert app.client.get("/see-other", follow_redirects=False).status_code == 303


def test_file_with_detected_content_type(app, tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<p>hi</p>")
    report = tmp_path / "report.csv"
    report.write_text("a,b\n1,2\n")

    @app.route("/page")
    def send_page(req, resp):
        resp.file(page)

    @app.route("/download")
    def download(req, resp):
        resp.file(str(report), filename="résumé 2026.csv")

    @app.route("/missing")
    def missing(req, resp):
        resp.file(tmp_path / "nope.txt")

    response = app.client.get("/page")
    assert response.text == "<p>hi</p>"
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-length"] == "9"
    assert "last-modified" in response.headers
    response = app.client.get("/download")
    assert response.text == "a,b\n1,2\n"
    assert response.headers["content-disposition"] == (
        "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9%202026.csv")
    assert app.client.get("/missing").status_code == 404
    assert app.client.head("/page").content == b""


def test_stream_file_sends_large_files_in_chunks(app, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 1024)  # 256 KiB

    @app.route("/big")
    def send_big(req, resp):
        resp.stream_file(big, chunk_size=4096)

    response = app.client.get("/big")
    assert response.content == big.read_bytes()
    assert "content-length" not in response.headers
    assert response.headers["content-type"] == "application/octet-stream"


def test_streaming_from_async_generator_and_iterables(app):
    @app.route("/agen")
    async def agen(req, resp):
        @resp.stream
        async def body():
            for i in range(3):
                await asyncio.sleep(0)
                yield f"chunk{i};"

    @app.route("/iterable")
    def iterable(req, resp):
        resp.mimetype = "text/csv"
        resp.stream([b"a,b\n", "1,2\n"])

    @app.route("/args")
    async def with_args(req, resp):
        async def count(n, prefix=""):
            for i in range(n):
                yield f"{prefix}{i}"

        resp.stream(count, 3, prefix="#")

    assert app.client.get("/agen").text == "chunk0;chunk1;chunk2;"
    response = app.client.get("/iterable")
    assert response.text == "a,b\n1,2\n"
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert app.client.get("/args").text == "#0#1#2"


def test_server_sent_events(app):
    @app.route("/events")
    async def events(req, resp):
        @resp.sse
        async def stream():
            yield "plain"
            yield {"event": "tick", "data": {"n": 1}, "id": "1"}
            yield ServerSentEvent(data="two\nlines", retry=500)
            yield {"user": "ann"}

    response = app.client.get("/events")
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["cache-control"] == "no-cache"
    assert response.text == (
        "data: plain\n\n"
        'event: tick\nid: 1\ndata: {"n":1}\n\n'
        "retry: 500\ndata: two\ndata: lines\n\n"
        'data: {"user":"ann"}\n\n'
    )


def test_sse_fields_cannot_inject_lines():
    assert format_sse({"event": "a\nevent: b", "data": "x"}) == b"event: a event: b\ndata: x\n\n"
    assert format_sse({"comment": "keepalive"}) == b": keepalive\n\n"


def test_stream_stops_when_the_client_disconnects(app):
    produced = []

    async def forever():
        i = 0
        while True:
            produced.append(i)
            yield f"data {i}\n"
            i += 1
            await asyncio.sleep(0.001)

    @app.route("/forever")
    async def endless(req, resp):
        resp.stream(forever)

    async def run():
        messages = [{"type": "http.request", "body": b"", "more_body": False}]
        sent = []

        async def receive():
            if messages:
                return messages.pop(0)
            await asyncio.sleep(0.05)
            return {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": "/forever", "headers": [],
                 "query_string": b"", "scheme": "http", "server": ("x", 80)}
        await asyncio.wait_for(app(scope, receive, send), timeout=5)
        return sent

    sent = asyncio.run(run())
    assert sent[0]["status"] == 200
    assert len(produced) < 1000


def test_stream_of_wrong_type_fails_loudly():
    with pytest.raises(TypeError, match="Cannot stream a int"):
        Response().stream(42)
    with pytest.raises(TypeError, match="Cannot stream a str"):
        Response().sse("not an iterable of events")


def test_content_getter_renders_media():
    response = Response()
    response.media = {"a": 1}
    assert response.content == b'{"a":1}'
    response.text = "x"
    # As in Dyne 2.0.5: after resp.text (or resp.html), content reads the str back.
    assert response.content == "x" and response.media is None


def test_many_distinct_content_types_are_all_sent_right(app):
    @app.route("/{n:int}")
    def typed(req, resp, *, n):
        resp.content = b"x"
        resp.mimetype = f"application/x-test-{n}"

    for n in range(300):  # more than the encoded-header cache keeps
        response = app.client.get(f"/{n}")
        assert response.headers["content-type"] == f"application/x-test-{n}"
        assert response.headers["content-length"] == "1"


def test_explicit_mimetype_wins_for_media(app):
    @app.route("/api")
    def api(req, resp):
        resp.media = {"data": [1]}
        resp.mimetype = "application/vnd.api+json"

    @app.route("/yaml")
    def as_yaml(req, resp):
        resp.media = {"a": 1}
        resp.mimetype = "application/x-yaml"

    response = app.client.get("/api", headers={"Accept": "application/x-msgpack"})
    assert response.headers["content-type"] == "application/vnd.api+json"
    assert response.json() == {"data": [1]}
    response = app.client.get("/yaml")
    assert response.headers["content-type"] == "application/x-yaml"
    assert yaml.safe_load(response.text) == {"a": 1}


# -- status helpers and return values ----------------------------------------------------


def test_created_no_content_problem_and_cache_control(app):
    @app.route("/items", methods=["POST"])
    def create(req, resp):
        resp.created("/items/7", {"id": 7})

    @app.route("/items/7", methods=["DELETE"])
    def delete(req, resp):
        resp.text = "will be dropped"
        resp.no_content()

    @app.route("/broken")
    def broken(req, resp):
        resp.problem(409, "Version conflict", current=3)

    @app.route("/cached")
    def cached(req, resp):
        resp.cache_control(max_age=60, public=True, stale_while_revalidate=30)
        resp.text = "ok"

    response = app.client.post("/items")
    assert response.status_code == 201
    assert response.headers["location"] == "/items/7"
    assert response.json() == {"id": 7}
    response = app.client.delete("/items/7")
    assert response.status_code == 204 and response.content == b""
    response = app.client.get("/broken")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {"type": "about:blank", "title": "Conflict", "status": 409,
                               "detail": "Version conflict", "current": 3}
    assert app.client.get("/cached").headers["cache-control"] == (
        "public, max-age=60, stale-while-revalidate=30")
    with pytest.raises(ValueError, match="public and private"):
        Response().cache_control(public=True, private=True)


@dataclasses.dataclass
class Point:
    x: int
    y: int


def test_tuple_and_model_return_values(app):
    import pydantic

    class Item(pydantic.BaseModel):
        name: str
        price: float

    @app.route("/pair")
    def pair(req, resp):
        return {"ok": True}, 202

    @app.route("/triple")
    def triple(req, resp):
        return "made", 201, {"X-Id": "9"}

    @app.route("/model")
    async def model(req, resp):
        return Item(name="pen", price=1.5)

    @app.route("/models")
    def models(req, resp):
        return [Point(1, 2), Point(3, 4)]

    @app.route("/dataclass")
    def dataclass_view(req, resp):
        return Point(5, 6), 200, [("X-Kind", "point")]

    @app.route("/bad-tuple")
    def bad_tuple(req, resp):
        return "x", "200"

    response = app.client.get("/pair")
    assert (response.status_code, response.json()) == (202, {"ok": True})
    response = app.client.get("/triple")
    assert (response.status_code, response.text, response.headers["x-id"]) == (201, "made", "9")
    assert app.client.get("/model").json() == {"name": "pen", "price": 1.5}
    assert app.client.get("/models").json() == [{"x": 1, "y": 2}, {"x": 3, "y": 4}]
    response = app.client.get("/dataclass")
    assert response.json() == {"x": 5, "y": 6} and response.headers["x-kind"] == "point"
    assert app.client.get("/bad-tuple").status_code == 500


def test_redirect_slashes_can_be_turned_off():
    import dyne

    for flag, expected in ((True, 307), (False, 404)):
        app = dyne.App(redirect_slashes=flag)

        @app.route("/users")
        def users(req, resp):
            resp.text = "users"

        assert app.client.get("/users/", follow_redirects=False).status_code == expected
