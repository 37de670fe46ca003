"""daily earnings: what a member earned on each of its local days, for the daily cap

Read in one row per purchase instead of summing the day's entries (which grew with every
purchase since midnight, under the account's lock).

Revision ID: a5d8e0f2c317
Revises: 7f2c4d6e8a13
Create Date: 2026-12-02 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a5d8e0f2c317"
down_revision = "7f2c4d6e8a13"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_earnings",
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("points", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["ledger_accounts.id"],
                                name=op.f("fk_daily_earnings_account_id_ledger_accounts"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("account_id", "day", name=op.f("pk_daily_earnings")),
    )


def downgrade() -> None:
    op.drop_table("daily_earnings")
