"""AlchemicalMiddleware: the request-scoped session for websockets and other ASGI apps."""

from __future__ import annotations

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

import dyne
from dyne.ext.db.alchemical import Alchemical, AlchemicalMiddleware, CRUDMixin, Model
from dyne.testing import TestClient


def define_message():
    class Message(CRUDMixin, Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        text: Mapped[str] = mapped_column(String(100))

    return Message


def stored(db, Message):
    from dyne.testing import _shared_portal

    async def read():
        async with db.session() as session:
            return (await session.scalars(select(Message.text).order_by(Message.id))).all()

    return _shared_portal().call(read)


def test_websockets_get_a_lazy_session_with_the_request_lifecycle(make_app):
    app, db = make_app(ALCHEMICAL_AUTOCOMMIT=True)
    Message = define_message()
    app.add_middleware(AlchemicalMiddleware, db=db)
    sessions = []

    @app.route("/chat", websocket=True)
    async def chat(ws):
        await ws.accept()
        session = await db.request_session(ws)
        sessions.append(session)
        assert await db.request_session(ws) is session  # reused
        async for text in ws.iter_text():
            if text == "bye":
                break
            await Message.create(text=text)
            await ws.send_text(f"stored {text}")
        await ws.close()

    @app.route("/http")
    async def http(req, resp):
        session = await req.db
        sessions.append(session)
        await Message.create(text="over http")

    with app.client.websocket_connect("/chat") as ws:
        ws.send_text("hello")
        assert ws.receive_text() == "stored hello"
        ws.send_text("bye")
    assert app.client.get("/http").status_code == 200
    assert stored(db, Message) == ["hello", "over http"]  # autocommit at the end of each
    assert not any(s.in_transaction() for s in sessions)
    assert db.get_engine().pool.checkedout() == 0


def test_a_failing_connection_is_rolled_back(make_app):
    app, db = make_app(ALCHEMICAL_AUTOCOMMIT=True)
    Message = define_message()
    app.add_middleware(AlchemicalMiddleware, db=db)

    @app.route("/chat", websocket=True)
    async def chat(ws):
        await ws.accept()
        await db.request_session(ws)
        await Message.create(text="lost")
        raise RuntimeError("handler bug")

    with app.client.websocket_connect("/chat") as ws:
        ws.receive()  # the close frame (1011)
    assert stored(db, Message) == []
    assert db.get_engine().pool.checkedout() == 0


def test_wrapping_a_plain_asgi_app(make_app):
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    app, db = make_app(ALCHEMICAL_AUTOCOMMIT=True)
    Message = define_message()

    async def create(request):
        await db.request_session(request.scope)
        message = await Message.create(text="from starlette")
        return JSONResponse({"id": message.id})

    starlette_app = AlchemicalMiddleware(Starlette(routes=[Route("/", create, methods=["POST"])]), db=db)
    app.client.get("/")  # start-up of the dyne app: tables created
    with TestClient(starlette_app) as client:
        assert client.post("/").json() == {"id": 1}
    assert stored(db, Message) == ["from starlette"]


def test_non_http_scopes_pass_through():
    seen = []

    async def inner(scope, receive, send):
        seen.append(dict(scope))

    middleware = AlchemicalMiddleware(inner, db=Alchemical(url="sqlite://"))
    import asyncio

    asyncio.run(middleware({"type": "lifespan"}, None, None))
    assert seen == [{"type": "lifespan"}]
    assert dyne  # the module is used by the other tests' apps
