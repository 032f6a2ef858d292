"""``AiInterface``: a chat model behind any OpenAI-compatible API, with tools,
chat contexts, streaming and retrieval (PyJolt's AI interface, in dyne's idiom)."""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from dyne.concurrency import is_async_callable, run_sync
from dyne.exceptions import HTTPException
from dyne.extensions import Extension

from .tools import TOOL_ATTRIBUTE, ToolSpec

if TYPE_CHECKING:
    from dyne.app import App

    from .retrieval import Retriever

__all__ = [
    "AiError",
    "AiInterface",
    "AiServiceError",
    "AiTimeout",
    "ChatContextNotFound",
    "ChatResult",
    "ChatStream",
    "FailedToRunAiToolMethod",
]

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])

DEFAULTS: dict[str, Any] = {
    "API_KEY": None,
    "API_BASE_URL": "https://api.openai.com/v1",
    "ORGANIZATION_ID": None,
    "PROJECT_ID": None,
    "TIMEOUT": 30,
    "MODEL": "gpt-3.5-turbo",
    "TEMPERATURE": 1.0,
    "RESPONSE_FORMAT": None,
    "TOOL_CHOICE": False,
    "MAX_RETRIES": 0,
    "CHAT_CONTEXT_NAME": "chat_context",
}


class AiError(Exception):
    """Base class of the AI interface's errors."""


