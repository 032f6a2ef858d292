"""``dyne new-project``: the files of a new project, per template.

Templates: ``minimal`` (a page, a JSON route, a health check, a template and a
stylesheet), ``api`` (a JSON API with pydantic validation, OpenAPI
documentation at ``/docs``, explicit methods, create/read/update/delete) and
``controllers`` (PyJolt's layout: an ``app`` package with a typed
configuration, a controller, a model on SQLite, a CLI command).
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
dyne {app_option}run --debug          # http://127.0.0.1:8000, reloads on changes
dyne {app_option}run --port 5099      # another port
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
http://127.0.0.1:8000/docs.
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

_CONTROLLERS = {
    "app/__init__.py": '''"""{name}: a dyne application in PyJolt's layout.

Run it from this directory with ``dyne --app app:create_app run`` (or
``uvicorn app:create_app --factory``); the API is documented at
http://127.0.0.1:8000/openapi.
"""

import dyne
from app.configs import Config
from app.extensions import db


def create_app() -> dyne.App:
    """The application factory: ``Config`` lists what the app is made of."""
    app = dyne.App(config=Config)
    app.on_event("startup")(db.create_all)  # creates the tables that do not exist yet
    return app
''',
    "app/api/__init__.py": '''''',
    "app/api/items_api.py": '''"""The items controller: ``/api/items``."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.extensions import db
from app.models import Item, ItemIn, ItemOut
from dyne import Request
from dyne.controllers import (Controller, HttpStatus, MediaType, NotFound, Response, consumes,
                              delete, get, path, post)


@path("/api/items", tags=["Items"])
class ItemsApi(Controller):
    @get("/")
    @db.readonly_session
    async def list_items(self, req: Request, session: AsyncSession) -> Response:
        """Lists the items"""
        items = await Item.query(session).order_by(Item.id).all()
        return req.res.json([ItemOut.model_validate(item) for item in items])

    @post("/")
    @consumes(MediaType.APPLICATION_JSON)
    @db.managed_session
    async def create_item(self, req: Request, item: ItemIn,
                          session: AsyncSession) -> Response[ItemOut]:
        """Creates an item"""
        stored = Item(**item.model_dump())
        session.add(stored)
        await session.flush()  # assigns the id
        return (req.res.json(ItemOut.model_validate(stored)).status(HttpStatus.CREATED)
                .set_header("Location", self.app.url_for("ItemsApi.get_item", item_id=stored.id)))

    @get("/<int:item_id>")
    @db.readonly_session
    async def get_item(self, req: Request, item_id: int, session: AsyncSession) -> Response[ItemOut]:
        """Returns an item"""
        item = await Item.query(session).filter_by(id=item_id).first()
        if item is None:
            raise NotFound(f"Item {{item_id}} not found")
        return req.res.json(ItemOut.model_validate(item))

    @delete("/<int:item_id>")
    @db.managed_session
    async def delete_item(self, req: Request, item_id: int, session: AsyncSession) -> Response:
        """Deletes an item"""
        item = await Item.query(session).filter_by(id=item_id).first()
        if item is None:
            raise NotFound(f"Item {{item_id}} not found")
        await session.delete(item)
        return req.res.no_content()
''',
    "app/cli.py": '''"""A CLI command: ``dyne --app app:create_app count-items``."""

from app.extensions import db
from app.models import Item
from dyne.cli import CLIController, command


class ItemsCLIController(CLIController):
    @command("count-items", help="Print how many items there are.")
    async def count_items(self):
        async with db.session() as session:
            print(f"{{self.app.settings.APP_NAME}}: {{await Item.query(session).count()}} items")
''',
    "app/configs.py": '''"""The app's typed configuration: every field may be set in the environment
(or ``.env``) under its own name."""

import os
from typing import Any

from dyne.settings import BaseConfig


class Config(BaseConfig):
    APP_NAME: str = "{name}"
    VERSION: str = "0.1.0"
    SECRET_KEY: str | None = None  # from .env
    BASE_PATH: str = os.path.dirname(__file__)
    DEBUG: bool = False

    # The database extension's setting: SQLite in the working directory.
    ALCHEMICAL_DATABASE_URL: str = "sqlite:///app.db"

    MODELS: list[Any] = ["app.models:Item"]
    EXTENSIONS: list[Any] = ["app.extensions:db"]
    CONTROLLERS: list[Any] = ["app.api.items_api:ItemsApi"]
    CLI_CONTROLLERS: list[Any] = ["app.cli:ItemsCLIController"]
''',
    "app/extensions.py": '''"""Extension objects, bound to the app by ``Config.EXTENSIONS``."""

from dyne.ext.db.alchemical import Alchemical

