'''The Dyne documentation's authentication examples (seed 001, sections
"Stateless Authentication" and "Session Authentication", and the auth part of
the OpenAPI section's full example), run unchanged and checked against what
the text says.

Each example is kept exactly as printed, in a string, and executed. Names the
documentation uses without defining them (the database ``User`` model,
``datetime``, ``logger``, ``HTTPStatus``, and ``app``/``users`` from earlier
sections) are provided by the test: the ``User`` here is a stand-in class,
because the database extension is built separately. Fragments that the
documentation shows outside any function (``await auth.login(...)``) run as
the body of a view. ``test_examples_are_verbatim`` compares every string with
the documentation source when it is available.
'''

from __future__ import annotations

import json
import logging
import re
import shlex
import subprocess
import sys
import textwrap
from datetime import datetime
from http import HTTPStatus
from pathlib import Path

import pytest

try:
    import httpx2 as httpx
except ModuleNotFoundError:  # pragma: no cover
    import httpx

import dyne
from dyne.ext.auth import LoginManager, authenticate
from tests.conftest import require_tool, seed_document, serve_in_thread

from .clients import basic, bearer, digest, digest_challenge

# The documentation source: seed 001, in shared/seeds beside the checkout.
SEED = "001_1cdd2c39c5bda939.txt"


def run(source: str, namespace: dict) -> dict:
    exec(compile(textwrap.dedent(source), "<doc example>", "exec"), namespace)
    return namespace


def as_view(fragment: str, name: str, prelude: str = "") -> str:
    """A documentation fragment (top-level ``await``...) as the body of a view."""
    body = textwrap.indent(textwrap.dedent(fragment).strip("\n"), "    ")
    return f"async def {name}(req, resp):\n{prelude}{body}\n"


# == Stateless Authentication ===========================================================

USER_OBJECT = '''
username = req.state.user
'''

BASIC = '''
import dyne
from dyne.ext.auth import authenticate, BasicAuth

app = dyne.App()
users = dict(john="password", admin="password123")

basic_auth = BasicAuth()

@basic_auth.verify_password
async def verify_password(username, password):
    if users.get(username) == password:
        return username
    return None

@app.route("/greet")
@authenticate(basic_auth)
async def basic_greet(req, resp):
    resp.text = f"Hello, {req.state.user}!"
'''

TOKEN = '''
from dyne.ext.auth import authenticate, TokenAuth

token_auth = TokenAuth()

@token_auth.verify_token
async def verify_token(token):
    if token == "secret_key_123":
        return "David"
    return None

@app.route("/dashboard")
@authenticate(token_auth)
async def secure_route(req, resp):
    resp.media = {"data": "Top Secret", "username": req.state.user}
'''

DIGEST = '''
from dyne.ext.auth import authenticate, DigestAuth

digest_auth = DigestAuth()

@digest_auth.get_password
async def get_password(username):
    return users.get(username)

@app.route("/greet")
@authenticate(digest_auth)
async def digest_greet(req, resp):
    resp.text = f"Hello to {req.state.user}"
'''

DIGEST_HA1 = '''
import hashlib
from dyne.ext.auth import DigestAuth

digest_auth = DigestAuth(realm="My App")

@digest_auth.get_password
async def get_ha1_pw(username):
    password = users.get(username) # In reality, fetch from DB
    realm = "My App"
    # Precompute HA1: md5(username:realm:password)
    return hashlib.md5(f"{username}:{realm}:{password}".encode("utf-8")).hexdigest()
'''

DIGEST_NONCE = '''
import hmac

MY_SECRET_NONCE = "37e9292aecca04bd7e834e3e983f5d4"
MY_SECRET_OPAQUE = "f8bf1725d7a942c6511cc7ed38c169fo"

@digest_auth.generate_nonce
async def gen_nonce(request):
    return MY_SECRET_NONCE

@digest_auth.verify_nonce
async def ver_nonce(request, nonce):
    return hmac.compare_digest(MY_SECRET_NONCE, nonce)

@digest_auth.generate_opaque
async def gen_opaque(request):
    return MY_SECRET_OPAQUE

@digest_auth.verify_opaque
async def ver_opaque(request, opaque):
    return hmac.compare_digest(MY_SECRET_OPAQUE, opaque)
'''

ERROR_HANDLER = '''
@basic_auth.error_handler
async def custom_error(req, resp, status_code):
    resp.status_code = 401
    resp.media = {"error": "Custom Authentication Failed"}
'''

MULTI = '''
from dyne.ext.auth import MultiAuth

# Support Token and Basic and Digest authentication
multi_auth = MultiAuth(digest_auth, token_auth, basic_auth)

@app.route("/{greeting}")
@authenticate(multi_auth)
async def multi_greet(req, resp, *, greeting):
    resp.text = f"{greeting}, {req.state.user}!"
'''

RBAC = '''
from dyne.ext.auth import authenticate, BasicAuth

basic_auth = BasicAuth()

# Define user roles (usually stored in a DB)
roles = {
    "john": "user",
    "admin_user": ["user", "admin"]
}

@basic_auth.get_user_roles
async def get_user_roles(user):
    # 'user' is the object returned by verify_password
    return roles.get(user)

# Both `john`` and ``admin_user`` can access this ruote
@app.route("/dashboard")
@authenticate(basic_auth, role="user")
async def dashboard(req, resp):
    resp.text = f"Welcome to the user dashboard, {req.state.user}!"

# Only ``admin_user`` can access this ruote
@app.route("/system-settings")
@authenticate(basic_auth, role="admin")
async def admin_settings(req, resp):
    resp.text = "Sensitive administrative settings."
'''

# The documentation's sample requests (httpie), as printed.
BASIC_REQUEST = "http -a john:password GET http://localhost:5042/greet"
TOKEN_REQUEST = 'http GET http://localhost:5042/dashboard "Authorization: Bearer secret_key_123"'
DIGEST_REQUEST = "http --auth-type=digest -a john:password get http://127.0.0.1:5042/greet"
MULTI_REQUESTS = '''
# Option 1: Basic Auth
http -a john:password get http://127.0.0.1:5042/Hi

# Option 2: Token Auth
http get http://127.0.0.1:5042/Hi "Authorization: Bearer secret_key_123"

# Option 3: Digest Auth
http --auth-type=digest -a john:password get http://127.0.0.1:5042/Hi
'''
RBAC_REQUESTS = '''
# Accessing user-level route
http -a john:password GET http://localhost:5042/dashboard

# Accessing admin-level route (will return 403 if roles don't match)
http -a admin_user:password123 GET http://localhost:5042/system-settings
'''


def basic_namespace() -> dict:
    namespace = run(BASIC, {"__name__": "docs_auth"})
    return run(TOKEN, namespace)


def test_basic_and_token_examples():
    namespace = basic_namespace()
    client = namespace["app"].client
    assert client.get("/greet", auth=("john", "password")).text == "Hello, john!"
    assert client.get("/greet", auth=("john", "password123")).status_code == 401
    assert client.get("/greet").headers["www-authenticate"].startswith("Basic ")
    assert client.get("/dashboard", headers=bearer("secret_key_123")).json() == {
        "data": "Top Secret", "username": "David"}
    assert client.get("/dashboard", headers=bearer("secret_key_124")).status_code == 401


def test_the_user_object_fragment():
    namespace = basic_namespace()
    app = namespace["app"]
    run(as_view(USER_OBJECT, "whoami", "    resp.text = 'set below'\n") + "    resp.text = username\n",
        namespace)
    app.add_route("/whoami", authenticate(namespace["basic_auth"])(namespace["whoami"]))
    assert app.client.get("/whoami", auth=("admin", "password123")).text == "admin"


def test_custom_error_handler_example():
    namespace = run(ERROR_HANDLER, basic_namespace())
    response = namespace["app"].client.get("/greet", auth=("john", "nope"))
    assert response.status_code == 401
    assert response.json() == {"error": "Custom Authentication Failed"}
    assert response.headers["www-authenticate"].startswith("Basic ")


def test_digest_example():
    users = basic_namespace()["users"]
    namespace = run(DIGEST, {"__name__": "docs_auth", "app": dyne.App(), "users": users})
    client = namespace["app"].client
    assert client.get("/greet", auth=httpx.DigestAuth("john", "password")).text == "Hello to john"
    assert client.get("/greet", auth=httpx.DigestAuth("john", "wrong")).status_code == 401


