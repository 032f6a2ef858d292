"""The shared core of ``dyne.ext.io``: locations, injection, error shape,
``@output`` semantics, ``@expect``/``@webhook`` metadata and the errors a
misuse gets. Most tests run once per schema library: both must behave the same.
"""

from __future__ import annotations

import importlib
from collections import namedtuple
from types import SimpleNamespace

import msgpack
import pytest
from marshmallow import Schema, fields, validate
from pydantic import BaseModel, ConfigDict, Field

import dyne
from dyne.endpoints import get_endpoint_spec
from dyne.ext.io import SerializationError, ValidatedData
from dyne.ext.io.core import flatten_errors, is_collection

LIBRARIES = ["pydantic", "marshmallow"]


def io(library: str):
    return importlib.import_module(f"dyne.ext.io.{library}")


# Equivalent schemas in both libraries.

class PBook(BaseModel):
    title: str
    price: float = Field(gt=0)
    tags: list[str] = []


class PAuthor(BaseModel):
    name: str


class PNested(BaseModel):
    author: PAuthor
    books: list[PAuthor] = []


class PHeaders(BaseModel):
    x_api_key: str = Field(alias="X-API-Key")
    x_request_id: str | None = None
    accept_language: list[str] = []


class PCookies(BaseModel):
    theme: str = "light"
    session_id: str


class MBook(Schema):
    title = fields.Str(required=True)
    price = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False))
    tags = fields.List(fields.Str(), load_default=list)


class MAuthor(Schema):
    name = fields.Str(required=True)


class MNested(Schema):
    author = fields.Nested(MAuthor, required=True)
    books = fields.List(fields.Nested(MAuthor), load_default=list)


class MHeaders(Schema):
    x_api_key = fields.Str(required=True, data_key="X-API-Key")
    x_request_id = fields.Str(load_default=None)
    accept_language = fields.List(fields.Str(), load_default=list)


class MCookies(Schema):
    theme = fields.Str(load_default="light")
    session_id = fields.Str(required=True)


SCHEMAS = {
    "pydantic": {"book": PBook, "nested": PNested, "headers": PHeaders, "cookies": PCookies},
    "marshmallow": {"book": MBook, "nested": MNested, "headers": MHeaders, "cookies": MCookies},
}


@pytest.fixture(params=LIBRARIES)
def library(request):
    return request.param


@pytest.fixture
def lib(library):
    module = io(library)
    return SimpleNamespace(name=library, input=module.input, output=module.output,
                           expect=module.expect, webhook=module.webhook, **SCHEMAS[library])


# -- Media --------------------------------------------------------------------------------

def test_media_is_read_by_content_type(app, lib):
    @app.route("/books", methods=["POST"])
    @lib.input(lib.book)
    async def create(req, resp, *, data):
        resp.media = {"data": data, "type": type(data).__name__}

    expected = {"data": {"title": "Dune", "price": 9.5, "tags": ["sf"]}, "type": "ValidatedData"}
    client = app.client
    assert client.post("/books", json={"title": "Dune", "price": 9.5, "tags": ["sf"]}).json() == expected
    yaml = client.post("/books", content="title: Dune\nprice: 9.5\ntags: [sf]\n",
                       headers={"Content-Type": "application/x-yaml"})
    assert yaml.json() == expected
    packed = client.post("/books", content=msgpack.packb({"title": "Dune", "price": 9.5, "tags": ["sf"]}),
                         headers={"Content-Type": "application/x-msgpack"})
    assert packed.json() == expected
    form = client.post("/books", data={"title": "Dune", "price": "9.5", "tags": ["sf"]})
    assert form.json() == expected
    multipart = client.post("/books", data={"title": "Dune", "price": "9.5", "tags": ["sf"]},
                            files={"ignored": ("a.txt", b"x")})
    assert multipart.json() == expected  # an upload the schema does not declare is left out


def test_invalid_input_is_400_with_errors_per_field(app, lib):
    @app.route("/books", methods=["POST"])
    @lib.input(lib.book)
    async def create(req, resp, *, data):
        raise AssertionError("the view must not run")

    response = app.client.post("/books", json={"price": "free", "tags": "sf"})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"title", "price", "tags"}
    assert all(isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages)
               for messages in errors.values())


