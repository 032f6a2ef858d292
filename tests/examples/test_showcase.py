"""The showcase app: in-process (on SQLite and on PostgreSQL), and for real
under uvicorn over loopback."""

import importlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import ROOT, free_port, launch_browser, require_tool, serve_in_subprocess
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
    assert client.put("/notes/1").status_code == 400  # no body
    assert client.post("/notes/1").status_code == 405


def test_validated_create_reports_errors_per_field(showcase):
    client = showcase.app.client
    invalid = client.post("/notes", json={"title": "", "body": 3})
    assert invalid.status_code == 400
    assert invalid.json() == {"errors": {"title": ["String should have at least 1 character"],
                                         "body": ["Input should be a valid string"]}}
    created = client.post("/notes", data={"title": "From a form"})
    assert (created.status_code, created.json()["title"]) == (201, "From a form")
    assert set(created.json()) == {"id", "title", "body", "published"}


def test_attachment_upload_is_validated_and_saved(showcase, tmp_path):
    uploads = tmp_path / "uploads"
    showcase.app.config["UPLOAD_DIR"] = str(uploads)
    client = showcase.app.client
    saved = client.post("/notes/1/attachments", files={"file": ("todo.md", b"# todo\n", "text/markdown")})
    assert (saved.status_code, saved.json()) == (201, {
        "note": 1, "filename": "todo.md", "size": 7, "content_type": "text/markdown"})
    assert (uploads / "note-1-todo.md").read_bytes() == b"# todo\n"
    wrong = client.post("/notes/1/attachments", files={"file": ("run.exe", b"MZ")})
    assert wrong.status_code == 400
    assert list(wrong.json()["errors"]) == ["file"]
    unsafe = client.post("/notes/1/attachments", files={"file": ("../../x.md", b"x")})
    assert unsafe.json() == {"errors": {"file": ["Filename must not contain path separators."]}}
    too_big = client.post("/notes/1/attachments", files={"file": ("big.txt", b"x" * (1024 * 1024 + 1))})
    assert too_big.status_code == 400
    assert client.post("/notes/99/attachments", files={"file": ("a.txt", b"x")}).status_code == 404
    assert sorted(p.name for p in uploads.iterdir()) == ["note-1-todo.md"]


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


