"""Session auth on top of dyne.ext.db: the documented user_loader,
``await User.find(id=int(user_id))``, works with a real database."""

import pytest
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

import dyne
from dyne.ext.auth import LoginManager
from dyne.ext.db.alchemical import Alchemical, CRUDMixin, Model


@pytest.fixture
def app_with_users(tmp_path):
    class Member(CRUDMixin, Model):
        __tablename__ = "auth_members"
        id: Mapped[int] = mapped_column(primary_key=True)
        username: Mapped[str] = mapped_column(String(64), unique=True)

    app = dyne.App()
    app.config.from_object({"SECRET_KEY": "k", "ALCHEMICAL_DATABASE_URL":
                            f"sqlite:///{tmp_path / 'users.db'}"})
    db = Alchemical(app)
    auth = LoginManager(app, login_url="/login")

    @auth.user_loader
    async def load_user(user_id: str):
        return await Member.find(id=int(user_id))

    @app.on_event("startup")
    async def create_tables():
        await db.create_all()
        async with db.begin():
            await Member.create(username="ada")

    @app.route("/login", methods=["POST"])
    async def login_route(req, resp):
        await req.db
        user = await Member.find(username=(await req.media())["username"])
        if user is None:
            resp.status_code = 401
            return
        await auth.login(req, resp, user, remember_me=True)
        resp.media = {"logged_in": user.username}

    @app.route("/profile")
    @auth.login_required
    async def profile(req, resp):
        return {"user": req.state.user.username}

    yield app
    app.client.close()


def test_user_loader_can_use_crud_methods(app_with_users):
    client = app_with_users.client
    assert client.get("/profile", headers={"Accept": "application/json"}).status_code == 401
    assert client.post("/login", json={"username": "ada"}).json() == {"logged_in": "ada"}
    assert client.get("/profile").json() == {"user": "ada"}
    client.cookies.delete("dyne-Session")  # the browser closed; remember-me restores it
    assert client.get("/profile").json() == {"user": "ada"}
