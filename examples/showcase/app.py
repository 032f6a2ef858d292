"""The dyne showcase: one small app that grows with every feature.

Run it with ``python examples/showcase/app.py`` (http://127.0.0.1:5042), or
``dyne run --app examples.showcase.app --port 5099`` for another loopback port.
It has a demo admin password: keep it on 127.0.0.1 (no ``--host 0.0.0.0``,
no ``PORT`` variable, which binds every interface).

Today it shows: routing with typed parameters, JSON in and out, content
negotiation, configuration, error handlers, cookie sessions, before/after
hooks, a class-based view, Server-Sent Events, a background task, request
validation and response serialization (dyne.ext.io), validated file uploads,
a GraphQL API over the same notes (open /graphql in a browser for GraphiQL),
a websocket echo, a Jinja2 template page, static files, an admin page behind
HTTP Basic authentication with roles, notes stored with SQLAlchemy: in
SQLite (``examples/showcase/showcase.db``) by default, in PostgreSQL with
``ALCHEMICAL_DATABASE_URL=postgresql://user@localhost/showcase``, the
API's OpenAPI documentation (/docs, /schema.yml), a cached note list
(dyne.ext.cache, invalidated by tag on every change) and a live page (/live)
fed by a channel (dyne.ext.channels). ``CACHE_BACKEND=redis`` and
``CHANNELS_BACKEND=redis`` share both between workers.

Jobs: ``POST /signup`` sends a welcome email through a durable task (in
process by default; with ``TASKS='{"BROKER": "redis://127.0.0.1:6379/0"}'``
through Redis, run by ``dyne --app examples.showcase.app:app worker``), to the
SMTP server in ``EMAIL_CLIENT`` (127.0.0.1:1025 by default: try
``python -m aiosmtpd -n -l 127.0.0.1:1025`` to see the messages); a scheduled
job purges old uploads every 10 minutes.

The admin dashboard (``/console``, dyne.ext.admin) shows the notes table,
jobs, logs, uploads and its audit log to the demo "admin" account.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import tempfile
import threading
import time
from pathlib import Path

import strawberry
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sqlalchemy import Boolean, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

import dyne
from dyne.exceptions import abort
from dyne.ext.admin import Admin
from dyne.ext.ai import AiInterface, tool
from dyne.ext.auth import BasicAuth, authenticate
from dyne.ext.cache import Cache
from dyne.ext.channels import Channels
from dyne.ext.db.alchemical import Alchemical, CRUDMixin, Model
from dyne.ext.email import EmailClient
from dyne.ext.graphql import GraphQLView
from dyne.ext.graphql.strawberry import Schema
from dyne.ext.io.pydantic import expect, input, output
from dyne.ext.io.pydantic.fields import FileField
from dyne.ext.nosql import NoSqlDatabase
from dyne.ext.openapi import OpenAPI
from dyne.ext.scheduler import TaskManager, schedule_job
from dyne.ext.tasks import TaskQueue
from dyne.websockets import WebSocketDisconnect

HERE = Path(__file__).resolve().parent


class Defaults:
    """Settings used unless the environment or a .env file says otherwise."""

    APP_NAME = "dyne showcase"
    PUBLISH_DELAY = 0.5  # seconds a "publish" background job takes
    SECRET_KEY = "change-me-in-production"
    UPLOAD_DIR = os.path.join(tempfile.gettempdir(), "dyne-showcase-uploads")
    ADMIN_PASSWORD = "admin-password"  # the "admin" account (role admin)
    EDITOR_PASSWORD = "editor-password"  # the "editor" account (role editor)
    # Where notes are stored: a SQLite file next to this one, unless the
    # environment (or .env) sets ALCHEMICAL_DATABASE_URL.
    ALCHEMICAL_DATABASE_URL = f"sqlite:///{HERE / 'showcase.db'}"
    # The note list is cached, in memory unless CACHE_BACKEND=redis; changes
    # are announced on the "notes" channel (CHANNELS_BACKEND=redis to share it).
    CACHE_BACKEND = "memory"
    CHANNELS_BACKEND = "memory"
    # Durable tasks: in process unless the environment names a broker.
    TASKS = {"BROKER": "memory://", "QUEUE": "showcase", "RETRY_DELAY": 2}
    # Outgoing email: a local SMTP server without TLS (a development setup).
    EMAIL_CLIENT = {"SENDER_NAME_OR_ADDRESS": "dyne showcase <showcase@example.com>",
                    "SMTP_SERVER": "127.0.0.1", "SMTP_PORT": 1025, "USE_TLS": False}
    UPLOAD_MAX_AGE = 24 * 3600  # seconds an upload is kept
    # The chat page talks to any OpenAI-compatible server named by
    # AI_INTERFACE_API_BASE_URL (with AI_INTERFACE_API_KEY); it says so when unset.
    AI_INTERFACE = {"MODEL": "llama3.2", "TOOL_CHOICE": True, "TIMEOUT": 60}
    # The bookmark collection needs a document database, e.g. NOSQL_DATABASE=
    # {"BACKEND": "postgres", "DATABASE_URI": "postgresql://postgres@localhost/showcase"}


app = dyne.App(static_dir=HERE / "static", templates_dir=HERE / "templates")
app.config.from_object(Defaults)
# The API's documentation, generated from the routes: /docs, /schema.yml, /schema.json.
api = OpenAPI(app, title="dyne showcase", version="1.0",
              description="Notes with validated input, uploads and background publishing.")

db = Alchemical(app)
cache = Cache(app)
channels = Channels(app)


async def notes_changed(event: str, note: dict) -> None:
    """Drop the cached note lists and tell the live page."""
    await cache.invalidate_tags("notes")
    await channels.publish("notes", {"event": event, "note": note})


def notes_changed_after_commit(req, event: str, note: dict) -> None:
    """For views in a @db.transaction: announce the change once the request is
    done (the transaction committed), so that no request can cache the list
    between the invalidation and the commit."""
    req.scope.setdefault("showcase.changes", []).append((event, note))


@app.after_request
async def announce_changes(req, resp):
    for event, note in req.scope.pop("showcase.changes", ()):
        if resp.status_code < 400:
            await notes_changed(event, note)


class NoteRecord(CRUDMixin, Model):
    """A note, as stored."""

    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(Boolean, default=False)

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "body": self.body, "published": self.published}


@app.on_event("startup")
async def seed() -> None:
    await db.create_all()
    async with db.begin():
        if await NoteRecord.find() is None:
            await NoteRecord.create(title="Welcome", body="Hello from dyne.", published=True)
    app.state.started_at = time.time()


@app.after_request
def served_by(req, resp):
    resp.headers["X-Served-By"] = app.config.APP_NAME


FEATURES = [
    {"id": "notes", "title": "Notes API", "href": "/notes",
     "text": "CRUD over SQLAlchemy with validated input and output; JSON, YAML or MessagePack "
             "by the Accept header; cached list.",
     "try": "POST /notes · PUT /notes/1 · PATCH /notes/1 · DELETE /notes/1"},
    {"id": "note", "title": "One note", "href": "/notes/1",
     "text": "A class-based view with typed path parameters and a 404 as problem details.",
     "try": "GET /notes/1"},
    {"id": "uploads", "title": "Validated uploads", "href": "/docs#uploads",
     "text": "Multipart uploads checked for size and type before the view runs.",
     "try": "POST /notes/1/attachments"},
    {"id": "jobs", "title": "Background jobs", "href": "/docs#jobs",
     "text": "Publishing runs after the response; sign-up emails go through a durable task "
             "queue; a scheduled job purges old uploads.",
     "try": "POST /notes/1/publish · POST /signup"},
    {"id": "sessions", "title": "Cookie sessions", "href": "/visits",
     "text": "A signed cookie session counts your visits.", "try": "GET /visits"},
    {"id": "sse", "title": "Server-Sent Events", "href": "/clock",
     "text": "A stream of clock ticks pushed to the browser.", "try": "GET /clock"},
    {"id": "templates", "title": "Templates and websockets", "href": "/hello/world",
     "text": "A Jinja2 page with static CSS that talks to a websocket echo.",
     "try": "GET /hello/world · ws /ws/echo"},
    {"id": "live", "title": "Live updates", "href": "/live",
     "text": "Note changes as they happen: a channel published to websocket subscribers.",
     "try": "GET /live · ws /ws/notes"},
    {"id": "graphql", "title": "GraphQL", "href": "/graphql",
     "text": "A Strawberry schema over the same notes, with GraphiQL in a browser.",
     "try": "POST /graphql"},
    {"id": "bookmarks", "title": "Document collections", "href": "/bookmarks",
     "text": "Bookmarks in a NoSQL document store (set NOSQL_DATABASE to enable).",
     "try": "GET /bookmarks"},
    {"id": "chat", "title": "An assistant", "href": "/chat",
     "text": "Chat with any OpenAI-compatible server, streamed as it answers.",
     "try": "GET /chat"},
    {"id": "admin", "title": "Admin page", "href": "/admin",
     "text": "HTTP Basic authentication with roles: only the admin role may enter.",
     "try": "GET /admin (user admin)"},
    {"id": "bookmarks", "title": "Document collection", "href": "/bookmarks",
     "text": "Bookmarks in a document database (dyne.ext.nosql); needs NOSQL_DATABASE.",
     "try": "GET /bookmarks · POST /bookmarks"},
    {"id": "chat", "title": "AI chat", "href": "/chat",
     "text": "An assistant on any OpenAI-compatible server, streamed as Server-Sent Events.",
     "try": "GET /chat"},
    {"id": "clients", "title": "Generated API clients", "href": "/clients/python.py",
     "text": "Typed Python (httpx) and TypeScript (fetch) clients, generated from the OpenAPI "
             "document: `dyne client --lang python`.",
     "try": "GET /clients/python.py · GET /clients/typescript.ts"},
    {"id": "health", "title": "Health check", "href": "/health",
     "text": "What a load balancer or orchestrator polls.", "try": "GET /health"},
]
DOCS_THEMES = [("swaggerui", "Swagger UI"), ("redoc", "ReDoc"), ("rapidoc", "RapiDoc"),
               ("elements", "Stoplight Elements"), ("scalar", "Scalar")]


@app.route("/", methods=["GET"])
def index(req, resp):
    from dyne.__version__ import __version__

    resp.html = app.template("home.html", app_name=app.config.APP_NAME, features=FEATURES,
                             themes=DOCS_THEMES, version=__version__)


@app.route("/docs/{theme}", methods=["GET"], include_in_schema=False)
def docs_theme(req, resp, *, theme):
    """/docs in each of its themes (/docs itself shows the configured one)."""
    from dyne.ext.openapi.ui import docs_page

    if theme not in dict(DOCS_THEMES):
        dyne.abort(404, f"No documentation theme {theme!r}")
    resp.html = docs_page(theme, "dyne showcase", "/schema.json")


# The API's clients, generated from its OpenAPI document when first asked for
# (dyne.clientgen; `dyne client` does the same from the command line). Every
# route is registered by the time a request comes, so the document is built
# once, and each client generated once, then served from memory.
CLIENT_DOWNLOADS = {"python.py": ("python", "text/x-python; charset=utf-8"),
                    "typescript.ts": ("typescript", "text/plain; charset=utf-8")}
_client_files: dict[str, bytes] = {}
_client_document: list[dict] = []  # the OpenAPI document, once built
_clients_lock = threading.Lock()  # the view runs in the thread pool


def generated_client(lang: str) -> bytes:
    """The API's client in ``lang``, generated on first use."""
    with _clients_lock:
        if lang not in _client_files:
            from dyne.clientgen import generate

            if not _client_document:
                _client_document.append(api.to_dict())
            _client_files[lang] = generate(_client_document[0], lang).encode()
        return _client_files[lang]


