"""in-flight deliveries per member

Revision ID: 86582e23481e
Revises: e7582ce64bd6
Create Date: 2026-11-23 06:04:47.989154
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.db


revision = '86582e23481e'
down_revision = 'e7582ce64bd6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaign_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_deliveries_in_flight', ['member_id'], unique=False, postgresql_where=sa.text("status = 'claimed'"), sqlite_where=sa.text("status = 'claimed'"))

    # ### end Alembic commands ###


def downgrade() -> None:
    with op.batch_alter_table('campaign_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_deliveries_in_flight', postgresql_where=sa.text("status = 'claimed'"), sqlite_where=sa.text("status = 'claimed'"))

    # ### end Alembic commands ###