def test_nested_errors_use_dotted_paths(app, lib):
    @app.route("/nested", methods=["POST"])
    @lib.input(lib.nested)
    async def nested(req, resp, *, data):
        resp.media = {"author": data.author.name, "first": data["books"][0]["name"]}

    assert app.client.post("/nested", json={"author": {"name": "Ada"}, "books": [{"name": "B"}]}
                           ).json() == {"author": "Ada", "first": "B"}
    response = app.client.post("/nested", json={"author": {}, "books": [{"name": "ok"}, {"name": 3}]})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"author.name", "books.1.name"}


def test_a_body_that_is_not_an_object_is_a_schema_error(app, lib):
    @app.route("/books", methods=["POST"])
    @lib.input(lib.book)
    async def create(req, resp, *, data):
        raise AssertionError("the view must not run")

    response = app.client.post("/books", json=["not", "an", "object"])
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["_schema"]


@pytest.mark.parametrize("body, content_type, status", [
    (b'{"title": ', "application/json", 400),
    (b"\xff\xfe", "application/json", 400),
    (b"title: [unclosed", "application/x-yaml", 400),
    (b"\xc1", "application/x-msgpack", 400),
    (b"<book/>", "application/xml", 415),
    (b"--x\r\nbroken", "multipart/form-data; boundary=x", 400),
])
def test_malformed_bodies_are_4xx(app, lib, body, content_type, status):
    @app.route("/books", methods=["POST"])
    @lib.input(lib.book)
    async def create(req, resp, *, data):
        raise AssertionError("the view must not run")

    assert app.client.post("/books", content=body, headers={"Content-Type": content_type}
                           ).status_code == status


def test_the_decoded_body_stays_available_without_await(app, lib):
    @app.route("/books", methods=["POST"])
    @lib.input(lib.book)
    def create(req, resp, *, data):  # a sync view: runs in the thread pool
        resp.media = {"raw": req.media(), "validated": data}

    response = app.client.post("/books", json={"title": "Dune", "price": "9.5", "extra": 1}
                               if lib.name == "pydantic" else {"title": "Dune", "price": "9.5"})
    body = response.json()
    assert body["raw"]["price"] == "9.5"  # as sent
    assert body["validated"]["price"] == 9.5  # as validated


# -- Query, headers, cookies, form, files ------------------------------------------------------

def test_query_with_repeated_keys_fills_list_fields(app, lib):
    @app.route("/search")
    @lib.input(lib.book, location="query")
    async def search(req, resp, *, query):
        resp.media = query

    assert app.client.get("/search?title=a&title=b&price=2&tags=x&tags=y").json() == {
        "title": "b", "price": 2.0, "tags": ["x", "y"]}
    assert app.client.get("/search?title=a&price=2&tags=x").json()["tags"] == ["x"]
    assert app.client.get("/search?title=a&price=0").status_code == 400


def test_unknown_query_parameters_are_ignored(app, lib):
    @app.route("/search")
    @lib.input(lib.book, location="query")
    async def search(req, resp, *, query):
        resp.media = query

    assert app.client.get("/search?title=a&price=1&page=3").json() == {
        "title": "a", "price": 1.0, "tags": []}


def test_headers_are_case_insensitive_and_underscores_match_hyphens(app, lib):
    @app.route("/secure")
    @lib.input(lib.headers, location="header")
    async def secure(req, resp, *, header):
        resp.media = header

    response = app.client.get("/secure", headers=[("x-api-key", "k1"), ("X-Request-ID", "r-7"),
                                                  ("Accept-Language", "en"), ("accept-language", "fr")])
    assert response.json() == {"x_api_key": "k1", "x_request_id": "r-7", "accept_language": ["en", "fr"]}
    missing = app.client.get("/secure")
    assert missing.status_code == 400
    assert missing.json() == {"errors": {"X-API-Key": [
        "Field required" if lib.name == "pydantic" else "Missing data for required field."]}}


