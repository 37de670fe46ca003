"""Command line: ``flask --app wsgi db|users|wallet|campaigns|jobs|demo ...``."""

from __future__ import annotations

from flask import Flask

from api.cli import campaigns, db, demo, jobs, users, wallet


def init_app(app: Flask) -> None:
    for group in (campaigns.cli, db.cli, demo.cli, jobs.cli, users.cli, wallet.cli):
        app.cli.add_command(group)
