"""members: whether the member holds a wallet pass of its card

A purchase queued the card's pass update for every member (one INSERT into ``jobs`` per
purchase, then a job that read one row and stopped), though most members hold no pass. The
till reads this flag with the member it locks and queues the update only for those who do.
Set when the member's first pass is served (``passes.registrations.ensure_pass``); filled
here from the passes already served.

Revision ID: f5a1c3e7b9d2
Revises: d2b7c9e4f6a1
Create Date: 2026-12-03 09:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f5a1c3e7b9d2"
down_revision = "d2b7c9e4f6a1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A constant default: PostgreSQL adds the column without rewriting the table.
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("holds_wallet_pass", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE members SET holds_wallet_pass = true "
               "WHERE id IN (SELECT member_id FROM wallet_passes WHERE kind = 'member')")


def downgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.drop_column("holds_wallet_pass")