@app.route("/clients/{filename}", methods=["GET"], include_in_schema=False)
def download_client(req, resp, *, filename):
    """The generated Python or TypeScript client, as a file to save."""
    if filename not in CLIENT_DOWNLOADS:
        dyne.abort(404, f"No client {filename!r}: try /clients/python.py or /clients/typescript.ts")
    lang, content_type = CLIENT_DOWNLOADS[filename]
    resp.content = generated_client(lang)
    resp.headers["Content-Type"] = content_type
    resp.headers["Content-Disposition"] = f'attachment; filename="showcase_client.{filename.split(".")[1]}"'


@app.get("/health")
async def health(req, resp):
    resp.media = {"status": "healthy", "uptime": round(time.time() - req.app.state.started_at, 3)}


# -- Notes: REST over SQLAlchemy, validated with pydantic -------------------------------

class NoteIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = ""


class NotePatch(BaseModel):
    title: str | None = Field(None, min_length=1, max_length=200)
    body: str | None = Field(None, max_length=10_000)
    published: StrictBool | None = None


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    body: str
    published: bool


class NoteSearch(BaseModel):
    q: str = Field("", max_length=200, description="Only notes whose title contains this text")


@app.route("/notes", methods=["GET"])
@input(NoteSearch, location="query", key="search")
@output(list[NoteOut])
@cache.cache(duration=60, tags=["notes"])
@db.read_only
async def list_notes(req, resp, *, search):
    query = search.q.lower()
    session = await req.db
    statement = NoteRecord.select().order_by(NoteRecord.id)
    if query:
        statement = statement.where(func.lower(NoteRecord.title).contains(query, autoescape=True))
    resp.media = [note.to_dict() for note in await session.scalars(statement)]


