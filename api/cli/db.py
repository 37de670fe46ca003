"""``flask db ...``: Alembic's commands, as the database's owner (``MIGRATION_DATABASE_URL``,
else ``DATABASE_URL``)."""

from __future__ import annotations

import click
from alembic import command
from alembic.config import Config
from flask import current_app
from flask.cli import AppGroup

from api.migrate import alembic_config

cli = AppGroup("db", help="Database migrations (Alembic).")


def _config() -> Config:
    settings = current_app.config["SETTINGS"]
    return alembic_config(url=settings.migration_database_url or settings.database_url)


@cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    command.upgrade(_config(), revision)


@cli.command("downgrade")
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Undo migrations down to REVISION."""
    command.downgrade(_config(), revision)


@cli.command("current")
def current() -> None:
    """Show the revision the database is at."""
    command.current(_config(), verbose=True)


@cli.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate", is_flag=True, help="Compare the models with the database.")
def revision(message: str, autogenerate: bool) -> None:
    """Write a new migration file."""
    command.revision(_config(), message=message, autogenerate=autogenerate)


@cli.command("check")
def check() -> None:
    """Fail when the models have changes no migration holds."""
    command.check(_config())