def test_cookies(app, lib):
    @app.route("/prefs")
    @lib.input(lib.cookies, location="cookies")
    async def prefs(req, resp, *, cookies):
        resp.media = cookies

    response = app.client.get("/prefs", headers={"Cookie": "session_id=abc; tracking=1"})
    assert response.json() == {"theme": "light", "session_id": "abc"}
    assert app.client.get("/prefs", headers={"Cookie": "theme=dark"}).status_code == 400


def test_cookie_location_injects_cookie(app, lib):
    @app.route("/prefs")
    @lib.input(lib.cookies, location="cookie")
    async def prefs(req, resp, *, cookie):
        resp.media = cookie

    assert app.client.get("/prefs", headers={"Cookie": "session_id=s; theme=dark"}).json() == {
        "theme": "dark", "session_id": "s"}
    spec = get_endpoint_spec(prefs)
    assert spec.meta["io.inputs"][0]["location"] == "cookies"


def test_form_and_files_locations(app, library):
    FileField = importlib.import_module(f"dyne.ext.io.{library}.fields").FileField
    module = io(library)
    if library == "pydantic":
        class Attachment(FileField):
            allowed_extensions = {"txt"}

        class Form(BaseModel):
            title: str

        class Files(BaseModel):
            attachments: list[Attachment]
    else:
        class Form(Schema):
            title = fields.Str(required=True)

        class Files(Schema):
            attachments = fields.List(FileField(allowed_extensions=["txt"]), required=True)

    @app.route("/post", methods=["POST"])
    @module.input(Form, location="form")
    @module.input(Files, location="files")
    async def post(req, resp, *, data, files):
        resp.media = {"title": data.title,
                      "files": [(f.filename, f.content.decode()) for f in files.attachments]}

    response = app.client.post("/post", data={"title": "T"}, files=[
        ("attachments", ("a.txt", b"one", "text/plain")), ("attachments", ("b.txt", b"two", "text/plain"))])
    assert response.json() == {"title": "T", "files": [["a.txt", "one"], ["b.txt", "two"]]}
    refused = app.client.post("/post", data={"title": "T"}, files=[
        ("attachments", ("a.txt", b"one")), ("attachments", ("b.exe", b"MZ"))])
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["attachments.1"]
    assert [item["key"] for item in get_endpoint_spec(post).meta["io.inputs"]] == ["data", "files"]


