import logging

import pytest

import dyne
from dyne.exceptions import HTTPException, abort, status_phrase


def test_http_exception_attributes():
    exc = HTTPException(404)
    assert exc.status_code == 404
    assert exc.detail == "Not Found"
    assert str(exc) == "404: Not Found"
    exc = HTTPException(403, detail="no", headers={"X-Reason": "policy"})
    assert (exc.detail, exc.headers) == ("no", {"X-Reason": "policy"})
    with pytest.raises(ValueError, match=r"HTTPException needs an HTTP status code \(100-599\), got 99"):
        HTTPException(99)
    with pytest.raises(HTTPException) as info:
        abort(418)
    assert info.value.detail == "I'm a Teapot"
    assert status_phrase(599) == "Error"


def test_abort_without_handler_uses_detail_as_text(app):
    @app.route("/secret")
    async def secret(req, resp):
        if not req.headers.get("Authorization"):
            abort(403, detail="You do not have access to this resource.")
        resp.text = "Welcome to the secret vault."

    response = app.client.get("/secret")
    assert response.status_code == 403
    assert response.text == "You do not have access to this resource."
    assert app.client.get("/secret", headers={"Authorization": "x"}).text == (
        "Welcome to the secret vault.")


def test_abort_with_dict_detail_is_json(app):
    @app.route("/")
    def index(req, resp):
        abort(409, detail={"error": "conflict"})

    response = app.client.get("/")
    assert response.status_code == 409
    assert response.json() == {"error": "conflict"}


def test_status_handler_receives_the_exception(app):
    @app.error_handler(403)
    async def forbidden_handler(req, resp, exc):
        resp.status_code = 403
        resp.media = {"error": "Forbidden", "message": getattr(exc, "detail", "Access Denied")}

    @app.route("/")
    def index(req, resp):
        abort(403, detail="Admins only")

    assert app.client.get("/").json() == {"error": "Forbidden", "message": "Admins only"}


def test_404_handler_covers_unknown_routes_and_abort(app):
    @app.error_handler(404)
    async def handle_404(req, resp, exc):
        resp.status_code = 404
        resp.media = {"error": "missing", "path": req.url.path}

    @app.route("/item")
    def item(req, resp):
        abort(404)

    assert app.client.get("/nothing").json() == {"error": "missing", "path": "/nothing"}
    assert app.client.get("/item").json() == {"error": "missing", "path": "/item"}


def test_error_headers_are_kept(app):
    @app.route("/")
    def index(req, resp):
        raise HTTPException(429, headers={"Retry-After": "3"})

    response = app.client.get("/")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"


def test_headers_set_before_the_error_survive_but_body_does_not(app):
    @app.route(before_request=True)
    def pizza(req, resp):
        resp.headers["X-Pizza"] = "42"

    @app.route("/")
    def index(req, resp):
        resp.headers["Content-Type"] = "application/pdf"
        resp.text = "partial"
        abort(400)

    response = app.client.get("/")
    assert response.status_code == 400
    assert response.text == "Bad Request"
    assert response.headers["x-pizza"] == "42"
    assert response.headers["content-type"].startswith("text/plain")
    assert app.client.get("/missing").headers["x-pizza"] == "42"


def test_exception_class_handlers_match_subclasses(app):
    class DomainError(Exception):
        pass

    class NotEnoughStock(DomainError):
        pass

    @app.error_handler(DomainError)
    async def domain(req, resp, exc):
        resp.status_code = 422
        resp.media = {"error": type(exc).__name__}

    @app.route("/")
    def index(req, resp):
        raise NotEnoughStock()

    response = app.client.get("/")
    assert (response.status_code, response.json()) == (422, {"error": "NotEnoughStock"})


def test_exception_class_handler_may_answer_with_an_http_status(app):
    class Duplicate(Exception):
        pass

    @app.error_handler(Duplicate)
    def translate(req, resp, exc):
        abort(409, detail="Already exists")

    @app.error_handler(409)
    async def conflict(req, resp, exc):
        resp.status_code = 409
        resp.media = {"conflict": exc.detail}

    @app.route("/")
    async def index(req, resp):
        raise Duplicate()

    response = app.client.get("/")
    assert (response.status_code, response.json()) == (409, {"conflict": "Already exists"})


