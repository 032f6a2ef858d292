"""The typed configuration (seed 002's ``Config(BaseConfig)``).

Every field may be overridden from the environment under its own name
(lists as JSON): ``ALCHEMICAL_DATABASE_URL=postgresql://... dyne run``.
"""

import os
from typing import Any

from dyne.settings import BaseConfig


class Config(BaseConfig):
    """Config class"""

    APP_NAME: str = "Library"
    VERSION: str = "1.0"
    SECRET_KEY: str | None = None  # set SECRET_KEY in the environment (or .env) for sessions
    BASE_PATH: str = os.path.dirname(__file__)
    DEBUG: bool = False
    OPEN_API_DESCRIPTION: str = "A library's books, in PyJolt's layout"

    # The Alchemical extension's section: SQLite in the working directory by default.
    ALCHEMICAL_DATABASE_URL: str = "sqlite:///library.db"
    # The OpenAPI version of /openapi.json ("3.0.3" or "3.1.0").
    OPENAPI_SPEC_VERSION: str = "3.1.0"

    # The app-wide CORS policy: off; one endpoint declares its own with @cors.
    CORS_ENABLED: bool = False

    MODELS: list[Any] = ["app.api.models.book:Book"]
    EXTENSIONS: list[Any] = ["app.extensions:db"]
    MIDDLEWARE: list[Any] = ["app.middleware.timing_mw:TimingMW",
                             "app.middleware.maintenance_mw:MaintenanceMW"]
    EXCEPTION_HANDLERS: list[Any] = ["app.exceptions.handler:CustomExceptionHandler"]
    CONTROLLERS: list[Any] = ["app.api.books_api:BooksApi"]
    CLI_CONTROLLERS: list[Any] = ["app.cli.cli_controller:LibraryCLIController"]
