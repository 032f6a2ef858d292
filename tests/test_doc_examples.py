"""The core examples of the Dyne documentation (shared seeds 000/001), run
unchanged and checked against what the text says.

Each example's code is kept exactly as the documentation prints it, inside a
string, and executed. Where the documentation has a typo that makes the code
invalid Python, the smallest fix is applied and noted next to it.
"""

from __future__ import annotations

import os
import textwrap
import time
import types

import pytest

import dyne


def run(source: str, **namespace):
    """Execute a documentation example in a namespace seeded with ``namespace``."""
    env = {"dyne": dyne, "__name__": "seed_example", **namespace}
    exec(compile(textwrap.dedent(source), "<seed example>", "exec"), env)
    return env


# -- Background Tasks --------------------------------------------------------------

BACKGROUND = '''
@app.route("/")
def hello(req, resp):

    @app.background.task
    def sleep(s=10):
        time.sleep(s)
        print("slept!")

    sleep()
    resp.content = "processing"
'''


def test_background_task_example(capsys):
    app = dyne.App()
    slept = []
    # The example sleeps 10 s; the test's `time` shortens that, the code is unchanged.
    fake_time = types.SimpleNamespace(sleep=lambda s: (slept.append(s), time.sleep(0.1)))
    run(BACKGROUND, app=app, time=fake_time)
    started = time.monotonic()
    response = app.client.get("/")
    assert response.text == "processing"
    assert time.monotonic() - started < 0.1 + 0.5  # did not wait for the task
    app.client.close()  # shutdown drains the queue
    assert slept == [10]
    assert "slept!" in capsys.readouterr().out


# -- Error Handling ------------------------------------------------------------------

ERROR_HANDLERS = '''
@app.error_handler(404)
async def handle_404(req, resp, exc):
  resp.status_code = 404
  resp.media = {"error": "The page you are looking for does not exist."}

@app.error_handler(500)
async def handle_500(req, resp, exc):
  resp.status_code = 500
  resp.text = f"Internal Server Error: {str(exc)}"
'''
# The docs print `{"error": The page ...}`: the opening quote is missing.


def test_error_handler_examples():
    app = dyne.App()
    run(ERROR_HANDLERS, app=app)

    @app.route("/broken")
    def broken(req, resp):
        raise ValueError("disk full")

    response = app.client.get("/nowhere")
    assert response.status_code == 404
    assert response.json() == {"error": "The page you are looking for does not exist."}
    response = app.client.get("/broken")
    assert (response.status_code, response.text) == (500, "Internal Server Error: disk full")


ABORT = '''
from dyne.exceptions import abort

@app.route("/secret")
async def secret_page(req, resp):
  if not req.headers.get("Authorization"):
    # Triggers the 403 error handler
    abort(403, detail="You do not have access to this resource.")

  resp.text = "Welcome to the secret vault."
'''

FORBIDDEN = '''
@app.error_handler(403)
async def forbidden_handler(req, resp, exc):
  resp.status_code = 403
  resp.media = {
    "error": "Forbidden",
    "message": getattr(exc, "detail", "Access Denied"),
  }
'''


def test_abort_and_exception_object_examples():
    app = dyne.App()
    run(ABORT, app=app)
    assert app.client.get("/secret").status_code == 403
    assert app.client.get("/secret", headers={"Authorization": "t"}).text == (
        "Welcome to the secret vault.")
    run(FORBIDDEN, app=app)
    assert app.client.get("/secret").json() == {
        "error": "Forbidden", "message": "You do not have access to this resource."}


def test_debug_vs_production_and_default_handlers():
    env = run("from dyne import App\napp = App(debug=False)  # Production mode\n")
    app = env["app"]

    @app.route("/fail")
    def fail(req, resp):
        raise RuntimeError("internal detail")

    assert app.debug is False
    response = app.client.get("/fail")
    assert (response.status_code, response.text) == (500, "500 Internal Server Error")
    response = app.client.get("/missing")
    assert (response.status_code, response.text) == (404, "Not Found")

    debug_app = dyne.App(debug=True)

    @debug_app.route("/fail")
    def fail_debug(req, resp):
        raise RuntimeError("shown in debug")

    with pytest.raises(RuntimeError, match="shown in debug"):
        debug_app.client.get("/fail")


# -- File uploads: native ---------------------------------------------------------------

NATIVE_UPLOAD = '''
@app.route("/native-upload", methods=["POST"])
async def upload_file(req, resp):

    @app.background.task
    def process_file(file_data):
        with open(f"./{file_data['filename']}", 'wb') as f:
            f.write(file_data['content'])

    # Extracts files from the multipart request
    data = await req.media(format='files')
    file_obj = data['image']

    process_file(file_obj)
    resp.media = {'status': 'processing'}
'''

CLIENT_UPLOAD = '''
files = {'image': ('photo.jpg', open('photo.jpg', 'rb'), 'image/jpeg')}
data = {'description': 'A beautiful sunset'}

r = app.client.post("http://;/native-upload", data=data, files=files)
print(r.json())
'''