def test_the_note_list_is_cached_and_every_change_invalidates_it(showcase):
    client = showcase.app.client
    first = client.get("/notes")
    assert first.headers["x-cache"] == "miss"
    assert client.get("/notes").headers["x-cache"] == "hit"
    assert client.get("/notes", headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    created = client.post("/notes", json={"title": "Fresh"}).json()
    listing = client.get("/notes")
    assert listing.headers["x-cache"] == "miss" and "Fresh" in {n["title"] for n in listing.json()}
    client.post("/graphql", json={"query": 'mutation { createNote(title: "Via GraphQL") { id } }'})
    assert "Via GraphQL" in {n["title"] for n in client.get("/notes").json()}
    client.delete(f"/notes/{created['id']}")
    assert "Fresh" not in {n["title"] for n in client.get("/notes").json()}


def test_the_live_channel_announces_note_changes(showcase):
    showcase.app.config["PUBLISH_DELAY"] = "0.01"
    client = showcase.app.client
    with client.websocket_connect("/ws/notes") as ws:
        assert ws.receive_json() == {"subscribed": "notes"}
        note = client.post("/notes", json={"title": "Live"}).json()
        assert ws.receive_json() == {"event": "created", "note": note}
        client.post(f"/notes/{note['id']}/publish")
        assert ws.receive_json() == {"event": "published", "note": {**note, "published": True}}
        client.delete(f"/notes/{note['id']}")
        assert ws.receive_json() == {"event": "deleted", "note": {"id": note["id"]}}
    assert "new WebSocket" in client.get("/live").text


def test_graphql_over_the_notes(showcase):
    client = showcase.app.client
    client.get("/health")  # start-up seeds the Welcome note
    listing = client.get("/graphql", params={"query": "{ notes { id title published } }"})
    assert listing.json() == {"data": {"notes": [{"id": 1, "title": "Welcome", "published": True}]}}
    created = client.post("/graphql", json={
        "query": "mutation ($title: String!) { createNote(title: $title, body: \"b\") { id title } }",
        "variables": {"title": "From GraphQL"}})
    note = created.json()["data"]["createNote"]
    assert note["title"] == "From GraphQL"
    # The same store as the REST routes.
    assert client.get(f"/notes/{note['id']}").json()["body"] == "b"
    found = client.post("/graphql", json={"query": '{ notes(search: "graph") { title } }'})
    assert found.json() == {"data": {"notes": [{"title": "From GraphQL"}]}}
    assert client.post("/graphql", json={"query": "{ note(id: 999) { title } }"}).json() == {
        "data": {"note": None}}


def test_graphql_refuses_bad_input(showcase):
    client = showcase.app.client
    empty = client.post("/graphql", json={"query": 'mutation { createNote(title: " ") { id } }'})
    assert empty.json()["errors"][0]["message"] == "A note needs a non-empty title."
    assert empty.json()["data"] is None
    over_get = client.get("/graphql", params={"query": 'mutation { createNote(title: "x") { id } }'})
    assert over_get.status_code == 405
    assert client.post("/graphql", content=b"{oops", headers={"content-type": "application/json"}
                       ).status_code == 400
    assert len(client.get("/notes").json()) == 1
    page = client.get("/graphql", headers={"Accept": "text/html"})
    assert "GraphiQL" in page.text
    assert client.get("/").text.count('href="/graphql"') == 1


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
    with serve_in_subprocess(command, port, env={"PORT": str(port), "UPLOAD_DIR": str(tmp_path),
                                                  **database}):
        # PORT binds 0.0.0.0, which includes loopback.
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base) as client:
            assert client.get("/health").json()["status"] == "healthy"
            created = client.post("/notes", json={"title": "Over the wire"})
            assert created.status_code == 201
            assert client.get(created.headers["location"]).json()["title"] == "Over the wire"
            assert client.post("/notes", json={}).status_code == 400
            upload = client.post(created.headers["location"] + "/attachments",
                                 files={"file": ("notes.txt", b"over the wire", "text/plain")})
            assert upload.status_code == 201
            assert (tmp_path / f"note-{created.json()['id']}-notes.txt").read_bytes() == b"over the wire"
            assert client.get("/missing").status_code == 404
            visits = [client.get("/visits").json()["visits"] for _ in range(2)]
            assert visits == [1, 2]
            # The client now holds the session cookie from /visits: a script that is
            # not a browser says where it comes from (docs/security.md, CSRF).
            graphql = client.post("/graphql", json={"query": "{ note(id: 1) { title } }"},
                                  headers={"Accept": "application/graphql-response+json",
                                           "Origin": base})
            assert graphql.status_code == 200, (graphql.status_code, graphql.text)
            assert graphql.json() == {"data": {"note": {"title": "Welcome"}}}
            assert graphql.headers["content-type"].startswith("application/graphql-response+json")
            asset = client.get("/_dyne/graphiql/react-18.3.1/react.production.min.js")
            assert asset.status_code == 200
        curl = require_tool("curl", "apt-get install curl")
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


def test_template_page_static_files_and_websocket_echo(showcase):
    client = showcase.app.client
    page = client.get("/hello/<Ada>")
    assert page.status_code == 200
    assert "<h1>Hello, &lt;Ada&gt;!</h1>" in page.text
    assert '<link rel="stylesheet" href="/static/style.css">' in page.text
    assert '"/ws/echo"' in page.text
    css = client.get("/static/style.css")
    assert css.headers["content-type"].startswith("text/css")
    assert "font-family" in css.text
    assert client.get("/static/../app.py").status_code == 404
    with client.websocket_connect("/ws/echo") as ws:
        ws.send_text("ping")
        assert ws.receive_text() == "echo: ping"
        ws.send_text("pong")
        assert ws.receive_text() == "echo: pong"


