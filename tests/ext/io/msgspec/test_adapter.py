"""msgspec Structs and attrs classes wherever pydantic models go: @input (any
location, dyne's 400 shape), @output, resp.media, view return values; and
which adapter each decorator hands them to."""

from __future__ import annotations

import datetime
import importlib
import string
from collections import Counter

import attrs
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dyne
from dyne.ext.io.core import library_of
from dyne.ext.io.msgspec.adapter import ADAPTER, format_error


class Author(msgspec.Struct):
    name: str


class Book(msgspec.Struct, rename="camel"):
    title: str
    unit_price: float
    tags: list[str] = []
    author: Author | None = None
    published: datetime.date | None = None

    def __post_init__(self) -> None:
        if self.unit_price <= 0:
            raise ValueError("unitPrice must be positive")


@attrs.define
class Reader:
    name: str
    age: int = attrs.field(validator=attrs.validators.ge(0))
    shelves: list[str] = attrs.field(factory=list)


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    n: int


@pytest.fixture(params=["pydantic", "marshmallow", "msgspec"])
def io(request):
    """Whichever library's decorators are used, Structs and attrs classes go to msgspec."""
    return importlib.import_module(f"dyne.ext.io.{request.param}")


def build_app(io) -> dyne.App:
    app = dyne.App()

    @app.route("/books", methods=["POST"])
    @io.input(Book)
    async def create_book(req, resp, *, data):
        assert isinstance(data, Book)
        resp.status_code = 201
        resp.media = data

    @app.route("/readers", methods=["POST"])
    @io.input(Reader)
    def create_reader(req, resp, *, data):
        assert isinstance(data, Reader)
        return data

    @app.route("/search")
    @io.input(Reader, location="query")
    def search(req, resp, *, query):
        return query

    @app.route("/strict", methods=["POST"])
    @io.input(Strict)
    def strict(req, resp, *, data):
        return {"n": data.n}

    return app


def test_valid_input_is_injected_as_the_instance_msgspec_builds(io):
    client = build_app(io).client
    response = client.post("/books", json={"title": "Dune", "unitPrice": "9.5", "tags": ["sf"],
                                           "author": {"name": "Frank"}, "published": "1965-08-01"})
    assert response.status_code == 201
    assert response.json() == {"title": "Dune", "unitPrice": 9.5, "tags": ["sf"],
                               "author": {"name": "Frank"}, "published": "1965-08-01"}
    response = client.post("/readers", json={"name": "Ann", "age": 30})
    assert response.json() == {"name": "Ann", "age": 30, "shelves": []}


def test_query_strings_are_converted_by_the_annotations(io):
    client = build_app(io).client
    response = client.get("/search?name=Ann&age=7&shelves=a&shelves=b")
    assert response.json() == {"name": "Ann", "age": 7, "shelves": ["a", "b"]}
    assert client.get("/search?name=Ann&age=old").json() == {
        "errors": {"age": ["Expected `int`, got `str`"]}}


@pytest.mark.parametrize(("path", "body", "errors"), [
    ("/books", {"unitPrice": 1}, {"title": ["Field required"]}),
    ("/books", {"title": "t", "unitPrice": "cheap"}, {"unitPrice": ["Expected `float`, got `str`"]}),
    ("/books", {"title": "t", "unitPrice": 1, "tags": ["a", 2]}, {"tags.1": ["Expected `str`, got `int`"]}),
    ("/books", {"title": "t", "unitPrice": 1, "author": {}}, {"author.name": ["Field required"]}),
    ("/books", {"title": "t", "unitPrice": 0}, {"_schema": ["unitPrice must be positive"]}),
    ("/books", ["not", "an", "object"], {"_schema": ["Expected `object`, got `array`"]}),
    ("/readers", {"name": "Ann", "age": -1}, {"_schema": ["'age' must be >= 0: -1"]}),
    ("/strict", {"n": 1, "extra": 2}, {"extra": ["Unknown field"]}),
])
def test_invalid_input_is_a_400_in_dynes_shape(io, path, body, errors):
    response = build_app(io).client.post(path, json=body)
    assert response.status_code == 400
    assert response.json() == {"errors": errors}


