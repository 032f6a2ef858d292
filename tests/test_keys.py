"""Secret-key rotation: ``SECRET_KEY`` signs, ``SECRET_KEY_FALLBACKS`` still
verify; a value signed with a key in neither is refused (no damage: an empty
session, ``None``, a 401)."""

from __future__ import annotations

import pytest

import dyne
from dyne.ext.auth import JWT, LoginManager, Signer
from dyne.keys import key_list

OLD, NEW, OTHER = "old-key-" + "o" * 32, "new-key-" + "n" * 32, "other-" + "x" * 32


def session_app(secret_key: str, fallbacks: list[str] | None = None) -> dyne.App:
    app = dyne.App(secret_key=secret_key, secret_key_fallbacks=fallbacks, csrf=False)

    @app.route("/set")
    async def set_value(req, resp):
        req.session["n"] = 42
        resp.text = "set"

    @app.route("/get")
    async def get_value(req, resp):
        resp.media = {"n": req.session.get("n")}

    return app


def _read(app: dyne.App, cookie: str) -> dict:
    return app.client.get("/get", cookies={app.session_backend.cookie_name: cookie}).json()


def _session_cookie(app: dyne.App) -> str:
    response = app.client.get("/set")
    return response.cookies[app.session_backend.cookie_name]


def test_session_cookie_signed_with_a_fallback_still_loads():
    cookie = _session_cookie(session_app(OLD))
    rotated = session_app(NEW, [OLD])
    assert _read(rotated, cookie) == {"n": 42}
    # New cookies are signed with the new key: an app that only knows it reads them.
    fresh = _session_cookie(rotated)
    only_new = session_app(NEW)
    assert _read(only_new, fresh) == {"n": 42}
    # ... and the old key alone does not.
    only_old = session_app(OLD)
    assert _read(only_old, fresh) == {"n": None}


def test_cookie_signed_with_an_unknown_or_retired_key_is_ignored():
    cookie = _session_cookie(session_app(OTHER))
    rotated = session_app(NEW, [OLD])
    assert _read(rotated, cookie) == {"n": None}
    tampered = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")
    assert _read(rotated, tampered) == {"n": None}


def test_fallbacks_from_the_config_environment():
    app = dyne.App(environ={"SECRET_KEY": NEW, "SECRET_KEY_FALLBACKS": f"{OLD}, {OTHER}"})
    assert app.secret_key == NEW
    assert app.secret_key_fallbacks == [OLD, OTHER]
    assert key_list(None) == []
    with pytest.raises(TypeError, match="non-empty"):
        key_list([""])


def test_signer_and_jwt_accept_fallbacks():
    old_value = Signer(OLD, salt="s").sign({"user": 1})
    assert Signer(NEW, salt="s", fallbacks=[OLD]).unsign(old_value) == {"user": 1}
    assert Signer(NEW, salt="s").unsign(old_value) is None
    assert Signer(NEW, salt="s", fallbacks=[OTHER]).unsign(old_value) is None
    new_value = Signer(NEW, salt="s", fallbacks=[OLD]).sign("x")
    assert Signer(NEW, salt="s").unsign(new_value) == "x"

    old_token = JWT(OLD).encode({"sub": "1"})
    assert JWT(NEW, fallbacks=[OTHER, OLD]).validate(old_token)["sub"] == "1"
    assert JWT(NEW).validate(old_token) is None
    assert JWT(NEW, fallbacks=[OTHER]).validate(old_token) is None
    # An expired token stays expired whichever key signed it.
    import jwt

    expired = jwt.encode({"sub": "1", "exp": 1}, OLD, algorithm="HS256")
    assert JWT(NEW, fallbacks=[OLD]).validate(expired) is None


def test_login_manager_remember_me_and_tokens_survive_rotation():
    def make(secret: str, fallbacks: list[str] | None = None) -> tuple[dyne.App, LoginManager]:
        app = dyne.App(secret_key=secret, secret_key_fallbacks=fallbacks, csrf=False)
        login = LoginManager(app)
        login.user_loader(lambda user_id: {"id": user_id})

        @app.route("/whoami")
        @login.login_required
        async def whoami(req, resp):
            resp.media = {"id": req.state.user["id"]}

        return app, login

    old_app, old_login = make(OLD)
    old_app.client.get("/whoami")  # bind the manager
    remember = old_login._bound().dumps("7")
    token = old_login.create_jwt_token({"sub": "7"})
    signed = old_login.create_signed_cookie_value({"a": 1})

    app, login = make(NEW, [OLD])
    client = app.client
    response = client.get("/whoami", cookies={login.remember_cookie_name: remember})
    assert response.json() == {"id": "7"}
    assert login.validate_jwt_token(token)["sub"] == "7"
    assert login.decode_signed_cookie(signed) == {"a": 1}

    strict_app, strict = make(NEW)
    refused = strict_app.client.get("/whoami", cookies={strict.remember_cookie_name: remember},
                                    follow_redirects=False)
    assert refused.status_code in (302, 303, 401)  # sent to log in: not user 7
    assert strict.validate_jwt_token(token) is None
    assert strict.decode_signed_cookie(signed) is None
