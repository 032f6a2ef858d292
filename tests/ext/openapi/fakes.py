"""Minimal third-party auth backends, and the database stand-in.

The auth classes here follow only the minimal auth metadata contract (see
``docs/architecture.md``, "Authentication metadata for OpenAPI"): an
``@authenticate(backend, role=None)`` that appends an
``AuthMeta(backend=..., role=...)`` record to ``spec.meta["auth"]``, and
backends with ``security_schemes()``, but no ``security_requirements()``,
which ``dyne.ext.auth`` adds. A third-party auth extension may stop there: the
OpenAPI builder must work from the minimal contract too. At runtime they
check HTTP Basic credentials (401 with a challenge, 403 for a missing role).

``install_db`` makes ``dyne.ext.db.alchemical`` importable as the IO tests'
stand-in (tests/ext/io/standins.py) until the database extension lands.
"""

from __future__ import annotations

import base64
import sys
import types
from typing import Any

from dyne.endpoints import PHASE_AUTH, get_endpoint_spec
from dyne.exceptions import HTTPException
from dyne.ext.auth.roles import AuthMeta
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
        spec.meta.setdefault("auth", []).append(AuthMeta(backend=backend, role=role))
        return view

    return decorator


def install_db(monkeypatch: Any) -> None:
    """Make ``dyne.ext.db.alchemical`` importable (the IO tests' stand-in)."""
    alchemical = types.ModuleType("dyne.ext.db.alchemical")
    alchemical.Alchemical = standins.Alchemical  # type: ignore[attr-defined]
    alchemical.Model = standins.Model  # type: ignore[attr-defined]
    alchemical.CRUDMixin = standins.CRUDMixin  # type: ignore[attr-defined]
    db = types.ModuleType("dyne.ext.db")
    db.alchemical = alchemical  # type: ignore[attr-defined]
    for name, module in (("dyne.ext.db", db), ("dyne.ext.db.alchemical", alchemical)):
        monkeypatch.setitem(sys.modules, name, module)
