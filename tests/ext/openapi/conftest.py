"""Helpers for the OpenAPI tests: validate documents with openapi-spec-validator."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

VERSIONS = ["3.0.3", "3.1.0"]


def validate(document: dict[str, Any]) -> dict[str, Any]:
    """Validate ``document`` against the OpenAPI specification of its version;
    return it for chaining."""
    from openapi_spec_validator import validate as validate_spec

    validate_spec(document)
    return document


def served(app: Any, route: str = "/schema.yml") -> dict[str, Any]:
    """The document as the app serves it (YAML or JSON), validated."""
    response = app.client.get(route)
    assert response.status_code == 200, response.text
    return validate(yaml.safe_load(response.text))


@pytest.fixture(params=VERSIONS)
def version(request) -> str:
    return request.param


def operation(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return document["paths"][path][method]


def component(document: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    name = ref["$ref"].rsplit("/", 1)[-1]
    return document["components"]["schemas"][name]
