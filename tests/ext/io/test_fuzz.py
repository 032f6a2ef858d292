"""Whatever a client sends to validated endpoints, the answer is a success or
a clear 4xx with dyne's error shape: never a 5xx, never a file outside the
upload directory."""

from __future__ import annotations

import importlib
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, fields
from pydantic import BaseModel, Field

import dyne


class PItem(BaseModel):
    name: str = Field(max_length=20)
    count: int = 0
    tags: list[str] = []


class MItem(Schema):
    name = fields.Str(required=True)
    count = fields.Int(load_default=0)
    tags = fields.List(fields.Str(), load_default=list)


def build_app(library: str, upload_dir):
    io = importlib.import_module(f"dyne.ext.io.{library}")
    FileField = importlib.import_module(f"dyne.ext.io.{library}.fields").FileField
    schema = PItem if library == "pydantic" else MItem
    if library == "pydantic":
        class Upload(BaseModel):
            document: FileField
    else:
        class Upload(Schema):
            document = FileField(required=True)

    app = dyne.App()

    @app.route("/items", methods=["POST"])
    @io.input(schema)
    @io.input(schema, location="query", key="query")
    @io.output(schema)
    async def create(req, resp, *, data, query):
        resp.obj = data

    @app.route("/upload", methods=["POST"])
    @io.input(Upload, location="form")
    async def upload(req, resp, *, data):
        document = data["document"]
        await document.asave(upload_dir / document.filename)
        resp.media = {"saved": document.filename}

    return app


SCALARS = (st.none() | st.booleans() | st.integers() | st.text()
           | st.floats(allow_nan=False, allow_infinity=False))
JSON = st.recursive(SCALARS,
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                    max_leaves=12)
QUERY = st.lists(st.tuples(st.sampled_from(["name", "count", "tags", "other", ""]), st.text(max_size=8)),
                 max_size=6)


def assert_clean(response):
    assert response.status_code < 500, response.text
    if response.status_code == 400 and response.headers["content-type"].startswith("application/json"):
        errors = response.json()["errors"]
        assert all(isinstance(k, str) and all(isinstance(m, str) for m in v) for k, v in errors.items())


@pytest.mark.parametrize("library", ["pydantic", "marshmallow"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=JSON, query=QUERY)
def test_random_bodies_and_query_strings_are_never_a_server_error(library, tmp_path, body, query):
    app = build_app(library, tmp_path)
    response = app.client.post("/items", json=body, params=query)
    assert_clean(response)
    if response.status_code == 200:
        assert set(response.json()) == {"name", "count", "tags"}


@pytest.mark.parametrize("library", ["pydantic", "marshmallow"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200), content_type=st.sampled_from(
    ["application/json", "application/x-yaml", "application/x-msgpack", "text/plain",
     "multipart/form-data; boundary=b", "application/x-www-form-urlencoded", ""]))
def test_random_raw_bodies_are_never_a_server_error(library, tmp_path, raw, content_type):
    app = build_app(library, tmp_path)
    headers = {"Content-Type": content_type} if content_type else {}
    assert_clean(app.client.post("/items", content=raw, headers=headers))


FILENAMES = st.lists(st.characters(max_codepoint=0x2FF) | st.sampled_from(
    ["/", "\\", "..", ".", ":", "\x00", "CON", "\u202e", ".png", "name"]), max_size=12).map("".join)


@pytest.mark.parametrize("library", ["pydantic", "marshmallow"])
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filename=FILENAMES)
def test_random_upload_filenames_never_escape_the_upload_directory(library, tmp_path_factory, filename):
    root = tmp_path_factory.mktemp("root")
    directory = root / "uploads"
    directory.mkdir()
    app = build_app(library, directory)
    body = (b'--b\r\nContent-Disposition: form-data; name="document"; filename="'
            + filename.replace('"', "").encode("utf-8", "surrogatepass") + b'"\r\n\r\ncontent\r\n--b--\r\n')
    response = app.client.post("/upload", content=body,
                               headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert_clean(response)
    assert [p.name for p in root.iterdir()] == ["uploads"]  # nothing written beside it
    written = list(directory.iterdir())
    if response.status_code == 200:
        assert [(p.name, p.is_file()) for p in written] == [(response.json()["saved"], True)]
    else:
        assert written == []


def test_printable_ascii_names_that_are_safe_are_kept(tmp_path):
    app = build_app("pydantic", tmp_path)
    name = "Quarterly report - " + string.digits + ".pdf"
    response = app.client.post("/upload", files={"document": (name, b"x")})
    assert response.json() == {"saved": name}
