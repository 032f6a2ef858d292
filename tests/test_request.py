import msgpack
import pytest
import yaml

import dyne
from dyne.datastructures import QueryDict
from dyne.request import HTTPMethod, parse_cookie_header


def echo_app(**kwargs):
    app = dyne.App(**kwargs)

    @app.post("/echo")
    async def echo(req, resp):
        resp.media = await req.media()

    return app


# -- request line and headers --------------------------------------------------------

def test_basic_attributes(app):
    seen = {}

    @app.route("/info/{id:int}")
    async def info(req, resp, *, id):
        seen.update(
            method=req.method, url_path=req.url.path, full_url=req.full_url,
            host=req.headers["HOST"], agent=req.headers.get("user-agent"),
            client=req.client, secure=req.is_secure, path_params=req.path_params,
            app=req.app, path=req.path,
        )

    app.client.get("/info/3?x=1")
    assert seen["method"] == "GET"
    assert seen["url_path"] == "/info/3"
    assert seen["full_url"] == "http://;/info/3?x=1"
    assert seen["host"] == ";"
    assert seen["agent"] == "testclient"
    ip, port = seen["client"]
    assert (ip, port) == ("testclient", 50000)
    assert seen["secure"] is False
    assert seen["path_params"] == {"id": 3}
    assert seen["app"] is app
    assert seen["path"] == "/info/3"


def test_method_compares_in_either_case():
    method = HTTPMethod("POST")
    assert method == "POST"
    assert method == "post"
    assert method != "get"
    assert str(method) == "POST"
    assert {"POST": 1}[method] == 1


@pytest.mark.parametrize("sent", ["GET", "POST", "DELETE", "PROPFIND"])
def test_req_method_is_an_http_method_for_any_verb(sent):
    req = dyne.Request({"type": "http", "method": sent, "path": "/", "headers": []})
    method = req.method
    assert isinstance(method, HTTPMethod)
    assert method == sent and method == sent.lower() and str(method) == sent
    assert req.method is method or sent not in ("GET", "POST", "DELETE")  # shared when standard


def test_is_secure_over_https(app):
    @app.route("/", methods=["GET", "POST"])
    def index(req, resp):
        resp.media = {"secure": req.is_secure, "scheme": req.url.scheme}

    assert app.client.get("https://example.com/").json() == {"secure": True, "scheme": "https"}


def test_query_params_are_a_query_dict(app):
    @app.route("/search")
    def search(req, resp):
        params = req.params
        resp.media = {
            "q": params["q"],
            "tag_last": params.get("tag"),
            "tags": params.getlist("tag"),
            "missing": params.get("missing", "default"),
            "items": list(params.items()),
            "items_list": list(params.items_list()),
        }

    data = app.client.get("/search?q=python&tag=a&tag=b&empty=").json()
    assert data == {
        "q": "python",
        "tag_last": "b",
        "tags": ["a", "b"],
        "missing": "default",
        "items": [["q", "python"], ["tag", "b"], ["empty", ""]],
        "items_list": [["q", ["python"]], ["tag", ["a", "b"]], ["empty", [""]]],
    }


def test_query_dict_behaviour():
    params = QueryDict("a=1&a=2&b=%20x")
    assert params["a"] == "2"
    assert params.getlist("a") == ["1", "2"]
    assert params.getlist("zzz") == []
    assert params.to_dict() == {"a": "2", "b": " x"}
    # As in Dyne 2.0.5: the dict itself holds the lists.
    assert dict(params) == {"a": ["1", "2"], "b": [" x"]}
    assert params == {"a": ["1", "2"], "b": [" x"]}
    assert "a" in params and "zzz" not in params
    with pytest.raises(KeyError):
        params["zzz"]
    assert QueryDict({"k": ["1", "2"]}).getlist("k") == ["1", "2"]


def test_cookies(app):
    @app.route("/", methods=["GET", "POST"])
    def index(req, resp):
        resp.media = req.cookies

    response = app.client.get("/", headers={"Cookie": 'hello=world; quoted="a b"; flag'})
    assert response.json() == {"hello": "world", "quoted": "a b", "": "flag"}


def test_cookie_header_parsing_is_lenient():
    assert parse_cookie_header("a=1; b=2; a=3") == {"a": "1", "b": "2"}
    assert parse_cookie_header(";;; =; x==y") == {"x": "=y"}
    assert parse_cookie_header("") == {}