def test_translated_status_without_handler_uses_the_default_body():
    app = dyne.App(problem_details=True)

    @app.error_handler(KeyError)
    async def translate(req, resp, exc):
        raise HTTPException(404, detail=f"No such key {exc.args[0]}")

    @app.route("/")
    async def index(req, resp):
        raise KeyError("k")

    response = app.client.get("/")
    assert response.status_code == 404
    assert response.json()["detail"] == "No such key k"


def test_status_handler_raising_http_exception_is_a_plain_500(caplog):
    app = dyne.App()

    @app.error_handler(404)
    async def loops(req, resp, exc):
        abort(404)

    response = app.client.get("/missing")
    assert (response.status_code, response.text) == (500, "500 Internal Server Error")


def test_sync_error_handlers_work_too(app):
    @app.error_handler(404)
    def handle(req, resp, exc):
        resp.text = "sync 404"

    assert app.client.get("/x").text == "sync 404"


def test_production_500_hides_the_trace_and_logs_it(caplog):
    app = dyne.App(debug=False)

    @app.route("/")
    def index(req, resp):
        raise ValueError("secret internals")

    with caplog.at_level(logging.ERROR, logger="dyne"):
        response = app.client.get("/")
    assert response.status_code == 500
    assert response.text == "500 Internal Server Error"
    assert "secret internals" not in response.text
    assert "Unhandled error in GET /" in caplog.text
    assert "ValueError: secret internals" in caplog.text


def test_production_500_handler_gets_the_original_exception():
    app = dyne.App(debug=False)

    @app.error_handler(500)
    async def handle_500(req, resp, exc):
        resp.status_code = 500
        resp.text = f"Internal Server Error: {exc!s}"

    @app.route("/")
    def index(req, resp):
        raise AttributeError("boom")

    assert app.client.get("/").text == "Internal Server Error: boom"


def test_failing_error_handler_falls_back_to_plain_500(caplog):
    app = dyne.App()

    @app.error_handler(404)
    async def broken(req, resp, exc):
        raise RuntimeError("handler bug")

    response = app.client.get("/missing")
    assert response.status_code == 500
    assert response.text == "500 Internal Server Error"
    assert "handler bug" in caplog.text


def test_debug_mode_reraises_and_shows_a_traceback():
    app = dyne.App(debug=True)

    @app.error_handler(500)
    async def never(req, resp, exc):  # debug mode skips it
        resp.text = "handled"

    @app.route("/")
    def index(req, resp):
        raise ValueError("visible in debug")

    with pytest.raises(ValueError, match="visible in debug"):
        app.client.get("/")
    from dyne.testing import TestClient

    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/", headers={"Accept": "text/html"})
    assert response.status_code == 500
    assert "ValueError" in response.text and "visible in debug" in response.text
    assert "<html" in response.text.lower()
    client.close()


def test_debug_mode_from_config(monkeypatch):
    monkeypatch.setenv("DEBUG", "true")
    assert dyne.App().debug is True
    monkeypatch.setenv("DEBUG", "off")
    assert dyne.App().debug is False
    assert dyne.App(debug=True).debug is True


def test_problem_details():
    app = dyne.App(problem_details=True)

    @app.route("/")
    def index(req, resp):
        abort(403, detail="Admins only")

    response = app.client.get("/")
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {"type": "about:blank", "title": "Forbidden", "status": 403,
                               "detail": "Admins only"}
    response = app.client.get("/missing")
    assert response.json() == {"type": "about:blank", "title": "Not Found", "status": 404}


def test_error_handler_registration_is_checked(app):
    with pytest.raises(ValueError, match="Error handlers are for status codes 400-599, got 200"):
        app.error_handler(200)
    with pytest.raises(TypeError, match="takes a status code or an exception class, got '404'"):
        app.error_handler("404")
