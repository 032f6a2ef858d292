"""``@authenticate(backend, role=None)``: protect a view with a backend.

The decorator does not wrap the view. It adds one step to the view's endpoint
spec, at ``PHASE_AUTH`` (after route hooks, before input validation), and
records what it protects for OpenAPI under ``spec.meta["auth"]``. The role
requirement is normalised here, once; per request the step only asks the
backend for a verdict and, when a role is needed, for the user's roles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from dyne.endpoints import PUBLIC_KEY, get_endpoint_spec
from dyne.exceptions import HTTPException, status_phrase

from ..roles import declare_auth, normalize_roles, roles_allow
from .backends import HTTPAuth, Verdict

if TYPE_CHECKING:
    from starlette.websockets import WebSocket

    from dyne.request import Request
    from dyne.response import Response

__all__ = ["authenticate", "deny", "public", "refuse_websocket"]

V = TypeVar("V", bound=Callable[..., Any])


async def deny(backend: HTTPAuth, req: Request, resp: Response, status_code: int,
               verdict: Verdict) -> None:
    """Answer a failed check: the backend's ``error_handler`` when it has one,
    else ``HTTPException(status_code)``, so the app's own error handlers (and
    problem details) shape the default 401/403. A 401 always carries the
    ``WWW-Authenticate`` challenge."""
    handler = backend.handler_for(verdict)
    if handler is None:
        headers = {"WWW-Authenticate": await backend.challenge(req, verdict)} if status_code == 401 else None
        raise HTTPException(status_code, headers=headers)
    resp.status_code = status_code
    await handler(req, resp, status_code)
    if resp.status_code == 401 and "WWW-Authenticate" not in resp.headers:
        resp.headers["WWW-Authenticate"] = await backend.challenge(req, verdict)


def authenticate(backend: HTTPAuth | None, role: Any = None, *,
                 optional: bool = False) -> Callable[[V], V]:
    """Require credentials checked by ``backend`` (and, with ``role``, a role).

    ``role`` is a role name, a list of names (any one is enough), or a list of
    lists (all names of one inner list are needed). The authenticated user is
    set as ``req.state.user``. Missing or wrong credentials get a 401 with the
    backend's ``WWW-Authenticate`` challenge; a user without the role gets a 403.

    ``optional=True`` lets a request without credentials through with
    ``req.state.user = None``; credentials that are sent must still be valid
    (a forged or expired token is a 401, never an anonymous request).

    Apply it below ``@app.route``, on a function view, on a class-based view's
    ``on_get``/``on_post``... method, or on the class itself to protect every
    method; or once on a route group or the app, ``authenticate(backend)(group)``,
    for all their routes (a view opts out with ``@public``). Stacked
    ``@authenticate`` declarations (the app's, the groups', the view's) must
    all pass. On a websocket route, a refused connection is never accepted.

    ``authenticate(None)`` is ``@public``.
    """
    if backend is None:
        if role is not None or optional:
            raise TypeError("authenticate(None) marks a view public; it takes no role= or optional=")
        return public
    if not isinstance(backend, HTTPAuth):
        raise TypeError(f"@authenticate needs an authentication backend (BasicAuth(), TokenAuth()...), "
                        f"got {backend!r}")
    if not isinstance(optional, bool):
        raise TypeError(f"optional= takes True or False, got {optional!r}")
    requirement = normalize_roles(role)

    async def step(req: Request, resp: Response, kwargs: dict[str, Any]) -> None:
        verdict = await backend.verify(req)
        if not verdict.ok:
            if optional and not verdict.presented:
                req.state.user = None
                return
            await deny(backend, req, resp, 401, verdict)
            return
        req.state.user = verdict.user
        if requirement is not None and not roles_allow(requirement, await backend.user_roles(verdict)):
            await deny(backend, req, resp, 403, verdict)

    async def guard(ws: WebSocket) -> None:
        verdict = await backend.verify(ws)
        if not verdict.ok:
            if optional and not verdict.presented:
                ws.state.user = None
                return
            await refuse_websocket(ws, 401, await backend.challenge(ws, verdict))
            return
        ws.state.user = verdict.user
        if requirement is not None and not roles_allow(requirement, await backend.user_roles(verdict)):
            await refuse_websocket(ws, 403)

    def decorator(view: V) -> V:
        return declare_auth(view, step, backend, role, requirement, optional=optional,
                            websocket_guard=guard)

    return decorator


async def refuse_websocket(ws: WebSocket, status_code: int, challenge: str | None = None) -> None:
    """Refuse a websocket before accepting it: with an HTTP ``status_code``
    response (and the ``WWW-Authenticate`` challenge) when the server supports
    the ASGI "websocket denial response" extension (uvicorn does), else by
    closing with code 1008 (policy violation), which the server answers with
    a 403."""
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        from starlette.responses import PlainTextResponse

        headers = {"WWW-Authenticate": challenge} if challenge else None
        await ws.send_denial_response(PlainTextResponse(status_phrase(status_code), status_code,
                                                        headers=headers))
    else:
        await ws.close(code=1008)


def public(view: V) -> V:
    """Opt a view out of the authentication declared on its route group or
    app (``authenticate(backend)(group)``): ``@public`` below the route
    decorator. Its own ``@authenticate`` still applies. OpenAPI documents it
    with ``security: []``."""
    if getattr(view, "_dyne_scope", False) is True:
        raise TypeError(f"@public applies to a view, not to {view!r}")
    spec = get_endpoint_spec(view)
    assert spec is not None
    spec.meta[PUBLIC_KEY] = True
    return view