def test_digest_ha1_and_custom_nonce_examples():
    users = basic_namespace()["users"]
    namespace = run(DIGEST_HA1, {"__name__": "docs_auth", "users": users})
    app = dyne.App()

    async def greet(req, resp):
        resp.text = f"Hello to {req.state.user}"

    app.add_route("/greet", authenticate(namespace["digest_auth"])(greet))
    client = app.client
    assert client.get("/greet").headers["www-authenticate"].startswith('Digest realm="My App"')
    assert client.get("/greet", auth=httpx.DigestAuth("admin", "password123")).status_code == 200
    assert client.get("/greet", auth=httpx.DigestAuth("admin", "password")).status_code == 401

    run(DIGEST_NONCE, namespace)
    challenge = digest_challenge(client.get("/greet").headers["www-authenticate"])
    assert challenge["nonce"] == "37e9292aecca04bd7e834e3e983f5d4"
    assert challenge["opaque"] == "f8bf1725d7a942c6511cc7ed38c169fo"
    for cnonce in ("client-a", "client-b"):
        answer = digest(challenge, "john", "password", uri="/greet", cnonce=cnonce)
        assert client.get("/greet", headers=answer).text == "Hello to john"
    assert client.get("/greet", auth=httpx.DigestAuth("john", "password")).status_code == 200
    forged = digest({**challenge, "nonce": "0" * 31}, "john", "password", uri="/greet")
    assert client.get("/greet", headers=forged).status_code == 401


def multi_namespace() -> dict:
    stateless = basic_namespace()
    digest_ns = run(DIGEST, {"__name__": "docs_auth", "app": dyne.App(), "users": stateless["users"]})
    namespace = {**stateless, "digest_auth": digest_ns["digest_auth"], "app": dyne.App()}
    return run(MULTI, namespace)


def test_multi_auth_example():
    client = multi_namespace()["app"].client
    assert client.get("/Hi", auth=("john", "password")).text == "Hi, john!"
    assert client.get("/Hi", headers=bearer("secret_key_123")).text == "Hi, David!"
    assert client.get("/Hi", auth=httpx.DigestAuth("john", "password")).text == "Hi, john!"
    refused = client.get("/Hi")
    assert refused.status_code == 401
    challenges = refused.headers["www-authenticate"]
    assert challenges.startswith("Digest ") and "Bearer " in challenges and "Basic " in challenges


def rbac_namespace() -> dict:
    namespace = run(RBAC, {"__name__": "docs_auth", "app": dyne.App()})

    # The example shows roles only; its sample requests log in as john and
    # admin_user, so the test gives the backend their passwords.
    @namespace["basic_auth"].verify_password
    async def verify_password(username, password):
        known = {"john": "password", "admin_user": "password123"}
        return username if known.get(username) == password else None

    return namespace


def test_role_based_authorization_example():
    client = rbac_namespace()["app"].client
    assert client.get("/dashboard", auth=("john", "password")).text == (
        "Welcome to the user dashboard, john!")
    assert client.get("/dashboard", auth=("admin_user", "password123")).status_code == 200
    assert client.get("/system-settings", auth=("admin_user", "password123")).text == (
        "Sensitive administrative settings.")
    assert client.get("/system-settings", auth=("john", "password")).status_code == 403


