"""partial indexes of live point lots

A member with a long history has many spent lots; spending, expiry and the wallet's
"expiring soon" only ever look at live ones (remaining > 0).

Revision ID: e7582ce64bd6
Revises: e668ce6cb658
Create Date: 2026-11-23 05:02:46.770165
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.db


revision = 'e7582ce64bd6'
down_revision = 'e668ce6cb658'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('point_lots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_point_lots_expires_at'))
        batch_op.create_index('ix_point_lots_live_by_account', ['account_id', 'expires_at'], unique=False, postgresql_where=sa.text('remaining > 0'), sqlite_where=sa.text('remaining > 0'))
        batch_op.create_index('ix_point_lots_live_by_expiry', ['expires_at'], unique=False, postgresql_where=sa.text('remaining > 0'), sqlite_where=sa.text('remaining > 0'))



def downgrade() -> None:
    with op.batch_alter_table('point_lots', schema=None) as batch_op:
        batch_op.drop_index('ix_point_lots_live_by_expiry', postgresql_where=sa.text('remaining > 0'), sqlite_where=sa.text('remaining > 0'))
        batch_op.drop_index('ix_point_lots_live_by_account', postgresql_where=sa.text('remaining > 0'), sqlite_where=sa.text('remaining > 0'))
        batch_op.create_index(batch_op.f('ix_point_lots_expires_at'), ['expires_at'], unique=False)

