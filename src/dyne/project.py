"""``dyne new-project``: the files of a new project, per template.

Templates: ``minimal`` (a page, a JSON route, a health check, a template and a
stylesheet) and ``api`` (a JSON API with pydantic validation, OpenAPI
documentation at ``/docs``, explicit methods, create/read/update/delete).
Every project gets a ``pyproject.toml`` depending on dyne (and pytest for its
tests), a README, a ``.env`` with a random ``SECRET_KEY`` and tests that pass
as generated.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from .__version__ import __version__

__all__ = ["TEMPLATES", "UNAVAILABLE_TEMPLATES", "create_project", "project_files"]

NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")

_COMMON = {
    "pyproject.toml": '''[project]
name = "{name}"
version = "0.1.0"
description = "{name}: a dyne application"
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["{dependency}"]

[project.optional-dependencies]
test = ["pytest>=8"]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.hatch.build.targets.wheel]
only-include = {package_files}
dev-mode-dirs = ["."]

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["."]
''',
    ".env": "DEBUG=false\nSECRET_KEY={secret_key}\n",
    ".gitignore": "__pycache__/\n.env\n.venv/\n*.db\n",
}

_README = '''# {name}

A [dyne](https://github.com/dyne-framework/dyne) application ({template} template).

## Set up

```console
python -m venv .venv
. .venv/bin/activate
pip install -e ".[test]"
```

## Run

```console
dyne run --debug          # http://127.0.0.1:5042, reloads on changes
dyne run --port 5099      # another port
```

`.env` holds the settings (`DEBUG`, and a random `SECRET_KEY` made for this
project: keep it out of version control). Environment variables override it.

## Test

```console
pytest
```
{extra}'''

_MINIMAL = {
    "app.py": '''"""{name}: a dyne application.

Run it with ``dyne run`` (or ``python app.py``) from this directory.
"""

from pathlib import Path

import dyne

HERE = Path(__file__).parent

app = dyne.App(static_dir=HERE / "static", templates_dir=HERE / "templates")


@app.route("/", methods=["GET"])
def index(req, resp):
    resp.html = app.template("index.html", title="{name}")


@app.route("/api/hello/{{who}}", methods=["GET"])
async def hello(req, resp, *, who):
    resp.media = {{"hello": who}}


@app.route("/health", methods=["GET"])
async def health(req, resp):
    resp.media = {{"status": "healthy"}}


if __name__ == "__main__":
    app.run()
''',
    "templates/index.html": '''<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{{{ title }}}}</title>
  <link rel="stylesheet" href="/static/style.css">
</head>
<body>
  <h1>{{{{ title }}}}</h1>
  <p>Edit <code>app.py</code> and <code>templates/index.html</code> to get started.</p>
</body>
</html>
''',
    "static/style.css": "body {{ font-family: system-ui, sans-serif; margin: 2rem; }}\n",
    "tests/test_app.py": '''from app import app


def test_index():
    response = app.client.get("/")
    assert response.status_code == 200
    assert "{name}" in response.text


def test_hello():
    assert app.client.get("/api/hello/world").json() == {{"hello": "world"}}


def test_routes_answer_only_their_methods():
    # A route answers the methods it names (GET also answers HEAD and OPTIONS).
    response = app.client.post("/api/hello/world")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


def test_health():
    assert app.client.get("/health").json() == {{"status": "healthy"}}
''',
    "tests/conftest.py": '''import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
''',
}

_API = {
    "app.py": '''"""{name}: a JSON API built with dyne.

