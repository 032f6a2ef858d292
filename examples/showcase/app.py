"""The dyne showcase: one small app that grows with every feature.

Run it with ``python examples/showcase/app.py`` (http://127.0.0.1:5042), or
``PORT=8000 python examples/showcase/app.py`` to listen on 0.0.0.0:8000.

Today it shows: routing with typed parameters, JSON in and out, content
negotiation, configuration, error handlers, cookie sessions, before/after
hooks, a class-based view, Server-Sent Events, a background task, and an
admin page behind HTTP Basic authentication with roles.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import time

import dyne
from dyne.exceptions import abort
from dyne.ext.auth import BasicAuth, authenticate


class Defaults:
    """Settings used unless the environment or a .env file says otherwise."""

    APP_NAME = "dyne showcase"
    PUBLISH_DELAY = 0.5  # seconds a "publish" background job takes
    SECRET_KEY = "change-me-in-production"
    ADMIN_PASSWORD = "admin-password"  # the "admin" account (role admin)
    EDITOR_PASSWORD = "editor-password"  # the "editor" account (role editor)


app = dyne.App()
app.config.from_object(Defaults)

# An in-memory store; the database issue replaces it with SQLite/PostgreSQL.
NOTES: dict[int, dict] = {}
_ids = itertools.count(1)


@app.on_event("startup")
async def seed() -> None:
    if not NOTES:
        note_id = next(_ids)
        NOTES[note_id] = {"id": note_id, "title": "Welcome", "body": "Hello from dyne.",
                          "published": True}
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
        '<li><a href="/admin">GET /admin</a> (HTTP Basic; only the admin role)</li>'
        "</ul>"
    )


@app.get("/health")
async def health(req, resp):
    resp.media = {"status": "healthy", "uptime": round(time.time() - req.app.state.started_at, 3)}


@app.route("/notes")
async def list_notes(req, resp):
    query = req.params.get("q", "").lower()
    resp.media = [note for note in NOTES.values() if query in note["title"].lower()]


@app.route("/notes", methods=["POST"])
async def create_note(req, resp):
    data = await req.media()
    if not isinstance(data, dict) or not isinstance(data.get("title"), str) or not data["title"]:
        abort(400, detail={"errors": {"title": ["A non-empty string is required."]}})
    note_id = next(_ids)
    note = {"id": note_id, "title": data["title"], "body": str(data.get("body", "")),
            "published": False}
    NOTES[note_id] = note
    resp.status_code = 201
    resp.headers["Location"] = app.url_for(Note, id=note_id)
    resp.media = note


@app.route("/notes/{id:int}")
class Note:
    def on_get(self, req, resp, *, id):
        resp.media = find_note(id)

    def on_delete(self, req, resp, *, id):
        find_note(id)
        del NOTES[id]
        resp.status_code = 204


@app.route("/notes/{id:int}/publish", methods=["POST"])
async def publish(req, resp, *, id):
    note = find_note(id)

    @app.background.task
    async def publish_later():
        await asyncio.sleep(app.config.get("PUBLISH_DELAY", cast=float))
        note["published"] = True

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


@app.route("/admin")
@authenticate(staff_auth, role="admin")
async def admin(req, resp):
    resp.media = {"admin": req.state.user, "notes": len(NOTES),
                  "published": sum(note["published"] for note in NOTES.values())}


def find_note(note_id: int) -> dict:
    note = NOTES.get(note_id)
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