@app.route("/notes", methods=["POST"])
@input(NoteIn)
@output(NoteOut, status_code=201)
@db.transaction
async def create_note(req, resp, *, data):
    note = await NoteRecord.create(title=data.title, body=data.body)
    resp.headers["Location"] = app.url_for(Note, id=note.id)
    resp.obj = note
    notes_changed_after_commit(req, "created", note.to_dict())


@app.route("/notes/{id:int}")
class Note:
    @output(NoteOut)
    @expect({404: "No such note"})
    async def on_get(self, req, resp, *, id):
        await req.db
        resp.obj = await find_note(id)

    @input(NoteIn)
    @output(NoteOut)
    @expect({404: "No such note"})
    @db.transaction
    async def on_put(self, req, resp, *, id, data):
        """Replace a note's title and body"""
        note = await find_note(id)
        await note.patch(title=data.title, body=data.body)
        resp.obj = note
        notes_changed_after_commit(req, "updated", note.to_dict())

    @input(NotePatch)
    @output(NoteOut)
    @expect({400: "Nothing to change", 404: "No such note"})
    @db.transaction
    async def on_patch(self, req, resp, *, id, data):
        """Change some of a note's fields"""
        note = await find_note(id)
        changes = {key: data[key] for key in ("title", "body", "published")
                   if data[key] is not None}
        if not changes:
            abort(400, detail="Nothing to change: send title, body or published")
        await note.patch(**changes)
        resp.obj = note
        notes_changed_after_commit(req, "updated", note.to_dict())

    @expect({204: "Deleted", 404: "No such note"})
    @db.transaction
    async def on_delete(self, req, resp, *, id):
        note = await find_note(id)
        await note.destroy()
        resp.status_code = 204
        notes_changed_after_commit(req, "deleted", {"id": id})


