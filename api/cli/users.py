"""``flask users create-admin``: the first admin."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from api.clock import now
from infra.errors import DomainError
from wallet.members import accounts
from wallet.members.models import Role

cli = AppGroup("users", help="Accounts.")


@cli.command("create-admin")
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
            user = accounts.create_staff(session, email=email, password=password, name=name, role=Role.ADMIN, now=now())
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        session.commit()
        click.echo(f"admin {user.email} created (id {user.id})")