def test_mimetype_encoding_and_is_json(app):
    @app.route("/", methods=["GET", "POST"])
    async def index(req, resp):
        resp.media = {"mimetype": req.mimetype, "encoding": req.encoding, "json": req.is_json,
                      "text": await req.text}

    data = app.client.post("/", content="é".encode("latin-1"),
                           headers={"Content-Type": "Text/Plain; Charset=latin-1"}).json()
    assert data == {"mimetype": "text/plain", "encoding": "latin-1", "json": False, "text": "é"}
    data = app.client.post("/", json={}).json()
    assert data["mimetype"] == "application/json" and data["json"] is True
    assert data["encoding"] == "utf-8"
    data = app.client.post("/", content=b"{}",
                           headers={"content-type": "application/problem+json"}).json()
    assert data["json"] is True


def test_undecodable_text_is_400(app):
    @app.route("/", methods=["GET", "POST"])
    async def index(req, resp):
        resp.text = await req.text

    response = app.client.post("/", content=b"\xff\xfe\xfa", headers={"content-type": "text/plain"})
    assert response.status_code == 400
    response = app.client.post("/", content=b"x", headers={"content-type": "text/plain; charset=nope"})
    assert response.status_code == 400


def test_state_is_per_request(app):
    @app.route(before_request=True)
    def stamp(req, resp):
        req.state.user = "ann"

    @app.route("/", methods=["GET", "POST"])
    def index(req, resp):
        resp.media = {"user": req.state.user, "has_other": hasattr(req.state, "other")}

    assert app.client.get("/").json() == {"user": "ann", "has_other": False}


def test_accepts(app):
    @app.route("/", methods=["GET", "POST"])
    def index(req, resp):
        resp.media = {"html": req.accepts("text/html"), "json": req.accepts("application/json")}

    assert app.client.get("/", headers={"Accept": "text/*"}).json() == {"html": True, "json": False}
    assert app.client.get("/").json() == {"html": True, "json": True}


# -- bodies ---------------------------------------------------------------------------

def test_content_and_text(app):
    @app.route("/", methods=["GET", "POST"])
    async def index(req, resp):
        first = await req.content
        again = await req.content
        resp.media = {"same": first == again, "text": await req.text, "len": len(first)}

    assert app.client.post("/", content=b"hello").json() == {"same": True, "text": "hello", "len": 5}


def test_media_json_by_content_type_and_without_one():
    app = echo_app()
    assert app.client.post("/echo", json={"a": [1, 2]}).json() == {"a": [1, 2]}
    assert app.client.post("/echo", content=b'{"b": 1}').json() == {"b": 1}


def test_media_yaml_and_msgpack():
    app = echo_app()
    body = yaml.safe_dump({"name": "dyne", "tags": ["a", "b"]})
    response = app.client.post("/echo", content=body, headers={"content-type": "application/x-yaml"})
    assert response.json() == {"name": "dyne", "tags": ["a", "b"]}
    packed = msgpack.packb({"n": 1, "xs": [1.5, None]})
    response = app.client.post("/echo", content=packed,
                               headers={"content-type": "application/x-msgpack"})
    assert response.json() == {"n": 1, "xs": [1.5, None]}


def test_media_with_explicit_format(app):
    @app.post("/pack")
    async def pack(req, resp):
        resp.media = await req.media("msgpack")

    response = app.client.post("/pack", content=msgpack.packb([1, 2, 3]))
    assert response.json() == [1, 2, 3]


def test_empty_body_is_empty_dict():
    app = echo_app()
    assert app.client.post("/echo").json() == {}
    assert app.client.post("/echo", headers={"content-type": "application/x-yaml"}).json() == {}


@pytest.mark.parametrize("body, content_type, message", [
    (b"{bad", "application/json", "Malformed JSON body"),
    (b'{"a": 1', "application/json", "Malformed JSON body"),
    (b"\xff\xfe", "application/json", "Malformed JSON body"),
    (b"a: [1, 2", "application/x-yaml", "Malformed YAML body"),
    (b"a: &x [1]\nb: *x", "application/yaml", "aliases are not accepted"),
    (b"!!python/object:os.system {}", "application/x-yaml", "Malformed YAML body"),
    (b"\xc1", "application/x-msgpack", "Malformed MessagePack body"),
    (b"\x92\x01", "application/x-msgpack", "Malformed MessagePack body"),
    (b"\x81\x01\x02", "application/x-msgpack", "Malformed MessagePack body"),
])
def test_malformed_bodies_are_400(body, content_type, message):
    app = echo_app()
    response = app.client.post("/echo", content=body, headers={"content-type": content_type})
    assert response.status_code == 400
    assert message in response.text


def test_unsupported_content_type_is_415():
    app = echo_app()
    response = app.client.post("/echo", content=b"<x/>", headers={"content-type": "application/xml"})
    assert response.status_code == 415
    assert "application/xml" in response.text