def test_showcase_websocket_and_static_over_loopback():
    import asyncio

    import websockets.asyncio.client

    port = free_port()
    with serve_in_subprocess([sys.executable, "examples/showcase/app.py"], port,
                             env={"PORT": str(port)}):
        base = f"http://127.0.0.1:{port}"
        assert "Hello, loopback!" in httpx.get(f"{base}/hello/loopback").text
        assert httpx.get(f"{base}/static/style.css").status_code == 200

        async def talk():
            async with websockets.asyncio.client.connect(f"ws://127.0.0.1:{port}/ws/echo") as ws:
                await ws.send("over the wire")
                return await ws.recv()

        assert asyncio.run(talk()) == "echo: over the wire"


def test_showcase_page_in_headless_chromium():
    """A real browser loads the template page, its stylesheet, and talks to the
    websocket echo from the page's script (waited for, not timed: a loaded
    machine only makes it slower)."""
    port = free_port()
    with serve_in_subprocess([sys.executable, "examples/showcase/app.py"], port,
                             env={"PORT": str(port)}), launch_browser() as browser:
        page = browser.new_page()
        try:
            page.goto(f"http://127.0.0.1:{port}/hello/browser")
            assert "Hello, browser!" in page.content()
            page.wait_for_function(
                """() => document.getElementById("echo").textContent.includes("echo: browser")""",
                timeout=60_000)
            assert page.text_content("#echo") == "Websocket: echo: browser"
            # The stylesheet was fetched and applied (the default font is serif).
            assert "system-ui" in page.evaluate("getComputedStyle(document.body).fontFamily")
        finally:
            page.close()


# -- OpenAPI ---------------------------------------------------------------------------------

def test_openapi_document_of_the_showcase(showcase):
    from openapi_spec_validator import validate

    client = showcase.app.client
    document = yaml.safe_load(client.get("/schema.yml").text)
    validate(document)
    assert document["info"]["title"] == "dyne showcase"
    assert client.get("/schema.json").json() == document
    paths = document["paths"]
    # Websockets, GraphQL and dyne's own routes (docs, assets) are not in it.
    assert "/ws/echo" not in paths and "/graphql" not in paths
    assert not [path for path in paths if path.startswith(("/_dyne", "/docs", "/schema"))]
    assert set(paths["/notes"]) == {"get", "post"}
    create = paths["/notes"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NoteIn"}
    assert set(create["responses"]) == {"201", "400", "415"}
    # The list: its search parameter and the shape of its answer are documented.
    listing = paths["/notes"]["get"]
    assert [(p["name"], p["in"]) for p in listing["parameters"]] == [("q", "query")]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "array", "items": {"$ref": "#/components/schemas/NoteOut"}}
    publish = paths["/notes/{id}/publish"]["post"]
    assert publish["responses"]["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Publishing"}
    upload = paths["/notes/{id}/attachments"]["post"]
    assert list(upload["requestBody"]["content"]) == ["multipart/form-data"]
    assert document["components"]["schemas"]["AttachmentForm"]["properties"]["file"] == {
        "type": "string", "format": "binary", "title": "File"}
    note = paths["/notes/{id}"]
    assert set(note) == {"get", "put", "patch", "delete"}
    assert note["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NoteOut"}
    assert set(note["delete"]["responses"]) == {"204", "404"}
    # The server agrees with the document: undocumented methods are 405.
    for path, item in (("/notes", paths["/notes"]), ("/notes/1", note)):
        allow = client.options(path).headers["allow"]
        documented = {method.upper() for method in item}
        assert set(allow.split(", ")) == documented | {"HEAD", "OPTIONS"}
    refused = client.delete("/notes")
    assert refused.status_code == 405 and refused.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert client.put("/notes/1").status_code == 400  # no body
    assert client.post("/notes/1").status_code == 405
    docs = client.get("/docs")
    assert "swagger-ui-bundle.js" in docs.text
    assert client.get("/").text.count('href="/docs"') == 1


