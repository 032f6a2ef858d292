"""The PyJolt-style example (examples/pyjolt_style): served by ``dyne run``
under uvicorn, exercised with httpx over loopback; its CLI commands run by
the real ``dyne`` command; its OpenAPI document (controllers and a function
view in one document) validated for OpenAPI 3.0 and 3.1."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, free_port, require_module, serve_in_subprocess
from tests.ext.db.conftest import database_url, postgres_database  # noqa: F401 - fixtures

EXAMPLE = ROOT / "examples" / "pyjolt_style"


@pytest.fixture
def workdir(tmp_path) -> Path:
    require_module("sqlalchemy")
    require_module("aiosqlite")
    return tmp_path


def _env(workdir: Path, **extra: str) -> dict[str, str]:
    """The example's settings for a test: its database and maintenance flag
    in ``workdir``; every other field as the example sets it."""
    return {"PYTHONPATH": str(EXAMPLE), "DEBUG": "false", "OPENAPI_SPEC_VERSION": "3.1.0",
            "ALCHEMICAL_DATABASE_URL": f"sqlite:///{workdir / 'library.db'}",
            "MAINTENANCE_FILE": str(workdir / "maintenance.flag"), "DYNE_APP": "app:create_app",
            **extra}


@contextmanager
def served(workdir: Path, **extra: str) -> Iterator[httpx.Client]:
    port = free_port()
    command = [sys.executable, "-m", "dyne", "run", "--port", str(port)]
    with (serve_in_subprocess(command, port, env=_env(workdir, **extra), cwd=workdir),
          httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client):
        yield client


def dyne(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "dyne", *args], cwd=workdir,
                          env={**os.environ, **_env(workdir)}, capture_output=True, text=True,
                          timeout=120)


BOOK = {"title": "Emma", "author": "Jane Austen", "year": 1815}


def test_books_crud_errors_middleware_and_cors_under_uvicorn(workdir, database_url):  # noqa: F811
    # On SQLite (the example's default) and on PostgreSQL, set in the environment.
    with served(workdir, ALCHEMICAL_DATABASE_URL=database_url) as client:
        assert client.get("/health").json() == {"status": "healthy", "app": "Library"}

        created = client.post("/api/v1/books", json=BOOK)
        assert created.status_code == 201, created.text
        book = created.json()
        assert book == {**BOOK, "id": 1}
        assert created.headers["location"] == "/api/v1/books/1"  # app.url_for
        assert created.headers["x-process-time-ms"].isdigit()  # TimingMW

        assert client.get("/api/v1/books/1").json() == book
        replaced = client.put("/api/v1/books/1", json={**BOOK, "year": 1816})
        assert replaced.json()["year"] == 1816
        client.post("/api/v1/books", json={"title": "Persuasion", "author": "Jane Austen",
                                           "year": 1817})
        listing = client.get("/api/v1/books", params={"q": "PERS"}).json()
        assert [b["title"] for b in listing["items"]] == ["Persuasion"]
        assert listing["total"] == 1 and listing["page"] == 1
        for page in ("0", "two", "-1", "9" * 30):
            refused = client.get("/api/v1/books", params={"page": page})
            assert refused.status_code == 400, page
            assert refused.json()["message"] == "page must be a whole number from 1"

        # The exception handler class answers a missing book, and invalid bodies.
        missing = client.get("/api/v1/books/99")
        assert missing.status_code == 404
        assert missing.json() == {"message": "Book 99 not found", "details": {"book_id": "99"}}
        invalid = client.post("/api/v1/books", json={"title": "", "year": "soon"})
        assert invalid.status_code == 422
        assert invalid.json()["message"] == "Validation failed."
        assert set(invalid.json()["details"]) == {"title", "author", "year"}
        assert "at least 1 character" in invalid.json()["details"]["title"]
        not_an_object = client.post("/api/v1/books", json=["Emma"])
        assert not_an_object.status_code == 422
        assert list(not_an_object.json()["details"]) == ["body"]
        malformed = client.post("/api/v1/books", content=b"{oops",
                                headers={"content-type": "application/json"})
        assert malformed.status_code == 400
        assert client.post("/api/v1/books", content=b"x",
                           headers={"content-type": "text/plain"}).status_code == 415
        assert client.get("/api/v1/books/not-a-number").status_code == 404

        # Deleted, then gone (rolled back nothing else).
        assert client.delete("/api/v1/books/1").status_code == 204
        assert client.get("/api/v1/books/1").status_code == 404
        assert client.get("/api/v1/books/count").json() == {"books": 1}

        # MaintenanceMW short-circuits writes while the flag file exists.
        (workdir / "maintenance.flag").write_text("")
        refused = client.post("/api/v1/books", json=BOOK)
        assert refused.status_code == 503
        assert refused.json() == {"message": "Down for maintenance, try again later."}
        assert refused.headers["x-process-time-ms"].isdigit()  # TimingMW is outermost
        assert client.get("/api/v1/books/count").json() == {"books": 1}
        (workdir / "maintenance.flag").unlink()

        # @cors on one endpoint; the app-wide policy is off.
        preflight = client.options("/api/v1/books/count", headers={
            "Origin": "https://catalogue.example", "Access-Control-Request-Method": "GET"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://catalogue.example"
        assert preflight.headers["access-control-max-age"] == "600"
        assert client.options("/api/v1/books/count", headers={
            "Origin": "https://else.example", "Access-Control-Request-Method": "GET"}
        ).status_code == 400
        counted = client.get("/api/v1/books/count", headers={"Origin": "https://catalogue.example"})
        assert counted.headers["access-control-allow-origin"] == "https://catalogue.example"
        other = client.get("/api/v1/books/1", headers={"Origin": "https://catalogue.example"})
        assert "access-control-allow-origin" not in other.headers


def test_cli_commands_run_with_the_real_dyne_command(workdir):
    added = dyne(workdir, "add-book", "Emma", "Jane Austen", "1815")
    assert added.returncode == 0, added.stderr
    assert "Added book 1: Emma (Jane Austen, 1815)." in added.stdout
    counted = dyne(workdir, "count-books")
    assert counted.returncode == 0, counted.stderr
    assert "Library has 1 books." in counted.stdout
    bad = dyne(workdir, "add-book", "Emma", "Jane Austen", "soon")
    assert bad.returncode == 2
    assert "'soon' is not a valid integer" in bad.stderr
    # The server sees what the command wrote.
    with served(workdir) as client:
        assert client.get("/api/v1/books/1").json()["title"] == "Emma"


@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_one_openapi_document_for_controllers_and_views_validates(workdir, version):
    require_module("openapi_spec_validator")
    from openapi_spec_validator import validate

    with served(workdir, OPENAPI_SPEC_VERSION=version) as client:
        response = client.get("/openapi.json")
        assert client.get("/openapi").status_code == 200
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert document["openapi"] == version
    assert document["info"]["title"] == "Library" and document["info"]["version"] == "1.0"
    paths = document["paths"]
    assert "/health" in paths  # the function view
    assert set(paths["/api/v1/books/{book_id}"]) == {"get", "put", "delete"}
    create = paths["/api/v1/books"]["post"]
    assert create["tags"] == ["Books"] and create["summary"] == "Creates a book"
    assert "application/json" in create["requestBody"]["content"]
    get_book = paths["/api/v1/books/{book_id}"]["get"]
    assert get_book["responses"]["404"]["description"] == "No such book"


def test_the_examples_own_tests_pass_with_the_async_test_client(workdir):
    """examples/pyjolt_style/tests: seed 002's conftest (``async with
    TestClient(app)``), run by pytest as a user of the example would."""
    import os

    env = {key: value for key, value in os.environ.items()
           if key not in ("ALCHEMICAL_DATABASE_URL", "PYTHONPATH", "DYNE_APP")}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "--basetemp", str(workdir / "pytest")], cwd=EXAMPLE, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
    assert not (EXAMPLE / "library.db").exists()  # the tests used their own database