class Attachment(FileField):
    max_size = 1024 * 1024
    allowed_extensions = {"txt", "md", "pdf", "png", "jpg", "jpeg"}


class AttachmentForm(BaseModel):
    file: Attachment


@app.route("/notes/{id:int}/attachments", methods=["POST"])
@input(AttachmentForm, location="form")
@expect({201: "The attachment, saved", 404: "No such note"})
async def attach(req, resp, *, id, data):
    await req.db
    await find_note(id)
    upload = data.file
    directory = app.config.UPLOAD_DIR
    os.makedirs(directory, exist_ok=True)
    await upload.asave(os.path.join(directory, f"note-{id}-{upload.filename}"))
    resp.status_code = 201
    resp.media = {"note": id, "filename": upload.filename, "size": upload.size,
                  "content_type": upload.content_type}


class Publishing(BaseModel):
    status: str
    id: int


@app.route("/notes/{id:int}/publish", methods=["POST"])
@output(Publishing, status_code=202, description="Publishing started")
@expect({404: "No such note"})
async def publish(req, resp, *, id):
    await req.db
    await find_note(id)

    @app.background.task
    async def publish_later():
        await asyncio.sleep(app.config.get("PUBLISH_DELAY", cast=float))
        async with db.begin():  # work after the response needs a session of its own
            note = await NoteRecord.get(id)
            if note is None:
                return
            await note.patch(published=True)
            changed = note.to_dict()
        await notes_changed("published", changed)

    publish_later()
    resp.obj = {"status": "publishing", "id": id}


