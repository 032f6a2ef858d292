"""The web-platform examples of the Dyne documentation (shared seeds 000/001:
WebSocket Support, before_request for websockets, HSTS, CORS, Trusted Hosts,
Single-Page Web Apps, the Dyne CLI) and of Responder's guides (seed 004: route
groups, mounting, rate limiting, pure ASGI middleware), run unchanged.

Each example's code is kept exactly as the documentation prints it, inside a
string, and executed. Where the documentation has a typo that makes the code
invalid Python, the smallest fix is applied and noted next to it.
"""

from __future__ import annotations

import os
import shlex
import textwrap

import pytest
from click.testing import CliRunner
from starlette.websockets import WebSocketDisconnect

import dyne
from dyne.testing import TestClient


def run(source: str, **namespace):
    env = {"dyne": dyne, "__name__": "seed_example", **namespace}
    exec(compile(textwrap.dedent(source), "<seed example>", "exec"), env)
    return env


# -- WebSocket Support -------------------------------------------------------------------

WEBSOCKET = '''
@app.route('/ws', websocket=True)
async def websocket(ws):
    await ws.accept()
    while True:
        name = await ws.receive_text()
        await ws.send_text(f"Hello {name}!")
    await ws.close()
'''


def test_websocket_support_example():
    app = dyne.App()
    run(WEBSOCKET, app=app)
    with app.client.websocket_connect("/ws") as ws:
        ws.send_text("Ada")
        assert ws.receive_text() == "Hello Ada!"
        ws.send_text("Grace")
        assert ws.receive_text() == "Hello Grace!"
    # Leaving the block disconnects; the endless loop ends with WebSocketDisconnect,
    # which dyne ends quietly. The app still serves new connections:
    with app.client.websocket_connect("/ws") as ws:
        ws.send_text("again")
        assert ws.receive_text() == "Hello again!"


# "Accepting the connection", "Sending and receiving data", "Closing the connection":
# statement fragments, run here as the body of a websocket view. The documented
# ``send_{format}(data)`` / ``receive_{format}(data)`` is a template over the three
# formats; it is expanded for each. Note: ``receive_*`` takes no ``data`` argument
# (the docs' ``receive_{format}(data)`` is a typo), so the expansion calls it bare.
ACCEPT = "await websocket.accept()"
CLOSE = "await websocket.close()"
SEND_RECEIVE = '''
await websocket.send_{format}(data)
data = await websocket.receive_{format}()
'''


@pytest.mark.parametrize("fmt, data", [("text", "hi"), ("json", {"n": 1}), ("bytes", b"\x00\x01")])
def test_websocket_fragments(fmt, data):
    body = "\n".join([ACCEPT, SEND_RECEIVE.format(format=fmt).strip(), "received.append(data)",
                      CLOSE])
    source = "async def view(websocket, data=initial):\n" + textwrap.indent(body, "    ")
    received = []
    namespace = run(source, initial=data, received=received)
    app = dyne.App()
    app.add_route("/ws", namespace["view"], websocket=True)
    with app.client.websocket_connect("/ws") as ws:
        echoed = {"text": ws.receive_text, "json": ws.receive_json, "bytes": ws.receive_bytes}[fmt]()
        assert echoed == data
        {"text": ws.send_text, "json": ws.send_json, "bytes": ws.send_bytes}[fmt](echoed)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1000
    assert received == [data]


# -- Using before_request (websocket form) ---------------------------------------------

WEBSOCKET_BEFORE_REQUEST = '''
@app.route(before_request=True, websocket=True)
async def prepare_response(ws):
    await ws.accept()
'''
# The docs print ``def prepare_response(ws):`` with ``await`` inside: invalid Python
# ("await" outside an async function). The smallest fix is ``async def``.


def test_before_request_websocket_example():
    app = dyne.App()
    run(WEBSOCKET_BEFORE_REQUEST, app=app)

    @app.route("/ws", websocket=True)
    async def already_accepted(ws):
        await ws.send_text("accepted by the hook")
        await ws.close()

    with app.client.websocket_connect("/ws") as ws:
        assert ws.receive_text() == "accepted by the hook"