db = Alchemical()
''',
    "app/models.py": '''"""The ``Item`` model and the shapes the API reads and writes."""

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from dyne.ext.db.alchemical import Model


class Item(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    price: Mapped[float]


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    price: float = Field(gt=0, description="In euros")


class ItemOut(ItemIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
''',
    "tests/conftest.py": '''import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A fresh SQLite database for the test session."""
    url = f"sqlite:///{{tmp_path_factory.mktemp('db') / 'test.db'}}"
    os.environ["ALCHEMICAL_DATABASE_URL"] = url  # the environment overrides Config
    return url


@pytest.fixture(scope="session")
def client(database_url):
    # One app per session: the extensions of app/extensions.py bind to one app.
    from app import create_app

    with create_app().client as c:  # runs the start-up handlers (creates the tables)
        yield c
''',
    "tests/test_items.py": '''import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_create_read_delete(client):
    created = client.post("/api/items", json={{"name": "Tea", "price": 3.5}})
    assert created.status_code == 201
    item = created.json()
    assert item["name"] == "Tea" and item["price"] == 3.5
    assert created.headers["location"] == f"/api/items/{{item['id']}}"
    assert client.get(f"/api/items/{{item['id']}}").json() == item
    assert item in client.get("/api/items").json()
    assert client.delete(f"/api/items/{{item['id']}}").status_code == 204
    assert client.get(f"/api/items/{{item['id']}}").status_code == 404


def test_invalid_input_is_a_422(client):
    response = client.post("/api/items", json={{"name": "", "price": -1}})
    assert response.status_code == 422
    assert {{tuple(error["loc"]) for error in response.json()["detail"]}} == {{
        ("body", "name"), ("body", "price")}}


def test_openapi_documents_the_controller(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/api/items"]) == {{"get", "post"}}
    assert set(paths["/api/items/{{item_id}}"]) == {{"get", "delete"}}


def test_the_cli_command(client, database_url):
    client.post("/api/items", json={{"name": "Coffee", "price": 2}})
    count = len(client.get("/api/items").json())
    result = subprocess.run([sys.executable, "-m", "dyne", "--app", "app:create_app",
                             "count-items"], cwd=ROOT, capture_output=True, text=True,
                            env={{**os.environ, "ALCHEMICAL_DATABASE_URL": database_url}})
    assert result.returncode == 0, result.stderr
    assert f"{name}: {{count}} items" in result.stdout
''',
}

_CONTROLLERS_README = """
The project follows PyJolt's layout: `app/configs.py` (`Config`, a
`dyne.settings.BaseConfig`) lists the models, extensions, controllers and CLI
controllers that `create_app()` in `app/__init__.py` registers:

```text
app/__init__.py       create_app(): dyne.App(config=Config)
app/configs.py        Config: settings and what to register
app/extensions.py     db = Alchemical() (SQLite ./app.db unless ALCHEMICAL_DATABASE_URL says otherwise)
app/models.py         the Item model and its pydantic shapes
app/api/items_api.py  ItemsApi: /api/items (list, create, read, delete)
app/cli.py            dyne --app app:create_app count-items
```

The API is documented at http://127.0.0.1:8000/openapi. `export
DYNE_APP=app:create_app` saves typing `--app`.
"""

TEMPLATES: dict[str, dict[str, object]] = {
    "minimal": {"files": _MINIMAL, "dependency": "dyne>={version}",
                "package_files": '["app.py", "templates", "static"]',
                "readme": "\nRoutes: `/` (a page), `/api/hello/{{who}}` (JSON), `/health`.\n"},
    "api": {"files": _API, "dependency": "dyne[openapi_pydantic]>={version}",
            "package_files": '["app.py"]',
            "readme": "\nThe API is documented at http://127.0.0.1:8000/docs "
                      "(OpenAPI schema at `/schema.yml`).\n"},
    "controllers": {"files": _CONTROLLERS,
                    "dependency": "dyne[openapi_pydantic,settings,sqlalchemy]>={version}",
                    "package_files": '["app"]', "app_option": "--app app:create_app ",
                    "readme": _CONTROLLERS_README},
}
#: Templates named by the documentation that this version does not ship yet.
UNAVAILABLE_TEMPLATES: dict[str, str] = {}


def project_files(name: str, template: str = "minimal",
                  secret_key: str | None = None) -> dict[str, str]:
    """The files of a new project: ``{relative path: content}``."""
    spec = TEMPLATES[template]
    values = {"name": name, "version": __version__, "template": template,
              "secret_key": secret_key or secrets.token_urlsafe(48)}
    values["dependency"] = str(spec["dependency"]).format(**values)
    values["package_files"] = str(spec["package_files"])
    values["app_option"] = str(spec.get("app_option", ""))
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
