"""AiInterface against a scripted OpenAI-compatible server (real openai client,
real HTTP on loopback): answers, tool calls, streaming, errors, timeouts,
chat contexts with history in a database, and seed 002's examples."""

import json
from enum import Enum
from typing import Any, Literal, Optional

import pytest
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column

import dyne
from dyne.ext.ai import (
    AiInterface,
    AiServiceError,
    AiTimeout,
    ChatContextNotFound,
    FailedToRunAiToolMethod,
    tool,
)
from dyne.ext.db.alchemical import Alchemical, Model


class Unit(Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


class Tools:
    """A mixin of tools, as the seed recommends for grouping."""

    @tool(name="get_weather", description="The current weather in a city")
    async def weather(self, city: str, unit: Unit = Unit.CELSIUS) -> dict:
        """Look the weather up.

        Args:
            city: the city's name
            unit: the temperature unit
        """
        self.calls.append(("get_weather", city, unit))
        return {"city": city, "temperature": 21 if unit is Unit.CELSIUS else 70}

    @tool
    def add(self, a: int, b: int = 1) -> int:
        """Add two integers.

        :param a: the first number
        :param b: the second number
        """
        self.calls.append(("add", a, b))
        return a + b

    @tool(enabled=False)
    async def secret(self) -> str:
        """Never offered unless enabled."""
        return "the secret"

    @tool
    async def broken(self, reason: str | None = None, mode: Literal["a", "b"] = "a") -> str:
        """Always fails."""
        raise RuntimeError(reason or "it broke")


class Interface(Tools, AiInterface):
    def __init__(self, *args, **kwargs):
        self.calls = []
        super().__init__(*args, **kwargs)

    async def chat_context_loader(self, req):
        return {"id": req.path_params.get("chat_id")} if req.path_params.get("chat_id") != 0 else None


def make(ai_config, **overrides):
    app = dyne.App()
    app.config["AI_INTERFACE"] = {**ai_config, **overrides}
    return app, Interface(app)


def test_tool_schemas_come_from_signature_and_docstring():
    specs = Interface.tool_specs
    assert set(specs) == {"get_weather", "add", "secret", "broken"}
    weather = specs["get_weather"].openai_tool()
    assert weather["function"]["name"] == "get_weather"
    assert weather["function"]["description"] == "The current weather in a city"
    parameters = weather["function"]["parameters"]
    assert parameters["required"] == ["city"]
    assert parameters["properties"]["city"] == {"type": "string", "description": "the city's name"}
    assert parameters["properties"]["unit"]["description"] == "the temperature unit"
    assert parameters["additionalProperties"] is False
    assert parameters["$defs"]["Unit"]["enum"] == ["celsius", "fahrenheit"]
    add = specs["add"].openai_tool()["function"]
    assert add["description"] == "Add two integers."
    assert add["parameters"]["properties"] == {
        "a": {"type": "integer", "description": "the first number"},
        "b": {"type": "integer", "default": 1, "description": "the second number"}}
    assert add["parameters"]["required"] == ["a"]
    broken = specs["broken"].openai_tool()["function"]["parameters"]["properties"]
    assert broken["mode"]["enum"] == ["a", "b"]
    with pytest.raises(ValueError, match="Tool name"):
        tool(name="bad name!")(lambda self: None)


def test_plain_answer_and_configuration_reach_the_server(openai_server, ai_config):
    script, _ = openai_server
    app, ai = make(ai_config, TOOL_CHOICE=False, RESPONSE_FORMAT={"type": "json_object"})
    script.answer('{"hello": "world"}')

    @app.route("/ask", methods=["POST"])
    async def ask(req, resp):
        result = await ai.chat([{"role": "user", "content": (await req.media())["q"]}])
        resp.media = {"answer": result.content, "added": result.messages}

    with app.client as client:
        r = client.post("/ask", json={"q": "Say hello in JSON"})
    assert r.json() == {"answer": '{"hello": "world"}',
                        "added": [{"role": "assistant", "content": '{"hello": "world"}'}]}
    (sent,) = script.requests
    assert sent["model"] == "scripted-model"
    assert sent["temperature"] == 0.2
    assert sent["response_format"] == {"type": "json_object"}
    assert sent["messages"] == [{"role": "user", "content": "Say hello in JSON"}]
    assert "tools" not in sent  # TOOL_CHOICE False: tools are not offered


async def test_tool_call_loop_runs_until_the_model_answers(openai_server, ai_config):
    script, _ = openai_server
    _, ai = make(ai_config)
    script.call_tools(("get_weather", {"city": "Ljubljana"}), ("add", {"a": 2, "b": 3}))
    script.call_tools(("add", {"a": 5}))
    script.answer("It is 21 degrees; 2+3+1 is 6.")
    result = await ai.chat([{"role": "user", "content": "weather and sums"}])
    assert result.content == "It is 21 degrees; 2+3+1 is 6."
    assert ai.calls == [("get_weather", "Ljubljana", Unit.CELSIUS), ("add", 2, 3), ("add", 5, 1)]
    first, second, third = script.requests
    offered = {t["function"]["name"] for t in first["tools"]}
    assert offered == {"get_weather", "add", "broken"}  # "secret" is disabled
    assert first["tool_choice"] == "auto"
    tool_messages = [m for m in second["messages"] if m["role"] == "tool"]
    assert [json.loads(m["content"]) for m in tool_messages] == [{"city": "Ljubljana", "temperature": 21}, 5]
    assert [m["tool_call_id"] for m in tool_messages] == ["call_0", "call_1"]
    assert second["messages"][1]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert third["messages"][-1] == {"role": "tool", "tool_call_id": "call_0", "content": "6"}
    assert [m["role"] for m in result.messages] == ["assistant", "tool", "tool", "assistant", "tool",
                                                    "assistant"]
    await ai.on_shutdown()


async def test_tools_can_be_disabled(openai_server, ai_config):
    script, _ = openai_server
    _, ai = make(ai_config)
    ai.disable_tool("get_weather")
    ai.enable_tool("secret")
    script.answer("a").answer("b").answer("c")
    await ai.chat([{"role": "user", "content": "x"}])
    await ai.chat([{"role": "user", "content": "x"}], tools=False)
    await ai.chat([{"role": "user", "content": "x"}], tools=["add"])
    offered = [{t["function"]["name"] for t in r.get("tools", [])} for r in script.requests]
    assert offered == [{"add", "secret", "broken"}, set(), {"add"}]
    script.call_tools(("get_weather", {"city": "Paris"}))
    with pytest.raises(FailedToRunAiToolMethod, match="no such tool"):
        await ai.chat([{"role": "user", "content": "x"}])
    with pytest.raises(KeyError):
        ai.disable_tool("nope")
    await ai.on_shutdown()


@pytest.mark.parametrize(("calls", "message"), [
    ([("broken", {"reason": "disk on fire"})], "RuntimeError: disk on fire"),
    ([("add", {"a": "not a number"})], "invalid arguments"),
    ([("add", {"a": 1, "extra": 2})], "invalid arguments"),
    ([("add", "{not json")], "not JSON"),
    ([("launch_missiles", {})], "no such tool"),
])
async def test_failing_tools_raise_failed_to_run(openai_server, ai_config, calls, message):
    script, _ = openai_server
    _, ai = make(ai_config)
    script.call_tools(*calls)
    with pytest.raises(FailedToRunAiToolMethod, match=message) as caught:
        await ai.chat([{"role": "user", "content": "x"}])
    assert caught.value.tool_name == calls[0][0]
    await ai.on_shutdown()


async def test_a_model_that_never_stops_calling_tools(openai_server, ai_config):
    script, _ = openai_server
    _, ai = make(ai_config)
    for _ in range(3):
        script.call_tools(("add", {"a": 1}))
    with pytest.raises(Exception, match="still calling tools after 2 rounds"):
        await ai.chat([{"role": "user", "content": "x"}], max_tool_rounds=2)
    await ai.on_shutdown()


def test_server_errors_and_timeouts_become_502_and_504(openai_server, ai_config):
    script, _ = openai_server
    app, ai = make(ai_config, TIMEOUT=0.5, MAX_RETRIES=0)

    @app.route("/ask")
    async def ask(req, resp):
        resp.media = {"answer": (await ai.chat([{"role": "user", "content": "hi"}])).content}

    script.fail(500, "model crashed")
    script.fail(429, "slow down")
    script.hang(3)
    script.answer("fine")
    with app.client as client:
        crashed = client.get("/ask")
        assert crashed.status_code == 502 and "500" in crashed.text
        limited = client.get("/ask")
        assert limited.status_code == 502 and "429" in limited.text
        late = client.get("/ask")
        assert late.status_code == 504
        assert client.get("/ask").json() == {"answer": "fine"}


async def test_errors_are_typed_for_callers(openai_server, ai_config):
    script, _ = openai_server
    _, ai = make(ai_config, TIMEOUT=0.5)
    script.fail(400, "bad request")
    with pytest.raises(AiServiceError) as caught:
        await ai.chat([{"role": "user", "content": "x"}])
    assert caught.value.status_code == 400
    script.hang(2)
    with pytest.raises(AiTimeout):
        await ai.chat([{"role": "user", "content": "x"}])
    await ai.on_shutdown()


async def test_retries_follow_max_retries(openai_server, ai_config):
    script, _ = openai_server
    _, ai = make(ai_config, MAX_RETRIES=1)
    script.fail(503, "busy").answer("second try")
    assert (await ai.chat([{"role": "user", "content": "x"}])).content == "second try"
    assert len(script.requests) == 2
    await ai.on_shutdown()


def test_streaming_as_server_sent_events(openai_server, ai_config):
    script, _ = openai_server
    app, ai = make(ai_config)
    stored = []
    script.stream("Let me ", "check.", calls=[("add", {"a": 40, "b": 2})])
    script.stream("The answer ", "is 42.")

    @app.route("/stream", methods=["POST"])
    async def stream(req, resp):
        question = (await req.media())["q"]
        ai.sse(resp, [{"role": "user", "content": question}], on_complete=stored.append)

    with app.client as client:
        r = client.post("/stream", json={"q": "what is 40+2?"})
    assert r.headers["content-type"] == "text/event-stream"
    assert r.text == ("event: token\ndata: Let me \n\n"
                      "event: token\ndata: check.\n\n"
                      "event: token\ndata: The answer \n\n"
                      "event: token\ndata: is 42.\n\n"
                      "event: done\ndata: \n\n")
    assert ai.calls == [("add", 40, 2)]
    assert script.requests[0]["stream"] is True
    assert script.requests[1]["messages"][-1] == {"role": "tool", "tool_call_id": "call_0", "content": "42"}
    (result,) = stored
    assert result.content == "The answer is 42."


def test_streaming_errors_end_the_stream_with_an_error_event(openai_server, ai_config):
    script, _ = openai_server
    app, ai = make(ai_config)
    script.fail(500, "down")

    @app.route("/stream")
    async def stream(req, resp):
        ai.sse(resp, [{"role": "user", "content": "hi"}])

    with app.client as client:
        r = client.get("/stream")
    assert r.status_code == 200
    assert r.text.startswith("event: error\ndata: The AI server answered 500")


def test_chat_context_injected_or_404(openai_server, ai_config):
    script, _ = openai_server
    app, ai = make(ai_config, CHAT_CONTEXT_NAME="conversation")
    script.answer("hello")

    @app.route("/chats/{chat_id:int}", methods=["POST"])
    @ai.with_chat_context
    async def chat(req, resp, *, chat_id, conversation):
        resp.media = {"context": conversation, "chat_id": chat_id}

    @app.error_handler(ChatContextNotFound)
    async def not_found(req, resp, exc):
        resp.status_code = 404
        resp.media = {"error": "no such chat"}

    with app.client as client:
        assert client.post("/chats/7").json() == {"context": {"id": 7}, "chat_id": 7}
        missing = client.post("/chats/0")
        assert (missing.status_code, missing.json()) == (404, {"error": "no such chat"})


def test_is_configured_and_clear_errors():
    app = dyne.App()
    ai = Interface(app)
    assert ai.is_configured is False
    with pytest.raises(Exception, match="needs an API_KEY"):
        _ = ai.client
    app.config["AI_INTERFACE"] = {"API_BASE_URL": "http://127.0.0.1:1/v1"}
    assert ai.is_configured is True
    with pytest.raises(TypeError, match="async"):
        ai.with_chat_context(lambda req, resp: None)


# -- seed 002, "AI Interface": chat sessions in a database model -----------------------------

class ChatSession(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))


