"""Stand-ins for the extensions the IO examples mention but this branch does
not have yet: ``dyne.ext.db.alchemical`` (Alchemical, Model, CRUDMixin,
``@db.transaction``), ``dyne.ext.openapi`` (OpenAPI) and ``dyne.ext.auth``
(authenticate, BasicAuth).

They are deliberately tiny and in memory: ORM rows are plain objects with
attributes, which is all ``@output`` needs. ``install(monkeypatch)`` puts them
in ``sys.modules`` for one test, so the documentation's imports work
unchanged.
"""

from __future__ import annotations

import base64
import functools
import itertools
import types
from typing import Any

from dyne.endpoints import PHASE_AUTH, get_endpoint_spec

# -- SQLAlchemy-ish ----------------------------------------------------------------------

class Column:
    """``Column(Integer, primary_key=True)``: remembered, not enforced."""

    def __init__(self, type_: Any = None, primary_key: bool = False, nullable: bool = True) -> None:
        self.type = type_
        self.primary_key = primary_key


Integer, Float, String = "INTEGER", "FLOAT", "VARCHAR"


class Query:
    def __init__(self, model: type, filters: dict[str, Any] | None = None) -> None:
        self.model = model
        self.filters = filters or {}

    def filter_by(self, **filters: Any) -> Query:
        return Query(self.model, {**self.filters, **filters})

    def rows(self) -> list[Any]:
        return [row for row in self.model._rows.values()
                if all(str(getattr(row, k)) == str(v) for k, v in self.filters.items())]


class ScalarResult:
    """Iterable like SQLAlchemy's, with ``.all()``."""

    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def all(self) -> list[Any]:
        return list(self._rows)

    def __iter__(self) -> Any:
        return iter(self._rows)


class Session:
    def __init__(self) -> None:
        self.commits = 0

    async def scalar(self, query: Query) -> Any:
        rows = query.rows()
        return rows[0] if rows else None

    async def scalars(self, query: Query) -> ScalarResult:
        return ScalarResult(query.rows())

    def add(self, row: Any) -> None:
        type(row)._store(row)

    async def commit(self) -> None:
        self.commits += 1


class Model:
    """A plain object with attributes standing in for an ORM row."""

    _rows: dict[int, Any]
    _ids: Any

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._rows = {}
        cls._ids = itertools.count(1)

    def __init__(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)

    @classmethod
    def _store(cls, row: Any) -> Any:
        if "id" not in vars(row):
            row.id = next(cls._ids)
        cls._rows[row.id] = row
        return row

    @classmethod
    def select(cls) -> Query:
        return Query(cls)


class CRUDMixin:
    @classmethod
    async def create(cls, **values: Any) -> Any:
        return cls._store(cls(**values))  # type: ignore[attr-defined]


class Alchemical:
    """Registers ``req.db`` (an awaitable per-request session) and a
    ``transaction`` decorator that wraps the view as the real one does."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.sessions: list[Session] = []
        self.transactions = 0
        app.add_request_property("db", self._session)
        app.state.db = self

    def _session(self, req: Any) -> Any:
        session = Session()
        self.sessions.append(session)

        async def ready() -> Session:
            return session

        return ready()

    async def create_all(self) -> None:
        return None

    def transaction(self, view: Any) -> Any:
        @functools.wraps(view)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            self.transactions += 1
            return await view(*args, **kwargs)

        return wrapper


# -- OpenAPI -----------------------------------------------------------------------------

class OpenAPI:
    instances: list[OpenAPI] = []

    def __init__(self, app: Any, **options: Any) -> None:
        self.app = app
        self.options = options
        OpenAPI.instances.append(self)


# -- Auth ------------------------------------------------------------------------------

class BasicAuth:
    def __init__(self) -> None:
        self._verify: Any = None
        self._roles: Any = None
        self._error: Any = None

    def verify_password(self, func: Any) -> Any:
        self._verify = func
        return func

    def get_user_roles(self, func: Any) -> Any:
        self._roles = func
        return func

    def error_handler(self, func: Any) -> Any:
        self._error = func
        return func


def authenticate(backend: BasicAuth, role: Any = None) -> Any:
    """Checks Basic credentials at the auth phase (before ``@input``)."""

    async def check(req: Any, resp: Any, kwargs: dict[str, Any]) -> None:
        header = req.headers.get("authorization", "")
        user = None
        if header.startswith("Basic "):
            name, _, password = base64.b64decode(header[6:]).decode().partition(":")
            user = await backend._verify(name, password)
        if user is None:
            await backend._error(req, resp, 401)
            return
        roles = await backend._roles(user) if backend._roles else []
        roles = [roles] if isinstance(roles, str) else roles or []
        if role is not None and role not in roles:
            await backend._error(req, resp, 403)
            return
        req.state.user = user

    def decorator(view: Any) -> Any:
        get_endpoint_spec(view).add_step(check, PHASE_AUTH)
        return view

    return decorator


def install(monkeypatch: Any) -> None:
    """Make the documentation's imports of these extensions resolve here."""
    alchemical = types.ModuleType("dyne.ext.db.alchemical")
    alchemical.Alchemical = Alchemical  # type: ignore[attr-defined]
    alchemical.Model = Model  # type: ignore[attr-defined]
    alchemical.CRUDMixin = CRUDMixin  # type: ignore[attr-defined]
    db = types.ModuleType("dyne.ext.db")
    db.alchemical = alchemical  # type: ignore[attr-defined]
    openapi = types.ModuleType("dyne.ext.openapi")
    openapi.OpenAPI = OpenAPI  # type: ignore[attr-defined]
    auth = types.ModuleType("dyne.ext.auth")
    auth.authenticate = authenticate  # type: ignore[attr-defined]
    auth.BasicAuth = BasicAuth  # type: ignore[attr-defined]
    for name, module in (("dyne.ext.db", db), ("dyne.ext.db.alchemical", alchemical),
                         ("dyne.ext.openapi", openapi), ("dyne.ext.auth", auth)):
        monkeypatch.setitem(__import__("sys").modules, name, module)


#: Names the examples use without importing them (``Column``, ``Integer``...).
SQL_NAMES = {"Column": Column, "Integer": Integer, "Float": Float, "String": String}