async def find_note(note_id: int) -> NoteRecord:
    note = await NoteRecord.get(note_id)
    if note is None:
        abort(404, detail=f"Note {note_id} not found")
    return note


# -- Sessions and Server-Sent Events -------------------------------------------------------

class Visits(BaseModel):
    visits: int


@app.route("/visits", methods=["GET"])
@output(Visits)
def visits(req, resp):
    count = req.session.get("visits", 0) + 1
    resp.session["visits"] = count
    resp.obj = {"visits": count}


@app.route("/clock", methods=["GET"])
async def clock(req, resp):
    raw = req.params.get("count", "3")
    count = min(int(raw), 10) if raw.isdigit() else 3

    @resp.sse
    async def ticks():
        for tick in range(count):
            yield {"event": "tick", "data": {"n": tick, "time": time.time()}}
            await asyncio.sleep(0.1)


# -- GraphQL over the same store (Strawberry) ------------------------------------------

@strawberry.type
class NoteType:
    id: int
    title: str
    body: str
    published: bool

    @classmethod
    def of(cls, note: NoteRecord) -> NoteType:
        return cls(**note.to_dict())


@strawberry.type
class Query:
    @strawberry.field(description="Notes whose title contains `search` (case-insensitive).")
    async def notes(self, info: strawberry.Info, search: str = "") -> list[NoteType]:
        session = await info.context["request"].db
        statement = NoteRecord.select().order_by(NoteRecord.id).where(
            func.lower(NoteRecord.title).contains(search.lower(), autoescape=True))
        return [NoteType.of(note) for note in await session.scalars(statement)]

    @strawberry.field
    async def note(self, info: strawberry.Info, id: int) -> NoteType | None:
        await info.context["request"].db
        note = await NoteRecord.get(id)
        return NoteType.of(note) if note else None


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_note(self, info: strawberry.Info, title: str, body: str = "") -> NoteType:
        if not title.strip():
            raise ValueError("A note needs a non-empty title.")
        session = await info.context["request"].db
        note = await NoteRecord.create(title=title, body=body)
        await session.commit()
        await notes_changed("created", note.to_dict())
        return NoteType.of(note)


app.add_route("/graphql", GraphQLView(app=app, schema=Schema(query=Query, mutation=Mutation)))


# -- Templates, static files and a websocket --------------------------------------------

@app.route("/hello/{name}", methods=["GET"])
async def hello(req, resp, *, name):
    session = await req.db
    count = await session.scalar(select(func.count()).select_from(NoteRecord))
    resp.html = await app.template_async("hello.html", name=name, app_name=app.config.APP_NAME,
                                         note_count=count)


@app.route("/ws/echo", websocket=True)
async def echo(ws):
    await ws.accept()
    try:
        while True:
            message = await ws.receive_text()
            await ws.send_text(f"echo: {message}")
    except WebSocketDisconnect:
        pass


# -- a live page fed by a channel --------------------------------------------------------