def test_before_request_websocket_example_as_printed_is_invalid_python():
    printed = WEBSOCKET_BEFORE_REQUEST.replace("async def", "def")
    with pytest.raises(SyntaxError):
        compile(textwrap.dedent(printed), "<docs as printed>", "exec")


# -- HSTS, CORS, Trusted Hosts ------------------------------------------------------------

def test_hsts_example():
    env = run("app = dyne.App(enable_hsts=True)")
    app = env["app"]

    @app.route("/")
    def index(req, resp):
        resp.text = "secure"

    plain = TestClient(app, base_url="http://example.com", follow_redirects=False)
    assert plain.get("/page?q=1").headers["location"] == "https://example.com/page?q=1"
    secure = TestClient(app, base_url="https://example.com")
    assert secure.get("/").text == "secure"
    plain.close()
    secure.close()


def test_cors_example_is_restrictive_by_default():
    app = run("app = dyne.App(cors=True)")["app"]

    @app.route("/")
    def index(req, resp):
        resp.text = "hello"

    preflight = app.client.options("/", headers={"Origin": "https://example.org",
                                                 "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 400  # no origin allowed until cors_params names it
    assert app.cors_params["allow_methods"] == ["GET"]
    assert app.cors_params["max_age"] == 60


def test_cors_params_example_values():
    # The docs' example values for each cors_params entry, together.
    app = dyne.App(cors=True, cors_params={
        "allow_origins": ['https://example.org', 'https://www.example.org'],
        "allow_origin_regex": r'https://.*\.example\.org',
        "allow_methods": ['*'],
        "allow_headers": ['*'],
        "allow_credentials": True,
        "expose_headers": ["X-Total"],
        "max_age": 60,
    })

    @app.route("/")
    def index(req, resp):
        resp.text = "hello"

    for origin in ("https://example.org", "https://api.example.org"):
        preflight = app.client.options("/", headers={
            "Origin": origin, "Access-Control-Request-Method": "DELETE",
            "Access-Control-Request-Headers": "X-Anything"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == origin
    refused = app.client.options("/", headers={"Origin": "https://example.com",
                                               "Access-Control-Request-Method": "GET"})
    assert refused.status_code == 400


def test_trusted_hosts_example():
    app = run("app = dyne.App(allowed_hosts=['example.com', 'tenant.example.com'])")["app"]

    @app.route("/")
    def index(req, resp):
        resp.text = "hello"

    client = TestClient(app, base_url="http://example.com")
    assert client.get("/").text == "hello"
    assert client.get("http://tenant.example.com/").text == "hello"
    assert client.get("http://attacker.com/").status_code == 400
    client.close()
    wildcard = dyne.App(allowed_hosts=["*.example.com"])
    client = TestClient(wildcard, base_url="http://a.example.com")
    assert client.get("/").status_code == 404  # allowed (no route), not 400
    assert client.get("http://example.net/").status_code == 400
    client.close()
    anyone = TestClient(dyne.App(allowed_hosts=["*"]), base_url="http://whatever.test")
    assert anyone.get("/").status_code == 404
    anyone.close()


# -- Single-Page Web Apps -------------------------------------------------------------------

def test_single_page_app_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "index.html").write_text("<div id=root></div>")
    app = dyne.App()
    run('app.add_route("/", static=True)', app=app)
    assert app.client.get("/").text == "<div id=root></div>"
    assert app.client.get("/any/client/side/route").text == "<div id=root></div>"


# -- Dyne CLI -------------------------------------------------------------------------------

# The documentation's "--port ... Default: 8000" (seed 000, Dyne CLI).
DEFAULT_PORT = 8000
CLI_COMMANDS = {
    "dyne run": ("app:app", "127.0.0.1", DEFAULT_PORT, False, "info"),
    "dyne --app myapp:app run": ("myapp:app", "127.0.0.1", DEFAULT_PORT, False, "info"),
    "dyne --app myapp run": ("myapp:app", "127.0.0.1", DEFAULT_PORT, False, "info"),
    "dyne --app myproject.main:app run": ("myproject.main:app", "127.0.0.1", DEFAULT_PORT, False, "info"),
    "dyne --debug run": ("app:app", "127.0.0.1", DEFAULT_PORT, True, "debug"),
    "dyne --host 0.0.0.0 run": ("app:app", "0.0.0.0", DEFAULT_PORT, False, "info"),
    "dyne --port 9000 run": ("app:app", "127.0.0.1", 9000, False, "info"),
    "dyne --reload run": ("app:app", "127.0.0.1", DEFAULT_PORT, True, "info"),
    "dyne --no-reload run": ("app:app", "127.0.0.1", DEFAULT_PORT, False, "info"),
    "dyne --app main:app --host 0.0.0.0 --port 8080 run": ("main:app", "0.0.0.0", 8080, False, "info"),
}


@pytest.fixture
def cli_project(tmp_path, monkeypatch):
    import sys

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("DYNE_APP", raising=False)
    monkeypatch.delenv("DEBUG", raising=False)
    for module in ("app", "myapp", "main"):
        (tmp_path / f"{module}.py").write_text("import dyne\napp = dyne.App()\n")
    (tmp_path / "myproject").mkdir()
    (tmp_path / "myproject" / "__init__.py").write_text("")
    (tmp_path / "myproject" / "main.py").write_text("import dyne\napp = dyne.App()\n")
    names = ("app", "myapp", "main", "myproject", "myproject.main")
    for name in names:
        sys.modules.pop(name, None)
    calls = []
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: calls.append((target, kw)))
    yield calls
    for name in names:
        sys.modules.pop(name, None)
    os.environ.pop("DEBUG", None)


@pytest.mark.parametrize("command", list(CLI_COMMANDS))
def test_cli_usage_examples(cli_project, command):
    from dyne.cli import cli

    args = shlex.split(command)[1:]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    target, options = cli_project[0]
    expected = CLI_COMMANDS[command]
    assert (target, options["host"], options["port"], options["reload"],
            options["log_level"]) == expected
    if "--debug" in args:
        assert os.environ["DEBUG"] == "true"


def test_cli_dyne_app_environment_example(cli_project):
    # export DYNE_APP=myproject.main:app
    # dyne run
    from dyne.cli import cli

    result = CliRunner().invoke(cli, ["run"], env={"DYNE_APP": "myproject.main:app"})
    assert result.exit_code == 0
    assert cli_project[0][0] == "myproject.main:app"


def test_cli_version_example():
    from dyne.cli import cli

    assert CliRunner().invoke(cli, ["--version"]).output == f"dyne {dyne.__version__}\n"


CLI_PLUGIN = '''
from dyne.cli import cli

@cli.command()
def custom_task():
    """A task added by a plugin."""
    print("Doing something cool!")
'''

CLI_PLUGIN_PATTERN = '''
from dyne.cli import cli

@cli.command()
def seed_data():
    """Seed the database."""
    ...
'''


def test_cli_plugin_examples():
    from dyne.cli import cli

    try:
        run(CLI_PLUGIN)
        run(CLI_PLUGIN_PATTERN)
        result = CliRunner().invoke(cli, ["custom-task"])
        assert result.output == "Doing something cool!\n"
        assert CliRunner().invoke(cli, ["seed-data"]).exit_code == 0
        help_text = CliRunner().invoke(cli, ["--help"]).output
        assert "A task added by a plugin." in help_text and "Seed the database." in help_text
    finally:
        cli.commands.pop("custom-task", None)
        cli.commands.pop("seed-data", None)


# -- Responder guides (seed 004) ------------------------------------------------------------

ROUTE_GROUP = '''
v1 = api.group("/v1")

@v1.route("/users")
def list_users(req, resp):
    resp.media = []
'''

RATE_LIMITER = '''
from dyne.ext.ratelimit import RateLimiter

limiter = RateLimiter(requests=100, period=60) # 100 req/min
limiter.install(api)
'''


def test_route_group_and_rate_limiter_reference_examples():
    api = dyne.App()
    run(ROUTE_GROUP, api=api)
    run(RATE_LIMITER, api=api)
    response = api.client.get("/v1/users")
    assert response.json() == []
    assert response.headers["X-RateLimit-Limit"] == "100"
    assert response.headers["X-RateLimit-Remaining"] == "99"
