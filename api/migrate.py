"""Alembic, driven from Python: the ``flask db`` commands and the tests use these.

Alembic is used directly rather than through Flask-Migrate, which would bring in
Flask-SQLAlchemy's ``db.Model`` and ``db.session`` and tie the domain to Flask.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from alembic.config import Config
from sqlalchemy import MetaData

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

# Every module that declares tables. A model module missing here is invisible to
# autogenerate, and the test that compares migrations with the models catches that.
MODEL_MODULES = (
    "infra.cache",
    "infra.idempotency",
    "infra.jobs.models",
    "wallet.members.models",
    "wallet.members.refresh_tokens",
    "wallet.ledger.models",
    "wallet.earning.rules",
    "wallet.earning.purchases",
    "wallet.earning.daily_caps",
    "wallet.receipts.models",
    "notifications.devices",
    "notifications.segments",
    "notifications.inbox",
    "notifications.campaigns",
    "wallet.rewards.models",
    "passes.models",
    "notifications.voucher_offers",
)


def target_metadata() -> MetaData:
    from infra.db import Base

    for name in MODEL_MODULES:
        importlib.import_module(name)
    return Base.metadata


def alembic_config(*, url: str | None = None, connection: Any = None) -> Config:
    """A config for ``url``, or for an open ``connection`` (used inside the caller's transaction)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    if url is not None:
        cfg.attributes["url"] = url
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg
