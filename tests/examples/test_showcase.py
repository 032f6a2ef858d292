"""The showcase app: in-process, and for real under uvicorn over loopback."""

import importlib
import shutil
import subprocess
import sys
import time

import httpx
import pytest
import yaml

from tests.conftest import ROOT, free_port, serve_in_subprocess


@pytest.fixture
def showcase():
    sys.path.insert(0, str(ROOT))
    try:
        module = importlib.import_module("examples.showcase.app")
        module = importlib.reload(module)  # fresh store and app for each test
        yield module
    finally:
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


def test_admin_page_needs_the_admin_role(showcase):
    client = showcase.app.client
    anonymous = client.get("/admin")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith('Basic realm="dyne showcase admin"')
    assert client.get("/admin", auth=("admin", "wrong")).status_code == 401
    assert client.get("/admin", auth=("nobody", "admin-password")).status_code == 401
    assert client.get("/admin", auth=("nobody", "")).status_code == 401
    assert client.get("/admin", auth=("admin", "pässwörd")).status_code == 401
    assert client.get("/admin", auth=("editor", "editor-password")).status_code == 403
    page = client.get("/admin", auth=("admin", "admin-password"))
    assert page.json() == {"admin": "admin", "notes": 1, "published": 1}
    showcase.app.config["ADMIN_PASSWORD"] = "rotated"
    assert client.get("/admin", auth=("admin", "admin-password")).status_code == 401
    assert client.get("/admin", auth=("admin", "rotated")).status_code == 200


def test_showcase_under_uvicorn_answers_httpx_and_curl():
    port = free_port()
    command = [sys.executable, "examples/showcase/app.py"]
    with serve_in_subprocess(command, port, env={"PORT": str(port)}):
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
        for credentials, status in (("admin:admin-password", "200"), ("editor:editor-password", "403"),
                                    ("admin:nope", "401")):
            result = subprocess.run([curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--basic",
                                     "-u", credentials, f"{base}/admin"],
                                    capture_output=True, text=True, timeout=30, check=True)
            assert result.stdout == status, credentials
