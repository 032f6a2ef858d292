"""A stand-in for ``dyne.ext.auth`` until it lands on this branch.

It follows the auth metadata contract the OpenAPI builder reads (see
``docs/architecture.md``, "Authentication metadata for OpenAPI", on the auth
branch): ``@authenticate(backend, role=None)`` appends ``{"backend", "role"}``
to ``spec.meta["auth"]``, and every backend has ``security_schemes()``. It
does *not* give ``"roles"`` nor ``security_requirements()``, which the real
one adds: the builder must work from the minimal contract too.

At runtime it checks HTTP Basic credentials (401 with a challenge, 403 for a
missing role) so the documentation's examples behave as printed.
"""

from __future__ import annotations

import base64
import sys
import types
from typing import Any

from dyne.endpoints import PHASE_AUTH, get_endpoint_spec
from dyne.exceptions import HTTPException
from tests.ext.io import standins


class _Backend:
    def __init__(self) -> None:
        self._verify: Any = None
        self._roles: Any = None
        self._error: Any = None

    def verify_password(self, func: Any) -> Any:
        self._verify = func
        return func

    def verify_token(self, func: Any) -> Any:
        self._verify = func
        return func

    def get_user_roles(self, func: Any) -> Any:
        self._roles = func
        return func

    def error_handler(self, func: Any) -> Any:
        self._error = func
        return func


class BasicAuth(_Backend):
    def security_schemes(self) -> dict[str, dict[str, Any]]:
        return {"basicAuth": {"type": "http", "scheme": "basic"}}


class TokenAuth(_Backend):
    def __init__(self, scheme: str = "Bearer", header: str | None = None) -> None:
        super().__init__()
        self.scheme = scheme
        self.header = header

    def security_schemes(self) -> dict[str, dict[str, Any]]:
        if self.header:
            return {self.header: {"type": "apiKey", "in": "header", "name": self.header}}
        return {f"{self.scheme.lower()}Auth": {"type": "http", "scheme": self.scheme.lower()}}


class DigestAuth(_Backend):
    def security_schemes(self) -> dict[str, dict[str, Any]]:
        return {"digestAuth": {"type": "http", "scheme": "digest"}}


class MultiAuth:
    def __init__(self, *backends: Any) -> None:
        self.backends = backends

    def security_schemes(self) -> dict[str, dict[str, Any]]:
        schemes: dict[str, dict[str, Any]] = {}
        for backend in self.backends:
            schemes.update(backend.security_schemes())
        return schemes


def _user_roles(value: Any) -> set[str]:
    if value is None:
        return set()
    return {value} if isinstance(value, str) else set(value)


def _allowed(role: Any, held: set[str]) -> bool:
    if role is None:
        return True
    if isinstance(role, str):
        return role in held
    return any((item in held) if isinstance(item, str) else set(item) <= held for item in role)


def authenticate(backend: Any, role: Any = None) -> Any:
    async def check(req: Any, resp: Any, kwargs: dict[str, Any]) -> None:
        header = req.headers.get("authorization", "")
        user = None
        if header.startswith("Basic ") and isinstance(backend, BasicAuth):
            name, _, password = base64.b64decode(header[6:]).decode().partition(":")
            user = await backend._verify(name, password)
        if user is None:
            if backend._error is not None:
                await backend._error(req, resp, 401)
                resp.headers["WWW-Authenticate"] = 'Basic realm="Authentication Required"'
                return
            raise HTTPException(401, headers={"WWW-Authenticate": 'Basic realm="Authentication Required"'})
        held = _user_roles(await backend._roles(user)) if backend._roles else set()
        if not _allowed(role, held):
            if backend._error is not None:
                await backend._error(req, resp, 403)
                return
            raise HTTPException(403)
        req.state.user = user

    def decorator(view: Any) -> Any:
        spec = get_endpoint_spec(view)
        spec.add_step(check, PHASE_AUTH)
        spec.meta.setdefault("auth", []).append({"backend": backend, "role": role})
        return view

    return decorator


def install(monkeypatch: Any) -> None:
    """Make ``dyne.ext.auth`` (this stand-in) and ``dyne.ext.db.alchemical``
    (the IO tests' stand-in) importable; ``dyne.ext.openapi`` stays the real one."""
    auth = types.ModuleType("dyne.ext.auth")
    for name in ("authenticate", "BasicAuth", "TokenAuth", "DigestAuth", "MultiAuth"):
        setattr(auth, name, globals()[name])
    alchemical = types.ModuleType("dyne.ext.db.alchemical")
    alchemical.Alchemical = standins.Alchemical  # type: ignore[attr-defined]
    alchemical.Model = standins.Model  # type: ignore[attr-defined]
    alchemical.CRUDMixin = standins.CRUDMixin  # type: ignore[attr-defined]
    db = types.ModuleType("dyne.ext.db")
    db.alchemical = alchemical  # type: ignore[attr-defined]
    for name, module in (("dyne.ext.auth", auth), ("dyne.ext.db", db),
                         ("dyne.ext.db.alchemical", alchemical)):
        monkeypatch.setitem(sys.modules, name, module)