Run it with ``dyne run`` from this directory; the API is documented at
http://127.0.0.1:5042/docs.
"""

from pydantic import BaseModel, Field

import dyne
from dyne.ext.io.pydantic import expect, input, output
from dyne.ext.openapi import OpenAPI

app = dyne.App()
api = OpenAPI(app, title="{name}", version="0.1.0")


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    price: float = Field(gt=0, description="In euros")


class Item(ItemIn):
    id: int


class Page(BaseModel):
    limit: int = Field(10, ge=1, le=100)


ITEMS: dict[int, dict] = {{}}


@app.route("/items", methods=["GET"])
@input(Page, location="query", key="page")
@output(Item)
async def list_items(req, resp, *, page):
    """List items"""
    resp.obj = list(ITEMS.values())[: page.limit]


@app.route("/items", methods=["POST"])
@input(ItemIn)
@output(Item, status_code=201)
async def create_item(req, resp, *, data):
    """Create an item"""
    item_id = max(ITEMS, default=0) + 1
    ITEMS[item_id] = {{"id": item_id, **data}}
    resp.obj = ITEMS[item_id]


@app.route("/items/{{item_id:int}}", methods=["GET"])
@output(Item)
@expect({{404: "No such item"}})
async def get_item(req, resp, *, item_id):
    """Read an item"""
    if item_id not in ITEMS:
        dyne.abort(404, "No such item")
    resp.obj = ITEMS[item_id]


@app.route("/items/{{item_id:int}}", methods=["PUT"])
@input(ItemIn)
@output(Item)
@expect({{404: "No such item"}})
async def replace_item(req, resp, *, item_id, data):
    """Replace an item"""
    if item_id not in ITEMS:
        dyne.abort(404, "No such item")
    ITEMS[item_id] = {{"id": item_id, **data}}
    resp.obj = ITEMS[item_id]


@app.route("/items/{{item_id:int}}", methods=["DELETE"])
@expect({{204: "Deleted", 404: "No such item"}})
async def delete_item(req, resp, *, item_id):
    """Delete an item"""
    if ITEMS.pop(item_id, None) is None:
        dyne.abort(404, "No such item")
    resp.status_code = 204


@app.route("/health", methods=["GET"])
async def health(req, resp):
    resp.media = {{"status": "healthy"}}


if __name__ == "__main__":
    app.run()
''',
    "tests/test_app.py": '''import pytest

from app import ITEMS, app


@pytest.fixture(autouse=True)
def empty_store():
    ITEMS.clear()


def test_create_read_update_delete():
    created = app.client.post("/items", json={{"name": "lamp", "price": 12.5}})
    assert created.status_code == 201
    item = created.json()
    assert item == {{"id": 1, "name": "lamp", "price": 12.5}}
    assert app.client.get("/items/1").json() == item
    replaced = app.client.put("/items/1", json={{"name": "lamp", "price": 10}})
    assert replaced.json()["price"] == 10
    assert app.client.get("/items").json() == [replaced.json()]
    assert app.client.delete("/items/1").status_code == 204
    assert app.client.get("/items/1").status_code == 404


def test_invalid_input_is_a_400():
    response = app.client.post("/items", json={{"name": "", "price": -1}})
    assert response.status_code == 400
    assert app.client.get("/items?limit=1000").status_code == 400


def test_openapi_documents_the_api():
    schema = app.client.get("/schema.yml")
    assert schema.status_code == 200
    assert "/items/{{item_id}}" in schema.text
    assert app.client.get("/docs").status_code == 200


def test_health():
    assert app.client.get("/health").json() == {{"status": "healthy"}}
''',
    "tests/conftest.py": _MINIMAL["tests/conftest.py"],
}

TEMPLATES: dict[str, dict[str, object]] = {
    "minimal": {"files": _MINIMAL, "dependency": "dyne>={version}",
                "package_files": '["app.py", "templates", "static"]',
                "readme": "\nRoutes: `/` (a page), `/api/hello/{{who}}` (JSON), `/health`.\n"},
    "api": {"files": _API, "dependency": "dyne[openapi_pydantic]>={version}",
            "package_files": '["app.py"]',
            "readme": "\nThe API is documented at http://127.0.0.1:5042/docs "
                      "(OpenAPI schema at `/schema.yml`).\n"},
}
#: Templates named by the documentation that this version does not ship yet.
UNAVAILABLE_TEMPLATES = {
    "controllers": "the controllers template needs class-based controllers, which this "
                   "version of dyne does not have yet; use --template minimal or api",
}


def project_files(name: str, template: str = "minimal",
                  secret_key: str | None = None) -> dict[str, str]:
    """The files of a new project: ``{relative path: content}``."""
    spec = TEMPLATES[template]
    values = {"name": name, "version": __version__, "template": template,
              "secret_key": secret_key or secrets.token_urlsafe(48)}
    values["dependency"] = str(spec["dependency"]).format(**values)
    values["package_files"] = str(spec["package_files"])
    files: dict[str, str] = {path: text.format(**values) for path, text in _COMMON.items()}
    files["README.md"] = _README.format(**values, extra=str(spec["readme"]).format(**values))
    sources = spec["files"]
    assert isinstance(sources, dict)
    files.update({path: text.format(**values) for path, text in sources.items()})
    return files


def create_project(root: Path, template: str = "minimal") -> list[Path]:
    """Write a new project into the directory ``root`` (which must not exist)."""
    files = project_files(root.name, template)
    written = []
    for relative, content in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        written.append(target)
    return written