def test_client_downloads_build_the_document_once(showcase, monkeypatch):
    import dyne.ext.openapi.extension as openapi_extension
    from dyne.clientgen import generate

    builds = []
    collect = openapi_extension.collect

    def counting_collect(app):
        builds.append(app)
        return collect(app)

    monkeypatch.setattr(openapi_extension, "collect", counting_collect)
    client = showcase.app.client
    downloads = {name: [client.get(f"/clients/{name}") for _ in range(3)]
                 for name in ("python.py", "typescript.ts")}
    assert len(builds) == 1  # the first download builds the document; none after
    document = showcase.api.to_dict()
    for name, lang in (("python.py", "python"), ("typescript.ts", "typescript")):
        answers = downloads[name]
        assert all(answer.status_code == 200 for answer in answers)
        assert {answer.content for answer in answers} == {generate(document, lang).encode()}
        assert answers[0].headers["content-disposition"] == (
            f'attachment; filename="showcase_client.{name.split(".")[1]}"')
    assert client.get("/clients/go.go").status_code == 404


@pytest.mark.server
@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_schemathesis_finds_nothing_against_the_showcase_spec(tmp_path, version):
    """Schemathesis reads the showcase's own document and fuzzes every
    operation through uvicorn: no 5xx, no status code, content type, header
    or body that the document does not describe, no invalid request
    accepted. Two checks are left out, on purpose: ``unsupported_method``
    (a dyne route declared without ``methods=`` answers every method by
    design; the document lists the one it is meant for) and
    ``positive_data_acceptance`` (the upload's allowed file extensions are a
    rule JSON Schema cannot state for a binary part, so a schema-valid
    upload named ``file`` is refused with a documented 400)."""
    st = Path(sys.executable).parent / "st"
    port = free_port()
    env = {"PORT": str(port), "UPLOAD_DIR": str(tmp_path), "OPENAPI_SPEC_VERSION": version,
           "PUBLISH_DELAY": "0",
           # Welcome emails (POST /signup) stay in memory: no SMTP server here.
           "EMAIL_CLIENT": '{"BACKEND": "memory", "SENDER_NAME_OR_ADDRESS": "s@example.com"}'}
    with serve_in_subprocess([sys.executable, "examples/showcase/app.py"], port, env=env):
        document = httpx.get(f"http://127.0.0.1:{port}/schema.json").json()
        assert document["openapi"] == version
        operations = sum(len(item) for item in document["paths"].values())
        result = subprocess.run(
            [str(st), "run", f"http://127.0.0.1:{port}/schema.json", "--checks", "all",
             "--exclude-checks", "unsupported_method,positive_data_acceptance",
             # The admin account, for the operation behind HTTP Basic (schemathesis
             # also checks that it refuses requests without credentials).
             "--auth", "admin:admin-password",
             "--max-examples", "40", "--seed", "20240601", "--workers", "1", "--no-color"],
            capture_output=True, text=True, timeout=540, cwd=tmp_path)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert f"Tested: {operations}" in report
    assert "No issues found" in report
    assert "warning" not in report.lower(), report


# -- jobs: the welcome email through a durable task, and the scheduled job -----------------

def send_mail_to(showcase, port):
    showcase.app.config["EMAIL_CLIENT"] = {
        "SENDER_NAME_OR_ADDRESS": "dyne showcase <showcase@example.com>",
        "SMTP_SERVER": "127.0.0.1", "SMTP_PORT": port, "USE_TLS": False}


@pytest.fixture
def mailbox_and_showcase(showcase):
    """A real SMTP server (aiosmtpd) the showcase sends to, and the showcase."""
    from tests.ext.email.smtp import smtp_server

    with smtp_server() as (port, mailbox):
        send_mail_to(showcase, port)
        yield mailbox, showcase


def wait_for_task(client, status_url, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = client.get(status_url).json()
        if info["state"] != "pending":
            return info
        time.sleep(0.05)
    raise AssertionError(f"{status_url} still pending after {timeout}s")


def test_signup_sends_a_welcome_email_through_a_task(mailbox_and_showcase):
    mailbox, showcase = mailbox_and_showcase
    client = showcase.app.client
    queued = client.post("/signup", json={"email": "ada@example.com", "name": "Ada <3"})
    assert queued.status_code == 202
    info = wait_for_task(client, queued.json()["status"])
    assert info["state"] == "succeeded"
    [received] = mailbox.messages
    message = received.message
    assert received.rcpt_tos == ["ada@example.com"]
    assert message["Subject"] == "Welcome to the dyne showcase"
    assert message["Message-ID"] == info["result"]
    assert "<h1>Welcome, Ada &lt;3!</h1>" in message.get_body(("html",)).get_content()
    assert "Welcome, Ada <3!" in message.get_body(("plain",)).get_content()
    # Signing up twice sends one email (the idempotency key), and bad input is a 400.
    again = client.post("/signup", json={"email": "ADA@example.com", "name": "Ada"})
    assert again.json()["task"] == queued.json()["task"]
    for bad in ({"email": "ada@example.com\r\nBcc: x@example.com", "name": "A"},
                {"email": "not-an-email", "name": "A"}, {"email": "a@example.com", "name": ""},
                {"email": "a@example.com"}):
        assert client.post("/signup", json=bad).status_code == 400
    assert client.get("/tasks/" + "x" * 100).status_code == 404
    assert len(mailbox.messages) == 1


@pytest.fixture
def tasks_on_redis(redis_url, redis_prefix, monkeypatch):
    """Environment for the showcase (and its worker) on Redis, sending to a
    local SMTP port; set before the showcase is imported."""
    import json

    port = free_port()
    monkeypatch.setenv("TASKS", json.dumps({"BROKER": redis_url, "QUEUE": "showcase-test",
                                            "KEY_PREFIX": redis_prefix, "RETRY_DELAY": 0.2}))
    monkeypatch.setenv("EMAIL_CLIENT", json.dumps({
        "SENDER_NAME_OR_ADDRESS": "showcase@example.com", "SMTP_SERVER": "127.0.0.1",
        "SMTP_PORT": port, "USE_TLS": False}))
    return port


@pytest.mark.services
def test_signup_through_redis_and_a_worker(tasks_on_redis, showcase):
    from tests.ext.email.smtp import smtp_server

    worker = subprocess.Popen(
        [sys.executable, "-m", "dyne", "--app", "examples.showcase.app:app", "worker",
         "--log-level", "warning"], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        with smtp_server(tasks_on_redis) as (_, mailbox):
            client = showcase.app.client
            queued = client.post("/signup", json={"email": "bob@example.com", "name": "Bob"})
            assert queued.status_code == 202
            assert wait_for_task(client, queued.json()["status"], timeout=60)["state"] == "succeeded"
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert [m.rcpt_tos for m in mailbox.messages] == [["bob@example.com"]]


def test_the_scheduled_job_purges_old_uploads(showcase, tmp_path):
    showcase.app.config["UPLOAD_DIR"] = str(tmp_path)  # a fresh app per test
    old, new = tmp_path / "note-1-old.txt", tmp_path / "note-1-new.txt"
    old.write_text("old")
    new.write_text("new")
    day_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (day_ago, day_ago))
    with showcase.app.client as client:
        client.get("/health")
        job = showcase.housekeeping.get_job("purge_uploads")
        assert job.trigger.interval.total_seconds() == 600
        assert showcase.housekeeping.purge_uploads() == 1
    assert not old.exists() and new.exists()
