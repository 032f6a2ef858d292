"""Fixtures for the AI interface tests: a scripted OpenAI-compatible server
on a free loopback port, driven through the real ``openai`` client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import serve_in_thread

from .scripted_server import ScriptedOpenAI


@pytest.fixture
def openai_server() -> Iterator[tuple[ScriptedOpenAI, str]]:
    """``(script, base_url)``: queue replies on ``script``, point the client at ``base_url``."""
    script = ScriptedOpenAI()
    with serve_in_thread(script.app, timeout_graceful_shutdown=2) as url:
        yield script, f"{url}/v1"


@pytest.fixture
def ai_config(openai_server):
    _, base_url = openai_server
    return {"API_KEY": "test-key", "API_BASE_URL": base_url, "MODEL": "scripted-model",
            "TEMPERATURE": 0.2, "TIMEOUT": 5, "TOOL_CHOICE": True}
