"""campaign pause

Revision ID: b029cbe33e77
Revises: 7aaa6ac91a50
Create Date: 2026-11-23 07:04:10.335622
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.db


revision = 'b029cbe33e77'
down_revision = '7aaa6ac91a50'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_until', infra.db.UTCDateTime(timezone=True), nullable=True))

    # ### end Alembic commands ###


def downgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('paused_until')

    # ### end Alembic commands ###