class AiServiceError(AiError):
    """The AI server failed or could not be reached (answered with a 502)."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class AiTimeout(AiServiceError):
    """The AI server did not answer within ``TIMEOUT`` (answered with a 504)."""


class FailedToRunAiToolMethod(AiError):
    """A tool the model asked for failed: unknown or disabled, bad arguments,
    or the method raised (the original error is ``__cause__``)."""

    def __init__(self, tool_name: str, message: str) -> None:
        super().__init__(f"Tool {tool_name!r} failed: {message}")
        self.tool_name = tool_name


class ChatContextNotFound(HTTPException):
    """``chat_context_loader`` returned ``None`` (a 404 unless handled)."""

    def __init__(self, detail: str = "Chat context not found") -> None:
        super().__init__(404, detail=detail)


@dataclass
class ChatResult:
    """The model's final answer, and every message the exchange added (tool
    calls and their results, then the answer), ready to be stored."""

    content: str | None
    messages: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)


async def _ai_service_error(req: Any, resp: Any, exc: Exception) -> None:
    raise HTTPException(504 if isinstance(exc, AiTimeout) else 502, detail=str(exc))


class AiInterface(Extension):
    """Subclass it, implement ``chat_context_loader`` and add ``@tool``
    methods. Configured from ``AI_INTERFACE`` (``API_KEY``, ``API_BASE_URL``,
    ``ORGANIZATION_ID``, ``PROJECT_ID``, ``TIMEOUT``, ``MODEL``,
    ``TEMPERATURE``, ``RESPONSE_FORMAT``, ``TOOL_CHOICE``, ``MAX_RETRIES``,
    ``CHAT_CONTEXT_NAME``)."""

    name = "ai_interface"
    configs_name = "AI_INTERFACE"
    config_prefix = "AI_INTERFACE_"
    tool_specs: ClassVar[dict[str, ToolSpec]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        specs: dict[str, ToolSpec] = {}
        for base in reversed(cls.__mro__):
            for attribute in vars(base).values():
                spec = getattr(attribute, TOOL_ATTRIBUTE, None)
                if isinstance(spec, ToolSpec):
                    specs[spec.name] = spec
        cls.tool_specs = specs

    def __init__(self, app: App | None = None, *, variable_prefix: str = "",
                 configs_name: str | None = None, retriever: Retriever | None = None) -> None:
        self._client: Any = None
        self.retriever = retriever
        self.disabled_tools = {name for name, spec in self.tool_specs.items() if not spec.enabled}
        super().__init__(app, variable_prefix=variable_prefix, configs_name=configs_name)

    def setup(self, app: App) -> None:
        if AiServiceError not in getattr(app, "_exception_handlers", {}):
            app.error_handler(AiServiceError)(_ai_service_error)

    # -- configuration --------------------------------------------------------------------

    def setting(self, key: str) -> Any:
        return self.config_value(key, DEFAULTS.get(key))

    @property
    def is_configured(self) -> bool:
        """Whether an API key or a server URL was set (a page can say when not)."""
        return bool(self.config_value("API_KEY") or self.config_value("API_BASE_URL"))

    @property
    def client(self) -> Any:
        """The ``openai.AsyncOpenAI`` client, made on first use."""
        if self._client is None:
            try:
                import openai
            except ModuleNotFoundError as exc:
                raise ImportError('dyne.ext.ai needs the openai client: pip install "dyne[ai]"') from exc
            if not self.is_configured:
                raise AiError("AI_INTERFACE needs an API_KEY (or an API_BASE_URL for a local server)")
            self._client = openai.AsyncOpenAI(
                api_key=self.setting("API_KEY") or "not-needed",
                base_url=self.setting("API_BASE_URL"),
                organization=self.setting("ORGANIZATION_ID"),
                project=self.setting("PROJECT_ID"),
                timeout=float(self.setting("TIMEOUT")),
                max_retries=int(self.setting("MAX_RETRIES")),
            )
        return self._client

    async def on_shutdown(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    # -- chat contexts ------------------------------------------------------------------------

    async def chat_context_loader(self, req: Any) -> Any:
        """Return the chat context of this request (a database object...), or
        ``None`` when there is none. Override it."""
        raise NotImplementedError(f"{type(self).__name__} must implement chat_context_loader(self, req)")

    def with_chat_context(self, func: F) -> F:
        """Load the request's chat context with ``chat_context_loader`` and
        inject it as ``chat_context`` (``CHAT_CONTEXT_NAME``); raise
        ``ChatContextNotFound`` when the loader returns ``None``."""
        if not is_async_callable(func):
            raise TypeError(f"with_chat_context needs an async view, not {func!r}")
        from dyne.request import Request

        @functools.wraps(func)
        async def load_context(*args: Any, **kwargs: Any) -> Any:
            req = next((arg for arg in args if isinstance(arg, Request)), None)
            if req is None:
                raise TypeError("with_chat_context: no request among the view's arguments")
            context = self.chat_context_loader(req)
            if inspect.isawaitable(context):
                context = await context
            if context is None:
                raise ChatContextNotFound()
            kwargs[self.setting("CHAT_CONTEXT_NAME")] = context
            return await func(*args, **kwargs)

        return load_context  # type: ignore[return-value]

    # -- tools -------------------------------------------------------------------------------

    def disable_tool(self, name: str) -> None:
        self._spec(name)
        self.disabled_tools.add(name)

    def enable_tool(self, name: str) -> None:
        self._spec(name)
        self.disabled_tools.discard(name)

    def _spec(self, name: str) -> ToolSpec:
        spec = self.tool_specs.get(name)
        if spec is None:
            raise KeyError(f"No tool {name!r} on {type(self).__name__}")
        return spec

    def tools(self) -> list[dict[str, Any]]:
        """The enabled tools, in the OpenAI ``tools`` format."""
        return [spec.openai_tool() for name, spec in self.tool_specs.items()
                if name not in self.disabled_tools]

    async def run_tool(self, name: str, arguments: str | Mapping[str, Any]) -> str:
        """Run the tool ``name`` with the model's JSON ``arguments``; its result as text."""
        spec = self.tool_specs.get(name)
        if spec is None or name in self.disabled_tools:
            raise FailedToRunAiToolMethod(name, "no such tool is available")
        try:
            raw = json.loads(arguments or "{}") if isinstance(arguments, str) else dict(arguments)
        except ValueError as exc:
            raise FailedToRunAiToolMethod(name, f"arguments are not JSON: {exc}") from exc
        from pydantic import ValidationError

        try:
            validated = spec.arguments_model.model_validate(raw)
        except ValidationError as exc:
            raise FailedToRunAiToolMethod(name, f"invalid arguments: {exc}") from exc
        values = {key: getattr(validated, key) for key in type(validated).model_fields}
        method = spec.function.__get__(self, type(self))
        try:
            result = await method(**values) if is_async_callable(method) else await run_sync(method, **values)
        except Exception as exc:
            raise FailedToRunAiToolMethod(name, f"{type(exc).__name__}: {exc}") from exc
        return result if isinstance(result, str) else _to_json(result)

    # -- chat ----------------------------------------------------------------------------------

    def _request(self, messages: list[dict[str, Any]], tools: bool | Iterable[str] | None,
                 options: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.setting("MODEL"), "messages": messages}
        temperature = self.setting("TEMPERATURE")
        if temperature is not None:
            params["temperature"] = float(temperature)
        response_format = self.setting("RESPONSE_FORMAT")
        if response_format:
            params["response_format"] = response_format
        choice = self.setting("TOOL_CHOICE")
        if tools is None:
            tools = bool(choice)
        if tools:
            available = self.tools()
            if not isinstance(tools, bool):
                wanted = set(tools)
                available = [t for t in available if t["function"]["name"] in wanted]
            if available:
                params["tools"] = available
                params["tool_choice"] = choice if isinstance(choice, str) else "auto"
        params.update(options)
        return params

    async def _create(self, params: dict[str, Any]) -> Any:
        import openai

        try:
            return await self.client.chat.completions.create(**params)
        except openai.APITimeoutError as exc:
            raise AiTimeout(f"The AI server did not answer in time: {exc}") from exc
        except openai.APIStatusError as exc:
            raise AiServiceError(f"The AI server answered {exc.status_code}: {exc.message}",
                                 exc.status_code) from exc
        except openai.APIConnectionError as exc:
            raise AiServiceError(f"The AI server cannot be reached: {exc}") from exc

    async def _augment(self, messages: list[dict[str, Any]], retrieve: bool | int) -> list[dict[str, Any]]:
        if not retrieve or self.retriever is None:
            return messages
        question = next((m.get("content") for m in reversed(messages) if m.get("role") == "user"), None)
        if not isinstance(question, str) or not question.strip():
            return messages
        k = retrieve if isinstance(retrieve, int) and not isinstance(retrieve, bool) else 4
        chunks = await self.retriever.search(question, k=k)
        if not chunks:
            return messages
        context = "\n\n".join(f"[{i}] {chunk.text}" for i, chunk in enumerate(chunks, 1))
        system = {"role": "system",
                  "content": f"Use this context to answer when it is relevant:\n\n{context}"}
        position = max(i for i, m in enumerate(messages) if m.get("role") == "user")
        return [*messages[:position], system, *messages[position:]]

    async def chat(self, messages: Iterable[Mapping[str, Any]], *, tools: bool | Iterable[str] | None = None,
                   retrieve: bool | int = True, max_tool_rounds: int = 8, **options: Any) -> ChatResult:
        """Send ``messages``; run the tools the model calls and send their
        results back, until the model answers. ``tools``: ``None`` follows
        ``TOOL_CHOICE``, ``False`` sends none, a list of names sends those.
        ``retrieve``: add the retriever's nearest chunks (``k`` when an int).
        Other keyword arguments go to ``chat.completions.create``."""
        conversation = await self._augment([dict(m) for m in messages], retrieve)
        added: list[dict[str, Any]] = []
        calls: list[dict[str, Any]] = []
        for round_number in range(max_tool_rounds + 1):
            completion = await self._create(self._request(conversation + added, tools, options))
            if not completion.choices:
                raise AiServiceError("The AI server answered without a choice")
            message = completion.choices[0].message
            tool_calls = list(message.tool_calls or [])
            if not tool_calls:
                answer = {"role": "assistant", "content": message.content}
                added.append(answer)
                return ChatResult(message.content, added, calls)
            if round_number == max_tool_rounds:
                break
            added.append({"role": "assistant", "content": message.content,
                          "tool_calls": [call.model_dump(exclude_none=True) for call in tool_calls]})
            for call in tool_calls:
                output = await self.run_tool(call.function.name, call.function.arguments)
                calls.append({"name": call.function.name, "arguments": call.function.arguments,
                              "result": output})
                added.append({"role": "tool", "tool_call_id": call.id, "content": output})
        raise AiError(f"The model was still calling tools after {max_tool_rounds} rounds")

    def stream_chat(self, messages: Iterable[Mapping[str, Any]], *, tools: bool | Iterable[str] | None = None,
                    retrieve: bool | int = True, max_tool_rounds: int = 8, **options: Any) -> ChatStream:
        """Like ``chat``, streamed: iterate the returned ``ChatStream`` for the
        answer's text as it comes; its ``result`` is set at the end."""
        return ChatStream(self, [dict(m) for m in messages], tools, retrieve, max_tool_rounds, options)

    def sse(self, resp: Any, messages: Iterable[Mapping[str, Any]],
            on_complete: Callable[[ChatResult], Any] | None = None, **options: Any) -> ChatStream:
        """Stream the answer to the browser as Server-Sent Events: ``token``
        events with text, then one ``done`` event (or an ``error`` event).
        ``on_complete(result)`` runs before ``done`` (store the answer there)."""
        stream = self.stream_chat(messages, **options)

        async def events() -> AsyncIterator[dict[str, Any]]:
            try:
                async for text in stream:
                    yield {"event": "token", "data": text}
                if on_complete is not None and stream.result is not None:
                    outcome = on_complete(stream.result)
                    if inspect.isawaitable(outcome):
                        await outcome
            except AiError as exc:
                yield {"event": "error", "data": str(exc)}
                return
            yield {"event": "done", "data": ""}

        resp.sse(events)
        return stream


