"""``flask wallet ...``: the points jobs by hand (the worker also runs them nightly)."""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app
from flask.cli import AppGroup

from api.clock import now
from infra import idempotency
from wallet import jobs
from wallet.earning import tiers

cli = AppGroup("wallet", help="Points jobs, safe to run twice (the job worker runs them nightly).")


@cli.command("expire")
@click.option("--batch", default=jobs.EXPIRE_BATCH, show_default=True, help="Accounts per commit.")
def expire(batch: int) -> None:
    """Expire what is left of every lot that is due."""
    total = jobs.expire_all(current_app.extensions["sessionmaker"], now(), batch=batch)
    click.echo(f"points expired on {total} accounts")


@cli.command("tiers")
def recalculate_tiers() -> None:
    """Recalculate every member's tier over the rolling 12 months (upgrades and downgrades)."""
    with current_app.extensions["sessionmaker"]() as session:
        changes = tiers.recalculate_all(session, now=now())
        session.commit()
    click.echo(f"tiers: {changes['upgraded']} upgraded, {changes['downgraded']} downgraded")


@cli.command("forget-idempotency")
@click.option("--days", default=idempotency.KEEP.days, show_default=True, type=click.IntRange(min=1),
              help="Keep the stored responses of this many days; forget older ones.")
def forget_idempotency(days: int) -> None:
    """Delete stored Idempotency-Key responses older than --days (the worker does it daily)."""
    total = idempotency.forget_all_before(current_app.extensions["sessionmaker"], now() - dt.timedelta(days=days))
    click.echo(f"idempotency records forgotten: {total} (older than {days} days)")
