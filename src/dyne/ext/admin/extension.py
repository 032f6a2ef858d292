"""``Admin``: the admin dashboard extension (see ``docs/admin.md``)."""

from __future__ import annotations

import inspect as pyinspect
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from dyne.exceptions import HTTPException
from dyne.extensions import Extension

from .audit import audit_model, dump_values
from .logs import LEVELS, ErrorCounter, search_logs
from .models import ModelAdmin, hidden_for

if TYPE_CHECKING:
    from dyne.app import App
    from dyne.request import Request
    from dyne.response import Response

__all__ = ["Admin"]

HERE = Path(__file__).resolve().parent
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FLASH_KEY = "_admin_flash"


class Admin(Extension):
    """An admin dashboard for the app, under ``url``.

    :param app: the app (or call ``init_app(app)`` later).
    :param url: where the admin lives (``/admin``).
    :param auth: how admins are recognised: a ``LoginManager`` (default: the
        app's, ``app.extensions["login_manager"]``) or a stateless backend
        (``BasicAuth``, ``TokenAuth``...).
    :param role: the role a user needs (``@login_required``'s rules); ``None``
        with ``check`` only.
    :param check: ``check(user) -> bool`` (plain or async), used instead of
        ``role`` to decide who is an admin.
    :param models: the models to manage (default: every mapped model of
        ``dyne.ext.db.alchemical.Model``, except the audit log).
    :param exclude: models left out of the default list.
    :param read_only: models that can be listed and viewed, not changed.
    :param hidden_columns: ``{Model or "Model": ["column", ...]}`` never shown.
        Columns named like ``password``, ``hash``, ``secret``, ``token`` are
        never shown anyway.
    :param per_page: rows per list page.
    :param log_files: more log files to show besides the app's file sinks.
    :param files_root: a directory (uploads, static files) to browse, download
        from and delete in; no path outside it is ever served.
    :param title: the title shown in the header.
    :param create_audit_table: create the audit log's table at start-up if
        it is missing (off when migrations manage it).
    """

    name = "admin"

    def __init__(self, app: App | None = None, url: str = "/admin", *, auth: Any = None,
                 role: Any = "admin", check: Callable[[Any], Any] | None = None,
                 models: Iterable[type] | None = None, exclude: Iterable[type] = (),
                 read_only: Iterable[type] = (), hidden_columns: Mapping[Any, Iterable[str]] | None = None,
                 per_page: int = 25, log_files: Iterable[str | Path] = (),
                 files_root: str | Path | None = None, title: str = "dyne admin",
                 create_audit_table: bool = True) -> None:
        from dyne.ext.auth.roles import normalize_roles

        if not isinstance(url, str) or not url.startswith("/") or url.rstrip("/") == "":
            raise ValueError(f"Admin(url=...) must be a path such as '/admin', got {url!r}")
        if role is None and check is None:
            raise ValueError("Admin needs role= or check= to tell admins from other users")
        if check is not None and not callable(check):
            raise TypeError(f"check= takes a callable check(user) -> bool, got {check!r}")
        if int(per_page) < 1:
            raise ValueError("per_page must be at least 1")
        self.url = url.rstrip("/")
        self.auth = auth
        self.role = role
        self.requirement = normalize_roles(role)
        self.check = check
        self._models = list(models) if models is not None else None
        self.exclude = set(exclude)
        self.read_only = set(read_only)
        self.hidden_columns = dict(hidden_columns or {})
        self.per_page = int(per_page)
        self.log_files = [Path(path) for path in log_files]
        self.files_root = Path(files_root) if files_root is not None else None
        self.title = title
        self.create_audit_table = create_audit_table
        self.errors = ErrorCounter()
        self._admins: dict[type, ModelAdmin] = {}
        self._templates: Any = None
        self._css: bytes | None = None
        self.csrf: Any = None
        super().__init__(app)

    # -- wiring ------------------------------------------------------------------------

    def setup(self, app: App) -> None:
        from dyne.csrf import CSRFProtection

        self.csrf = app.csrf if app.csrf is not None else CSRFProtection(app)
        if self.auth is None and "login_manager" not in app.extensions:
            raise RuntimeError("Admin needs a way to authenticate admins: create LoginManager(app) "
                               "first, or pass Admin(auth=BasicAuth()...) ")
        group = app.group(self.url)
        group.before_request(self._guard)
        group.after_request(self._no_store)
        routes: list[tuple[str, Callable[..., Any], list[str]]] = [
            ("/", self.dashboard, ["GET"]),
            ("/static/admin.css", self.stylesheet, ["GET"]),
            ("/audit", self.audit_page, ["GET"]),
            ("/models/{slug}", self.list_view, ["GET"]),
            ("/models/{slug}/new", self.create_view, ["GET", "POST"]),
            ("/models/{slug}/bulk-delete", self.bulk_delete_view, ["POST"]),
            ("/models/{slug}/{pk}", self.detail_view, ["GET"]),
            ("/models/{slug}/{pk}/edit", self.edit_view, ["GET", "POST"]),
            ("/models/{slug}/{pk}/delete", self.delete_view, ["GET", "POST"]),
            ("/jobs", self.jobs_view, ["GET"]),
            ("/jobs/{job_id}/{action}", self.job_action, ["POST"]),
            ("/tasks/{task_id}/retry", self.task_retry, ["POST"]),
            ("/logs", self.logs_view, ["GET"]),
            ("/email", self.email_view, ["GET"]),
            ("/email/test", self.email_test, ["POST"]),
            ("/files", self.files_view, ["GET"]),
            ("/files/download", self.file_download, ["GET"]),
            ("/files/delete", self.file_delete, ["POST"]),
        ]
        for path, view, methods in routes:
            group.add_route(path, view, methods=methods, name=f"admin_{view.__name__}",
                            include_in_schema=False)
        self.group = group

    async def on_startup(self) -> None:
        try:
            self.errors.start()
        except ImportError:  # loguru is not installed: no error count
            pass
        db = self.db
        if db is not None and self.create_audit_table:
            model = audit_model()
            engine = db.engine_for_metadata(model.metadata)
            async with engine.begin() as connection:
                await connection.run_sync(lambda sync: model.__table__.create(sync, checkfirst=True))

    async def on_shutdown(self) -> None:
        try:
            self.errors.stop()
        except ImportError:
            pass

    @property
    def db(self) -> Any:
        app = self.app
        return app.extensions.get("db") if app is not None else None

    @property
    def routes(self) -> list[Any]:
        """The admin's routes (every one of them is protected)."""
        return list(self.group.routes)

    # -- access ------------------------------------------------------------------------

    async def _guard(self, req: Request, resp: Response) -> None:
        from dyne.ext.auth.roles import roles_allow
        from dyne.ext.auth.session import LoginManager

        backend = self.auth if self.auth is not None else self.require_app().extensions["login_manager"]
        if isinstance(backend, LoginManager):
            from dyne.ext.auth import AuthFailureReason

            user = await backend.current_user(req, resp)
            if user is None:
                await backend.default_failure(req, resp, AuthFailureReason.UNAUTHENTICATED)
                return
            roles_of: Callable[[], Awaitable[frozenset[Hashable]]] = partial(backend.user_roles, user)
        else:
            verdict = await backend.verify(req)
            if not verdict.ok:
                raise HTTPException(401, headers={"WWW-Authenticate": await backend.challenge(req, verdict)})
            user = verdict.user
            roles_of = partial(backend.user_roles, verdict)
        req.state.user = user
        if self.check is not None:
            allowed = self.check(user)
            if pyinspect.isawaitable(allowed):
                allowed = await allowed
        else:
            assert self.requirement is not None
            allowed = roles_allow(self.requirement, await roles_of())
        if not allowed:
            raise HTTPException(403)
        if req.method not in SAFE_METHODS:
            await self._check_csrf(req)

    async def _check_csrf(self, req: Request) -> None:
        """Every admin form carries the CSRF token, whatever the app's own
        CSRF settings and however the admin authenticated (browsers send
        Basic credentials with cross-site posts too)."""
        origin = req.headers.get("origin")
        if origin is not None:
            own = f"{req.url.scheme}://{req.url.netloc}".lower()
            if origin.strip().lower() != own and origin.strip().lower() not in self.csrf.trusted_origins:
                raise HTTPException(403, "CSRF check failed: the request comes from another site")
        token = req.headers.get(self.csrf.header_name)
        if token is None and req.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            value = (await req.form()).get(self.csrf.field_name)
            token = value if isinstance(value, str) else None
        if not self.csrf.valid_token(req, token):
            raise HTTPException(403, "CSRF check failed: the form's csrf_token is missing or invalid")

    async def _no_store(self, req: Request, resp: Response) -> None:
        resp.headers["Cache-Control"] = "no-store"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["X-Content-Type-Options"] = "nosniff"

    def user_label(self, user: Any) -> str:
        """How a user is named in the audit log."""
        for name in ("username", "email", "name"):
            value = user.get(name) if isinstance(user, Mapping) else getattr(user, name, None)
            if value:
                return str(value)[:200]
        for name in ("id",):
            value = user.get(name) if isinstance(user, Mapping) else getattr(user, name, None)
            if value is not None:
                return str(value)[:200]
        return str(user)[:200]

    # -- rendering ---------------------------------------------------------------------

    @property
    def templates(self) -> Any:
        if self._templates is None:
            from dyne.templates import Templates

            self._templates = Templates(directory=str(HERE / "templates"))
        return self._templates

    def link(self, where: str = "/", /, **params: Any) -> str:
        """An admin URL: ``where`` under the admin's prefix, with ``params`` as its query."""
        query = {key: value for key, value in params.items() if value not in (None, "")}
        return (self.url + where if where != "/" else self.url) + (f"?{urlencode(query)}" if query else "")

    def render(self, req: Request, resp: Response, name: str, status: int = 200, **context: Any) -> None:
        flash = req.session.pop(FLASH_KEY, None) if FLASH_KEY in req.session else None
        resp.status_code = status
        resp.html = self.templates.render(
            f"admin/{name}", req=req, admin=self, user=req.state.user,
            user_name=self.user_label(req.state.user), csrf_input=self.csrf.input_tag(req),
            flash=flash, models=self.model_admins(), **context)

    def flash(self, req: Request, message: str) -> None:
        req.session[FLASH_KEY] = message

    async def stylesheet(self, req: Request, resp: Response) -> None:
        if self._css is None:
            self._css = (HERE / "static" / "admin.css").read_bytes()
        resp.content = self._css
        resp.mimetype = "text/css"

    # -- models ------------------------------------------------------------------------

    def model_admins(self) -> list[ModelAdmin]:
        """The managed models, by name."""
        if self._models is not None:
            classes = list(self._models)
        else:
            from dyne.ext.db.alchemical.model import Model

            audit = audit_model() if self.db is not None else None
            classes = [mapper.class_ for mapper in Model.registry.mappers
                       if mapper.class_ is not audit and mapper.class_ not in self.exclude]
        found = []
        for model in classes:
            admin = self._admins.get(model)
            if admin is None:
                try:
                    admin = ModelAdmin(model, read_only=model in self.read_only,
                                       hidden=hidden_for(model, self.hidden_columns))
                except ValueError:
                    continue
                self._admins[model] = admin
            found.append(admin)
        return sorted(found, key=lambda admin: admin.name)

    def _model_admin(self, slug: str) -> ModelAdmin:
        for admin in self.model_admins():
            if admin.slug == slug:
                return admin
        raise HTTPException(404, f"No model {slug!r} in the admin")

    def _dialect(self) -> str:
        return str(self.db.get_engine().dialect.name)

    async def _session(self, req: Request) -> Any:
        if self.db is None:
            raise HTTPException(404, "No database extension on this app")
        return await req.db  # type: ignore[attr-defined]

    async def _object(self, req: Request, admin: ModelAdmin, pk: str) -> Any:
        session = await self._session(req)
        key = admin.parse_pk(pk, self._dialect())
        obj = await session.get(admin.model, key) if key is not None else None
        if obj is None:
            raise HTTPException(404, f"No {admin.name} {pk!r}")
        return obj

    async def audit(self, req: Request, action: str, target: str, object_id: Any = None,
                    before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:
        """Write an audit log row (in the request's session: it is committed
        with the change it describes)."""
        if self.db is None:
            return
        session = await req.db  # type: ignore[attr-defined]
        session.add(audit_model()(user=self.user_label(req.state.user), action=action[:40],
                                  target=target[:200],
                                  object_id=None if object_id is None else str(object_id)[:200],
                                  before=dump_values(before), after=dump_values(after)))

    async def dashboard(self, req: Request, resp: Response) -> None:
        from sqlalchemy import func, select

        counts = []
        if self.db is not None:
            session = await self._session(req)
            for admin in self.model_admins():
                try:
                    async with session.begin_nested():
                        total = await session.scalar(select(func.count()).select_from(admin.model))
                except Exception:
                    total = None
                counts.append((admin, total))
        failed = await self._dead_letters()
        health = None
        checks = self.require_app().extensions.get("health")
        if checks is not None:
            ok, results = await checks.run_checks()
            health = {"ok": ok, "checks": results}
        self.render(req, resp, "dashboard.html", counts=counts, errors=self.errors.since(3600),
                    failed=None if failed is None else len(failed), health=health,
                    scheduler=self._scheduler() is not None)

    async def list_view(self, req: Request, resp: Response, *, slug: str) -> None:
        from dyne.ext.db.alchemical.pagination import paginate

        admin = self._model_admin(slug)
        session = await self._session(req)
        statement, state = admin.list_statement(req.params, self._dialect())
        page = await paginate(session, statement, per_page=self.per_page, max_per_page=200,
                              request=req)
        filters = [(info, await admin.choices(session, info) if info.target is not None or
                    info.enum_choices() else [("true", "yes"), ("false", "no")])
                   for info in admin.shown if info.filterable]

        def page_link(number: int) -> str:
            return self.link(f"/models/{slug}", q=state["q"], sort=state["sort"], dir=state["dir"],
                             page=number, **{f"f.{key}": value for key, value in state["filters"].items()})

        def sort_link(key: str) -> str:
            direction = "desc" if state["sort"] == key and state["dir"] == "asc" else "asc"
            return self.link(f"/models/{slug}", q=state["q"], sort=key, dir=direction,
                             **{f"f.{k}": v for k, v in state["filters"].items()})

        self.render(req, resp, "list.html", model=admin, page=page, state=state, filters=filters,
                    page_link=page_link, sort_link=sort_link)

    async def detail_view(self, req: Request, resp: Response, *, slug: str, pk: str) -> None:
        admin = self._model_admin(slug)
        obj = await self._object(req, admin, pk)
        self.render(req, resp, "detail.html", model=admin, obj=obj, pk=pk)

    async def _form_context(self, req: Request, admin: ModelAdmin) -> dict[str, Any]:
        session = await self._session(req)
        return {info.key: await admin.choices(session, info)
                for info in admin.editable if info.input_type == "select"}

    async def create_view(self, req: Request, resp: Response, *, slug: str) -> None:
        admin = self._model_admin(slug)
        if admin.read_only:
            raise HTTPException(403, f"{admin.name} is read-only in the admin")
        session = await self._session(req)
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        form: Any = {}
        if req.method == "POST":
            form = await req.form()
            values, errors = admin.read_form(form, self._dialect(), creating=True)
            if not errors:
                obj = admin.model(**values)
                saved = await self._save(req, session, obj, errors)
                if saved:
                    key = getattr(obj, admin.pk.key)
                    await self.audit(req, "create", admin.name, key, None, admin.values(obj))
                    await session.commit()
                    self.flash(req, f"{admin.name} {key} created.")
                    resp.redirect(self.link(f"/models/{slug}/{key}"), status_code=303)
                    return
        self.render(req, resp, "form.html", status=400 if errors else 200, model=admin, obj=None,
                    form=form, errors=errors, choices=await self._form_context(req, admin))

    async def _save(self, req: Request, session: Any, obj: Any, errors: dict[str, str]) -> bool:
        from sqlalchemy.exc import DataError, IntegrityError

        try:
            async with session.begin_nested():
                session.add(obj)
                await session.flush()
        except (IntegrityError, DataError) as exc:
            message = str(getattr(exc, "orig", exc)).splitlines()[0][:300]
            errors["__all__"] = f"The database refused this change: {message}"
            return False
        return True

    async def edit_view(self, req: Request, resp: Response, *, slug: str, pk: str) -> None:
        admin = self._model_admin(slug)
        if admin.read_only:
            raise HTTPException(403, f"{admin.name} is read-only in the admin")
        session = await self._session(req)
        obj = await self._object(req, admin, pk)
        errors: dict[str, str] = {}
        form: Any = None
        if req.method == "POST":
            form = await req.form()
            values, errors = admin.read_form(form, self._dialect(), creating=False)
            if not errors:
                before = admin.values(obj)
                for key, value in values.items():
                    setattr(obj, key, value)
                if await self._save(req, session, obj, errors):
                    after = admin.values(obj)
                    changed = [key for key in after if after[key] != before[key]
                               or (key in values and admin.column(key).sensitive)]  # type: ignore[union-attr]
                    await self.audit(req, "update", admin.name, pk,
                                     {key: before[key] for key in changed},
                                     {key: after[key] for key in changed})
                    await session.commit()
                    self.flash(req, f"{admin.name} {pk} saved.")
                    resp.redirect(self.link(f"/models/{slug}/{pk}"), status_code=303)
                    return
                await session.refresh(obj)
        self.render(req, resp, "form.html", status=400 if errors else 200, model=admin, obj=obj,
                    form=form, errors=errors, choices=await self._form_context(req, admin))

    async def delete_view(self, req: Request, resp: Response, *, slug: str, pk: str) -> None:
        admin = self._model_admin(slug)
        if admin.read_only:
            raise HTTPException(403, f"{admin.name} is read-only in the admin")
        obj = await self._object(req, admin, pk)
        if req.method == "POST":
            await self._delete(req, admin, [obj])
            self.flash(req, f"{admin.name} {pk} deleted.")
            resp.redirect(self.link(f"/models/{slug}"), status_code=303)
            return
        self.render(req, resp, "delete.html", model=admin, objects=[obj],
                    action=self.link(f"/models/{slug}/{pk}/delete"))

    async def _delete(self, req: Request, admin: ModelAdmin, objects: list[Any]) -> None:
        from sqlalchemy.exc import IntegrityError

        session = await self._session(req)
        try:
            async with session.begin_nested():
                for obj in objects:
                    await self.audit(req, "delete", admin.name, getattr(obj, admin.pk.key),
                                     admin.values(obj), None)
                    await session.delete(obj)
                await session.flush()
        except IntegrityError as exc:
            message = str(getattr(exc, "orig", exc)).splitlines()[0][:300]
            raise HTTPException(409, f"The database refused to delete: {message}") from None
        await session.commit()

    async def bulk_delete_view(self, req: Request, resp: Response, *, slug: str) -> None:
        from sqlalchemy import select

        admin = self._model_admin(slug)
        if admin.read_only:
            raise HTTPException(403, f"{admin.name} is read-only in the admin")
        form = await req.form()
        dialect = self._dialect()
        keys = [admin.parse_pk(value, dialect) for value in form.getlist("ids")[:1000]
                if isinstance(value, str)]
        keys = [key for key in keys if key is not None]
        if not keys:
            self.flash(req, "Nothing selected.")
            resp.redirect(self.link(f"/models/{slug}"), status_code=303)
            return
        session = await self._session(req)
        objects = list((await session.scalars(select(admin.model).where(
            getattr(admin.model, admin.pk.key).in_(keys)))).all())
        if form.get("confirm") == "yes":
            await self._delete(req, admin, objects)
            self.flash(req, f"{len(objects)} {admin.name} row(s) deleted.")
            resp.redirect(self.link(f"/models/{slug}"), status_code=303)
            return
        self.render(req, resp, "delete.html", model=admin, objects=objects,
                    action=self.link(f"/models/{slug}/bulk-delete"))

    async def audit_page(self, req: Request, resp: Response) -> None:
        from dyne.ext.db.alchemical.pagination import paginate

        if self.db is None:
            raise HTTPException(404, "The audit log needs the database extension")
        model = audit_model()
        session = await self._session(req)
        page = await paginate(session, model.select().order_by(model.id.desc()), per_page=50,
                              request=req)
        self.render(req, resp, "audit.html", page=page,
                    page_link=lambda number: self.link("/audit", page=number))

    # -- jobs ------------------------------------------------------------------------------

    def _scheduler(self) -> Any:
        app = self.require_app()
        try:
            from dyne.ext.scheduler import TaskManager
        except ImportError:  # pragma: no cover - APScheduler is an extra
            return None
        return next((ext for ext in app.extensions.values() if isinstance(ext, TaskManager)), None)

    def _queue(self) -> Any:
        app = self.require_app()
        queue = app.extensions.get("tasks")
        return queue if queue is not None and hasattr(queue, "dead_letters") else None

    async def _dead_letters(self) -> list[dict[str, Any]] | None:
        queue = self._queue()
        if queue is None:
            return None
        try:
            return list(await queue.dead_letters())
        except Exception:
            return None

    async def jobs_view(self, req: Request, resp: Response) -> None:
        manager = self._scheduler()
        jobs = manager.get_jobs() if manager is not None and manager._scheduler is not None else []
        self.render(req, resp, "jobs.html", manager=manager, jobs=sorted(jobs, key=lambda job: job.id),
                    dead=await self._dead_letters(), queue=self._queue())

    async def job_action(self, req: Request, resp: Response, *, job_id: str, action: str) -> None:
        manager = self._scheduler()
        if action not in ("pause", "resume", "run"):
            raise HTTPException(404, f"Unknown job action {action!r}")
        job = manager.get_job(job_id) if manager is not None and manager._scheduler is not None else None
        if job is None:
            raise HTTPException(404, f"No scheduled job {job_id!r}")
        before = {"next_run_time": job.next_run_time}
        if action == "pause":
            manager.pause_job(job_id)
        elif action == "resume":
            manager.resume_job(job_id)
        else:
            self.require_app().background.run(job.func, *job.args, **job.kwargs)
        after = {"next_run_time": manager.get_job(job_id).next_run_time}
        await self.audit(req, f"job {action}", "scheduler", job_id, before, after)
        if self.db is not None:
            await (await req.db).commit()  # type: ignore[attr-defined]
        self.flash(req, f"Job {job_id}: {action} done.")
        resp.redirect(self.link("/jobs"), status_code=303)

    async def task_retry(self, req: Request, resp: Response, *, task_id: str) -> None:
        queue = self._queue()
        if queue is None:
            raise HTTPException(404, "No task queue on this app")
        try:
            job = await queue.retry_dead_letter(task_id)
        except LookupError:
            raise HTTPException(404, f"No failed task {task_id!r}") from None
        await self.audit(req, "task retry", "tasks", task_id, None, {"new_task_id": job.task_id})
        if self.db is not None:
            await (await req.db).commit()  # type: ignore[attr-defined]
        self.flash(req, f"Task {task_id} queued again as {job.task_id}.")
        resp.redirect(self.link("/jobs"), status_code=303)

    # -- logs --------------------------------------------------------------------------

    def log_paths(self) -> list[Path]:
        """The app's file sinks (from its logging config) and ``log_files``."""
        found: list[Path] = []
        app = self.require_app()
        for sink in app.logging.sinks:
            value = sink.get_conf_value("SINK")
            if isinstance(value, (str, Path)) and str(value).strip().upper() not in (
                    "STDERR", "STDOUT", "SYS.STDERR", "SYS.STDOUT"):
                found.append(Path(value))
        for path in self.log_files:
            if path not in found:
                found.append(path)
        return found

    async def logs_view(self, req: Request, resp: Response) -> None:
        from dyne.concurrency import run_sync

        params = req.params
        level = str(params.get("level") or "").upper()
        if level and level not in LEVELS:
            raise HTTPException(400, f"level must be one of {', '.join(LEVELS)}")
        text = str(params.get("q") or "")[:200]
        request_id = str(params.get("request_id") or "")[:128]
        paths = self.log_paths()
        records = await run_sync(search_logs, paths, level=level, text=text, request_id=request_id)
        self.render(req, resp, "logs.html", records=records, paths=paths, levels=LEVELS, level=level,
                    q=text, request_id=request_id)


    # -- files -----------------------------------------------------------------------------

    def _files_root(self) -> Path:
        if self.files_root is None:
            raise HTTPException(404, "No files root: Admin(files_root=...)")
        if not self.files_root.is_dir():
            raise HTTPException(404, f"The files root {self.files_root} is not a directory")
        return self.files_root

    async def files_view(self, req: Request, resp: Response) -> None:
        from .files import list_directory, resolve_inside

        if self.files_root is not None and not self.files_root.exists():
            self.render(req, resp, "files.html", entries=[], current="", parent="", missing=True)
            return
        root = self._files_root()
        relative = str(req.params.get("path") or "")
        directory = resolve_inside(root, relative)
        if not directory.is_dir():
            raise HTTPException(400, "Not a directory")
        current = str(directory.relative_to(root.resolve())) if directory != root.resolve() else ""
        parent = str(Path(current).parent) if current else ""
        self.render(req, resp, "files.html", entries=list_directory(root, directory),
                    current=current, parent="" if parent == "." else parent)

    async def file_download(self, req: Request, resp: Response) -> None:
        from urllib.parse import quote

        from .files import resolve_inside

        target = resolve_inside(self._files_root(), str(req.params.get("path") or ""))
        if not target.is_file():
            raise HTTPException(400, "Not a file")
        resp.stream_file(target)
        resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(target.name)}"

    async def file_delete(self, req: Request, resp: Response) -> None:
        from .files import resolve_inside

        root = self._files_root()
        form = await req.form()
        relative = form.get("path")
        target = resolve_inside(root, relative if isinstance(relative, str) else "")
        if not target.is_file():
            raise HTTPException(400, "Only files can be deleted")
        size = target.stat().st_size
        name = str(target.relative_to(root.resolve()))
        target.unlink()
        await self.audit(req, "file delete", "files", name, {"size": size}, None)
        if self.db is not None:
            await (await req.db).commit()  # type: ignore[attr-defined]
        self.flash(req, f"{name} deleted.")
        parent = str(Path(name).parent)
        resp.redirect(self.link("/files", path="" if parent == "." else parent), status_code=303)

    # -- e-mail ----------------------------------------------------------------------------

    def _email(self) -> Any:
        return self.require_app().extensions.get("email_client")

    async def email_view(self, req: Request, resp: Response) -> None:
        client = self._email()
        outbox = None
        if client is not None:
            from dyne.ext.email import MemoryBackend

            if isinstance(client.backend, MemoryBackend):
                outbox = list(reversed(client.backend.outbox[-200:]))
        dead = await self._dead_letters()
        failed = [task for task in dead or () if "email" in str(task.get("task_name", ""))]
        self.render(req, resp, "email.html", client=client, outbox=outbox, failed=failed)

    async def email_test(self, req: Request, resp: Response) -> None:
        client = self._email()
        if client is None:
            raise HTTPException(404, "No email extension on this app (dyne.ext.email.EmailClient)")
        form = await req.form()
        to = form.get("to")
        if not isinstance(to, str) or "@" not in to or len(to) > 320:
            raise HTTPException(400, "Give an e-mail address to send the test message to")
        try:
            await client.send_email(to.strip(), f"Test message from {self.title}",
                                    "This test message was sent from the admin dashboard.")
        except Exception as exc:
            self.flash(req, f"Sending failed: {type(exc).__name__}: {exc}")
        else:
            await self.audit(req, "email test", "email", to.strip(), None, None)
            if self.db is not None:
                await (await req.db).commit()  # type: ignore[attr-defined]
            self.flash(req, f"Test message sent to {to.strip()}.")
        resp.redirect(self.link("/email"), status_code=303)
