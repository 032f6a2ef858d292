"""``dyne db``: database migrations for the app's models (Alembic).

::

    dyne db init                       # create ./migrations
    dyne db migrate -m "add users"     # autogenerate a revision from the models
    dyne db upgrade                    # apply revisions (to head)
    dyne db downgrade                  # undo one revision
    dyne db history | current | heads | show REV | stamp REV

The app is the one named by ``dyne --app`` (or ``DYNE_APP``); its
``Alchemical`` instance (``app.extensions["db"]``) provides the models and the
database URLs, binds included.

This module is a plugin of the ``dyne`` command line (entry point group
``dyne.cli``) and is imported by every ``dyne`` invocation: it imports only
click here. SQLAlchemy and Alembic are imported when a ``db`` command runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from dyne.cli import DEFAULT_APP, DEFAULT_HOST, DEFAULT_PORT, CLIContext, cli

__all__ = ["db"]


@dataclass
class DatabaseContext:
    """What the ``db`` commands get: the global options and the directory."""

    cli: CLIContext
    directory: str

    def run(self, action: str, *args: Any, **kwargs: Any) -> Any:
        """Load the app, find its database, and run ``migrations.<action>``;
        errors become a one-line ``Error: ...`` and exit status 1."""
        try:
            from dyne.ext.db.alchemical import Alchemical, migrations
        except ImportError as exc:
            raise click.ClickException(str(exc)) from None
        from alembic.util import CommandError

        app = self.cli.load_app()
        db = getattr(app, "extensions", {}).get("db")
        if not isinstance(db, Alchemical):
            raise click.ClickException(
                f"The app {self.cli.app_path} has no Alchemical database: create it with "
                "`db = Alchemical(app)` (from dyne.ext.db.alchemical), or point --app at the right app.")
        try:
            return getattr(migrations, action)(db, self.directory, *args, **kwargs)
        except (CommandError, FileNotFoundError, FileExistsError, RuntimeError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None


@cli.group("db")
@click.option("-d", "--directory", default="migrations", show_default=True,
              envvar="DYNE_MIGRATIONS_DIR", help="The migrations directory (env: DYNE_MIGRATIONS_DIR).")
@click.pass_context
def db(ctx: click.Context, directory: str) -> None:
    """Database migrations (Alembic) for the app's Alchemical models."""
    options = ctx.find_object(CLIContext) or CLIContext(  # `db` invoked on its own
        app_path=DEFAULT_APP, debug=False, host=DEFAULT_HOST, port=DEFAULT_PORT, reload=False)
    ctx.obj = DatabaseContext(cli=options, directory=directory)


@db.command()
@click.pass_obj
def init(obj: DatabaseContext) -> None:
    """Create the migrations directory."""
    path = obj.run("init", app_path=obj.cli.app_path)
    click.echo(f"Created {path}/ (alembic.ini, env.py, script.py.mako, versions/). "
               "Next: dyne db migrate -m 'first revision'")


@db.command()
@click.option("-m", "--message", default=None, help="What the revision does.")
@click.pass_obj
def migrate(obj: DatabaseContext, message: str | None) -> None:
    """Generate a revision from the differences between models and database."""
    obj.run("migrate", message=message)


@db.command()
@click.argument("revision", default="head")
@click.pass_obj
def upgrade(obj: DatabaseContext, revision: str) -> None:
    """Apply revisions up to REVISION (default: head)."""
    obj.run("upgrade", revision=revision)


@db.command()
@click.argument("revision", default="-1")
@click.pass_obj
def downgrade(obj: DatabaseContext, revision: str) -> None:
    """Revert revisions down to REVISION (default: -1, the last one; base: all)."""
    obj.run("downgrade", revision=revision)


@db.command()
@click.option("-r", "--rev-range", default=None, help="Range of revisions, e.g. base:head or -3:.")
@click.option("-v", "--verbose", is_flag=True, help="Show full revision details.")
@click.option("-i", "--indicate-current", is_flag=True, help="Mark the current revision.")
@click.pass_obj
def history(obj: DatabaseContext, rev_range: str | None, verbose: bool, indicate_current: bool) -> None:
    """List revisions in order."""
    obj.run("history", rev_range=rev_range, verbose=verbose, indicate_current=indicate_current)


@db.command()
@click.option("-v", "--verbose", is_flag=True, help="Show full revision details.")
@click.pass_obj
def current(obj: DatabaseContext, verbose: bool) -> None:
    """Show the revision each database is at."""
    obj.run("current", verbose=verbose)


@db.command()
@click.option("-v", "--verbose", is_flag=True, help="Show full revision details.")
@click.pass_obj
def heads(obj: DatabaseContext, verbose: bool) -> None:
    """Show the newest revision(s)."""
    obj.run("heads", verbose=verbose)


@db.command()
@click.argument("revision", default="head")
@click.pass_obj
def show(obj: DatabaseContext, revision: str) -> None:
    """Show one revision (default: head)."""
    obj.run("show", revision=revision)


@db.command()
@click.argument("revision", default="head")
@click.pass_obj
def stamp(obj: DatabaseContext, revision: str) -> None:
    """Record REVISION as the current one without running migrations."""
    obj.run("stamp", revision=revision)
