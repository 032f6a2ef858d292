"""Admin tests reuse the database fixtures (SQLite and the real PostgreSQL)."""

from tests.ext.db.conftest import (  # noqa: F401 - fixtures
    _no_database_config_from_the_environment,
    database_url,
    postgres_database,
)
