"""What the document says about routes: paths, methods, parameters, bodies,
responses, docstrings, operation ids, tags, webhooks, skipped routes."""

from __future__ import annotations

import enum
import uuid

import pytest
from marshmallow import Schema, fields
from pydantic import BaseModel, Field

import dyne
from dyne.ext.io.marshmallow import input as m_input
from dyne.ext.io.marshmallow import output as m_output
from dyne.ext.io.pydantic import expect, input, output, webhook
from dyne.ext.openapi import OpenAPI, doc, split_docstring

from .conftest import component, operation, served


@pytest.fixture
def app():
    app = dyne.App()
    app.extensions["test.api"] = OpenAPI(app, title="Test")
    return app


def document_of(app, version="3.0.3"):
    app.extensions["test.api"].openapi = version
    return served(app)


class Shelf(enum.Enum):
    top = "top"
    bottom = "bottom"


class Book(BaseModel):
    title: str
    price: float = Field(gt=0, description="In euros")


# -- paths and methods --------------------------------------------------------------------------

def test_typed_path_parameters(app, version):
    @app.route("/a/{id:int}/{ratio:float}/{key:uuid}/{name}/{rest:path}", methods=["GET"])
    async def view(req, resp, *, id, ratio, key, name, rest):
        pass

    document = document_of(app, version)
    get = operation(document, "/a/{id}/{ratio}/{key}/{name}/{rest}", "get")
    assert [(p["name"], p["in"], p["required"]) for p in get["parameters"]] == [
        ("id", "path", True), ("ratio", "path", True), ("key", "path", True),
        ("name", "path", True), ("rest", "path", True)]
    schemas = [p["schema"] for p in get["parameters"]]
    assert schemas == [
        {"type": "integer", "format": "int64", "minimum": 0, "maximum": 9223372036854775807},
        {"type": "number", "minimum": 0},
        {"type": "string", "format": "uuid"},
        {"type": "string", "minLength": 1},
        {"type": "string"},
    ]
    assert get["responses"]["404"] == {"description": "Not Found", "content": {
        "text/plain": {"schema": {"type": "string"}}}}
    # The documented URL works.
    assert app.client.get(f"/a/3/0.5/{uuid.uuid4()}/x/y/z").status_code == 200


