"""Command line: ``flask --app wsgi db|users|wallet|rewards|campaigns|jobs|demo ...``."""

from __future__ import annotations

from flask import Flask

from api.cli import campaigns, db, demo, jobs, rewards, users, wallet


def init_app(app: Flask) -> None:
    for group in (campaigns.cli, db.cli, demo.cli, jobs.cli, rewards.cli, users.cli, wallet.cli):
        app.cli.add_command(group)