def test_unknown_format_name_is_a_programming_error(app):
    @app.route("/", methods=["GET", "POST"])
    async def index(req, resp):
        await req.media("xml")

    assert app.client.post("/").status_code == 500


def test_form_urlencoded(app):
    @app.route("/", methods=["GET", "POST"])
    async def index(req, resp):
        form = await req.form()
        resp.media = {"media": await req.media("form"), "all": form.getlist("a")}

    response = app.client.post("/", data={"a": ["1", "2"], "b": "x y"})
    assert response.json() == {"media": {"a": "2", "b": "x y"}, "all": ["1", "2"]}


def test_media_by_content_type_reads_forms(app):
    @app.route("/", methods=["GET", "POST"])
    async def index(req, resp):
        resp.media = await req.media()

    assert app.client.post("/", data={"k": "v"}).json() == {"k": "v"}


def test_files_format(app):
    @app.post("/upload")
    async def upload(req, resp):
        files = await req.media(format="files")
        form = await req.media(format="form")
        resp.media = {
            "files": {k: {**v, "content": v["content"].decode()} for k, v in files.items()},
            "fields": {k: v for k, v in form.items() if isinstance(v, str)},
        }

    response = app.client.post(
        "/upload",
        data={"description": "sunset"},
        files={"image": ("photo.jpg", b"JPEGDATA", "image/jpeg")},
    )
    assert response.json() == {
        "files": {"image": {"filename": "photo.jpg", "content": "JPEGDATA",
                            "content_type": "image/jpeg"}},
        "fields": {"description": "sunset"},
    }


@pytest.mark.parametrize("body, content_type", [
    (b"garbage", "multipart/form-data"),
    (b"--xx\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n", "multipart/form-data; boundary=xx"),
    (b"--xx\r\nbroken", "multipart/form-data; boundary=xx"),
])
def test_broken_multipart_is_400(app, body, content_type):
    @app.post("/upload")
    async def upload(req, resp):
        resp.media = await req.media("files")

    response = app.client.post("/upload", content=body, headers={"content-type": content_type})
    assert response.status_code == 400, response.text


def test_form_of_a_json_body_is_415(app):
    @app.route("/", methods=["GET", "POST"])
    async def index(req, resp):
        await req.media("form")

    assert app.client.post("/", json={"a": 1}).status_code == 415


def test_body_over_the_limit_is_413():
    app = echo_app(max_body_size=100)
    response = app.client.post("/echo", content=b"x" * 101)
    assert response.status_code == 413

    def chunks():
        for _ in range(10):
            yield b"x" * 20

    response = app.client.post("/echo", content=chunks())  # no Content-Length: streamed
    assert response.status_code == 413
    assert app.client.post("/echo", json={"ok": True}).json() == {"ok": True}


def test_stream_reads_the_body_in_chunks(app):
    @app.route("/", methods=["GET", "POST"])
    async def index(req, resp):
        sizes = [len(chunk) async for chunk in req.stream()]
        resp.media = {"total": sum(sizes)}

    def chunks():
        for _ in range(5):
            yield b"y" * 1000

    assert app.client.post("/", content=chunks()).json() == {"total": 5000}


def test_unknown_request_attribute_error_is_clear():
    app = dyne.App(debug=True)

    @app.route("/", methods=["GET", "POST"])
    def index(req, resp):
        req.nothing_here  # noqa: B018

    with pytest.raises(AttributeError, match="'Request' object has no attribute 'nothing_here'"):
        app.client.get("/")


def test_request_properties_from_extensions(app):
    app.add_request_property("answer", lambda req: 42 if req.path == "/" else None)

    @app.route("/", methods=["GET", "POST"])
    def index(req, resp):
        resp.media = {"answer": req.answer}

    assert app.client.get("/").json() == {"answer": 42}
    with pytest.raises(ValueError, match="already has an attribute"):
        app.add_request_property("headers", lambda req: None)


def test_request_properties_follow_the_apps_table(app):
    """A request property is read from ``app.request_properties`` at each
    access: replacing or removing its getter there takes effect; the request
    is still a ``dyne.Request``."""
    app.add_request_property("answer", lambda req: 42)

    @app.route("/")
    def index(req, resp):
        resp.media = {"answer": getattr(req, "answer", None), "is_request": isinstance(req, dyne.Request),
                      "class": type(req).__name__}

    assert app.client.get("/").json() == {"answer": 42, "is_request": True, "class": "Request"}
    app.request_properties["answer"] = lambda req: 43
    assert app.client.get("/").json()["answer"] == 43
    del app.request_properties["answer"]
    assert app.client.get("/").json()["answer"] is None
    # A getter added to the table directly (not through add_request_property) works too.
    app.request_properties["answer"] = lambda req: 44
    assert app.client.get("/").json()["answer"] == 44