def httpie(command: str, base_url: str) -> tuple[int, str]:
    """Run a documented httpie command against ``base_url`` instead of port 5042."""
    executable = Path(sys.executable).with_name("http")
    if not executable.exists():
        executable = Path(require_tool("http", 'httpie: pip install -e ".[dev]"'))
    args = shlex.split(re.sub(r"http://(localhost|127\.0\.0\.1):5042", base_url, command))
    assert args[0] == "http"
    result = subprocess.run([str(executable), "--ignore-stdin", "--print=hb", *args[1:]],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    head, _, body = result.stdout.partition("\n\n")
    return int(head.split()[1]), body.strip()


def commands(block: str) -> list[str]:
    return [line for line in block.strip().splitlines() if line.startswith("http ")]


@pytest.mark.server
def test_documented_sample_requests_with_httpie():
    with serve_in_thread(basic_namespace()["app"]) as url:
        assert httpie(BASIC_REQUEST, url) == (200, "Hello, john!")
        status, body = httpie(TOKEN_REQUEST, url)
        assert (status, json.loads(body)) == (200, {"data": "Top Secret", "username": "David"})
    users = basic_namespace()["users"]
    with serve_in_thread(run(DIGEST, {"__name__": "d", "app": dyne.App(), "users": users})["app"]) as url:
        assert httpie(DIGEST_REQUEST, url) == (200, "Hello to john")
    with serve_in_thread(multi_namespace()["app"]) as url:
        for command in commands(MULTI_REQUESTS):
            assert httpie(command, url) == (200, "Hi, john!" if "-a" in command else "Hi, David!")
    with serve_in_thread(rbac_namespace()["app"]) as url:
        user_level, admin_level = commands(RBAC_REQUESTS)
        assert httpie(user_level, url)[0] == 200
        assert httpie(admin_level, url) == (200, "Sensitive administrative settings.")
        assert httpie(admin_level.replace("admin_user", "john").replace("password123", "password"),
                      url)[0] == 403


# == The OpenAPI section's full example (its authentication part) ========================

OPENAPI_AUTH = '''
users = dict(john="password", admin="password123")
roles = {"john": "user", "admin": ["user", "admin"]}
basic_auth = BasicAuth()

@basic_auth.verify_password
async def verify_password(username, password):
    if username in users and users.get(username) == password:
        return username
    return None

@basic_auth.error_handler
async def error_handler(req, resp, status_code=401):
    resp.text = "Invalid credentials"
    resp.status_code = status_code

@basic_auth.get_user_roles
async def get_user_roles(user):
    return roles.get(user)
'''


def test_openapi_example_auth_part_uses_one_handler_for_401_and_403():
    from dyne.ext.auth import BasicAuth

    namespace = run(OPENAPI_AUTH, {"__name__": "docs_openapi", "BasicAuth": BasicAuth})
    app = dyne.App()

    # The example's route also carries @input/@output/@expect/@db.transaction,
    # which belong to other extensions; the authentication is the same.
    @app.route("/book", methods=["POST"])
    @authenticate(namespace["basic_auth"], role="admin")
    async def create_book(req, resp):
        resp.status_code = 201

    client = app.client
    for headers, status in (({}, 401), (basic("john", "password"), 403), (basic("admin", "x"), 401)):
        response = client.post("/book", headers=headers)
        assert (response.status_code, response.text) == (status, "Invalid credentials")
    assert client.post("/book", headers=basic("admin", "password123")).status_code == 201


# == Session Authentication ===============================================================

CONFIGURATION = '''
auth = LoginManager(
    app,
    login_url="/login",
    remember_me_duration=2592000,  # Optional 30 days default
    user_id_attribute="id",  # Optional and defaults to `id`
)
'''

USER_LOADING = '''
@auth.user_loader
async def load_user(user_id: str):
    return await User.find(id=int(user_id))
'''

LOGIN = '''
await auth.login(req, resp, user, redirect_url="/dashboard")
'''

LOGIN_REMEMBER = '''
await auth.login(req, resp, user, remember_me=True, redirect_url="/dashboard")
'''

LOGOUT = '''
await auth.logout(req, resp)
'''

CURRENT_USER = '''
req.state.user
'''

SESSION_MANAGEMENT = '''
@app.route("/login", methods=["POST"])
async def login_route(req, resp):
    user = await User.authenticate(req.media())
    if user:
        await auth.login(req, resp, user, remember_me=True, redirect_url="/dashboard")
    ...

@app.route("/logout")
async def logout_route(req, resp):
    await auth.logout(req, resp)
    return resp.redirect("/")
'''

ACCESS_CONTROL = '''
@app.route("/profile")
@auth.login_required
async def profile(req, resp):
    return {"user": req.state.user.username}
'''

SESSION_RBAC = '''
@auth.get_user_roles
async def get_roles(user):
    return [r.name for r in user.roles]

# Requires 'admin' OR 'editor'
@app.route("/post/edit")
@auth.login_required(role=["admin", "editor"])
async def edit(req, resp):
    pass

# Requires 'admin' AND 'super_user'
@app.route("/system/reset")
@auth.login_required(role=[["admin", "super_user"]])
async def reset(req, resp):
    pass
'''

EVENT_HOOKS = '''
@auth.on_login
async def update_last_login(req, resp, user):
    await user.update(last_login=datetime.now())

@auth.on_logout
async def log_logout(req, resp, user):
    logger.info(f"User {user.id} logged out")
'''

# The documentation indents the first line of this example by one space less
# than the rest (and lacks the blank line after ``.. code-block::``), which
# makes it invalid Python. The only change: that line is indented like the rest.
CUSTOM_FAILURE = '''
    from dyne.ext.auth import AuthFailureReason

    @auth.on_failure
    async def custom_auth_failure(req, resp, reason):

        if reason == AuthFailureReason.UNAUTHENTICATED:
            resp.status_code = HTTPStatus.UNAUTHORIZED
            resp.media = {"error": "Authentication required", "code": "AUTH_REQUIRED"}

        if reason == AuthFailureReason.UNAUTHORIZED:
            resp.status_code = HTTPStatus.FORBIDDEN
            resp.media = {
                "error": "Insufficient permissions",
                "required_roles": "admin",
            }

            resp.status_code = HTTPStatus.FORBIDDEN
            resp.text = "<h1>403 - Forbidden</h1><p>You do not have permission to view this page.</p>"

        # Or fallback to default implementation
        # await auth.default_failure(req, resp, reason)
'''


class Role:
    def __init__(self, name: str) -> None:
        self.name = name


class User:
    """A stand-in for the documentation's database model."""

    rows: dict[int, User] = {}

    def __init__(self, id: int, username: str, password: str, roles: tuple[str, ...] = ()) -> None:
        self.id, self.username, self.password = id, username, password
        self.roles = [Role(name) for name in roles]
        self.last_login: datetime | None = None
        User.rows[id] = self

    @classmethod
    async def find(cls, **criteria):
        return next((user for user in cls.rows.values()
                     if all(getattr(user, key) == value for key, value in criteria.items())), None)

    @classmethod
    async def authenticate(cls, media):
        data = await media  # req.media(), awaited here since the example does not
        user = await cls.find(username=data.get("username"))
        return user if user is not None and user.password == data.get("password") else None

    async def update(self, **values):
        for key, value in values.items():
            setattr(self, key, value)


@pytest.fixture
def users():
    User.rows = {}
    return {"alice": User(1, "alice", "wonderland", ("editor",)),
            "bob": User(2, "bob", "builder", ("admin", "super_user")),
            "carol": User(3, "carol", "singer")}


def session_namespace() -> dict:
    app = dyne.App()
    app.config["SECRET_KEY"] = "docs-secret-key"
    return {"__name__": "docs_session", "app": app, "LoginManager": LoginManager, "User": User,
            "datetime": datetime, "logger": logging.getLogger("docs.auth"), "HTTPStatus": HTTPStatus}


def log_in(client, username, password):
    response = client.post("/login", json={"username": username, "password": password},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/dashboard"
    return response


def test_session_examples_in_order(users, caplog):
    namespace = session_namespace()
    for example in (CONFIGURATION, USER_LOADING, SESSION_MANAGEMENT, ACCESS_CONTROL):
        run(example, namespace)
    auth, client = namespace["auth"], namespace["app"].client

    # Not logged in: browsers go to the login page, API clients get a 401.
    page = client.get("/profile?tab=2", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 302
    assert page.headers["location"] == "/login?next=%2Fprofile%3Ftab%3D2"
    assert client.get("/profile").status_code == 401

    # Logging in (remember_me=True) sets the session and the remember-me cookie.
    response = log_in(client, "alice", "wonderland")
    assert {"dyne-Session", "dyne-Remember"} <= set(response.cookies)
    assert client.get("/profile").json() == {"user": "alice"}
    assert client.post("/login", json={"username": "alice", "password": "nope"}).status_code == 200

    # Roles: any of a list, all of an inner list.
    run(SESSION_RBAC, namespace)
    assert client.get("/post/edit").status_code == 200
    assert client.get("/system/reset").status_code == 403
    client.cookies.clear()
    log_in(client, "bob", "builder")
    assert client.get("/system/reset").status_code == 200

    # Hooks run on login and logout.
    run(EVENT_HOOKS, namespace)
    log_in(client, "carol", "singer")
    assert isinstance(users["carol"].last_login, datetime)
    with caplog.at_level(logging.INFO, logger="docs.auth"):
        logged_out = client.get("/logout", follow_redirects=False)
    assert logged_out.headers["location"] == "/"
    assert "User 3 logged out" in caplog.text
    assert "dyne-Remember" not in client.cookies
    assert client.get("/profile").status_code == 401
    assert client.get("/post/edit").status_code == 401

    # Custom failures replace the defaults.
    run(CUSTOM_FAILURE, namespace)
    refused = client.get("/profile", headers={"Accept": "text/html"})
    assert (refused.status_code, refused.json()) == (401, {"error": "Authentication required",
                                                          "code": "AUTH_REQUIRED"})
    log_in(client, "carol", "singer")
    forbidden = client.get("/post/edit")
    assert forbidden.status_code == 403
    assert forbidden.text.startswith("<h1>403 - Forbidden</h1>")
    assert auth.default_failure is not None


def test_remember_me_restores_the_session(users):
    namespace = session_namespace()
    for example in (CONFIGURATION, USER_LOADING, SESSION_MANAGEMENT, ACCESS_CONTROL):
        run(example, namespace)
    client = namespace["app"].client
    log_in(client, "alice", "wonderland")
    remember = client.cookies["dyne-Remember"]
    client.cookies.clear()
    client.cookies["dyne-Remember"] = remember
    restored = client.get("/profile")
    assert restored.json() == {"user": "alice"}
    assert "dyne-Session" in restored.cookies  # the session is back


def test_login_and_logout_fragments(users):
    namespace = session_namespace()
    run(CONFIGURATION, namespace)
    run(USER_LOADING, namespace)
    prelude = "    user = await User.find(id=1)\n"
    run(as_view(LOGIN, "login_plain", prelude), namespace)
    run(as_view(LOGIN_REMEMBER, "login_remember", prelude), namespace)
    run(as_view(LOGOUT, "logout_view"), namespace)
    run(as_view(CURRENT_USER, "current", "    resp.media = {'user': getattr(req.state.user, 'id', None)}\n"),
        namespace)
    app = namespace["app"]
    for path in ("login_plain", "login_remember", "logout_view", "current"):
        app.add_route(f"/{path}", namespace[path])
    client = app.client

    plain = client.get("/login_plain", follow_redirects=False)
    assert (plain.status_code, plain.headers["location"]) == (303, "/dashboard")
    assert "dyne-Remember" not in plain.cookies
    assert client.get("/current").json() == {"user": 1}
    remembered = client.get("/login_remember", follow_redirects=False)
    assert "dyne-Remember" in remembered.cookies
    assert client.get("/logout_view").status_code == 200
    assert client.get("/current").json() == {"user": None}


def documented_blocks(source: str) -> list[str]:
    """The ``.. code-block::`` bodies of the documentation, dedented, without
    trailing spaces."""
    lines = source.splitlines()
    blocks = []
    for index, line in enumerate(lines):
        if line.strip().startswith(".. code-block::"):
            body = []
            for following in lines[index + 1:]:
                if following.strip() and not following.startswith(" "):
                    break
                body.append(following.rstrip())
            blocks.append(textwrap.dedent("\n".join(body)).strip("\n"))
    return blocks


def test_examples_are_verbatim():
    """Every example above is the documentation's text (trailing spaces aside)."""
    blocks = documented_blocks(seed_document(SEED).read_text(encoding="utf-8"))

    def normalized(text: str) -> str:
        return "\n".join(line.rstrip() for line in textwrap.dedent(text).strip("\n").splitlines())

    examples = [USER_OBJECT, BASIC, TOKEN, DIGEST, DIGEST_HA1, DIGEST_NONCE, ERROR_HANDLER, MULTI,
                RBAC, OPENAPI_AUTH, CONFIGURATION, USER_LOADING, LOGIN, LOGIN_REMEMBER, LOGOUT,
                CURRENT_USER, SESSION_MANAGEMENT, ACCESS_CONTROL, SESSION_RBAC, EVENT_HOOKS,
                BASIC_REQUEST, TOKEN_REQUEST, DIGEST_REQUEST, MULTI_REQUESTS, RBAC_REQUESTS]
    for example in examples:
        text = normalized(example)
        assert any(text in block for block in blocks), example
    # The fixed example: the documentation's block with its first line indented
    # like the others is exactly ours.
    fixed = normalized(CUSTOM_FAILURE)
    assert not any(fixed in block for block in blocks)
    printed = next(block for block in blocks if "custom_auth_failure" in block)
    first, _, rest = printed.partition("\n")
    assert normalized("\n".join([" " + first, rest])) == fixed