def test_a_path_parameter_the_signature_validates_is_documented_as_validated(app, version):
    from dyne.injection import Path

    @app.route("/items/{item_id}", methods=["GET"])
    async def item(req, resp, *, item_id: int):
        resp.media = {"id": item_id}

    @app.route("/pages/{number}/{shelf}/{code}", methods=["GET"])
    async def page(req, resp, *, number: int = Path(ge=1, description="From 1"), shelf: Shelf,
                   code: str = Path(max_length=4)):
        resp.media = {"number": number}

    @app.route("/books/{id:int}/{key:uuid}", methods=["GET"])
    async def book(req, resp, *, id: int = Path(gt=0, le=1000), key: str):
        resp.media = {"id": id}

    document = document_of(app, version)
    item_get = operation(document, "/items/{item_id}", "get")
    assert item_get["parameters"] == [
        {"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    # What is documented is what the view validates: a non-integer is a 400, not a 404.
    assert "400" in item_get["responses"]
    assert app.client.get("/items/abc").status_code == 400
    assert app.client.get("/items/-3").json() == {"id": -3}

    number, shelf, code = operation(document, "/pages/{number}/{shelf}/{code}", "get")["parameters"]
    assert number == {"name": "number", "in": "path", "required": True, "description": "From 1",
                      "schema": {"type": "integer", "minimum": 1}}
    assert component(document, shelf["schema"]) == {"enum": ["top", "bottom"], "title": "Shelf",
                                                     "type": "string"}
    assert code["schema"] == {"type": "string", "minLength": 1, "maxLength": 4}
    assert app.client.get("/pages/0/top/ab").status_code == 400
    assert app.client.get("/pages/1/middle/ab").status_code == 400
    assert app.client.get("/pages/1/top/abcde").status_code == 400
    assert app.client.get("/pages/1/top/abcd").status_code == 200

    # A typed convertor decides, narrowed by the annotation's constraints of its type.
    book_id, key = operation(document, "/books/{id}/{key}", "get")["parameters"]
    bounds = ({"exclusiveMinimum": 0} if version == "3.1.0"
              else {"minimum": 0, "exclusiveMinimum": True})
    assert book_id["schema"] == {"type": "integer", "format": "int64", "maximum": 1000, **bounds}
    assert key["schema"] == {"type": "string", "format": "uuid"}  # the convertor's UUID
    assert app.client.get("/books/0/" + str(uuid.uuid4())).status_code == 400
    assert app.client.get("/books/1001/" + str(uuid.uuid4())).status_code == 400
    assert app.client.get("/books/7/" + str(uuid.uuid4())).json() == {"id": 7}
    assert "400" in operation(document, "/books/{id}/{key}", "get")["responses"]


def test_a_400_is_documented_only_when_the_path_validation_can_refuse(app):
    from dyne import Path

    @app.route("/same/{id:int}", methods=["GET"])
    async def same(req, resp, *, id: int = Path(description="The id")):
        resp.media = {"id": id}

    @app.route("/other/{ratio:float}", methods=["GET"])
    async def other(req, resp, *, ratio: int):
        resp.media = {"ratio": ratio}

    @app.route("/any/{name}", methods=["GET"])
    async def any_name(req, resp, *, name=Path()):
        resp.media = {"name": name}

    document = document_of(app)
    same_get = operation(document, "/same/{id}", "get")
    # The convertor already gives an integer: validation cannot refuse what matched.
    assert same_get["parameters"][0]["description"] == "The id"
    assert same_get["parameters"][0]["schema"]["type"] == "integer"
    assert "400" not in same_get["responses"]
    # A float that is not an integer matches the route, then is refused.
    other_get = operation(document, "/other/{ratio}", "get")
    assert other_get["parameters"][0]["schema"] == {"type": "number", "minimum": 0}
    assert "400" in other_get["responses"]
    assert app.client.get("/other/2.5").status_code == 400
    assert app.client.get("/other/2.0").json() == {"ratio": 2}
    any_get = operation(document, "/any/{name}", "get")
    assert any_get["parameters"][0]["schema"] == {"type": "string", "minLength": 1}
    assert "400" not in any_get["responses"]


def test_a_class_based_views_typed_path_parameter_is_documented(app):
    @app.route("/orders/{order_id}")
    class Orders:
        async def on_get(self, req, resp, *, order_id: int):
            resp.media = {"id": order_id}

    parameter = operation(document_of(app), "/orders/{order_id}", "get")["parameters"][0]
    assert parameter["schema"] == {"type": "integer"}
    assert app.client.get("/orders/x").status_code == 400


def test_custom_convertor_is_a_string_with_its_pattern(app):
    from dyne.routing import Convertor

    class Slug(Convertor):
        regex = "[a-z0-9-]+"

    app.register_convertor("slug", Slug())

    @app.get("/posts/{slug:slug}")
    async def post(req, resp, *, slug):
        pass

    parameter = operation(document_of(app), "/posts/{slug}", "get")["parameters"][0]
    assert parameter["schema"] == {"type": "string", "pattern": "^(?:[a-z0-9-]+)$"}


def test_methods_declared_and_defaults(app):
    @app.route("/items", methods=["GET", "POST"])
    async def items(req, resp):
        pass

    @app.route("/plain")
    async def plain(req, resp):
        pass

    @app.route("/upload")
    @input(Book)
    async def upload(req, resp, *, data):
        pass

    @app.route("/head", methods=["HEAD"])
    async def head_only(req, resp):
        pass

    paths = document_of(app)["paths"]
    assert list(paths["/items"]) == ["get", "post"]
    # One view, two methods: the operation ids name the method.
    assert [paths["/items"][m]["operationId"] for m in ("get", "post")] == ["items_get", "items_post"]
    # A route without methods= answers GET only, and is documented so, even
    # when it declares a body (a client would get a 405 for POST).
    assert list(paths["/plain"]) == ["get"]
    assert list(paths["/upload"]) == ["get"]
    assert list(paths["/head"]) == ["head"]


def test_default_get_route_next_to_an_explicit_post(app):
    @app.route("/notes")
    async def list_notes(req, resp):
        pass

    @app.route("/notes", methods=["POST"])
    @input(Book)
    async def create_note(req, resp, *, data):
        pass

    paths = document_of(app)["paths"]
    assert {m: op["operationId"] for m, op in paths["/notes"].items()} == {
        "get": "list_notes", "post": "create_note"}
    assert app.client.delete("/notes").status_code == 405


def test_class_based_views_one_operation_per_handler(app):
    @app.route("/books/{id:int}")
    class BookView:
        """Books by id"""

        @output(Book)
        def on_get(self, req, resp, *, id):
            """Read a book"""

        @input(Book)
        @output(Book)
        async def on_put(self, req, resp, *, id, data):
            pass

        def on_delete(self, req, resp, *, id):
            pass

    item = document_of(app)["paths"]["/books/{id}"]
    assert list(item) == ["get", "put", "delete"]
    assert item["get"]["summary"] == "Read a book"
    assert item["put"]["summary"] == "Put Bookview"
    assert [item[m]["operationId"] for m in item] == ["BookView_get", "BookView_put", "BookView_delete"]
    assert "requestBody" in item["put"] and "requestBody" not in item["get"]
    assert item["delete"]["responses"]["200"] == {"description": "Successful response"}


def test_view_object_and_on_request_only(app):
    class Counter:
        def on_get(self, req, resp):
            pass

        def on_post(self, req, resp):
            pass

    class Catch:
        def on_request(self, req, resp):
            pass

    app.add_route("/counter", Counter(), methods=["GET"])
    app.add_route("/catch", Catch)
    paths = document_of(app)["paths"]
    assert list(paths["/counter"]) == ["get"]  # methods= limits the handlers documented
    assert list(paths["/catch"]) == ["get"]


def test_skipped_routes(app, tmp_path):
    import strawberry

    from dyne.ext.graphql import GraphQLView
    from dyne.ext.graphql.strawberry import Schema as GraphQLSchema

    @strawberry.type
    class Query:
        hello: str = "hi"

    app.add_route("/graphql", GraphQLView(app=app, schema=GraphQLSchema(query=Query)))

    @app.route("/ws", websocket=True)
    async def ws(ws):
        pass

    @app.route("/secret")
    @doc(hidden=True)
    async def secret(req, resp):
        pass

    @app.route("/public")
    async def public(req, resp):
        pass

    @app.route("/internal", include_in_schema=False)
    async def internal(req, resp):
        resp.text = "still served"

    class Probe:
        include_in_schema = False

        async def on_get(self, req, resp):
            pass

    app.add_route("/probe", Probe)

    # Static files, the single-page-app index and mounted apps are not API operations.
    (tmp_path / "index.html").write_text("<p>app</p>")
    app.static_dir = tmp_path
    app.add_route("/spa", static=True)

    async def legacy(scope, receive, send):
        pass

    app.mount("/legacy", legacy)
    assert list(document_of(app)["paths"]) == ["/public"]
    assert app.client.get("/internal").text == "still served"
    flags = {r.path: r.include_in_schema for r in app.routes}
    assert flags["/public"] and flags["/ws"]
    assert not any(flags[path] for path in ("/internal", "/probe", "/spa", "/graphql", "/docs"))


def test_paths_that_differ_only_in_parameter_names(app, caplog):
    @app.get("/users/{id:int}")
    async def by_id(req, resp, *, id):
        pass

    @app.get("/users/{name}")
    async def by_name(req, resp, *, name):
        pass

    paths = document_of(app)["paths"]
    assert list(paths) == ["/users/{id}"]
    assert "is the same path as /users/{id}" in caplog.text


# -- docstrings, ids, tags -------------------------------------------------------------------------

@pytest.mark.parametrize(("docstring", "expected"), [
    (None, (None, None)),
    ("Create a book", ("Create a book", None)),
    ("""
        Create a new Book
        ---
        This endpoint allows admins to upload a book cover.
        """, ("Create a new Book", "This endpoint allows admins to upload a book cover.")),
    ("Summary\n\nMore words\nover lines.", ("Summary", "More words\nover lines.")),
    ("Summary\nBefore\n---\nAfter", ("Summary", "Before\n\nAfter")),
])
def test_docstrings(docstring, expected):
    assert split_docstring(docstring) == expected


def test_doc_decorator_and_group_tags(app):
    books = app.group("/v1/books", name="books")

    @books.route("/", methods=["GET"])
    async def index(req, resp):
        """List the books"""

    @app.route("/legacy", methods=["GET"])
    @doc(summary="Old listing", description="Use /v1/books.", tags=["legacy"], deprecated=True,
         operation_id="legacyList")
    async def legacy(req, resp):
        """Ignored summary"""

    api = app.extensions["test.api"]
    api.tags = [{"name": "legacy", "description": "To be removed"}]
    document = document_of(app)
    listing = operation(document, "/v1/books", "get")
    assert listing["tags"] == ["books"]
    assert listing["operationId"] == "books.index"
    old = operation(document, "/legacy", "get")
    assert (old["summary"], old["description"], old["tags"], old["deprecated"], old["operationId"]) == (
        "Old listing", "Use /v1/books.", ["legacy"], True, "legacyList")
    assert document["tags"] == [{"name": "legacy", "description": "To be removed"}, {"name": "books"}]


def test_operation_ids_are_unique(app):
    def make(path):
        async def view(req, resp):
            pass
        return view

    for path in ("/a", "/b", "/c"):
        app.add_route(path, make(path), methods=["GET"])

    @app.get("/d")
    @doc(operation_id="view_2")
    async def d(req, resp):
        pass

    ids = [op["operationId"] for item in document_of(app)["paths"].values() for op in item.values()]
    assert ids == ["view", "view_3", "view_4", "view_2"]


def test_explicit_duplicate_operation_id_is_an_error(app):
    @app.get("/a")
    @doc(operation_id="same")
    async def a(req, resp):
        pass

    @app.get("/b")
    @doc(operation_id="same")
    async def b(req, resp):
        pass

    with pytest.raises(ValueError, match="operation_id 'same' of GET /b is already used by GET /a"):
        app.extensions["test.api"].to_dict()


def test_doc_misuse():
    with pytest.raises(TypeError, match="list of tag names"):
        doc(tags="books")
    with pytest.raises(ValueError, match="non-empty string"):
        doc(operation_id="")
    with pytest.raises(TypeError, match="must decorate a view"):
        doc(summary="x")(42)


# -- parameters ---------------------------------------------------------------------------------

class Page(BaseModel):
    page: int = Field(1, ge=1, description="Page number")
    tag: list[str] = []


class ApiKey(BaseModel):
    x_api_key: str = Field(alias="X-API-Key")
    x_request_id: str | None = None


class Prefs(BaseModel):
    theme: str = "light"


def test_query_header_cookie_parameters(app, version):
    @app.route("/search", methods=["GET"])
    @input(ApiKey, location="headers")
    @input(Page, location="query", key="params")
    @input(Prefs, location="cookies")
    async def search(req, resp, *, headers, params, cookies):
        pass

    parameters = operation(document_of(app, version), "/search", "get")["parameters"]
    by_name = {(p["in"], p["name"]): p for p in parameters}
    assert list(by_name) == [("header", "X-API-Key"), ("header", "x-request-id"),
                             ("query", "page"), ("query", "tag"), ("cookie", "theme")]
    assert by_name["header", "X-API-Key"]["required"] is True
    assert by_name["query", "page"]["description"] == "Page number"
    assert by_name["query", "page"]["required"] is False
    assert by_name["query", "page"]["schema"]["minimum"] == 1
    assert by_name["query", "tag"]["schema"]["type"] == "array"
    nullable = by_name["header", "x-request-id"]["schema"]
    if version == "3.0.3":
        assert nullable["type"] == "string" and nullable["nullable"] is True
    else:
        assert {"type": "null"} in nullable["anyOf"]
    # The documented names are the ones dyne reads.
    response = app.client.get("/search?page=2&tag=a", headers={
        "X-API-Key": "k", "x-request-id": "r", "Cookie": "theme=dark"})
    assert response.status_code == 200


def test_marshmallow_parameters(app):
    class Query(Schema):
        page = fields.Int(load_default=1, metadata={"description": "Page"})
        tags = fields.List(fields.Str())
        secret = fields.Str(dump_only=True)

    @app.route("/list", methods=["GET"])
    @m_input(Query, location="query")
    async def listing(req, resp, *, query):
        pass

    parameters = operation(document_of(app), "/list", "get")["parameters"]
    assert [(p["name"], p["required"]) for p in parameters] == [("page", False), ("tags", False)]
    assert parameters[0]["description"] == "Page"
    assert parameters[1]["schema"] == {"type": "array", "items": {"type": "string"}}


# -- request bodies ----------------------------------------------------------------------------

class Author(BaseModel):
    name: str


class Article(BaseModel):
    title: str
    author: Author


def test_body_content_types(app):
    @app.route("/flat", methods=["POST"])
    @input(Book)
    async def flat(req, resp, *, data):
        pass

    @app.route("/nested", methods=["POST"])
    @input(Article)
    async def nested(req, resp, *, data):
        pass

    @app.route("/form", methods=["POST"])
    @input(Book, location="form")
    async def form(req, resp, *, data):
        pass

    document = document_of(app)
    flat_body = operation(document, "/flat", "post")["requestBody"]
    assert flat_body["required"] is True
    assert list(flat_body["content"]) == ["application/json", "application/x-yaml",
                                          "application/x-www-form-urlencoded", "multipart/form-data"]
    # A nested object cannot travel in a form.
    assert list(operation(document, "/nested", "post")["requestBody"]["content"]) == [
        "application/json", "application/x-yaml"]
    assert list(operation(document, "/form", "post")["requestBody"]["content"]) == [
        "application/x-www-form-urlencoded", "multipart/form-data"]
    # Each content type dyne documents is one it decodes.
    for media, payload in (("application/x-yaml", "title: Dune\nprice: 3\n"),):
        assert app.client.post("/flat", content=payload, headers={"Content-Type": media}).status_code == 200
    assert app.client.post("/flat", data={"title": "Dune", "price": "3"}).status_code == 200


def test_uploads_are_multipart_with_binary_parts(app, version):
    from dyne.ext.io.marshmallow.fields import FileField as MFileField
    from dyne.ext.io.pydantic.fields import FileField

    class Picture(FileField):
        allowed_extensions = {"png"}

    class Gallery(BaseModel):
        pictures: list[Picture]
        caption: str = ""

    class Report(Schema):
        title = fields.Str(required=True)
        report = MFileField(required=True)

    @app.route("/gallery", methods=["POST"])
    @input(Gallery, location="files")
    async def gallery(req, resp, *, files):
        pass

    @app.route("/reports", methods=["POST"])
    @m_input(Report, location="form")
    async def reports(req, resp, *, data):
        pass

    @app.route("/media-upload", methods=["POST"])
    @m_input(Report)
    async def media_upload(req, resp, *, data):
        pass

    document = document_of(app, version)
    body = operation(document, "/gallery", "post")["requestBody"]
    assert list(body["content"]) == ["multipart/form-data"]
    assert component(document, body["content"]["multipart/form-data"]["schema"]
                     )["properties"]["pictures"]["items"] == {"type": "string", "format": "binary"}
    for path in ("/reports", "/media-upload"):
        body = operation(document, path, "post")["requestBody"]
        assert list(body["content"]) == ["multipart/form-data"]
        report = component(document, body["content"]["multipart/form-data"]["schema"])
        assert report["properties"]["report"] == {"type": "string", "format": "binary"}
        assert sorted(report["required"]) == ["report", "title"]


def test_request_model_and_response_model(app, version):
    class ItemIn(BaseModel):
        name: str

    class ItemOut(BaseModel):
        id: int
        name: str

    @app.route("/items", methods=["GET", "POST"], request_model=ItemIn, response_model=ItemOut)
    async def items(req, resp):
        resp.media = {"id": 1, "name": "x"}

    document = document_of(app, version)
    post = operation(document, "/items", "post")
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ItemIn"}
    assert post["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ItemOut"}
    error = component(document, post["responses"]["422"]["content"]["application/json"]["schema"])
    assert error["required"] == ["detail"]
    # GET requests are not validated: no body, no 422.
    get = operation(document, "/items", "get")
    assert "requestBody" not in get and "422" not in get["responses"]
    # What dyne answers matches the documented shape.
    invalid = app.client.post("/items", json={})
    assert invalid.status_code == 422 and set(invalid.json()) == {"detail"}


# -- responses --------------------------------------------------------------------------------

def test_output_variants(app):
    class Headers(BaseModel):
        x_total: int = Field(description="How many")

    class Row(Schema):
        id = fields.Int()

    @app.route("/one", methods=["GET"])
    @output(Book, description="The book", header=Headers)
    async def one(req, resp):
        pass

    @app.route("/many", methods=["GET"])
    @output(list[Book])
    async def many(req, resp):
        pass

    @app.route("/rows", methods=["GET"])
    @m_output(Row(many=True), status_code=203)
    async def rows(req, resp):
        pass

    @app.route("/nothing", methods=["DELETE"])
    @output(Book, status_code=204)
    async def nothing(req, resp):
        pass

    document = document_of(app)
    one_ok = operation(document, "/one", "get")["responses"]["200"]
    assert one_ok["description"] == "The book"
    assert one_ok["headers"] == {"x-total": {"description": "How many", "required": True,
                                             "schema": {"title": "X Total", "type": "integer"}}}
    assert operation(document, "/many", "get")["responses"]["200"]["content"]["application/json"][
        "schema"] == {"type": "array", "items": {"$ref": "#/components/schemas/Book"}}
    assert operation(document, "/rows", "get")["responses"]["203"]["content"]["application/json"][
        "schema"] == {"type": "array", "items": {"$ref": "#/components/schemas/Row"}}
    assert operation(document, "/nothing", "delete")["responses"]["204"] == {"description": "No Content"}


def test_expect_ranges_default_and_merging_with_framework_errors(app):
    class Problem(BaseModel):
        detail: str

    @app.route("/things/{id:int}", methods=["POST"])
    @input(Book)
    @output(Book, status_code=201)
    @expect({201: "Made", 400: "Bad thing", "4XX": Problem, "default": (Problem, "Anything else"),
             404: (Problem, "No thing")})
    async def things(req, resp, *, id, data):
        pass

    responses = operation(document_of(app), "/things/{id}", "post")["responses"]
    assert list(responses) == ["201", "400", "404", "415", "4XX", "default"]
    # @expect's description, @output's body.
    assert responses["201"]["description"] == "Made"
    assert responses["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Book"}
    # A description only: dyne's own error bodies stay documented.
    assert responses["400"]["description"] == "Bad thing"
    assert set(responses["400"]["content"]) == {"application/json", "text/plain"}
    # A schema given: it is the one documented.
    assert responses["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"}
    assert responses["4XX"]["description"] == "Client error"
    assert responses["default"]["description"] == "Anything else"


# -- webhooks ---------------------------------------------------------------------------------

def test_webhooks_in_both_versions(app, caplog):
    @app.route("/hooks/a", methods=["POST"])
    @webhook(name="paid")
    @input(Book)
    async def paid(req, resp, *, data):
        pass

    @app.route("/hooks/b", methods=["POST"])
    @webhook(name="paid")
    async def paid_again(req, resp):
        pass

    @app.route("/hooks/c", methods=["PUT"])
    @webhook(name="paid")
    async def paid_put(req, resp):
        pass

    three = document_of(app, "3.0.3")
    assert "webhooks" not in three
    assert set(three["x-webhooks"]) == {"paid", "paid_2"}
    assert set(three["x-webhooks"]["paid"]) == {"post", "put"}
    assert "two webhooks named 'paid' answer POST" in caplog.text
    one = document_of(app, "3.1.0")
    assert "x-webhooks" not in one
    assert one["webhooks"]["paid"]["post"]["operationId"] == "paid_webhook"
    assert one["paths"]["/hooks/a"]["post"]["operationId"] == "paid"
