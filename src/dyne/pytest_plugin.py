"""dyne's pytest plugin (registered through the ``pytest11`` entry point, so
it loads wherever dyne is installed): the ``live_server`` fixture.

``live_server`` serves your app under uvicorn on a free loopback port for
one test and gives a ``dyne.testing.LiveServer`` (``.url``, ``.ws_url``).
Tell it which app by defining a ``dyne_app`` fixture, in your ``conftest.py``::

    @pytest.fixture
    def dyne_app():
        from myproject import app
        return app

    def test_home(live_server):
        assert httpx.get(live_server.url + "/").status_code == 200

Nothing is imported from dyne until a test asks for the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def dyne_app() -> Any:
    """The app ``live_server`` serves: override this fixture."""
    raise pytest.UsageError(
        "The live_server fixture serves the app a `dyne_app` fixture returns: define that "
        "fixture in your conftest.py, returning your app.")


@pytest.fixture
def live_server(dyne_app: Any) -> Iterator[Any]:
    """The ``dyne_app`` app under uvicorn on a free loopback port (a
    ``dyne.testing.LiveServer``: ``.url``, ``.ws_url``, ``.port``)."""
    from dyne.testing import live_server as serve

    with serve(dyne_app) as server:
        yield server
