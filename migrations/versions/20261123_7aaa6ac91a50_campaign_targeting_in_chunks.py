"""campaign targeting in chunks

Revision ID: 7aaa6ac91a50
Revises: 86582e23481e
Create Date: 2026-11-23 06:19:54.205948
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.db


revision = '7aaa6ac91a50'
down_revision = '86582e23481e'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('targeted_through', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('targeted_at', infra.db.UTCDateTime(timezone=True), nullable=True))
    # Campaigns started before this were targeted whole, in one go.
    op.execute("UPDATE campaigns SET targeted_at = started_at WHERE started_at IS NOT NULL")

    # ### end Alembic commands ###


def downgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('targeted_at')
        batch_op.drop_column('targeted_through')

    # ### end Alembic commands ###
