"""Command line: ``flask --app wsgi db ...`` and ``flask --app wsgi users ...``."""

from __future__ import annotations

import datetime as dt

import click
from alembic import command
from flask import Flask, current_app
from flask.cli import AppGroup

from api.clock import now
from api.jobs import push_sender
from notifications import jobs
from notifications.campaigns import Policy
from api.migrate import alembic_config
from wallet import accounts, idempotency, ledger, tiers
from wallet.accounts import Role
from wallet.errors import WalletError

db_cli = AppGroup("db", help="Database migrations (Alembic).")
users_cli = AppGroup("users", help="Accounts.")
wallet_cli = AppGroup("wallet", help="Points jobs, safe to run twice (cron them nightly).")
campaigns_cli = AppGroup("campaigns", help="Campaign jobs (cron `tick` every minute without a Celery worker).")


def _config():  # type: ignore[no-untyped-def]
    return alembic_config(url=current_app.config["SETTINGS"].database_url)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    command.upgrade(_config(), revision)


@db_cli.command("downgrade")
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Undo migrations down to REVISION."""
    command.downgrade(_config(), revision)


@db_cli.command("current")
def current() -> None:
    """Show the revision the database is at."""
    command.current(_config(), verbose=True)


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate", is_flag=True, help="Compare the models with the database.")
def revision(message: str, autogenerate: bool) -> None:
    """Write a new migration file."""
    command.revision(_config(), message=message, autogenerate=autogenerate)


@db_cli.command("check")
def check() -> None:
    """Fail when the models have changes no migration holds."""
    command.check(_config())


@users_cli.command("create-admin")
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 10 characters.")
@click.option("--name", default="Administrator")
def create_admin(email: str, password: str, name: str) -> None:
    """Create the first admin (or another one)."""
    if len(password) < 10:
        raise click.BadParameter("at least 10 characters", param_hint="--password")
    factory = current_app.extensions["sessionmaker"]
    with factory() as session:
        try:
            user = accounts.create_staff(
                session, email=email, password=password, name=name, role=Role.ADMIN, now=now()
            )
        except WalletError as exc:
            raise click.ClickException(exc.message) from exc
        session.commit()
        click.echo(f"admin {user.email} created (id {user.id})")


@wallet_cli.command("expire")
@click.option("--batch", default=1000, show_default=True, help="Accounts per commit.")
def expire(batch: int) -> None:
    """Expire what is left of every lot that is due."""
    factory = current_app.extensions["sessionmaker"]
    total = 0
    while True:
        with factory() as session:
            done = ledger.expire_due(session, now=now(), limit=batch)
            session.commit()
        total += done
        if done < batch:
            break
    click.echo(f"points expired on {total} accounts")


@wallet_cli.command("tiers")
def recalculate_tiers() -> None:
    """Recalculate every member's tier over the rolling 12 months (upgrades and downgrades)."""
    factory = current_app.extensions["sessionmaker"]
    with factory() as session:
        changes = tiers.recalculate_all(session, now=now())
        session.commit()
    click.echo(f"tiers: {changes['upgraded']} upgraded, {changes['downgraded']} downgraded")


@wallet_cli.command("forget-idempotency")
@click.option("--days", default=idempotency.KEEP.days, show_default=True, type=click.IntRange(min=1),
              help="Keep the stored responses of this many days; forget older ones.")
def forget_idempotency(days: int) -> None:
    """Delete stored Idempotency-Key responses older than --days (cron it daily)."""
    factory = current_app.extensions["sessionmaker"]
    before, total = now() - dt.timedelta(days=days), 0
    while True:
        with factory() as session:
            done = idempotency.forget_before(session, before)
            session.commit()
        total += done
        if not done:
            break
    click.echo(f"idempotency records forgotten: {total} (older than {days} days)")


@campaigns_cli.command("tick")
def tick() -> None:
    """Send campaigns whose time has come and deliveries put off by quiet hours."""
    settings = current_app.config["SETTINGS"]
    clock = current_app.extensions.get("clock") or now
    due = jobs.run_due(current_app.extensions["sessionmaker"], clock=clock, sender=push_sender(),
                       policy=Policy.from_settings(settings))
    click.echo(f"campaigns worked on: {len(due)}")


def init_app(app: Flask) -> None:
    app.cli.add_command(campaigns_cli)
    app.cli.add_command(db_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(wallet_cli)
