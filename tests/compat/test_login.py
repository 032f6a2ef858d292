"""LoginManager as the docs say and Dyne 2.0.5 does (tried against 2.0.5)."""

import pytest

import dyne
from dyne.ext.auth import LoginManager

USERS = {"1": {"id": 1, "name": "ada"}}


@pytest.fixture
def app():
    app = dyne.App(secret_key="s3cret")
    auth = LoginManager(app, login_url="/login")
    app.state.auth = auth

    @auth.user_loader
    async def load(user_id):
        return USERS.get(str(user_id))

    @app.route("/login", methods=["POST"])
    async def login(req, resp):
        await auth.login(req, resp, USERS["1"], remember_me=True, redirect_url="/dashboard")

    @app.route("/dashboard")
    @auth.login_required
    async def dashboard(req, resp):
        resp.media = {"user": req.state.user["name"]}

    return app


@pytest.mark.parametrize("accept", [None, "*/*", "text/html", "application/json, text/html",
                                    "text/html;q=0.5, application/json"])
def test_anonymous_requests_are_redirected_to_the_login_page(app, accept):
    headers = {"Accept": accept} if accept else {}
    response = app.client.get("/dashboard", headers=headers, follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "/login?next=%2Fdashboard"


@pytest.mark.parametrize("accept", ["application/json", "application/problem+json"])
def test_clients_asking_for_json_only_get_401(app, accept):
    response = app.client.get("/dashboard", headers={"Accept": accept}, follow_redirects=False)
    assert response.status_code == 401


def test_login_redirects_with_302_and_sets_remember_me(app):
    client = app.session()
    response = client.post("/login", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (302, "/dashboard")
    assert "remember_me" in response.cookies
    assert client.get("/dashboard").json() == {"user": "ada"}


def test_published_attributes(app):
    auth = app.state.auth
    assert auth.remember_me_cookie_name == "remember_me"
    assert auth.USER_ID_KEY == LoginManager.USER_ID_KEY == "_user_id"
    assert auth.secret_key == "s3cret"
    other = LoginManager(dyne.App(secret_key="k"), remember_me_cookie_name="keep")
    assert other.remember_me_cookie_name == "keep"
