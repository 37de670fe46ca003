"""``flask demo seed``: a demo program a newcomer can click through (written below)."""

from __future__ import annotations

from flask.cli import AppGroup

cli = AppGroup("demo", help="A demo program to try the API with.")
