"""An app with a LoginManager, an admin and a non-admin user, and models."""


import enum
import re
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

import dyne
from dyne.ext.auth import LoginManager

ACCOUNTS = {1: {"id": 1, "username": "root", "password": "toor", "roles": ["admin"]},
            2: {"id": 2, "username": "eve", "password": "eve", "roles": ["user"]}}


class Color(enum.Enum):
    red = "r"
    blue = "b"


def define_models() -> tuple[Any, Any, Any]:
    from dyne.ext.db.alchemical import Model

    class Author(Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(80))

    class Book(Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str] = mapped_column(String(120))
        pages: Mapped[int | None]
        in_print: Mapped[bool] = mapped_column(default=True)
        color: Mapped[Color | None]
        author_id: Mapped[int | None] = mapped_column(ForeignKey("author.id"))

    class Account(Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        email: Mapped[str] = mapped_column(String(120))
        password_hash: Mapped[str] = mapped_column(String(200))
        api_token: Mapped[str | None] = mapped_column(String(64))
        note: Mapped[str | None] = mapped_column(String(50))

    return Author, Book, Account


def make_admin_app(database_url: str, **admin_options: Any) -> tuple[dyne.App, Any, Any]:
    from dyne.ext.admin import Admin
    from dyne.ext.db.alchemical import Alchemical

    app = dyne.App(secret_key="admin-tests-secret-key-0123456789")
    app.config["ALCHEMICAL_DATABASE_URL"] = database_url
    db = Alchemical(app)
    auth = LoginManager(app, login_url="/login")

    @auth.user_loader
    def load(user_id: str) -> Any:
        return ACCOUNTS.get(int(user_id))

    @auth.get_user_roles
    def roles(user: Any) -> Any:
        return user["roles"]

    @app.route("/login", methods=["GET", "POST"])
    async def login(req: Any, resp: Any) -> None:
        if req.method == "GET":
            resp.html = ('<form method="post"><input name="username"><input name="password" '
                         'type="password"><button>Log in</button></form>')
            return
        form = await req.form()
        user = next((u for u in ACCOUNTS.values() if u["username"] == form.get("username")), None)
        if user is None or user["password"] != form.get("password"):
            resp.status_code = 401
            resp.text = "bad credentials"
            return
        await auth.login(req, resp, user, redirect_url=auth.next_url(req, default="/admin"))

    @app.route("/")
    async def home(req: Any, resp: Any) -> None:
        resp.text = "home"

    @app.on_event("startup")
    async def create_tables() -> None:
        await db.create_all()

    admin = Admin(app, **admin_options)
    return app, db, admin


def log_in(client: Any, username: str = "root", password: str | None = None) -> None:
    password = password or {"root": "toor", "eve": "eve"}[username]
    response = client.post("/login", data={"username": username, "password": password},
                           follow_redirects=False)
    assert response.status_code in (302, 303), response.text


def csrf_token(client: Any, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert match, page.text
    return match.group(1)
