"""`dyne openapi export` and `dyne client`: the document and the generated
clients from the command line, run as a user runs them (a subprocess in the
project's directory)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import yaml

from dyne.clientgen import generate

APP = textwrap.dedent('''
    import dyne
    from pydantic import BaseModel
    from dyne.ext.io.pydantic import input, output
    from dyne.ext.openapi import OpenAPI

    app = dyne.App()
    api = OpenAPI(app, title="Books", version="4.2")

    class Book(BaseModel):
        title: str

    @app.route("/books", methods=["POST"])
    @input(Book)
    @output(Book, status_code=201)
    async def add_book(req, resp, *, data):
        resp.obj = data
''')


@pytest.fixture
def project(tmp_path):
    (tmp_path / "books.py").write_text(APP)
    (tmp_path / "plain.py").write_text("import dyne\napp = dyne.App()\n")
    return tmp_path


def dyne(project, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dyne", *args], cwd=project, capture_output=True,
                          text=True, timeout=120)


def served_document(project) -> dict:
    sys.path.insert(0, str(project))
    try:
        import books

        return books.app.client.get("/schema.json").json()
    finally:
        sys.path.remove(str(project))
        sys.modules.pop("books", None)


def test_export_writes_the_served_document_as_json_or_yaml(project):
    expected = served_document(project)
    result = dyne(project, "--app", "books", "openapi", "export")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected
    result = dyne(project, "--app", "books", "openapi", "export", "--format", "yaml")
    assert yaml.safe_load(result.stdout) == expected and not result.stdout.startswith("{")
    # To a file: the format follows its suffix unless --format says otherwise.
    for name, load in (("openapi.yaml", yaml.safe_load), ("openapi.json", json.loads)):
        result = dyne(project, "--app", "books.py", "openapi", "export", "-o", name)
        assert result.returncode == 0, result.stderr
        assert f"Wrote the OpenAPI document to {name}" in result.stderr
        assert load((project / name).read_text()) == expected
    dyne(project, "--app", "books", "openapi", "export", "-o", "doc.txt", "--format", "yaml")
    assert (project / "doc.txt").read_text().startswith("openapi: 3.0.3\n")


def test_export_says_when_the_app_has_no_openapi_extension(project):
    result = dyne(project, "--app", "plain", "openapi", "export")
    assert result.returncode == 1
    assert "The app plain:app has no OpenAPI documentation: add `api = OpenAPI(app)`" in result.stderr
    result = dyne(project, "--app", "plain", "client", "--lang", "python")
    assert result.returncode == 1 and "has no OpenAPI documentation" in result.stderr
    result = dyne(project, "--app", "books", "openapi", "export", "-o", "missing/dir/x.json")
    assert result.returncode == 1 and "no directory missing/dir" in result.stderr
    result = dyne(project, "--app", "books", "openapi", "export", "--format", "xml")
    assert result.returncode == 2 and "'xml' is not one of 'json', 'yaml'" in result.stderr


def test_client_writes_the_generated_client(project):
    document = served_document(project)
    result = dyne(project, "--app", "books", "client", "--lang", "python", "-o", "books_client.py")
    assert result.returncode == 0, result.stderr
    assert (project / "books_client.py").read_text() == generate(document, "python")
    # To standard output, and into a directory as client.ts.
    result = dyne(project, "--app", "books", "client", "--lang", "typescript")
    assert result.stdout == generate(document, "typescript")
    (project / "web").mkdir()
    assert dyne(project, "--app", "books", "client", "-l", "typescript", "-o", "web").returncode == 0
    assert (project / "web" / "client.ts").read_text() == generate(document, "typescript")
    assert "async addBook(body: Book): Promise<Book>" in (project / "web" / "client.ts").read_text()


def test_client_from_a_saved_document_needs_no_app(project):
    dyne(project, "--app", "books", "openapi", "export", "-o", "openapi.yaml")
    result = dyne(project, "--app", "nowhere", "client", "--lang", "python", "--schema", "openapi.yaml")
    assert result.returncode == 0, result.stderr
    assert "def add_book(self, body: Book) -> Book:" in result.stdout
    (project / "bad.yaml").write_text("swagger: '2.0'\n")
    result = dyne(project, "client", "--lang", "python", "--schema", "bad.yaml")
    assert result.returncode == 1
    assert "bad.yaml: Not an OpenAPI 3 document" in result.stderr
    result = dyne(project, "client", "--lang", "python", "--schema", "nope.yaml")
    assert result.returncode == 1 and "Cannot read nope.yaml" in result.stderr
    result = dyne(project, "client", "--lang", "go", "--schema", "openapi.yaml")
    assert result.returncode == 2 and "'go' is not one of 'python', 'typescript'" in result.stderr
