"""An AI chat interface (experimental) on the ``openai`` client, for any
OpenAI-compatible server (OpenAI, Ollama, vLLM, LM Studio, Groq...).

::

    from dyne.ext.ai import AiInterface, tool

    class Interface(AiInterface):
        async def chat_context_loader(self, req):
            return await ChatSession.get(req.path_params["chat_id"])

        @tool(name="weather", description="The weather in a city")
        async def weather(self, city: str) -> str:
            ...

    ai = Interface(app)       # AI_INTERFACE from app.config

Needs ``pip install "dyne[ai]"``. See ``docs/ai.md``.
"""

from .interface import (
    AiError,
    AiInterface,
    AiServiceError,
    AiTimeout,
    ChatContextNotFound,
    ChatResult,
    ChatStream,
    FailedToRunAiToolMethod,
)
from .tools import ToolSpec, tool

__all__ = [
    "AiError",
    "AiInterface",
    "AiServiceError",
    "AiTimeout",
    "ChatContextNotFound",
    "ChatResult",
    "ChatStream",
    "FailedToRunAiToolMethod",
    "ToolSpec",
    "tool",
]
