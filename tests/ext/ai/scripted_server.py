"""An OpenAI-compatible chat server for tests: each request to
``/v1/chat/completions`` gets the next scripted reply (a plain answer, tool
calls, a stream, an error, or a delay), and is recorded for assertions.
It runs under uvicorn on a free loopback port (``tests.conftest.serve_in_thread``)."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from typing import Any

import dyne


def _completion(message: dict[str, Any], finish: str) -> dict[str, Any]:
    return {"id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": "scripted",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    return json.dumps({"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 0,
                       "model": "scripted",
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})


def _calls(calls: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": f"call_{n}", "type": "function",
             "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)}}
            for n, (name, args) in enumerate(calls)]


class ScriptedOpenAI:
    def __init__(self) -> None:
        self.script: deque[dict[str, Any]] = deque()
        self.requests: list[dict[str, Any]] = []
        self.release = asyncio.Event()
        self.app = dyne.App()
        self.app.add_route("/v1/chat/completions", self._completions, methods=["POST"])

    # -- the script --------------------------------------------------------------------

    def answer(self, text: str) -> ScriptedOpenAI:
        self.script.append({"kind": "answer", "text": text})
        return self

    def call_tools(self, *calls: tuple[str, Any]) -> ScriptedOpenAI:
        self.script.append({"kind": "tools", "calls": list(calls)})
        return self

    def stream(self, *pieces: str, calls: list[tuple[str, Any]] | None = None) -> ScriptedOpenAI:
        self.script.append({"kind": "stream", "pieces": list(pieces), "calls": calls or []})
        return self

    def fail(self, status: int, message: str = "scripted failure") -> ScriptedOpenAI:
        self.script.append({"kind": "fail", "status": status, "message": message})
        return self

    def hang(self, seconds: float) -> ScriptedOpenAI:
        self.script.append({"kind": "hang", "seconds": seconds})
        return self

    # -- the server ----------------------------------------------------------------------

    async def _completions(self, req: Any, resp: Any) -> None:
        body = await req.media()
        self.requests.append(body)
        step = self.script.popleft() if self.script else {"kind": "fail", "status": 500,
                                                          "message": "script exhausted"}
        kind = step["kind"]
        if kind == "hang":
            await asyncio.sleep(step["seconds"])
            resp.media = _completion({"role": "assistant", "content": "too late"}, "stop")
        elif kind == "fail":
            resp.status_code = step["status"]
            resp.media = {"error": {"message": step["message"], "type": "server_error", "code": None}}
        elif kind == "answer":
            resp.media = _completion({"role": "assistant", "content": step["text"]}, "stop")
        elif kind == "tools":
            resp.media = _completion({"role": "assistant", "content": None,
                                      "tool_calls": _calls(step["calls"])}, "tool_calls")
        else:
            pieces, calls = step["pieces"], _calls(step["calls"])

            @resp.sse
            async def events():
                yield {"data": _chunk({"role": "assistant", "content": ""})}
                for piece in pieces:
                    yield {"data": _chunk({"content": piece})}
                for index, call in enumerate(calls):
                    arguments = call["function"]["arguments"]
                    half = len(arguments) // 2
                    first = {"index": index, "id": call["id"], "type": "function",
                             "function": {"name": call["function"]["name"], "arguments": arguments[:half]}}
                    yield {"data": _chunk({"tool_calls": [first]})}
                    yield {"data": _chunk({"tool_calls": [{"index": index,
                                                           "function": {"arguments": arguments[half:]}}]})}
                yield {"data": _chunk({}, "tool_calls" if calls else "stop")}
                yield {"data": "[DONE]"}
