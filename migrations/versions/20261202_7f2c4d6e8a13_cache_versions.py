"""cache versions, and the program's ledger accounts made once

One row per per-process cache (programs, bonus rules, tiers): a change raises its row's
version in the change's own transaction; processes reload their copy when they see the
version move (infra/cache.py). The program's four ledger accounts (issuance, redemption,
expiry, adjustment) are made here rather than on first use, so a process may keep their ids.

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
    for kind in ("issuance", "redemption", "expiry", "adjustment"):
        op.execute(sa.text(
            "INSERT INTO ledger_accounts (owner_type, owner_id, kind, balance, lifetime_earned, created_at) "
            "SELECT 'program', 0, :kind, 0, 0, CURRENT_TIMESTAMP WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts "
            "WHERE owner_type = 'program' AND owner_id = 0 AND kind = :kind)").bindparams(kind=kind))


def downgrade() -> None:
    op.drop_table("cache_versions")
