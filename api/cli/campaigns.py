"""``flask campaigns tick``: work on every due campaign now, in this process (by hand; the
job worker sends campaigns on its own)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from api.clock import now
from notifications.jobs import push_sender, run_due
from notifications.policy import Policy

cli = AppGroup("campaigns", help="Campaigns by hand.")


@cli.command("tick")
def tick() -> None:
    """Send campaigns whose time has come and deliveries put off by quiet hours."""
    clock = current_app.extensions.get("clock") or now
    due = run_due(current_app.extensions["sessionmaker"], clock=clock,
                  sender=push_sender(current_app.extensions["resources"]),
                  policy=Policy.from_settings(current_app.config["SETTINGS"]))
    click.echo(f"campaigns worked on: {len(due)}")
