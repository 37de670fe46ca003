"""purchase lines with their category

The lines of a receipt, one row each, so a segment can ask in SQL who bought what.

Revision ID: e668ce6cb658
Revises: d7ef90c67173
Create Date: 2026-11-23 04:38:01.866337
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.db


revision = 'e668ce6cb658'
down_revision = 'd7ef90c67173'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('purchase_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('purchase_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('quantity', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=14, scale=3), nullable=False),
    sa.ForeignKeyConstraint(['purchase_id'], ['purchases.id'], name=op.f('fk_purchase_lines_purchase_id_purchases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_lines'))
    )
    with op.batch_alter_table('purchase_lines', schema=None) as batch_op:
        batch_op.create_index('ix_purchase_lines_category_purchase_id', ['category', 'purchase_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_lines_purchase_id'), ['purchase_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('purchase_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_lines_purchase_id'))
        batch_op.drop_index('ix_purchase_lines_category_purchase_id')

    op.drop_table('purchase_lines')