def test_native_upload_and_client_examples(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 sunset pixels")
    os.utime(tmp_path / "photo.jpg", (0, 0))  # to see the background task rewrite it
    app = dyne.App()
    run(NATIVE_UPLOAD, app=app)
    env = run(CLIENT_UPLOAD, app=app)
    env["files"]["image"][1].close()
    assert "{'status': 'processing'}" in capsys.readouterr().out
    app.client.close()  # wait for the background task
    saved = tmp_path / "photo.jpg"
    assert saved.stat().st_mtime > 0
    assert saved.read_bytes() == b"\xff\xd8\xff\xe0 sunset pixels"


# -- Configuration -------------------------------------------------------------------------

def test_configuration_examples(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text('DATABASE_URL="postgresql://localhost/app"\n')
    env = run('''
        from dyne import App

        # If a .env exists in your folder, it is loaded automatically!
        app = App()
        print(app.config.DATABASE_URL)
    ''')
    assert capsys.readouterr().out.strip() == "postgresql://localhost/app"

    (tmp_path / ".env.production").write_text("DYNE_DATABASE_URL=postgresql://prod/app\n")
    env = run('''
        app = App(
            env_file=".env.production", # Use a specific file instead of discovery
            env_prefix="DYNE_",         # Only look for vars starting with DYNE_
            encoding="utf-8"            # Specify file encoding
        )
    ''', App=dyne.App)
    assert env["app"].config.DATABASE_URL == "postgresql://prod/app"

    app = dyne.App()
    env = run('''
        class DevelopmentConfig:
            PORT = 5042
            DEBUG = True

        app.config.from_object(DevelopmentConfig)
    ''', app=app)
    assert app.config.PORT == 5042

    monkeypatch.setenv("PORT", "8080")
    env = run('''
        # Automatically converts "true", "1", "yes" to True
        debug = app.config.get("DEBUG", cast=bool)

        # Converts string "8080" to integer 8080
        port = app.config.get("PORT", cast=int, default=8000)
    ''', app=app)
    assert (env["debug"], env["port"]) == (True, 8080)

    env = run('''
        debug = app.config.get("DEBUG", cast=bool, default=False)
        pool_size = app.config.get("DB_POOL_SIZE", cast=int, default=5)
    ''', app=app)
    assert (env["debug"], env["pool_size"]) == (True, 5)

    with pytest.raises(RuntimeError, match="Missing required config") as info:
        run('database_url = app.config.require("MISSING_DATABASE_URL")', app=app)
    assert str(info.value) == "Missing required config: MISSING_DATABASE_URL"

    assert run("value = app.config.DATABASE_URL", app=app)["value"] == "postgresql://localhost/app"
    with pytest.raises(AttributeError) as info:
        run("app.config.DATABSE_URL", app=app)
    assert str(info.value) == "Config has no attribute 'DATABSE_URL'"


def test_configuration_in_routes():
    app = dyne.App()
    app.config.from_object({"DEBUG": True, "DATABASE_URL": "sqlite:///app.db"})
    run('''
        @app.route("/status")
        async def status(req, resp):
            if req.app.config.DEBUG:
                resp.media = {"status": "debug-mode", "db": req.app.config.DATABASE_URL}
            else:
                resp.media = {"status": "production"}
    ''', app=app)
    assert app.client.get("/status").json() == {"status": "debug-mode", "db": "sqlite:///app.db"}
    production = dyne.App()
    production.config.from_object({"DEBUG": False})
    run('''
        @app.route("/status")
        async def status(req, resp):
            if req.app.config.DEBUG:
                resp.media = {"status": "debug-mode", "db": req.app.config.DATABASE_URL}
            else:
                resp.media = {"status": "production"}
    ''', app=production)
    assert production.client.get("/status").json() == {"status": "production"}


# -- Cookies and sessions -------------------------------------------------------------------

def test_cookie_examples():
    app = dyne.App()

    @app.route("/set")
    def set_cookie(req, resp):
        run('resp.cookies["hello"] = "world"', resp=resp)

    @app.route("/directives")
    def directives(req, resp):
        run('resp.set_cookie("hello", value="world", max_age=60)', resp=resp)

    @app.route("/read")
    def read(req, resp):
        resp.media = run("cookies = req.cookies", req=req)["cookies"]

    app.client.get("/set")
    assert app.client.get("/read").json() == {"hello": "world"}
    cookie = app.client.get("/directives").headers["set-cookie"]
    assert cookie.startswith("hello=world") and "Max-Age=60" in cookie
    assert "HttpOnly" in cookie and "Path=/" in cookie  # the documented defaults


def test_session_examples(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    app = run("import os\napp = dyne.App(secret_key=os.environ['SECRET_KEY'])")["app"]

    @app.route("/login")
    def login(req, resp):
        run("resp.session['username'] = 'john'", resp=resp)

    @app.route("/me")
    def me(req, resp):
        resp.media = run("session = req.session", req=req)["session"]

    response = app.client.get("/login")
    assert response.headers["set-cookie"].startswith("dyne-Session=")
    assert app.client.get("/me").json() == {"username": "john"}
    # Signed: a changed cookie is not trusted.
    value = app.client.cookies["dyne-Session"]
    app.client.cookies.clear()
    tampered = value.replace(value[2], "A" if value[2] != "A" else "B", 1)
    assert app.client.get("/me", headers={"Cookie": f"dyne-Session={tampered}"}).json() == {}


# -- before_request --------------------------------------------------------------------------

def test_before_request_example():
    app = dyne.App()
    run('''
        @app.route(before_request=True)
        def prepare_response(req, resp):
            resp.headers["X-Pizza"] = "42"
    ''', app=app)

    @app.route("/")
    def index(req, resp):
        resp.text = "pizza?"

    assert app.client.get("/").headers["X-Pizza"] == "42"
    assert app.client.get("/other").headers["X-Pizza"] == "42"


# -- Application and request state ---------------------------------------------------------

STATE = '''
@app.on_event("startup")
async def startup():
    app.state.db = await create_database_pool()
    app.state.admin_email = "admin@example.com"

@app.route("/config")
async def get_config(req, resp):
    email = req.app.state.admin_email
    resp.media = {"contact": email}

@app.on_event("shutdown")
async def shutdown():
    await app.state.db.close()
'''


def test_state_examples():
    closed = []

    class Pool:
        async def close(self):
            closed.append(True)

    async def create_database_pool():
        return Pool()

    app = dyne.App()
    run(STATE, app=app, create_database_pool=create_database_pool)
    response = app.client.get("/config")
    assert response.json() == {"contact": "admin@example.com"}
    with pytest.raises(AttributeError):
        app.state.missing  # noqa: B018
    assert getattr(app.state, "missing", "default") == "default"
    app.client.close()
    assert closed == [True]


# -- Test client -------------------------------------------------------------------------------

def test_test_client_example():
    env = run('''
        import pytest

        @pytest.fixture
        def app():
            return dyne.App()

        def test_response(app):
            hello = "hello, world!"

            @app.route('/some-url')
            def some_view(req, resp):
                resp.text = hello

            r = app.client.get(url=app.url_for(some_view))
            assert r.text == hello
    ''')
    env["test_response"](dyne.App())


# -- Responder-derived core features (seed 004) --------------------------------------------------

def test_responder_request_and_response_patterns(tmp_path):
    app = dyne.App()
    (tmp_path / "file.pdf").write_bytes(b"%PDF-1.7")
    seen = {}

    @app.route("/patterns", methods=["POST"])
    async def patterns(req, resp):
        env = run('''
            # Headers (case-insensitive)
            token = req.headers.get("Authorization")

            # Query parameters: /search?q=python&page=2
            query = req.params["q"]

            # Client info
            ip, port = req.client
            is_https = req.is_secure
        ''', req=req)
        seen.update({k: env[k] for k in ("token", "query", "ip", "port", "is_https")})
        seen["form"] = await req.media("form")
        resp.status_code = 201
        resp.headers["X-Custom"] = "value"
        resp.cookies["session"] = "abc123"
        resp.media = {"key": "value"}

    @app.route("/pdf")
    def pdf(req, resp):
        resp.file(str(tmp_path / "file.pdf"))  # auto content-type

    response = app.client.post("/patterns?q=python&page=2", data={"a": "1"},
                               headers={"Authorization": "Bearer t"})
    assert seen == {"token": "Bearer t", "query": "python", "ip": "testclient", "port": 50000,
                    "is_https": False, "form": {"a": "1"}}
    assert (response.status_code, response.json()) == (201, {"key": "value"})
    assert response.headers["x-custom"] == "value"
    assert app.client.get("/pdf").headers["content-type"] == "application/pdf"


def test_responder_after_request_and_status_helpers():
    app = dyne.App()
    printed = []
    run('''
        from dyne.status_codes import is_200, is_400, is_500

        @api.after_request()
        def log_errors(req, resp):
            if is_400(resp.status_code) or is_500(resp.status_code):
                print(f"Error: {req.method} {req.url.path} -> {resp.status_code}")
    ''', api=app, print=printed.append)
    app.client.get("/nope")
    assert printed == ["Error: GET /nope -> 404"]


def test_responder_health_check():
    app = dyne.App()
    run('''
        @api.route("/health")
        def health(req, resp):
            resp.media = {"status": "healthy"}
    ''', api=app)
    assert app.client.get("/health").json() == {"status": "healthy"}


def test_port_environment_variable(monkeypatch):
    captured = {}
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: captured.update(kw))
    monkeypatch.setenv("PORT", "9123")
    dyne.App().run()
    assert (captured["host"], captured["port"]) == ("0.0.0.0", 9123)
    monkeypatch.delenv("PORT")
    dyne.App().run()
    assert (captured["host"], captured["port"]) == ("127.0.0.1", 5042)
    assert os.environ.get("PORT") is None
