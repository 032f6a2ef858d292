"""The showcase app: in-process (on SQLite and on PostgreSQL), and for real
under uvicorn over loopback."""

import importlib
import shutil
import subprocess
import sys
import time

import httpx
import pytest
import yaml

from tests.conftest import ROOT, free_port, serve_in_subprocess
from tests.ext.db.conftest import database_url, postgres_database  # noqa: F401 - fixtures


@pytest.fixture
def showcase(database_url, monkeypatch):  # noqa: F811 - the imported fixture
    monkeypatch.setenv("ALCHEMICAL_DATABASE_URL", database_url)
    sys.path.insert(0, str(ROOT))
    module = None
    try:
        name = "examples.showcase.app"
        # A fresh app for each test, on the test's database.
        module = importlib.reload(sys.modules[name]) if name in sys.modules else \
            importlib.import_module(name)
        yield module
    finally:
        if module is not None and module.app._client is not None:
            module.app._client.close()
        sys.path.remove(str(ROOT))


def test_notes_crud_in_process(showcase):
    client = showcase.app.client
    assert client.get("/health").json()["status"] == "healthy"
    created = client.post("/notes", json={"title": "Groceries", "body": "milk"})
    assert created.status_code == 201
    note = created.json()
    assert created.headers["location"] == f"/notes/{note['id']}"
    assert client.get(f"/notes/{note['id']}").json()["title"] == "Groceries"
    assert [n["title"] for n in client.get("/notes?q=groc").json()] == ["Groceries"]
    listing = yaml.safe_load(client.get("/notes", headers={"Accept": "application/x-yaml"}).text)
    assert {n["title"] for n in listing} == {"Welcome", "Groceries"}
    assert client.delete(f"/notes/{note['id']}").status_code == 204
    missing = client.get(f"/notes/{note['id']}")
    assert missing.status_code == 404
    assert missing.json() == {"error": "Not Found", "detail": f"Note {note['id']} not found"}


def test_bad_input_is_4xx(showcase):
    client = showcase.app.client
    assert client.post("/notes", json={"body": "no title"}).status_code == 400
    assert client.post("/notes", json=["not", "an", "object"]).status_code == 400
    assert client.post("/notes", content=b"{oops", headers={"content-type": "application/json"}
                       ).status_code == 400
    assert client.get("/notes/not-a-number").status_code == 404
    assert client.put("/notes/1").status_code == 405


def test_background_publish_and_session_and_events(showcase):
    showcase.app.config["PUBLISH_DELAY"] = "0.05"
    client = showcase.app.client
    assert client.post("/notes/1/publish").status_code == 202
    deadline = time.monotonic() + 5
    while not client.get("/notes/1").json()["published"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert client.get("/notes/1").json()["published"] is True
    assert client.get("/visits").json() == {"visits": 1}
    assert client.get("/visits").json() == {"visits": 2}
    events = client.get("/clock?count=2").text
    assert events.count("event: tick") == 2
    assert client.get("/").headers["x-served-by"] == "dyne showcase"


def test_notes_are_stored_in_the_configured_database(showcase, database_url):  # noqa: F811
    client = showcase.app.client
    created = client.post("/notes", json={"title": "Kept"}).json()
    engine = showcase.db.get_engine()
    assert engine.url.drivername == ("postgresql+asyncpg" if database_url.startswith("postgresql")
                                     else "sqlite+aiosqlite")
    client.stop()  # shutdown; the next request starts the app again, on the same database
    assert client.get(f"/notes/{created['id']}").json()["title"] == "Kept"
    assert [n["title"] for n in client.get("/notes").json()] == ["Welcome", "Kept"]
    assert engine.pool.checkedout() == 0


def test_default_database_is_a_sqlite_file_next_to_the_app(tmp_path, monkeypatch):
    monkeypatch.delenv("ALCHEMICAL_DATABASE_URL", raising=False)
    copy = tmp_path / "showcase_copy.py"
    shutil.copyfile(ROOT / "examples" / "showcase" / "app.py", copy)
    port = free_port()
    with serve_in_subprocess([sys.executable, str(copy)], port, env={"PORT": str(port)},
                             cwd=tmp_path):
        notes = httpx.get(f"http://127.0.0.1:{port}/notes").json()
    assert [n["title"] for n in notes] == ["Welcome"]
    assert (tmp_path / "showcase.db").is_file()  # tables created at start-up, on a fresh machine


def test_showcase_under_uvicorn_answers_httpx_and_curl(tmp_path):
    port = free_port()
    command = [sys.executable, "examples/showcase/app.py"]
    database = {"ALCHEMICAL_DATABASE_URL": f"sqlite:///{tmp_path / 'notes.db'}"}
    with serve_in_subprocess(command, port, env={"PORT": str(port), **database}):
        # PORT binds 0.0.0.0, which includes loopback.
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base) as client:
            assert client.get("/health").json()["status"] == "healthy"
            created = client.post("/notes", json={"title": "Over the wire"})
            assert created.status_code == 201
            assert client.get(created.headers["location"]).json()["title"] == "Over the wire"
            assert client.get("/missing").status_code == 404
            visits = [client.get("/visits").json()["visits"] for _ in range(2)]
            assert visits == [1, 2]
        curl = shutil.which("curl")
        if curl is None:
            pytest.skip("curl is not installed")
        result = subprocess.run([curl, "-sS", "-i", f"{base}/notes/1"], capture_output=True,
                                text=True, timeout=30, check=True)
        assert result.stdout.startswith("HTTP/1.1 200")
        assert '"title":"Welcome"' in result.stdout
        result = subprocess.run([curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                                 "-X", "POST", "-H", "Content-Type: application/json",
                                 "--data", "{broken", f"{base}/notes"],
                                capture_output=True, text=True, timeout=30, check=True)
        assert result.stdout == "400"
