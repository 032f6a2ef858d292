"""``AlchemicalMiddleware``: the request-scoped session for any ASGI app.

dyne's HTTP requests do not need it: ``Alchemical(app)`` gives them
``await req.db`` through the app's teardown hook. The middleware gives the
same lifecycle to connections the teardown hook does not see — websockets,
and ASGI apps mounted inside or around the dyne app::

    app.add_middleware(AlchemicalMiddleware, db=db)

    @app.route("/feed", websocket=True)
    async def feed(ws):
        await ws.accept()
        session = await db.request_session(ws)   # created on first use
        ...

Each HTTP request or websocket connection gets a lazily created session,
committed at the end when ``ALCHEMICAL_AUTOCOMMIT`` is on and nothing failed
(no exception, no 5xx response, no 1011 "internal error" close), always
closed. A dyne request inside it uses the same session for ``await req.db``
and ends it before its response is sent; for other ASGI apps the end comes
after the response, so commit explicitly where the client must only see
success once the data is stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .scope import SCOPE_KEY, SessionScope

if TYPE_CHECKING:
    from dyne.types import Receive, Scope, Send

    from .extension import Alchemical

__all__ = ["AlchemicalMiddleware"]


class AlchemicalMiddleware:
    """Pure ASGI middleware: ``AlchemicalMiddleware(asgi_app, db=db)``."""

    def __init__(self, app: Any, db: Alchemical) -> None:
        self.app = app
        self.db = db

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or SCOPE_KEY in scope:
            await self.app(scope, receive, send)
            return
        holder = SessionScope(self.db, autocommit=self.db.autocommit)
        scope[SCOPE_KEY] = holder
        error: BaseException | None = None
        failed = False

        async def watch(message: Any) -> None:
            # Apps (dyne's websocket handling included) often answer an error
            # rather than raise it: a 5xx response or a 1011 close is a failure.
            nonlocal failed
            kind = message["type"]
            if (kind == "http.response.start" and message.get("status", 200) >= 500) or (
                    kind == "websocket.close" and message.get("code", 1000) == 1011):
                failed = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except BaseException as exc:
            error = exc
            raise
        finally:
            if error is None and failed:
                error = RuntimeError("the application answered with an error")
            await holder.finish(error)