class ChatStream:
    """An async iterator of answer text; ``result`` is the ``ChatResult`` once done."""

    def __init__(self, ai: AiInterface, messages: list[dict[str, Any]], tools: bool | Iterable[str] | None,
                 retrieve: bool | int, max_tool_rounds: int, options: dict[str, Any]) -> None:
        self.ai = ai
        self.messages = messages
        self.tools = tools
        self.retrieve = retrieve
        self.max_tool_rounds = max_tool_rounds
        self.options = options
        self.result: ChatResult | None = None

    def __aiter__(self) -> AsyncIterator[str]:
        return self._run()

    async def _run(self) -> AsyncIterator[str]:
        ai = self.ai
        conversation = await ai._augment(self.messages, self.retrieve)
        added: list[dict[str, Any]] = []
        calls: list[dict[str, Any]] = []
        for round_number in range(self.max_tool_rounds + 1):
            params = ai._request(conversation + added, self.tools, {**self.options, "stream": True})
            stream = await ai._create(params)
            text: list[str] = []
            pending: dict[int, dict[str, Any]] = {}
            try:
                async for chunk in stream:
                    if not chunk.choices:
                        continue
                    delta = chunk.choices[0].delta
                    if delta.content:
                        text.append(delta.content)
                        yield delta.content
                    for call in delta.tool_calls or []:
                        slot = pending.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                        if call.id:
                            slot["id"] = call.id
                        if call.function is not None:
                            slot["name"] += call.function.name or ""
                            slot["arguments"] += call.function.arguments or ""
            except Exception as exc:
                import openai

                if isinstance(exc, openai.APITimeoutError):
                    raise AiTimeout(f"The AI server stopped answering: {exc}") from exc
                if isinstance(exc, openai.APIError):
                    raise AiServiceError(f"The AI stream failed: {exc}") from exc
                raise
            content = "".join(text) or None
            if not pending:
                added.append({"role": "assistant", "content": content})
                self.result = ChatResult(content, added, calls)
                return
            if round_number == self.max_tool_rounds:
                break
            ordered = [pending[index] for index in sorted(pending)]
            added.append({"role": "assistant", "content": content, "tool_calls": [
                {"id": c["id"], "type": "function",
                 "function": {"name": c["name"], "arguments": c["arguments"]}} for c in ordered]})
            for call in ordered:
                output = await ai.run_tool(call["name"], call["arguments"])
                calls.append({"name": call["name"], "arguments": call["arguments"], "result": output})
                added.append({"role": "tool", "tool_call_id": call["id"], "content": output})
        raise AiError(f"The model was still calling tools after {self.max_tool_rounds} rounds")


def _to_json(value: Any) -> str:
    def default(item: Any) -> Any:
        dump = getattr(item, "model_dump", None)
        if callable(dump):
            return dump(mode="json")
        return str(item)

    return json.dumps(value, default=default, ensure_ascii=False)