class ChatMessage(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    chat_session_id: Mapped[int] = mapped_column(ForeignKey("chat_session.id"))
    role: Mapped[str] = mapped_column(String(20))
    content: Mapped[str]


def test_seed_ai_interface_example_with_history_in_the_database(openai_server, ai_config, tmp_path):
    script, _ = openai_server
    app = dyne.App()
    app.config["ALCHEMICAL_DATABASE_URL"] = f"sqlite:///{tmp_path / 'chat.db'}"
    app.config["AI_INTERFACE"] = ai_config
    db = Alchemical(app)

    class SeedInterface(AiInterface):
        @db.transaction
        async def chat_context_loader(self, req) -> Optional[ChatSession]:  # noqa: UP045 (the seed's)
            chat_session_id: Optional[int] = req.path_params.get("chat_session_id", None)  # noqa: UP045
            if chat_session_id is None:
                return None
            session = await req.db
            return await session.get(ChatSession, chat_session_id)

        @tool(name="count_messages", description="How many messages this chat has")
        async def count_messages(self, chat_session_id: int) -> int:
            async with db.session() as session:
                found = await session.scalars(select(ChatMessage).where(
                    ChatMessage.chat_session_id == chat_session_id))
                return len(found.all())

    ai_interface: SeedInterface = SeedInterface()
    ai_interface.init_app(app)

    @app.on_event("startup")
    async def create_tables():
        await db.create_all()
        async with db.begin() as session:
            session.add(ChatSession(id=1, title="First chat"))

    @app.route("/chats/{chat_session_id:int}", methods=["POST"])
    @ai_interface.with_chat_context
    @db.transaction
    async def send(req, resp, *, chat_session_id: int, chat_context: Any):
        session = await req.db
        history = (await session.scalars(select(ChatMessage).where(
            ChatMessage.chat_session_id == chat_context.id).order_by(ChatMessage.id))).all()
        question = {"role": "user", "content": (await req.media())["message"]}
        result = await ai_interface.chat([*({"role": m.role, "content": m.content} for m in history),
                                          question])
        session.add(ChatMessage(chat_session_id=chat_context.id, **question))
        session.add(ChatMessage(chat_session_id=chat_context.id, role="assistant", content=result.content))
        resp.media = {"answer": result.content}

    script.answer("Hello! How can I help?")
    script.call_tools(("count_messages", {"chat_session_id": 1}))
    script.answer("We have exchanged 2 messages so far.")
    with app.client as client:
        assert client.post("/chats/1", json={"message": "Hi"}).json() == {"answer": "Hello! How can I help?"}
        assert client.post("/chats/1", json={"message": "How many messages?"}).json() == {
            "answer": "We have exchanged 2 messages so far."}
        assert client.post("/chats/2", json={"message": "Hi"}).status_code == 404
    second = script.requests[1]["messages"]
    assert second == [{"role": "user", "content": "Hi"},
                      {"role": "assistant", "content": "Hello! How can I help?"},
                      {"role": "user", "content": "How many messages?"}]
    assert script.requests[2]["messages"][-1]["content"] == "2"
    assert len(script.requests) == 3
