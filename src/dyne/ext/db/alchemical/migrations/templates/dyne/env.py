"""Alembic environment of a dyne application (written by `dyne db init`).

The models and databases are those of the app's Alchemical instance
(`app.extensions["db"]`): the default database and every ALCHEMICAL_BINDS
entry. Options for Alembic's `context.configure` (`include_object`,
`compare_server_default`...) can be given to `run_migrations`.
"""

from logging.config import fileConfig

from alembic import context

from dyne.ext.db.alchemical.migrations.environment import run_migrations

if context.config.config_file_name is not None:
    fileConfig(context.config.config_file_name, disable_existing_loggers=False)

run_migrations({
    "compare_type": True,
    "render_as_batch": True,
})
