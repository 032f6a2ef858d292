"""The dyne showcase: one small app that grows with every feature.

Run it with ``python examples/showcase/app.py`` (http://127.0.0.1:5042), or
``PORT=8000 python examples/showcase/app.py`` to listen on 0.0.0.0:8000.

Today it shows: routing with typed parameters, JSON in and out, content
negotiation, configuration, error handlers, cookie sessions, before/after
hooks, a class-based view, Server-Sent Events, a background task, and notes
stored with SQLAlchemy: in SQLite (``examples/showcase/showcase.db``) by
default, in PostgreSQL with
``ALCHEMICAL_DATABASE_URL=postgresql://user@localhost/showcase``.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import Boolean, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

import dyne
from dyne.exceptions import abort
from dyne.ext.db.alchemical import Alchemical, CRUDMixin, Model


class Defaults:
    """Settings used unless the environment or a .env file says otherwise."""

    APP_NAME = "dyne showcase"
    PUBLISH_DELAY = 0.5  # seconds a "publish" background job takes
    SECRET_KEY = "change-me-in-production"
    # Where notes are stored: a SQLite file next to this one, unless the
    # environment (or .env) sets ALCHEMICAL_DATABASE_URL.
    ALCHEMICAL_DATABASE_URL = f"sqlite:///{Path(__file__).resolve().parent / 'showcase.db'}"


app = dyne.App()
app.config.from_object(Defaults)

db = Alchemical(app)


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


@app.route("/")
def index(req, resp):
    resp.html = (
        f"<h1>{app.config.APP_NAME}</h1>"
        "<ul>"
        '<li><a href="/notes">GET /notes</a> (try <code>Accept: application/x-yaml</code>)</li>'
        "<li>POST /notes with JSON <code>{\"title\": ..., \"body\": ...}</code></li>"
        '<li><a href="/notes/1">GET /notes/1</a>, DELETE /notes/1</li>'
        "<li>POST /notes/1/publish (a background job)</li>"
        '<li><a href="/visits">GET /visits</a> (a cookie session)</li>'
        '<li><a href="/clock">GET /clock</a> (Server-Sent Events)</li>'
        '<li><a href="/health">GET /health</a></li>'
        "</ul>"
    )


@app.get("/health")
async def health(req, resp):
    resp.media = {"status": "healthy", "uptime": round(time.time() - req.app.state.started_at, 3)}


@app.route("/notes")
@db.read_only
async def list_notes(req, resp):
    query = req.params.get("q", "").lower()
    session = await req.db
    statement = NoteRecord.select().order_by(NoteRecord.id)
    if query:
        statement = statement.where(func.lower(NoteRecord.title).contains(query, autoescape=True))
    resp.media = [note.to_dict() for note in await session.scalars(statement)]


@app.route("/notes", methods=["POST"])
@db.transaction
async def create_note(req, resp):
    data = await req.media()
    if not isinstance(data, dict) or not isinstance(data.get("title"), str) or not data["title"]:
        abort(400, detail={"errors": {"title": ["A non-empty string is required."]}})
    note = await NoteRecord.create(title=data["title"], body=str(data.get("body", "")))
    resp.status_code = 201
    resp.headers["Location"] = app.url_for(Note, id=note.id)
    resp.media = note.to_dict()


@app.route("/notes/{id:int}")
class Note:
    async def on_get(self, req, resp, *, id):
        await req.db
        resp.media = (await find_note(id)).to_dict()

    @db.transaction
    async def on_delete(self, req, resp, *, id):
        await (await find_note(id)).destroy()
        resp.status_code = 204


@app.route("/notes/{id:int}/publish", methods=["POST"])
async def publish(req, resp, *, id):
    await req.db
    await find_note(id)

    @app.background.task
    async def publish_later():
        await asyncio.sleep(app.config.get("PUBLISH_DELAY", cast=float))
        async with db.begin():  # work after the response needs a session of its own
            note = await NoteRecord.get(id)
            if note is not None:
                await note.patch(published=True)

    publish_later()
    resp.status_code = 202
    resp.media = {"status": "publishing", "id": id}


@app.route("/visits")
def visits(req, resp):
    count = req.session.get("visits", 0) + 1
    resp.session["visits"] = count
    resp.media = {"visits": count}


@app.route("/clock")
async def clock(req, resp):
    raw = req.params.get("count", "3")
    count = min(int(raw), 10) if raw.isdigit() else 3

    @resp.sse
    async def ticks():
        for tick in range(count):
            yield {"event": "tick", "data": {"n": tick, "time": time.time()}}
            await asyncio.sleep(0.1)


async def find_note(note_id: int) -> NoteRecord:
    note = await NoteRecord.get(note_id)
    if note is None:
        abort(404, detail=f"Note {note_id} not found")
    return note


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
