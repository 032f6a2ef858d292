"""JSON bodies validated in one pass (pydantic's JSON mode) by ``@input`` and
signature body parameters: the same answers as decoding first, for every body
a client can send."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field

import dyne
from dyne.bodies import JSON_SOURCE_MAX, MediaLimit
from dyne.ext.io.pydantic import input, output

JSON = {"Content-Type": "application/json"}


class Item(BaseModel):
    name: str
    price: float = Field(gt=0)
    tags: list[str] = []


class Event(BaseModel):
    model_config = ConfigDict(strict=True)

    when: datetime.date


def make_app(**options):
    app = dyne.App(**options)

    @app.route("/items", methods=["POST"])
    @input(Item)
    @output(Item)
    async def create(req, resp, *, data):
        resp.obj = data

    @app.route("/signature", methods=["POST"])
    async def signature(req, resp, *, item: Item) -> Item:
        return item

    @app.route("/again", methods=["POST"])
    @input(Item)
    async def again(req, resp, *, data):
        # The body stays readable after @input, with and without await.
        resp.media = {"sync": dict(req.media()), "awaited": dict(await req.media()),
                      "raw": (await req.content).decode()}

    @app.route("/events", methods=["POST"])
    @input(Event)
    async def event(req, resp, *, data):
        resp.media = {"when": data.when.isoformat()}

    return app


@pytest.fixture(scope="module")
def app():
    return make_app()


@pytest.mark.parametrize("path", ["/items", "/signature"])
def test_valid_body_is_validated_and_echoed(app, path):
    r = app.client.post(path, content=b'{"name": "pen", "price": "2.5", "tags": ["a"]}', headers=JSON)
    assert r.status_code == 200
    assert r.json() == {"name": "pen", "price": 2.5, "tags": ["a"]}


def test_charset_parameter_and_missing_content_type_are_json(app):
    body = b'{"name": "pen", "price": 1}'
    with_charset = app.client.post("/items", content=body,
                                   headers={"Content-Type": "application/json; charset=utf-8"})
    assert with_charset.json()["name"] == "pen"
    assert app.client.post("/items", content=body).json()["name"] == "pen"


@pytest.mark.parametrize("path", ["/items", "/signature"])
def test_field_errors_have_the_usual_shape(app, path):
    r = app.client.post(path, content=b'{"price": 0, "tags": "x"}', headers=JSON)
    assert r.status_code == 400
    assert r.json() == {"errors": {"name": ["Field required"],
                                   "price": ["Input should be greater than 0"],
                                   "tags": ["Input should be a valid array"]}}
    whole = app.client.post(path, content=b"[1, 2]", headers=JSON)
    assert whole.json() == {"errors": {"_schema": ["Input should be an object"]}}


@pytest.mark.parametrize("body", [b"{", b'{"name": "pen"} trailing', b"\xff", b'{"name": "\\ud800"}',
                                  b'{"name": "pen", "price": NaN}', b'{"name": "pen", "price": Infinity}',
                                  b'{"name": "pen", "price": -Infinity}'])
@pytest.mark.parametrize("path", ["/items", "/signature"])
def test_malformed_json_is_the_same_400_as_req_media(app, path, body):
    r = app.client.post(path, content=body, headers=JSON)
    assert r.status_code == 400
    assert r.text.startswith("Malformed JSON body")


def test_string_values_that_merely_contain_nan_are_fine(app):
    r = app.client.post("/items", content=b'{"name": "NaN and Infinity", "price": 1}', headers=JSON)
    assert r.status_code == 200
    assert r.json()["name"] == "NaN and Infinity"


def test_empty_body_is_an_empty_object(app):
    r = app.client.post("/items", content=b"", headers=JSON)
    assert r.status_code == 400
    assert r.json() == {"errors": {"name": ["Field required"], "price": ["Field required"]}}


def test_body_stays_readable_after_input(app):
    body = b'{"name": "pen", "price": 1}'
    r = app.client.post("/again", content=body, headers=JSON)
    assert r.json() == {"sync": {"name": "pen", "price": 1}, "awaited": {"name": "pen", "price": 1},
                        "raw": body.decode()}


def test_strict_models_take_dates_as_json_spells_them(app):
    r = app.client.post("/events", content=b'{"when": "2026-12-02"}', headers=JSON)
    assert r.json() == {"when": "2026-12-02"}
    refused = app.client.post("/events", content=b'{"when": 20261202}', headers=JSON)
    assert refused.status_code == 400


def test_large_bodies_take_the_usual_path_with_the_same_answer(app):
    tags = ["t" * 50] * (JSON_SOURCE_MAX // 50)
    r = app.client.post("/items", json={"name": "pen", "price": 1, "tags": tags})
    assert r.status_code == 200
    assert len(r.json()["tags"]) == len(tags)
    bad = app.client.post("/items", json={"name": "pen", "price": 0, "tags": tags})
    assert bad.json() == {"errors": {"price": ["Input should be greater than 0"]}}


def test_json_limits_still_apply():
    app = make_app(media_limits={"json": MediaLimit(max_size=64, max_items=5)})
    too_big = app.client.post("/items", content=b'{"name": "' + b"x" * 100 + b'", "price": 1}',
                              headers=JSON)
    assert too_big.status_code == 413
    too_many = app.client.post("/items", content=b'{"name": "p", "price": 1, "tags": ["a","b","c","d"]}',
                               headers=JSON)
    assert too_many.status_code == 413


def test_json_refused_where_the_route_does_not_take_it():
    app = dyne.App(media_formats=["yaml"])

    @app.route("/items", methods=["POST"])
    @input(Item)
    async def create(req, resp, *, data):
        resp.media = data

    assert app.client.post("/items", content=b'{"name": "p", "price": 1}', headers=JSON).status_code == 415
    yaml = app.client.post("/items", content=b"name: p\nprice: 1\n",
                           headers={"Content-Type": "application/yaml"})
    assert yaml.json() == {"name": "p", "price": 1.0, "tags": []}


_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=5))
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=8)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(["name", "price", "tags", "x"]), _values, max_size=4))
def test_one_pass_answers_like_decoding_first(app, document):
    """Whatever JSON object is sent, @input answers as validating the decoded
    document would: the same status, the same body, errors on the same fields."""
    import orjson
    from pydantic import ValidationError

    from dyne.ext.io.pydantic.adapter import format_errors

    body = orjson.dumps(document)
    r = app.client.post("/items", content=body, headers=JSON)
    try:
        expected = Item.model_validate(orjson.loads(body)).model_dump(mode="json")
    except ValidationError as exc:
        assert r.status_code == 400
        assert r.json()["errors"].keys() == format_errors(exc).keys()
    else:
        assert r.status_code == 200
        assert r.json() == expected