def test_malformed_bodies_are_a_400_and_problem_details_carry_the_errors(io):
    client = build_app(io).client
    response = client.post("/books", content=b'{"title": ', headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.text.startswith("Malformed JSON body")
    response = client.post("/books", content=b"title: [", headers={"Content-Type": "application/x-yaml"})
    assert response.status_code == 400
    app = dyne.App(problem_details=True)

    @app.route("/readers", methods=["POST"])
    @io.input(Reader)
    def create_reader(req, resp, *, data):
        return data

    response = app.client.post("/readers", json={"name": 3, "age": 1})
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {"type": "about:blank", "title": "Bad Request", "status": 400,
                               "errors": {"name": ["Expected `str`, got `int`"]}}


def test_output_serializes_dicts_objects_instances_and_lists(io):
    app = dyne.App()

    class Row:  # an ORM row, read by attribute
        def __init__(self, name: str, age: int) -> None:
            self.name, self.age, self.shelves = name, age, []

    @app.route("/one/{kind}")
    @io.output(Reader, status_code=201)
    def one(req, resp, *, kind):
        resp.obj = {"dict": {"name": "A", "age": 1}, "row": Row("B", 2),
                    "instance": Reader("C", 3)}[kind]

    @app.route("/many")
    @io.output(Book)
    def many(req, resp):
        resp.obj = [{"title": "x", "unitPrice": 1}, Book("y", 2.5)]

    @app.route("/typed")
    @io.output(list[Author])
    def typed(req, resp):
        resp.obj = ({"name": name} for name in "ab")

    @app.route("/wrong")
    @io.output(Reader)
    def wrong(req, resp):
        resp.obj = {"name": "A"}

    client = app.client
    for kind, expected in [("dict", ["A", 1]), ("row", ["B", 2]), ("instance", ["C", 3])]:
        response = client.get(f"/one/{kind}")
        assert response.status_code == 201
        # attrs fields in declaration order
        assert list(response.json().items()) == [("name", expected[0]), ("age", expected[1]),
                                                 ("shelves", [])]
    assert client.get("/many").json() == [
        {"title": "x", "unitPrice": 1.0, "tags": [], "author": None, "published": None},
        {"title": "y", "unitPrice": 2.5, "tags": [], "author": None, "published": None}]
    assert client.get("/typed").json() == [{"name": "a"}, {"name": "b"}]
    assert client.get("/wrong").status_code == 500


def test_structs_and_attrs_instances_as_media_and_return_values():
    app = dyne.App()

    @app.route("/media")
    def media(req, resp):
        resp.media = {"book": Book("Dune", 9.5, author=Author("Frank")), "reader": Reader("Ann", 3)}

    @app.route("/returned")
    def returned(req, resp):
        return [Reader("Ann", 3)], 202

    @app.route("/struct")
    def struct(req, resp):
        return Author("Frank")

    client = app.client
    assert client.get("/media").json() == {
        "book": {"title": "Dune", "unitPrice": 9.5, "tags": [], "author": {"name": "Frank"},
                 "published": None},
        "reader": {"name": "Ann", "age": 3, "shelves": []}}
    response = client.get("/returned")
    assert (response.status_code, response.json()) == (202, [{"name": "Ann", "age": 3, "shelves": []}])
    assert client.get("/struct").json() == {"name": "Frank"}


def test_library_of_routes_structs_and_attrs_classes_to_msgspec():
    assert library_of(Book) == library_of(Reader) == library_of(Reader("a", 1)) == "msgspec"
    assert library_of(list[Book]) == library_of(dict[str, Reader]) == library_of(Book | None) == "msgspec"
    assert library_of(list[int]) is None
    assert ADAPTER.input_fields(Book).keys == ("title", "unitPrice", "tags", "author", "published")
    assert ADAPTER.input_fields(Book).multi == frozenset({"tags"})
    assert not ADAPTER.accepts(object)


def test_a_schema_nothing_validates_is_refused_at_decoration():
    from dyne.ext.io.msgspec import input

    with pytest.raises(TypeError, match="is not a schema dyne can use with msgspec"):
        input(object)


def test_error_paths_of_nested_messages():
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.convert({"a": [{"b": "x"}]}, dict[str, list[dict[str, int]]])
    assert format_error(caught.value) == {"*.0.*": ["Expected `int`, got `str`"]}
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.convert({"author": {}}, Book)
    assert format_error(caught.value) == {"author.name": ["Field required"]}


# -- property: whatever is sent, a success with the sent values or dyne's 400 ------------------

NAMES = st.text(string.ascii_letters + "é ", min_size=1, max_size=12)
VALID_READER = st.fixed_dictionaries({"name": NAMES, "age": st.integers(0, 10**6)},
                                     optional={"shelves": st.lists(NAMES, max_size=3)})
@st.composite
def reader_payloads(draw, spoiler):
    """A valid reader, spoiled in the way ``spoiler`` names (``None``: left valid)."""
    payload = draw(VALID_READER)
    if spoiler == "drop_name":
        del payload["name"]
    elif spoiler == "negative_age":
        payload["age"] = draw(st.integers(-10**6, -1))
    elif spoiler == "age_text":
        payload["age"] = draw(st.text(string.ascii_letters, min_size=1, max_size=5))
    elif spoiler == "shelf_number":
        payload["shelves"] = [*payload.get("shelves", []), draw(st.integers())]
    elif spoiler == "not_object":
        payload = [payload]
    return payload


PROPERTY_APP = build_app(importlib.import_module("dyne.ext.io.msgspec"))
SPOILERS = [None, "drop_name", "negative_age", "age_text", "shelf_number", "not_object"]
SEEN: Counter[str] = Counter()


@pytest.mark.parametrize("spoiler", SPOILERS)
def test_reader_bodies_are_accepted_as_sent_or_refused_in_dynes_shape(spoiler):
    @settings(max_examples=30, deadline=None)
    @given(reader_payloads(spoiler))
    def check(payload):
        response = PROPERTY_APP.client.post("/readers", json=payload)
        if spoiler is None:
            assert response.status_code == 200, response.text
            assert response.json() == {"shelves": [], **payload}
            SEEN["valid"] += 1
            return
        assert response.status_code == 400, (payload, response.text)
        errors = response.json()["errors"]
        if spoiler == "shelf_number":
            expected_key = f"shelves.{len(payload['shelves']) - 1}"
        else:
            expected_key = {"drop_name": "name", "negative_age": "_schema", "age_text": "age",
                            "not_object": "_schema"}[spoiler]
        assert list(errors) == [expected_key]
        assert all(isinstance(message, str) and message for message in errors[expected_key])
        SEEN[spoiler] += 1

    check()
    # Every example of this branch reached its assertions.
    assert SEEN[spoiler or "valid"] >= 10, SEEN


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
def test_arbitrary_bytes_to_a_struct_input_are_never_a_server_error(body):
    response = PROPERTY_APP.client.post("/books", content=body,
                                        headers={"Content-Type": "application/json"})
    assert response.status_code in (201, 400), response.text
    if response.status_code == 400 and response.headers["content-type"] == "application/json":
        errors = response.json()["errors"]
        assert all(isinstance(messages, list) for messages in errors.values())