def test_an_empty_browser_file_input_counts_as_missing(app, library):
    """Browsers send a part with filename="" and no content when no file was chosen."""
    FileField = importlib.import_module(f"dyne.ext.io.{library}.fields").FileField
    if library == "pydantic":
        class Form(BaseModel):
            avatar: FileField | None = None
    else:
        class Form(Schema):
            avatar = FileField(load_default=None)

    @app.route("/profile", methods=["POST"])
    @io(library).input(Form, location="form")
    async def profile(req, resp, *, data):
        resp.media = {"avatar": data["avatar"]}

    body = (b'--b\r\nContent-Disposition: form-data; name="avatar"; filename=""\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n\r\n--b--\r\n")
    response = app.client.post("/profile", content=body,
                               headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert response.json() == {"avatar": None}


def test_a_form_field_sent_as_text_is_not_a_file(app, library):
    FileField = importlib.import_module(f"dyne.ext.io.{library}.fields").FileField
    if library == "pydantic":
        class Form(BaseModel):
            document: FileField
    else:
        class Form(Schema):
            document = FileField(required=True)

    @app.route("/doc", methods=["POST"])
    @io(library).input(Form, location="form")
    async def doc(req, resp, *, data):
        raise AssertionError("the view must not run")

    response = app.client.post("/doc", data={"document": "/etc/passwd"})
    assert response.json() == {"errors": {"document": ["Expected a file upload."]}}


# -- Injection ------------------------------------------------------------------------------

def test_stacked_inputs_and_custom_keys(app, lib):
    @app.route("/items/{id:int}", methods=["PUT"])
    @lib.input(lib.book, key="book")
    @lib.input(lib.headers, location="headers", key="auth")
    @lib.input(lib.cookies, location="cookies")
    async def update(req, resp, *, id, book, auth, cookies):
        resp.media = {"id": id, "title": book.title, "key": auth.x_api_key, "session": cookies.session_id}

    response = app.client.put("/items/7", json={"title": "T", "price": 1},
                              headers={"X-API-Key": "k", "Cookie": "session_id=s"})
    assert response.json() == {"id": 7, "title": "T", "key": "k", "session": "s"}
    meta = get_endpoint_spec(update).meta["io.inputs"]
    assert [(m["location"], m["key"], m["library"]) for m in meta] == [
        ("media", "book", lib.name), ("headers", "auth", lib.name), ("cookies", "cookies", lib.name)]
    assert meta[0]["schema"] is lib.book


def test_validated_data_is_a_dict_with_attribute_access():
    data = ValidatedData({"title": "Dune", "author": {"name": "Frank"}, "items": [1]})
    assert isinstance(data, dict) and data == {"title": "Dune", "author": {"name": "Frank"}, "items": [1]}
    assert data.title == "Dune" and data.author.name == "Frank"
    assert data["items"] == [1]  # `data.items` is the dict method
    data.year = 1965
    assert data["year"] == 1965
    del data.year
    assert "year" not in data
    with pytest.raises(AttributeError, match=r"No field 'missing'.*title, author, items"):
        data.missing  # noqa: B018
    with pytest.raises(AttributeError):
        del data.missing
    assert data.pop("title") == "Dune"
    import orjson

    assert orjson.loads(orjson.dumps(data)) == {"author": {"name": "Frank"}, "items": [1]}


def test_class_based_view_handlers_can_be_decorated(app, lib):
    @app.route("/books")
    class Books:
        @lib.output(lib.book, status_code=201)
        @lib.input(lib.book)
        async def on_post(self, req, resp, *, data):
            resp.obj = data

        def on_get(self, req, resp):
            resp.media = []

    assert app.client.post("/books", json={"title": "T", "price": 2}).status_code == 201
    assert app.client.post("/books", json={}).status_code == 400
    assert app.client.get("/books").json() == []


def test_schema_of_the_other_library_is_handled_by_its_own(app):
    from dyne.ext.io.marshmallow import input as marshmallow_input
    from dyne.ext.io.pydantic import input as pydantic_input

    @app.route("/a", methods=["POST"])
    @marshmallow_input(PBook)
    @pydantic_input(MAuthor, location="query")
    async def mixed(req, resp, *, data, query):
        resp.media = {"price": data.price, "name": query.name}

    assert app.client.post("/a?name=Ada", json={"title": "T", "price": "2"}).json() == {
        "price": 2.0, "name": "Ada"}
    assert [m["library"] for m in get_endpoint_spec(mixed).meta["io.inputs"]] == [
        "pydantic", "marshmallow"]


def test_marshmallow_post_load_objects_are_injected_as_they_are(app):
    from marshmallow import post_load

    from dyne.ext.io.marshmallow import input

    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

    class PointSchema(Schema):
        x = fields.Int()
        y = fields.Int()

        @post_load
        def make(self, data, **kwargs):
            return Point(**data)

    @app.route("/p", methods=["POST"])
    @input(PointSchema)
    async def point(req, resp, *, data):
        resp.media = {"type": type(data).__name__, "sum": data.x + data.y}

    assert app.client.post("/p", json={"x": 1, "y": 2}).json() == {"type": "Point", "sum": 3}


# -- Misuse is caught at decoration ------------------------------------------------------------

def test_unknown_location(lib):
    with pytest.raises(ValueError, match="Unknown input location 'body'; use one of 'media', 'query'"):
        lib.input(lib.book, location="body")


def test_key_must_be_an_identifier(lib):
    with pytest.raises(ValueError, match="valid Python identifier"):
        lib.input(lib.book, key="not valid")


def test_view_must_accept_the_injected_keyword(lib):
    with pytest.raises(TypeError, match=r"View .*create does not accept the keyword argument 'data'.*"
                                        r"def create\(req, resp, \*, data\)"):
        @lib.input(lib.book)
        async def create(req, resp):
            pass

    @lib.input(lib.book)
    async def accepts_anything(req, resp, **kwargs):
        pass


def test_two_inputs_cannot_inject_the_same_key(lib):
    with pytest.raises(ValueError, match="inject 'data'"):
        @lib.input(lib.book)
        @lib.input(lib.nested)
        async def create(req, resp, *, data):
            pass


def test_decorating_a_class_is_refused(lib):
    with pytest.raises(TypeError, match="on_<method> handlers of class-based views, not the class Books"):
        @lib.input(lib.book)
        class Books:
            pass


def test_non_schemas_are_refused(lib):
    with pytest.raises(TypeError, match="is not a schema dyne can use"):
        lib.input(object())
    with pytest.raises(TypeError, match="is not a schema dyne can use"):
        lib.output(42)


def test_output_and_expect_arguments_are_checked(lib):
    with pytest.raises(ValueError, match="HTTP status code"):
        lib.output(lib.book, status_code=700)
    with pytest.raises(TypeError, match="description must be a string"):
        lib.output(lib.book, description=3)
    with pytest.raises(TypeError, match="non-empty dict"):
        lib.expect({})
    with pytest.raises(ValueError, match="HTTP status code"):
        lib.expect({99: "no"})
    with pytest.raises(TypeError, match=r"must be \(schema, description\)"):
        lib.expect({400: (lib.book, "a", "b")})

    with pytest.raises(ValueError, match="already has an @output"):
        @lib.output(lib.book)
        @lib.output(lib.book)
        async def view(req, resp):
            pass


# -- @output ------------------------------------------------------------------------------------

class Row:
    """An ORM-like row: attributes, including one the schema does not list."""

    def __init__(self, title, price, secret="hidden"):
        self.title, self.price, self.secret = title, price, secret


def test_output_serializes_objects_dicts_and_collections(app, lib):
    sources = {
        "object": lambda: Row("A", 1),
        "dict": lambda: {"title": "A", "price": 1, "secret": "x"},
        "list": lambda: [Row("A", 1), {"title": "B", "price": 2}],
        "tuple": lambda: (Row("A", 1),),
        "generator": lambda: (Row(t, 1) for t in "AB"),
        "empty": list,
    }

    @app.route("/out/{kind}")
    @lib.output(lib.book)
    async def out(req, resp, *, kind):
        resp.obj = sources[kind]()

    one = {"title": "A", "price": 1.0, "tags": []} if lib.name == "pydantic" else {"title": "A", "price": 1.0}
    assert app.client.get("/out/object").json() == one
    assert app.client.get("/out/dict").json() == one
    assert app.client.get("/out/list").json() == [one, {**one, "title": "B", "price": 2.0}]
    assert app.client.get("/out/tuple").json() == [one]
    assert [b["title"] for b in app.client.get("/out/generator").json()] == ["A", "B"]
    assert app.client.get("/out/empty").json() == []
    yaml = app.client.get("/out/object", headers={"Accept": "application/x-yaml"})
    assert yaml.headers["content-type"].startswith("application/x-yaml") and "title: A" in yaml.text


def test_named_tuples_and_rows_are_one_object(app, lib):
    BookRow = namedtuple("BookRow", "title price")

    @app.route("/row")
    @lib.output(lib.book)
    async def row(req, resp):
        resp.obj = BookRow("A", 1)

    assert app.client.get("/row").json()["title"] == "A"
    assert not is_collection(BookRow("A", 1)) and not is_collection({"a": 1}) and not is_collection("ab")
    assert is_collection({1}) and is_collection(iter([]))


def test_output_status_code_unless_the_view_chose_one(app, lib):
    @app.route("/created", methods=["POST"])
    @lib.output(lib.book, status_code=201, description="Created")
    async def created(req, resp):
        resp.obj = Row("A", 1)

    @app.route("/accepted", methods=["POST"])
    @lib.output(lib.book, status_code=201)
    async def accepted(req, resp):
        resp.obj = Row("A", 1)
        resp.status_code = 202

    assert app.client.post("/created").status_code == 201
    assert app.client.post("/accepted").status_code == 202
    assert get_endpoint_spec(created).meta["io.output"] == {
        "schema": lib.book, "status_code": 201, "header": None, "description": "Created",
        "library": lib.name, "header_library": None}


def test_output_leaves_a_response_without_obj_alone(app, lib):
    @app.route("/nothing")
    @lib.output(lib.book)
    async def nothing(req, resp):
        pass

    @app.route("/manual")
    @lib.output(lib.book, status_code=201)
    async def manual(req, resp):
        resp.media = {"anything": True}

    @app.route("/error")
    @lib.output(lib.book)
    async def error(req, resp):
        resp.status_code = 404
        resp.media = {"error": "not found"}

    assert (app.client.get("/nothing").status_code, app.client.get("/nothing").content) == (204, b"")
    manual_response = app.client.get("/manual")
    assert (manual_response.status_code, manual_response.json()) == (200, {"anything": True})
    assert app.client.get("/error").status_code == 404


def test_objects_that_do_not_fit_the_schema_are_a_500(app, lib):
    @app.route("/bad")
    @lib.output(lib.book if lib.name == "pydantic" else lib.book(many=True))
    async def bad(req, resp):
        resp.obj = SimpleNamespace(price="not a number")

    response = app.client.get("/bad")
    assert (response.status_code, response.text) == (500, "500 Internal Server Error")
    debug_app = dyne.App(debug=True)
    debug_app.route("/bad")(bad)
    with pytest.raises(SerializationError):
        debug_app.client.get("/bad")


def test_a_returned_body_is_kept_when_resp_obj_is_not_set(app, lib):
    @app.route("/returned")
    @lib.output(lib.book, status_code=201)
    async def returned(req, resp):
        return {"raw": True}

    response = app.client.get("/returned")
    assert (response.status_code, response.json()) == (200, {"raw": True})


def test_output_header_schema_is_checked(app, library):
    module = io(library)
    if library == "pydantic":
        class Pagination(BaseModel):
            model_config = ConfigDict(populate_by_name=True)
            x_total_count: int = Field(alias="X-Total-Count")
    else:
        class Pagination(Schema):
            x_total_count = fields.Int(required=True, data_key="X-Total-Count")

    @app.route("/list")
    @module.output(SCHEMAS[library]["book"], header=Pagination)
    async def listing(req, resp):
        resp.obj = []
        resp.headers["X-Total-Count"] = req.params.get("total", "0")

    assert app.client.get("/list?total=3").headers["x-total-count"] == "3"
    assert app.client.get("/list?total=many").status_code == 500
    meta = get_endpoint_spec(listing).meta["io.output"]
    assert (meta["header"], meta["header_library"]) == (Pagination, library)


# -- @expect and @webhook --------------------------------------------------------------------

def test_expect_forms_and_merging(lib):
    @lib.expect({"404": "Gone", "4XX": (lib.book, None), "default": lib.nested})
    @lib.expect({401: "Unauthorized", 404: "Missing"})
    async def view(req, resp):
        pass

    assert get_endpoint_spec(view).meta["io.expect"] == {
        401: {"schema": None, "description": "Unauthorized", "library": lib.name},
        404: {"schema": None, "description": "Gone", "library": lib.name},
        "4XX": {"schema": lib.book, "description": None, "library": lib.name},
        "default": {"schema": lib.nested, "description": None, "library": lib.name},
    }


def test_webhook_forms(lib):
    @lib.webhook()
    async def unnamed(req, resp):
        pass

    assert get_endpoint_spec(unnamed).meta["webhook"] == {"name": "unnamed"}
    with pytest.raises(ValueError, match="non-empty string"):
        lib.webhook(name="  ")
    with pytest.raises(TypeError, match="name is passed as name="):
        lib.webhook("events")


def test_expect_and_webhook_change_nothing_at_runtime(app, lib):
    @app.route("/hook", methods=["POST"])
    @lib.webhook(name="hook")
    @lib.expect({409: "Conflict"})
    async def hook(req, resp):
        resp.media = {"ok": True}

    assert app.client.post("/hook").json() == {"ok": True}
    spec = get_endpoint_spec(hook)
    assert spec.steps == [] and spec.after == []


def test_flatten_errors():
    assert flatten_errors({"a": ["x"], "b": {"c": ["y"], 0: {"d": ["z"]}}, "_schema": ["w"]}) == {
        "a": ["x"], "b.c": ["y"], "b.0.d": ["z"], "_schema": ["w"]}
    assert flatten_errors(["whole"]) == {"_schema": ["whole"]}
    assert flatten_errors("msg") == {"_schema": ["msg"]}