def test_a_request_property_getter_raising_attribute_error(app):
    """``hasattr`` is false and the getter's own message reaches the view."""

    def missing(req):
        raise AttributeError("no answer here")

    app.add_request_property("answer", missing)

    @app.route("/")
    def index(req, resp):
        try:
            resp.media = {"answer": req.answer}
        except AttributeError as exc:
            resp.media = {"has": hasattr(req, "answer"), "error": str(exc)}

    assert app.client.get("/").json() == {"has": False, "error": "no answer here"}


def test_media_without_await_once_decoded(app):
    @app.route("/", methods=["POST"])
    async def index(req, resp):
        first = await req.media()
        again = req.media()          # decoded already: a dict, no await needed
        awaited = await req.media()  # awaiting still works
        resp.media = {"same": first is again is awaited, "keys": sorted(again),
                      "is_dict": isinstance(again, dict)}

    assert app.client.post("/", json={"b": 1, "a": 2}).json() == {
        "same": True, "keys": ["a", "b"], "is_dict": True}


def test_media_arrays_are_awaitable_each_time(app):
    @app.route("/", methods=["POST"])
    async def index(req, resp):
        await req.media()
        resp.media = {"again": await req.media()}

    assert app.client.post("/", json=[1, 2]).json() == {"again": [1, 2]}


def _receive_from(messages):
    queue = list(messages)

    async def receive():
        return queue.pop(0)

    return receive


async def test_content_joins_chunks_and_checks_the_limit_as_it_reads():
    app = dyne.App(max_body_size=10)
    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}
    req = dyne.Request(scope, _receive_from([
        {"type": "http.request", "body": b"abc", "more_body": True},
        {"type": "http.request", "body": b"", "more_body": True},
        {"type": "http.request", "body": b"def"},
    ]), app)
    assert await req.content == b"abcdef"
    assert await req.content == b"abcdef"  # kept

    req = dyne.Request(scope, _receive_from([
        {"type": "http.request", "body": b"x" * 6, "more_body": True},
        {"type": "http.request", "body": b"x" * 6},
    ]), app)
    with pytest.raises(dyne.HTTPException) as caught:
        await req.content
    assert caught.value.status_code == 413

    declared = dict(scope, headers=[(b"content-length", b"11")])
    req = dyne.Request(declared, _receive_from([{"type": "http.request", "body": b"x" * 11}]), app)
    with pytest.raises(dyne.HTTPException) as caught:
        await req.content
    assert caught.value.status_code == 413


async def test_content_after_a_disconnect_or_a_consumed_stream():
    from dyne.exceptions import ClientDisconnect

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}
    req = dyne.Request(scope, _receive_from([
        {"type": "http.request", "body": b"abc", "more_body": True},
        {"type": "http.disconnect"},
    ]))
    with pytest.raises(ClientDisconnect):
        await req.content

    req = dyne.Request(scope, _receive_from([{"type": "http.request", "body": b"abc"}]))
    assert [chunk async for chunk in req.stream()] == [b"abc"]
    with pytest.raises(RuntimeError, match="already consumed"):
        await req.content

    with pytest.raises(RuntimeError, match="no body channel"):
        await dyne.Request(scope).content



@pytest.mark.parametrize("messages", [
    [{"type": "http.request", "body": b"hello", "more_body": False}],
    [{"type": "http.request", "body": b"he", "more_body": True},
     {"type": "http.request", "body": b"", "more_body": True},
     {"type": "http.request", "body": b"llo", "more_body": False}],
    # A message that carries no body (an extension's) before the body.
    [{"type": "http.response.debug"}, {"type": "http.request", "body": b"hello", "more_body": False}],
])
async def test_body_read_from_any_split_of_messages(messages):
    app = dyne.App(max_body_size=5)

    @app.route("/echo", methods=["POST"])
    async def echo(req, resp):
        resp.content = await req.content

    sent = []
    queue = list(messages)

    async def receive():
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/echo", "raw_path": b"/echo",
             "query_string": b"", "headers": [(b"host", b"x")], "scheme": "http",
             "server": ("x", 80), "client": ("127.0.0.1", 1), "root_path": "", "http_version": "1.1",
             "asgi": {"version": "3.0"}}
    await app(scope, receive, send)
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == b"hello"

    # One byte over the limit, in one message or in two: 413.
    for over in ([{"type": "http.request", "body": b"hello!", "more_body": False}],
                 [{"type": "http.request", "body": b"hel", "more_body": True},
                  {"type": "http.request", "body": b"lo!", "more_body": False}]):
        sent.clear()
        queue[:] = over
        await app(dict(scope), receive, send)
        assert sent[0]["status"] == 413
