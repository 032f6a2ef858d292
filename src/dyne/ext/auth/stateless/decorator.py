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

from dyne.exceptions import HTTPException

from ..roles import declare_auth, normalize_roles, roles_allow
from .backends import HTTPAuth, Verdict

if TYPE_CHECKING:
    from dyne.request import Request
    from dyne.response import Response

__all__ = ["authenticate", "deny"]

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


def authenticate(backend: HTTPAuth, role: Any = None) -> Callable[[V], V]:
    """Require credentials checked by ``backend`` (and, with ``role``, a role).

    ``role`` is a role name, a list of names (any one is enough), or a list of
    lists (all names of one inner list are needed). The authenticated user is
    set as ``req.state.user``. Missing or wrong credentials get a 401 with the
    backend's ``WWW-Authenticate`` challenge; a user without the role gets a 403.

    Apply it below ``@app.route``, on a function view, on a class-based view's
    ``on_get``/``on_post``... method, or on the class itself to protect every
    method. Stacked ``@authenticate`` decorators must all pass.
    """
    if not isinstance(backend, HTTPAuth):
        raise TypeError(f"@authenticate needs an authentication backend (BasicAuth(), TokenAuth()...), "
                        f"got {backend!r}")
    requirement = normalize_roles(role)

    async def step(req: Request, resp: Response, kwargs: dict[str, Any]) -> None:
        verdict = await backend.verify(req)
        if not verdict.ok:
            await deny(backend, req, resp, 401, verdict)
            return
        req.state.user = verdict.user
        if requirement is not None and not roles_allow(requirement, await backend.user_roles(verdict)):
            await deny(backend, req, resp, 403, verdict)

    def decorator(view: V) -> V:
        return declare_auth(view, step, backend, role, requirement)

    return decorator
