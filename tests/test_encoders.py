"""Model kinds, and the app's JSON encoders for types orjson does not know:
one hook used by resp.media (JSON, YAML, MessagePack), @output, errors,
problem documents, Server-Sent Events and ws.send_json."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import logging
from typing import TypedDict

import attrs
import httpx
import msgpack
import msgspec
import pytest
import yaml
from marshmallow import Schema, fields
from pydantic import BaseModel, ConfigDict

import dyne
from dyne.encoders import base_default, make_default, model_kind
from dyne.formats import Encoders, json_dumps

from .conftest import serve_in_thread


class Money:
    def __init__(self, cents: int) -> None:
        self.cents = cents


class Euro(Money):
    pass


def money_text(value: Money) -> str:
    return f"{value.cents / 100:.2f}"


# -- model_kind ------------------------------------------------------------------------

class PydanticBook(BaseModel):
    title: str


class StructBook(msgspec.Struct):
    title: str


@attrs.define
class AttrsBook:
    title: str


@dataclasses.dataclass
class DataclassBook:
    title: str


class TypedBook(TypedDict):
    title: str


class BookSchema(Schema):
    title = fields.String()


@pytest.mark.parametrize(("cls", "instance", "kind"), [
    (PydanticBook, PydanticBook(title="t"), "pydantic"),
    (StructBook, StructBook("t"), "msgspec"),
    (AttrsBook, AttrsBook("t"), "attrs"),
    (DataclassBook, DataclassBook("t"), "dataclass"),
    (BookSchema, BookSchema(), "marshmallow"),
])
def test_model_kind_of_classes_and_their_instances(cls, instance, kind):
    assert model_kind(cls) == kind
    assert model_kind(instance) == kind


def test_model_kind_of_what_is_not_a_model():
    assert model_kind(TypedBook) == "typeddict"
    assert model_kind(TypedBook(title="t")) is None  # a TypedDict's instances are dicts
    for value in (dict, {"a": 1}, int, 3, "text", list[StructBook], None, Money(1)):
        assert model_kind(value) is None


# -- the hook everywhere JSON is written ----------------------------------------------

def make_app(**options) -> dyne.App:
    app = dyne.App(json_encoders={Money: money_text, decimal.Decimal: float}, **options)

    @app.route("/media")
    def media(req, resp):
        resp.media = {"price": Money(1250), "euro": Euro(5), "rate": decimal.Decimal("1.5"),
                      "when": datetime.date(2026, 1, 2)}

    @app.route("/conflict")
    def conflict(req, resp):
        dyne.abort(409, {"price": Money(1)})

    @app.route("/problem")
    def problem(req, resp):
        resp.problem(402, "Pay first", price=Money(99))

    @app.route("/events")
    async def events(req, resp):
        async def prices():
            yield {"data": Money(1), "event": "price"}
            yield Money(2)

        resp.sse(prices)

    @app.route("/ws", websocket=True)
    async def ws(ws):
        await ws.accept()
        await ws.send_json({"price": Money(300)})
        await ws.send_json([Money(1)], mode="binary")
        await ws.close()

    return app


def test_resp_media_uses_the_apps_encoders_in_every_format():
    client = make_app().client
    expected = {"price": "12.50", "euro": "0.05", "rate": 1.5, "when": "2026-01-02"}
    assert client.get("/media").json() == expected
    as_yaml = client.get("/media", headers={"Accept": "application/x-yaml"})
    assert yaml.safe_load(as_yaml.text) == expected
    as_msgpack = client.get("/media", headers={"Accept": "application/x-msgpack"})
    assert msgpack.unpackb(as_msgpack.content) == expected


def test_errors_and_problem_documents_use_the_apps_encoders():
    client = make_app().client
    assert client.get("/conflict").json() == {"price": "0.01"}
    problem = client.get("/problem")
    assert (problem.status_code, problem.headers["content-type"]) == (402, "application/problem+json")
    assert problem.json() == {"type": "about:blank", "title": "Payment Required", "status": 402,
                              "detail": "Pay first", "price": "0.99"}
    problems = make_app(problem_details=True).client.get("/conflict")
    assert problems.json() == {"type": "about:blank", "title": "Conflict", "status": 409,
                               "price": "0.01"}


def test_output_uses_the_apps_encoders_for_types_the_model_library_does_not_know():
    from dyne.ext.io.pydantic import output

    class Invoice(BaseModel):
        model_config = ConfigDict(arbitrary_types_allowed=True)
        total: Money

    app = make_app()

    @app.route("/invoice")
    @output(Invoice)
    def invoice(req, resp):
        resp.obj = Invoice(total=Money(700))

    assert app.client.get("/invoice").json() == {"total": "7.00"}


def test_server_sent_events_and_websockets_use_the_apps_encoders():
    app = make_app()
    with (serve_in_thread(app) as url, httpx.Client(base_url=url) as client,
          client.stream("GET", "/events") as response):
        text = "".join(response.iter_text())
    assert text == 'event: price\ndata: "0.01"\n\ndata: "0.02"\n\n'
    with app.client.websocket_connect("/ws") as ws:
        assert ws.receive_text() == '{"price":"3.00"}'
        assert ws.receive_bytes() == b'["0.01"]'


def test_encoders_are_looked_up_along_the_class_hierarchy_and_per_app():
    default = make_default({Money: money_text})
    assert json_dumps([Money(1), Euro(2)], default) == b'["0.01","0.02"]'
    assert json_dumps({"d": decimal.Decimal("2.50")}) == b'{"d":"2.50"}'  # dyne's own fallback
    assert json_dumps({"d": decimal.Decimal("2.50")}, make_default({decimal.Decimal: float})) == \
        b'{"d":2.5}'
    plain = dyne.App()
    assert plain.encoders.default is base_default
    assert make_app().encoders.default is not base_default


def test_an_unknown_type_is_a_type_error_naming_it_and_the_fix(caplog):
    with pytest.raises(TypeError, match=r"Object of type Money is not JSON serializable; "
                                        r"register an encoder for it: App\(json_encoders="):
        json_dumps({"price": Money(1)})
    app = dyne.App()

    @app.route("/")
    def view(req, resp):
        resp.media = {"price": Money(1)}

    with caplog.at_level(logging.ERROR, logger="dyne"):
        response = app.client.get("/")
    assert response.status_code == 500
    assert "Object of type Money is not JSON serializable" in caplog.text


def test_json_encoders_are_checked_when_the_app_is_made():
    with pytest.raises(TypeError, match="json_encoders keys must be classes, got 'Money'"):
        dyne.App(json_encoders={"Money": str})
    with pytest.raises(TypeError, match=r"json_encoders\[Money\] must be a function, got 3"):
        dyne.App(json_encoders={Money: 3})
    with pytest.raises(TypeError, match=r"json_encoders must be a dict \{type: function\}"):
        Encoders([Money])  # type: ignore[arg-type]


def test_models_of_every_kind_are_encoded_as_objects():
    value = [PydanticBook(title="a"), StructBook("b"), AttrsBook("c"), DataclassBook("d")]
    assert json_dumps(value) == b'[{"title":"a"},{"title":"b"},{"title":"c"},{"title":"d"}]'
