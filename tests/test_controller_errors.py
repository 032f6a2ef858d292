"""Exception-handler classes, PyJolt's abort / html_abort and the default JSON
for unhandled errors (seed 002, "Exception handling" and "Quick aborts")."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import BaseModel, ValidationError

import dyne
from dyne import Request
from dyne.controllers import (
    AborterException,
    Controller,
    ExceptionHandler,
    HttpStatus,
    MediaType,
    Response,
    abort,
    consumes,
    get,
    handles,
    html_abort,
    path,
    post,
)
from tests.conftest import serve_in_thread


class ErrorResponse(BaseModel):
    message: str
    details: Any | None = None


class EntityNotFound(Exception):
    pass


# The seed's CustomExceptionHandler (app/api/exceptions/exception_handler.py).
class CustomExceptionHandler(ExceptionHandler):
    @handles(ValidationError)
    async def validation_error(self, req: Request, exc: ValidationError) -> Response[ErrorResponse]:
        """Handles validation errors"""
        details = {}
        if hasattr(exc, "errors"):
            for error in exc.errors():
                details[error["loc"][0]] = error["msg"]
        return req.response.json({
            "message": "Validation failed.",
            "details": details,
        }).status(HttpStatus.UNPROCESSABLE_ENTITY)

    # The seed's second example names undefined exceptions (pseudo-code): here
    # one handler method handles two real ones.
    @handles(EntityNotFound, LookupError)
    async def handler_method(self, req: Request, exc: Exception) -> Response[ErrorResponse]:
        return req.response.json({"message": f"missing: {exc}"}).status(HttpStatus.NOT_FOUND)

    @handles(AborterException)
    async def aborted(self, req: Request, exc: AborterException) -> Response:
        return req.res.json({"aborted": exc.message, "status": exc.status,
                             "data": exc.data}).status(exc.status_code)


class UserData(BaseModel):
    email: str
    fullname: str


@path("/api/v1/users")
class UsersApi(Controller):
    @post("/")
    @consumes(MediaType.APPLICATION_JSON)
    async def create_user(self, req: Request, user_data: UserData) -> Response[UserData]:
        return req.response.json(user_data).status(HttpStatus.CREATED)

    @get("/<int:user_id>")
    async def get_user(self, req: Request, user_id: int) -> Response:
        """Handler logic"""
        # Entity not found
        abort(msg=f"User with id {user_id} not found",
              status_code=HttpStatus.NOT_FOUND,
              status="error", data=None)

    @get("/entity/<int:user_id>")
    async def entity(self, req: Request, user_id: int) -> Response:
        raise EntityNotFound(f"user {user_id}")

    @get("/crash")
    async def crash(self, req: Request) -> Response:
        raise RuntimeError("boom")


def test_seed_exception_handler_class_handles_validation_errors():
    app = dyne.App()
    app.add_controller(UsersApi)
    app.add_exception_handler(CustomExceptionHandler)
    response = app.client.post("/api/v1/users", json={"email": "a@b"})
    assert response.status_code == 422
    assert response.json() == {"message": "Validation failed.", "details": {"fullname": "Field required"}}


def test_handles_takes_several_exception_classes_and_subclasses():
    app = dyne.App()
    app.add_controller(UsersApi)
    app.add_exception_handler(CustomExceptionHandler)
    response = app.client.get("/api/v1/users/entity/3")
    assert (response.status_code, response.json()) == (404, {"message": "missing: user 3"})

    @app.route("/function-view")
    async def function_view(req, resp):
        raise KeyError("k")  # a LookupError, from a function view: the same handlers

    assert app.client.get("/function-view").json() == {"message": "missing: 'k'"}


def test_seed_abort_is_handled_by_the_handler_class():
    app = dyne.App()
    app.add_controller(UsersApi)
    app.add_exception_handler(CustomExceptionHandler)
    response = app.client.get("/api/v1/users/5")
    assert response.status_code == 404
    assert response.json() == {"aborted": "User with id 5 not found", "status": "error", "data": None}


def test_abort_unhandled_answers_its_status_with_json():
    app = dyne.App()
    app.add_controller(UsersApi)
    response = app.client.get("/api/v1/users/5")
    assert response.status_code == 404
    assert response.json() == {"status": "error", "message": "User with id 5 not found", "data": None}


def test_dyne_abort_keeps_its_own_form():
    app = dyne.App()
    app.add_controller(UsersApi)

    @app.route("/forbidden")
    async def forbidden(req, resp):
        dyne.abort(403, detail="You do not have access to this resource.")

    response = app.client.get("/forbidden")
    assert (response.status_code, response.text) == (403, "You do not have access to this resource.")
    with pytest.raises(TypeError, match=r"use dyne\.abort"):
        abort(404)  # type: ignore[arg-type]  # PyJolt's abort takes msg first


def test_seed_html_abort_is_rendered(tmp_path):
    (tmp_path / "not_found.html").write_text("<h1>{{ data.what }} is gone</h1>")

    @path("/pages")
    class Pages(Controller):
        @get("/<string:name>")
        async def page(self, req: Request, name: str) -> Response:
            html_abort("not_found.html", status_code=HttpStatus.NOT_FOUND, data={"what": name})

    app = dyne.App(templates_dir=tmp_path)
    app.add_controller(Pages)
    response = app.client.get("/pages/<b>")
    assert response.status_code == 404
    assert response.text == "<h1>&lt;b&gt; is gone</h1>"
    assert response.headers["content-type"].startswith("text/html")


def test_seed_unhandled_errors_answer_the_documented_json_in_production():
    app = dyne.App(debug=False)
    app.add_controller(UsersApi)
    response = app.client.get("/api/v1/users/crash")
    assert response.status_code == 500
    assert response.json() == {"status": "error", "message": "Internal server error"}

    # In debug mode the error is raised (dyne shows its debug page).
    debugging = dyne.App(debug=True)
    debugging.add_controller(UsersApi)
    with pytest.raises(RuntimeError, match="boom"):
        debugging.client.get("/api/v1/users/crash")

    # A handler for Exception replaces the generic answer.
    class CatchAll(ExceptionHandler):
        @handles(Exception)
        async def anything(self, req: Request, exc: Exception) -> Response:
            return req.res.json({"caught": type(exc).__name__}).status(HttpStatus.SERVICE_UNAVAILABLE)

    app.add_exception_handler(CatchAll)
    caught = app.client.get("/api/v1/users/crash")
    assert (caught.status_code, caught.json()) == (503, {"caught": "RuntimeError"})


def test_an_own_500_handler_is_kept():
    app = dyne.App(debug=False)

    @app.error_handler(500)
    async def mine(req, resp, exc):
        resp.text = "mine"

    app.add_controller(UsersApi)
    assert app.client.get("/api/v1/users/crash").text == "mine"


def test_handler_methods_in_dyne_form_and_registration_errors():
    class DyneForm(ExceptionHandler):
        @handles(ZeroDivisionError)
        def divide(self, req, resp, exc):  # a plain method, dyne's (req, resp, exc)
            resp.status_code = 400
            resp.media = {"error": "division"}

    app = dyne.App()
    handler = app.add_exception_handler(DyneForm)
    assert isinstance(handler, DyneForm) and handler.app is app

    @app.route("/divide")
    async def divide(req, resp):
        resp.text = str(1 / 0)

    assert app.client.get("/divide").json() == {"error": "division"}

    class Nothing(ExceptionHandler):
        pass

    with pytest.raises(TypeError, match="no @handles"):
        app.add_exception_handler(Nothing)
    with pytest.raises(TypeError, match="ExceptionHandler subclass"):
        app.add_exception_handler(UsersApi)
    with pytest.raises(TypeError, match="exception classes"):
        handles(int)


def test_exception_handler_by_import_string():
    app = dyne.App()
    app.add_exception_handler("tests.test_controller_errors:CustomExceptionHandler")
    app.add_controller("tests.test_controller_errors:UsersApi")
    assert app.client.post("/api/v1/users", json={}).status_code == 422


def test_exception_handlers_under_uvicorn():
    app = dyne.App(debug=False)
    app.add_controller(UsersApi)
    app.add_exception_handler(CustomExceptionHandler)
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as client:
        invalid = client.post("/api/v1/users", json={"fullname": "x"})
        assert invalid.status_code == 422
        assert invalid.json()["details"] == {"email": "Field required"}
        crash = client.get("/api/v1/users/crash")
        assert (crash.status_code, crash.json()) == (500, {"status": "error",
                                                           "message": "Internal server error"})


def test_seed_custom_exceptions_and_not_found():
    from dyne.controllers import BaseHttpException, CustomException, NotFound

    # The seed's three kinds of custom exceptions ("implementation" filled in).
    class MyCustomException(Exception):
        """implementation"""

    class MyCustomHttpException(BaseHttpException):
        """implementation"""

        status_code = 409

    class CustomExceptionFromCustomException(CustomException):
        """implementation"""

    class Handlers(ExceptionHandler):
        @handles(MyCustomException, CustomExceptionFromCustomException)
        async def custom(self, req: Request, exc: Exception) -> Response:
            return req.res.json({"custom": type(exc).__name__}).status(HttpStatus.BAD_REQUEST)

        @handles(NotFound)
        async def not_found(self, req: Request, exc: Exception) -> Response:
            return req.res.json({"status": "error", "message": "Not found"}).status(HttpStatus.NOT_FOUND)

    @path("/custom")
    class Raising(Controller):
        @get("/<string:kind>")
        async def raise_it(self, req: Request, kind: str) -> Response:
            if kind == "plain":
                raise MyCustomException()
            if kind == "http":
                raise MyCustomHttpException("conflict")
            if kind == "missing":
                raise NotFound("no such thing")
            raise CustomExceptionFromCustomException()

    app = dyne.App()
    app.add_controller(Raising)
    http = app.client.get("/custom/http")
    assert (http.status_code, http.text) == (409, "conflict")  # unhandled: its status and message
    app.add_exception_handler(Handlers)
    assert app.client.get("/custom/plain").json() == {"custom": "MyCustomException"}
    assert app.client.get("/custom/derived").json() == {"custom": "CustomExceptionFromCustomException"}
    for url in ("/custom/missing", "/no/such/url"):  # NotFound, and the router's own 404
        missing = app.client.get(url)
        assert (missing.status_code, missing.json()) == (404, {"status": "error", "message": "Not found"})


def test_seed_cache_decorator_on_a_controller_method():
    from dyne.ext.cache import Cache

    calls: list[int] = []
    app = dyne.App()
    cache = Cache(app)

    class CachedUser(BaseModel):
        id: int
        fullname: str

    @path("/api/v1/users")
    class CachedApi(Controller):
        @get("/<int:user_id>")
        @cache.cache(duration=300)  # default is 300 so this is not needed
        async def get_user(self, req: Request, user_id: int) -> Response:
            """Returns a user by user_id"""
            # The seed loads the user from the database (pseudo-code here).
            calls.append(user_id)
            return req.response.json(CachedUser(id=user_id, fullname="Ada")).status(HttpStatus.OK)

    app.add_controller(CachedApi)
    for _ in range(3):
        assert app.client.get("/api/v1/users/1").json() == {"id": 1, "fullname": "Ada"}
    assert app.client.get("/api/v1/users/2").json() == {"id": 2, "fullname": "Ada"}
    assert calls == [1, 2]
