"""OpenAPI documents with the shapes a client generator must handle."""

from __future__ import annotations

from typing import Any


def tricky(openapi: str = "3.0.3") -> dict[str, Any]:
    """$ref, enums, nullable, arrays, nested and recursive objects, oneOf/anyOf/allOf,
    free-form maps, names that are keywords or have dashes, every parameter location."""
    v31 = openapi.startswith("3.1")

    def nullable(schema: dict[str, Any]) -> dict[str, Any]:
        if v31:
            return {**schema, "type": [schema["type"], "null"]}
        return {**schema, "nullable": True}

    return {
        "openapi": openapi,
        "info": {"title": "Tricky", "version": "2"},
        "paths": {
            "/pets/{pet-id}": {
                "parameters": [{"name": "pet-id", "in": "path", "required": True,
                                "schema": {"type": "integer"}}],
                "get": {
                    "operationId": "get-pet",
                    "summary": "One pet */ with a comment end",
                    "parameters": [
                        {"name": "class", "in": "query", "schema": {"type": "string"}},
                        {"name": "X-Trace-Id", "in": "header", "required": True,
                         "schema": {"type": "string"}},
                        {"name": "session", "in": "cookie", "schema": {"type": "string"}},
                        {"name": "tags", "in": "query", "schema": {"type": "array",
                                                                   "items": {"type": "string"}}},
                    ],
                    "responses": {
                        "200": {"description": "OK", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Pet"}}}},
                        "404": {"$ref": "#/components/responses/NotFound"},
                    },
                },
                "delete": {"operationId": "delete", "deprecated": True,
                           "responses": {"204": {"description": "Gone"}}},
            },
            "/pets": {
                "post": {
                    "operationId": "createPet",
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/NewPet"}}}},
                    "responses": {"201": {"description": "Created", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Pet"}}}}},
                },
                "get": {
                    "operationId": "list_pets",
                    "parameters": [{"name": "limit", "in": "query", "required": True,
                                    "schema": {"type": "integer"}}],
                    "responses": {"200": {"description": "OK", "content": {"application/json": {
                        "schema": {"type": "object", "properties": {
                            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}},
                            "next": nullable({"type": "string"})}, "required": ["items"]}}}}},
                },
            },
            "/shadows/{text}/{cast}": {
                "get": {
                    "operationId": "shadows",
                    "parameters": [
                        {"name": "text", "in": "path", "required": True, "schema": {"type": "string"}},
                        {"name": "cast", "in": "path", "required": True, "schema": {"type": "string"}},
                        {"name": "httpx", "in": "query", "schema": {"type": "boolean"}},
                    ],
                    "responses": {"200": {"description": "OK", "content": {"application/json": {
                        "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Level"}}}}}},
                },
            },
            "/upload": {
                "put": {
                    "operationId": "upload",
                    "requestBody": {"content": {"multipart/form-data": {"schema": {
                        "type": "object", "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "caption": {"type": "string"}}, "required": ["file"]}}}},
                    "responses": {"200": {"description": "OK", "content": {"text/plain": {
                        "schema": {"type": "string"}}}}},
                },
            },
        },
        "components": {
            "responses": {"NotFound": {"description": "No such pet", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}},
            "schemas": {
                "Kind": {"type": "string", "enum": ["cat", "dog", "bird-of-prey"]},
                "Level": {"type": "integer", "enum": [1, 2, 3]},
                "NewPet": {"type": "object", "required": ["name", "kind"], "properties": {
                    "name": {"type": "string", "description": "What it answers to"},
                    "kind": {"$ref": "#/components/schemas/Kind"},
                    "owner-email": nullable({"type": "string"}),
                    "from": {"type": "string"},
                    "level": {"$ref": "#/components/schemas/Level"},
                    "address": {"type": "object", "properties": {
                        "city": {"type": "string"}, "geo": {"type": "object", "properties": {
                            "lat": {"type": "number"}, "lon": {"type": "number"}}}}},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "extra": {},
                    "toy": {"oneOf": [{"$ref": "#/components/schemas/Ball"},
                                      {"$ref": "#/components/schemas/Rope"}]},
                    "weight": {"anyOf": [{"type": "number"}, {"type": "string"}]},
                    "anything": {"not": {"type": "string"}},
                }},
                "Pet": {"allOf": [{"$ref": "#/components/schemas/NewPet"}, {
                    "type": "object", "required": ["id"], "properties": {
                        "id": {"type": "integer"},
                        "friends": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}},
                    }}]},
                "Ball": {"type": "object", "properties": {"size": {"type": "integer"}}},
                "Rope": {"type": "object", "properties": {"length": {"type": "number"}}},
                "Problem": {"type": "object", "properties": {"detail": {"type": "string"}}},
                "model.with-Dots": {"type": "array", "items": {"type": "string"}},
            },
        },
    }
