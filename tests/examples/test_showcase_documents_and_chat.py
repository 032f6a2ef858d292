"""The showcase's bookmark collection (dyne.ext.nosql on PostgreSQL jsonb)
and its chat page (dyne.ext.ai against a scripted OpenAI-compatible server)."""

import importlib
import json
import sys

import pytest

from tests.conftest import ROOT
from tests.ext.ai.conftest import openai_server  # noqa: F401 - fixture
from tests.ext.nosql.conftest import nosql_schema, postgres_settings  # noqa: F401 - fixtures

CONFIG_KEYS = ("NOSQL_DATABASE", "AI_INTERFACE_API_BASE_URL", "AI_INTERFACE_API_KEY", "AI_INTERFACE")


@pytest.fixture
def load_showcase(tmp_path, monkeypatch):
    """``load_showcase(**environment)``: a fresh showcase module configured by the environment."""
    loaded = []
    monkeypatch.setenv("ALCHEMICAL_DATABASE_URL", f"sqlite:///{tmp_path / 'showcase.db'}")
    for key in CONFIG_KEYS:
        monkeypatch.delenv(key, raising=False)
    sys.path.insert(0, str(ROOT))

    def load(**environment):
        for key, value in environment.items():
            monkeypatch.setenv(key, value)
        name = "examples.showcase.app"
        module = importlib.reload(sys.modules[name]) if name in sys.modules else importlib.import_module(name)
        loaded.append(module)
        return module

    yield load
    for module in loaded:
        if module.app._client is not None:
            module.app._client.close()
    sys.path.remove(str(ROOT))


def test_without_services_the_pages_say_what_to_set(load_showcase):
    client = load_showcase().app.client
    page = client.get("/chat")
    assert page.status_code == 200
    assert "No AI server is configured: set AI_INTERFACE_API_BASE_URL" in page.text
    assert client.get("/chat/stream?q=hi").status_code == 503
    missing = client.get("/bookmarks")
    assert missing.status_code == 503 and "NOSQL_DATABASE" in missing.text
    assert 'href="/chat"' in client.get("/").text


def test_bookmarks_in_a_document_collection(load_showcase, postgres_settings):  # noqa: F811
    client = load_showcase(NOSQL_DATABASE=json.dumps(postgres_settings)).app.client
    for title, tags in [("dyne", ["python", "web"]), ("PostgreSQL", ["database"]), ("asyncpg", ["python"])]:
        created = client.post("/bookmarks", json={"title": title, "url": f"https://example.com/{title}",
                                                  "tags": tags})
        assert created.status_code == 201
    assert [b["title"] for b in client.get("/bookmarks").json()] == ["PostgreSQL", "asyncpg", "dyne"]
    assert [b["title"] for b in client.get("/bookmarks?tag=python").json()] == ["asyncpg", "dyne"]
    assert client.post("/bookmarks", json={"title": "x", "url": "javascript:alert(1)"}).status_code == 400
    # A tag is a string, never an operator.
    assert client.get("/bookmarks?tag=" + "%7B%22%24gt%22%3A%22%22%7D").json() == []


def test_chat_page_streams_from_any_openai_compatible_server(load_showcase, openai_server):  # noqa: F811
    script, base_url = openai_server
    client = load_showcase(AI_INTERFACE_API_BASE_URL=base_url, AI_INTERFACE_API_KEY="local").app.client
    assert "EventSource" in client.get("/chat").text
    script.stream("", calls=[("count_notes", {})])
    script.stream("There is ", "1 note.")
    answer = client.get("/chat/stream?q=How many notes are there?")
    assert answer.text == ("event: token\ndata: There is \n\nevent: token\ndata: 1 note.\n\n"
                           "event: done\ndata: \n\n")
    assert script.requests[0]["model"] == "llama3.2"
    assert script.requests[1]["messages"][-1]["content"] == "1"  # the seeded "Welcome" note
    assert client.get("/chat/stream?q=").status_code == 400


@pytest.mark.server
def test_chat_page_in_headless_chromium(load_showcase, openai_server, browser):  # noqa: F811
    """A real browser submits the chat form; the page's EventSource shows the streamed answer."""
    from tests.conftest import serve_in_thread

    script, base_url = openai_server
    showcase = load_showcase(AI_INTERFACE_API_BASE_URL=base_url, AI_INTERFACE_API_KEY="local")
    script.stream("Hello ", "from ", "the model.")
    with serve_in_thread(showcase.app) as url:
        page = browser.new_page()
        try:
            page.goto(f"{url}/chat")
            page.fill("#q", "Say hello")
            page.click("button")
            page.wait_for_function(
                "document.getElementById('answer').textContent === 'Hello from the model.'", timeout=15000)
        finally:
            page.close()
    assert script.requests[0]["messages"][-1] == {"role": "user", "content": "Say hello"}
