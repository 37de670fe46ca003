"""receipts: photos, what was read, the decisions (append-only), each country's receipt rules

One claim per receipt: content_key is UNIQUE among receipts that are not rejected (a partial
index). Inbox rows for messages to one member get a key, so a message job run twice writes
one row.

Revision ID: c3ca9c2bf0e1
Revises: e1f3a5c7d902
Create Date: 2026-12-02 04:22:50.754176
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.db


revision = 'c3ca9c2bf0e1'
down_revision = 'e1f3a5c7d902'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('receipt_programs',
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('allowed_sellers', sa.JSON(), nullable=False),
    sa.Column('max_age_days', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('min_total', sa.Numeric(precision=14, scale=3), nullable=False),
    sa.Column('review_above', sa.Numeric(precision=14, scale=3), nullable=True),
    sa.Column('member_daily_limit', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_weekly_limit', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seller_daily_limit', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seller_weekly_limit', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('first_receipts_reviewed', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('product_patterns', sa.JSON(), nullable=False),
    sa.Column('updated_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('country', name=op.f('pk_receipt_programs'))
    )
    op.create_table('receipts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reason_code', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('points', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points_pending', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=True),
    sa.Column('merchant', sa.String(length=200), nullable=True),
    sa.Column('seller_tax_number', sa.String(length=32), nullable=True),
    sa.Column('receipt_number', sa.String(length=64), nullable=True),
    sa.Column('purchased_at', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('total_amount', sa.Numeric(precision=14, scale=3), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('eligible_amount', sa.Numeric(precision=14, scale=3), nullable=True),
    sa.Column('signals', sa.JSON(), nullable=False),
    sa.Column('content_key', sa.String(length=300), nullable=True),
    sa.Column('purchase_key', sa.String(length=120), nullable=True),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('perceptual_hash', sa.String(length=16), nullable=True),
    sa.Column('upload_key', sa.String(length=200), nullable=True),
    sa.Column('image_key', sa.String(length=200), nullable=True),
    sa.Column('image_media_type', sa.String(length=32), nullable=True),
    sa.Column('transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('uploaded_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('processing', 'approved', 'rejected', 'review')", name=op.f('ck_receipts_status_known')),
    sa.CheckConstraint('points >= 0', name=op.f('ck_receipts_points_not_negative')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_receipts_member_id_members'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_receipts_transaction_id_ledger_transactions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipts'))
    )
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.create_index('ix_receipts_file_sha256', ['file_sha256'], unique=False)
        batch_op.create_index('ix_receipts_member_id_file_sha256', ['member_id', 'file_sha256'], unique=False)
        batch_op.create_index('ix_receipts_member_id_id', ['member_id', 'id'], unique=False)
        batch_op.create_index('ix_receipts_seller_tax_number_uploaded_at', ['seller_tax_number', 'uploaded_at'], unique=False)
        batch_op.create_index('ix_receipts_status_id', ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_receipts_purchase_key'), ['purchase_key'], unique=False)
        batch_op.create_index('uq_receipts_content_key_claimed', ['content_key'], unique=True, postgresql_where=sa.text("status <> 'rejected'"), sqlite_where=sa.text("status <> 'rejected'"))

    op.create_table('receipt_decisions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('receipt_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('points', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reason_code', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('actor_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_receipt_decisions_actor_user_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['receipt_id'], ['receipts.id'], name=op.f('fk_receipt_decisions_receipt_id_receipts'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipt_decisions'))
    )
    with op.batch_alter_table('receipt_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipt_decisions_receipt_id'), ['receipt_id'], unique=False)

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_key', sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_notifications_message_key'), ['message_key'])



    if op.get_bind().dialect.name == "postgresql":
        # The audit of decisions is append-only for the application (migrations run as the owner).
        op.execute("REVOKE UPDATE, DELETE ON receipt_decisions FROM partner_wallet_app")


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_notifications_message_key'), type_='unique')
        batch_op.drop_column('message_key')

    with op.batch_alter_table('receipt_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipt_decisions_receipt_id'))

    op.drop_table('receipt_decisions')
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_index('uq_receipts_content_key_claimed', postgresql_where=sa.text("status <> 'rejected'"), sqlite_where=sa.text("status <> 'rejected'"))
        batch_op.drop_index('ix_receipts_status_id')
        batch_op.drop_index('ix_receipts_seller_tax_number_uploaded_at')
        batch_op.drop_index('ix_receipts_member_id_id')
        batch_op.drop_index('ix_receipts_member_id_file_sha256')
        batch_op.drop_index('ix_receipts_file_sha256')

    op.drop_table('receipts')
    op.drop_table('receipt_programs')
