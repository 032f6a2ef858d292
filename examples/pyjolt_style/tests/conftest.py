"""Seed 002's test set-up: an app from the factory, and the async test client
(``async with TestClient(app)`` runs the start-up and shutdown handlers)."""

import os
import sys
from pathlib import Path

import pytest

from dyne.testing import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


@pytest.fixture(scope="session")
def application(tmp_path_factory):
    # A database of the test session's own; the environment overrides Config.
    os.environ["ALCHEMICAL_DATABASE_URL"] = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    from app import create_app

    # One app for the session: the extensions of app/extensions.py bind to one app.
    return create_app()


@pytest.fixture
async def client(application):
    async with TestClient(application) as c:
        yield c
