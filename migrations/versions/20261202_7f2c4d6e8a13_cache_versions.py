"""cache versions: one row per per-process cache (programs, bonus rules, tiers)

A change raises its row's version in the change's own transaction; processes reload their
copy when they see the version move (infra/cache.py).

Revision ID: 7f2c4d6e8a13
Revises: c3ca9c2bf0e1
Create Date: 2026-12-02 05:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "7f2c4d6e8a13"
down_revision = "c3ca9c2bf0e1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cache_versions",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cache_versions")),
    )
    op.bulk_insert(sa.table("cache_versions", sa.column("name"), sa.column("version")),
                   [{"name": name, "version": 0} for name in ("programs", "bonus_rules", "tiers")])


def downgrade() -> None:
    op.drop_table("cache_versions")