LIVE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Live notes</title></head>
<body>
<h1>Live notes</h1>
<p id="status">connecting...</p>
<ul id="events"></ul>
<script>
const socket = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws/notes");
socket.onmessage = (message) => {
  const data = JSON.parse(message.data);
  if (data.subscribed) {
    document.getElementById("status").textContent = "live";
    return;
  }
  const item = document.createElement("li");
  item.textContent = data.event + ": " + (data.note.title || "#" + data.note.id);
  document.getElementById("events").prepend(item);
};
socket.onclose = () => { document.getElementById("status").textContent = "disconnected"; };
</script>
</body></html>
"""


@app.route("/live", methods=["GET"])
def live(req, resp):
    resp.html = LIVE_PAGE


@app.route("/ws/notes", websocket=True)
async def note_events(ws):
    await ws.accept()
    await channels.forward(ws, "notes", ready={"subscribed": "notes"})


# -- admin: HTTP Basic authentication with roles -------------------------------------

staff_auth = BasicAuth(realm="dyne showcase admin")
STAFF_ROLES = {"admin": ["admin", "editor"], "editor": ["editor"]}


@staff_auth.verify_password
def verify_staff(username, password):
    expected = app.config.get(f"{username.upper()}_PASSWORD") if username in STAFF_ROLES else None
    # Compare (as bytes: any password may arrive) even for unknown names, in constant time.
    matches = hmac.compare_digest(str(expected or "").encode(), password.encode())
    return username if matches and expected else None


@staff_auth.get_user_roles
def staff_roles(user):
    return STAFF_ROLES[user]


# Declared once for the whole staff area: every route of the group needs the
# admin role (a route could opt out with @public).
staff_area = app.group("/admin")
authenticate(staff_auth, role="admin")(staff_area)


@staff_area.get("/")
async def admin(req, resp):
    session = await req.db
    total = await session.scalar(select(func.count()).select_from(NoteRecord))
    published = await session.scalar(
        select(func.count()).select_from(NoteRecord).where(NoteRecord.published.is_(True)))
    figures = {"admin": req.state.user, "notes": total, "published": published}
    if "text/html" in req.headers.get("accept", ""):
        resp.html = app.template("admin.html", app_name=app.config.APP_NAME, **figures)
    else:
        resp.media = figures


# The admin dashboard (dyne.ext.admin) at /console: the notes table, jobs, logs,
# uploads and an audit log, for the same "admin" account (demo password
# "admin-password": loopback only).
Admin(app, url="/console", auth=staff_auth, role="admin", files_root=app.config.UPLOAD_DIR,
      title="dyne showcase admin")


# -- jobs: a welcome email through a durable task, and a scheduled job ------------------

tasks = TaskQueue(app)
email_client = EmailClient(app)
send_email = tasks.email_task(email_client, retries=10)


class SignupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(pattern=r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$", max_length=254)
    name: str = Field(min_length=1, max_length=100)


@app.route("/signup", methods=["POST"])
@input(SignupIn)
@expect({202: "The welcome email is queued", 400: "Invalid email or name"})
async def signup(req, resp, *, data):
    job = await send_email.enqueue(data.email, "Welcome to the dyne showcase",
                                   template="welcome_email.html", context={"name": data.name},
                                   idempotency_key=f"welcome:{data.email.lower()}")
    resp.status_code = 202
    resp.media = {"task": job.task_id, "status": f"/tasks/{job.task_id}"}


@app.route("/tasks/{task_id}", methods=["GET"])
async def task_status(req, resp, *, task_id):
    if len(task_id) > 64:
        abort(404, detail="No such task")
    resp.media = await tasks.job(task_id).info()


class Housekeeping(TaskManager):
    @schedule_job("interval", minutes=10, id="purge_uploads")
    def purge_uploads(self) -> int:
        """Delete uploads older than UPLOAD_MAX_AGE; returns how many."""
        directory = Path(app.config.UPLOAD_DIR)
        cutoff = time.time() - app.config.get("UPLOAD_MAX_AGE", cast=float)
        removed = 0
        for path in directory.glob("note-*") if directory.is_dir() else ():
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        return removed


housekeeping = Housekeeping(app)


# -- documents: a bookmark collection (dyne.ext.nosql) ---------------------------------

nosqldb = NoSqlDatabase()
if app.config.get("NOSQL_DATABASE"):
    nosqldb.init_app(app)


def require_documents() -> None:
    if nosqldb.app is None:
        abort(503, detail="No document database is configured: set NOSQL_DATABASE")


class BookmarkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    url: str = Field(pattern=r"^https?://", max_length=2000)
    tags: list[str] = Field(default=[], max_length=10)


@nosqldb.managed_database
async def save_bookmark(bookmark: dict, *, db, session=None) -> str:
    result = await db.insert_one("bookmarks", bookmark, session=session)
    await db.update_one("bookmark_stats", {"_id": "total"}, {"$inc": {"count": 1}}, upsert=True,
                        session=session)
    return result.inserted_id


# The bookmark and chat routes depend on optional services (a 503 without
# them), so they stay out of the OpenAPI document the showcase's fuzzing reads.
@app.route("/bookmarks", methods=["GET"], include_in_schema=False)
async def list_bookmarks(req, resp):
    require_documents()
    tag = req.params.get("tag")
    resp.media = await nosqldb.find_many("bookmarks", {"tags": tag} if tag else {},
                                         sort=[("title", 1)], limit=100)


@app.route("/bookmarks", methods=["POST"], include_in_schema=False)
@input(BookmarkIn)
async def create_bookmark(req, resp, *, data):
    require_documents()
    resp.status_code = 201
    resp.media = {"id": await save_bookmark(dict(data))}


# -- chat: an assistant on any OpenAI-compatible server (dyne.ext.ai) -------------------

class Assistant(AiInterface):
    async def chat_context_loader(self, req):
        return None  # this page keeps no history

    @tool
    async def count_notes(self) -> int:
        """How many notes the showcase holds."""
        async with db.session() as session:
            return await session.scalar(select(func.count()).select_from(NoteRecord))


assistant = Assistant(app)
NOT_CONFIGURED = ("No AI server is configured: set AI_INTERFACE_API_BASE_URL to any OpenAI-compatible "
                  "URL (Ollama, vLLM, LM Studio, OpenAI...), with AI_INTERFACE_API_KEY and "
                  "AI_INTERFACE_MODEL as it needs.")
CHAT_PAGE = """<!doctype html><title>Chat</title><link rel="stylesheet" href="/static/style.css">
<h1>Chat</h1><form id="ask"><input id="q" size="60" autofocus> <button>Ask</button></form>
<pre id="answer"></pre>
<script>
document.getElementById("ask").onsubmit = (event) => {
  event.preventDefault();
  const answer = document.getElementById("answer");
  answer.textContent = "";
  const source = new EventSource("/chat/stream?q=" + encodeURIComponent(document.getElementById("q").value));
  source.addEventListener("token", (e) => { answer.textContent += e.data; });
  source.addEventListener("done", () => source.close());
  source.addEventListener("error", (e) => {
    answer.textContent += "\\n[" + (e.data || "error") + "]";
    source.close();
  });
};
</script>"""


@app.route("/chat", include_in_schema=False)
def chat_page(req, resp):
    resp.html = CHAT_PAGE if assistant.is_configured else f"<h1>Chat</h1><p>{NOT_CONFIGURED}</p>"


@app.route("/chat/stream", include_in_schema=False)
async def chat_stream(req, resp):
    if not assistant.is_configured:
        abort(503, detail=NOT_CONFIGURED)
    question = req.params.get("q", "").strip()
    if not question or len(question) > 2000:
        abort(400, detail="Ask a question of 1 to 2000 characters: /chat/stream?q=...")
    assistant.sse(resp, [{"role": "system", "content": "You are the dyne showcase's assistant."},
                         {"role": "user", "content": question}])


# -- errors ------------------------------------------------------------------------------

@app.error_handler(404)
async def not_found(req, resp, exc):
    resp.status_code = 404
    resp.media = {"error": "Not Found", "detail": exc.detail if hasattr(exc, "detail") else ""}


@app.error_handler(500)
async def server_error(req, resp, exc):
    resp.status_code = 500
    resp.media = {"error": "Internal Server Error"}


if __name__ == "__main__":
    app.run()
