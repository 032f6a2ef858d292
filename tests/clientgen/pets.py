"""A small dyne API whose document has what clients must carry: an enum,
nullable and nested fields, lists, query, header and cookie parameters, a
multipart upload with a file, a 204, and documented errors. Run by the client
tests under uvicorn."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

import dyne
from dyne.ext.io.pydantic import expect, input, output
from dyne.ext.io.pydantic.fields import FileField
from dyne.ext.openapi import OpenAPI

app = dyne.App()
api = OpenAPI(app, title="Pets", version="3.2")
#: What the server received, for the tests to check.
SEEN: list[dict] = []


class Kind(StrEnum):
    cat = "cat"
    dog = "dog"
    bird_of_prey = "bird-of-prey"


class Address(BaseModel):
    city: str
    zip: str | None = None


class PetIn(BaseModel):
    name: str = Field(min_length=1)
    kind: Kind
    owner_email: str | None = None
    address: Address | None = None
    tags: list[str] = []


class Pet(PetIn):
    id: int


class Filter(BaseModel):
    kind: Kind | None = None
    tag: list[str] = []


class Trace(BaseModel):
    x_trace_id: str


class Prefs(BaseModel):
    lang: str = "en"


class Photo(FileField):
    allowed_extensions = {"png", "txt"}


class PhotoForm(BaseModel):
    caption: str = ""
    photo: Photo


PETS: dict[int, dict] = {}


@app.route("/pets", methods=["POST"])
@input(PetIn)
@output(Pet, status_code=201)
async def create_pet(req, resp, *, data):
    """Add a pet"""
    pet = PETS[len(PETS) + 1] = {"id": len(PETS) + 1, **dict(data)}
    resp.obj = pet


@app.route("/pets", methods=["GET"])
@input(Filter, location="query")
@input(Trace, location="headers", key="trace")
@input(Prefs, location="cookies")
@output(list[Pet])
async def list_pets(req, resp, *, query, trace, cookies):
    SEEN.append({"trace": trace.x_trace_id, "lang": cookies.lang})
    resp.obj = [pet for pet in PETS.values()
                if (query.kind is None or pet["kind"] == query.kind.value)
                and all(tag in pet["tags"] for tag in query.tag)]


@app.route("/pets/{id:int}", methods=["GET"])
@output(Pet)
@expect({404: "No such pet"})
async def get_pet(req, resp, *, id):
    if id not in PETS:
        dyne.abort(404, "No such pet")
    resp.obj = PETS[id]


@app.route("/pets/{id:int}", methods=["DELETE"])
@expect({204: "Deleted", 404: "No such pet"})
async def delete_pet(req, resp, *, id):
    if PETS.pop(id, None) is None:
        dyne.abort(404, "No such pet")
    resp.status_code = 204


@app.route("/pets/{id:int}/photo", methods=["PUT"])
@input(PhotoForm, location="form")
@expect({200: "Stored"})
async def put_photo(req, resp, *, id, data):
    content = await data.photo.aread()
    resp.media = {"id": id, "caption": data.caption, "filename": data.photo.filename,
                  "size": len(content)}
