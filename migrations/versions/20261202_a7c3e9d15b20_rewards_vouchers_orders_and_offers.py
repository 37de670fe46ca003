"""rewards: the catalog, code pools, redemptions, vouchers, orders, campaign voucher offers

What the database holds to, on both databases (triggers): a voucher that is used, expired or
cancelled never changes again; a code once issued never goes back to the pool, and its
lookup hash (the associated data of its ciphertext) never changes. A code is issued at most
once (UNIQUE vouchers.code_id) and found by its lookup hash (UNIQUE), never by plain text.

On PostgreSQL the application's role may not UPDATE or DELETE redemptions and order
events (append-only), nor DELETE codes, vouchers, orders and imports.

Revision ID: a7c3e9d15b20
Revises: a5d8e0f2c317
Create Date: 2026-12-02 04:29:27.462140
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.db


revision = 'a7c3e9d15b20'
down_revision = 'a5d8e0f2c317'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rewards',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('code_source', sa.String(length=16), nullable=True),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('points_cost', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('face_value_amount', sa.Numeric(precision=14, scale=3), nullable=True),
    sa.Column('face_value_currency', sa.String(length=3), nullable=True),
    sa.Column('stock', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('limit_per_day', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('limit_per_month', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('limit_ever', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('validity_days', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('available_from', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('available_until', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('names', sa.JSON(), nullable=False),
    sa.Column('descriptions', sa.JSON(), nullable=False),
    sa.Column('image_key', sa.String(length=255), nullable=True),
    sa.Column('image_sha256', sa.String(length=64), nullable=True),
    sa.Column('image_content_type', sa.String(length=32), nullable=True),
    sa.Column('low_stock_threshold', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'physical') = (code_source IS NULL)", name=op.f('ck_rewards_codes_unless_physical')),
    sa.CheckConstraint("code_source IS NULL OR code_source <> 'pool' OR stock IS NULL", name=op.f('ck_rewards_pool_is_the_stock')),
    sa.CheckConstraint("code_source IS NULL OR code_source IN ('pool', 'generated')", name=op.f('ck_rewards_code_source_known')),
    sa.CheckConstraint("kind IN ('voucher', 'digital', 'physical')", name=op.f('ck_rewards_kind_known')),
    sa.CheckConstraint('(face_value_amount IS NULL) = (face_value_currency IS NULL)', name=op.f('ck_rewards_face_value_whole')),
    sa.CheckConstraint('available_from IS NULL OR available_until IS NULL OR available_until > available_from', name=op.f('ck_rewards_window_ordered')),
    sa.CheckConstraint('points_cost > 0', name=op.f('ck_rewards_cost_positive')),
    sa.CheckConstraint('stock IS NULL OR stock >= 0', name=op.f('ck_rewards_stock_not_negative')),
    sa.CheckConstraint('validity_days > 0', name=op.f('ck_rewards_validity_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rewards'))
    )
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.create_index('ix_rewards_country_active_points_cost', ['country', 'active', 'points_cost'], unique=False)

    op.create_table('reward_tiers',
    sa.Column('reward_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tier', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['reward_id'], ['rewards.id'], name=op.f('fk_reward_tiers_reward_id_rewards'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tier'], ['tiers.code'], name=op.f('fk_reward_tiers_tier_tiers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('reward_id', 'tier', name=op.f('pk_reward_tiers'))
    )
    op.create_table('reward_code_imports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reward_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('imported', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('refused', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reward_id'], ['rewards.id'], name=op.f('fk_reward_code_imports_reward_id_rewards'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reward_code_imports_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reward_code_imports'))
    )
    with op.batch_alter_table('reward_code_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reward_code_imports_reward_id'), ['reward_id'], unique=False)

    op.create_table('redemptions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reward_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points_spent', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('points_spent >= 0', name=op.f('ck_redemptions_points_not_negative')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_redemptions_quantity_positive')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_redemptions_member_id_members'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reward_id'], ['rewards.id'], name=op.f('fk_redemptions_reward_id_rewards'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redemptions'))
    )
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.create_index('ix_redemptions_member_id_id', ['member_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_redemptions_reward_id'), ['reward_id'], unique=False)

    op.create_table('reward_codes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reward_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lookup_hash', sa.String(length=64), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('pin_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('expires_at', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('import_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('issued_at', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'issued') = (issued_at IS NOT NULL)", name=op.f('ck_reward_codes_issued_when')),
    sa.CheckConstraint("source IN ('vendor', 'generated')", name=op.f('ck_reward_codes_source_known')),
    sa.CheckConstraint("status IN ('available', 'issued')", name=op.f('ck_reward_codes_status_known')),
    sa.ForeignKeyConstraint(['import_id'], ['reward_code_imports.id'], name=op.f('fk_reward_codes_import_id_reward_code_imports'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reward_id'], ['rewards.id'], name=op.f('fk_reward_codes_reward_id_rewards'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reward_codes')),
    sa.UniqueConstraint('lookup_hash', name=op.f('uq_reward_codes_lookup_hash'))
    )
    with op.batch_alter_table('reward_codes', schema=None) as batch_op:
        batch_op.create_index('ix_reward_codes_available', ['reward_id', 'expires_at', 'id'], unique=False, postgresql_where=sa.text("status = 'available'"), sqlite_where=sa.text("status = 'available'"))

    op.create_table('reward_orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reward_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('redemption_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points_spent', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('address', sa.JSON(), nullable=False),
    sa.Column('carrier', sa.String(length=64), nullable=True),
    sa.Column('tracking_number', sa.String(length=64), nullable=True),
    sa.Column('created_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('refund_transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.CheckConstraint("(status = 'cancelled') = (cancelled_at IS NOT NULL)", name=op.f('ck_reward_orders_cancelled_when')),
    sa.CheckConstraint("(status = 'delivered') = (delivered_at IS NOT NULL)", name=op.f('ck_reward_orders_delivered_when')),
    sa.CheckConstraint("status IN ('ordered', 'confirmed', 'shipped', 'delivered', 'cancelled')", name=op.f('ck_reward_orders_status_known')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_reward_orders_quantity_positive')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_reward_orders_member_id_members'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['redemption_id'], ['redemptions.id'], name=op.f('fk_reward_orders_redemption_id_redemptions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['refund_transaction_id'], ['ledger_transactions.id'], name=op.f('fk_reward_orders_refund_transaction_id_ledger_transactions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reward_id'], ['rewards.id'], name=op.f('fk_reward_orders_reward_id_rewards'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_reward_orders_transaction_id_ledger_transactions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reward_orders')),
    sa.UniqueConstraint('redemption_id', name=op.f('uq_reward_orders_redemption_id'))
    )
    with op.batch_alter_table('reward_orders', schema=None) as batch_op:
        batch_op.create_index('ix_reward_orders_member_id_id', ['member_id', 'id'], unique=False)
        batch_op.create_index('ix_reward_orders_member_id_reward_id_created_at', ['member_id', 'reward_id', 'created_at'], unique=False)
        batch_op.create_index('ix_reward_orders_status_id', ['status', 'id'], unique=False)

    op.create_table('vouchers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reward_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('redemption_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('code_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('points', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('issued_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('used_store_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('used_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('cancelled_at', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('cancel_reason', sa.String(length=500), nullable=True),
    sa.Column('refund_transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('remind_at', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'cancelled') = (cancelled_at IS NOT NULL)", name=op.f('ck_vouchers_cancelled_when')),
    sa.CheckConstraint("(status = 'used') = (used_at IS NOT NULL AND used_store_id IS NOT NULL AND used_by_user_id IS NOT NULL)", name=op.f('ck_vouchers_used_where_and_by_whom')),
    sa.CheckConstraint("source IN ('redemption', 'offer')", name=op.f('ck_vouchers_source_known')),
    sa.CheckConstraint("status IN ('active', 'used', 'expired', 'cancelled')", name=op.f('ck_vouchers_status_known')),
    sa.CheckConstraint('expires_at > issued_at', name=op.f('ck_vouchers_expires_after_issue')),
    sa.ForeignKeyConstraint(['cancelled_by_user_id'], ['users.id'], name=op.f('fk_vouchers_cancelled_by_user_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['code_id'], ['reward_codes.id'], name=op.f('fk_vouchers_code_id_reward_codes'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_vouchers_member_id_members'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['redemption_id'], ['redemptions.id'], name=op.f('fk_vouchers_redemption_id_redemptions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['refund_transaction_id'], ['ledger_transactions.id'], name=op.f('fk_vouchers_refund_transaction_id_ledger_transactions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reward_id'], ['rewards.id'], name=op.f('fk_vouchers_reward_id_rewards'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_vouchers_transaction_id_ledger_transactions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['used_by_user_id'], ['users.id'], name=op.f('fk_vouchers_used_by_user_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['used_store_id'], ['stores.id'], name=op.f('fk_vouchers_used_store_id_stores'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vouchers')),
    sa.UniqueConstraint('code_id', name=op.f('uq_vouchers_code_id'))
    )
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.create_index('ix_vouchers_active_expires_at', ['expires_at'], unique=False, postgresql_where=sa.text("status = 'active'"), sqlite_where=sa.text("status = 'active'"))
        batch_op.create_index('ix_vouchers_member_id_id', ['member_id', 'id'], unique=False)
        batch_op.create_index('ix_vouchers_member_id_reward_id_issued_at', ['member_id', 'reward_id', 'issued_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_vouchers_redemption_id'), ['redemption_id'], unique=False)
        batch_op.create_index('ix_vouchers_reminder_due', ['remind_at'], unique=False, postgresql_where=sa.text("status = 'active' AND reminded_at IS NULL"), sqlite_where=sa.text("status = 'active' AND reminded_at IS NULL"))

    op.create_table('reward_order_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('carrier', sa.String(length=64), nullable=True),
    sa.Column('tracking_number', sa.String(length=64), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.CheckConstraint("status IN ('ordered', 'confirmed', 'shipped', 'delivered', 'cancelled')", name=op.f('ck_reward_order_events_status_known')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_reward_order_events_actor_user_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['order_id'], ['reward_orders.id'], name=op.f('fk_reward_order_events_order_id_reward_orders'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reward_order_events'))
    )
    with op.batch_alter_table('reward_order_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reward_order_events_order_id'), ['order_id'], unique=False)

    op.create_table('voucher_offers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reward_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('claim_until', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('voucher_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_voucher_offers_campaign_id_campaigns'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_voucher_offers_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reward_id'], ['rewards.id'], name=op.f('fk_voucher_offers_reward_id_rewards'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_voucher_offers_voucher_id_vouchers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_offers')),
    sa.UniqueConstraint('campaign_id', 'member_id', name='uq_voucher_offers_campaign_member'),
    sa.UniqueConstraint('voucher_id', name=op.f('uq_voucher_offers_voucher_id'))
    )
    with op.batch_alter_table('voucher_offers', schema=None) as batch_op:
        batch_op.create_index('ix_voucher_offers_member_id_id', ['member_id', 'id'], unique=False)

    _create_guards()


def downgrade() -> None:
    _drop_guards()
    with op.batch_alter_table('voucher_offers', schema=None) as batch_op:
        batch_op.drop_index('ix_voucher_offers_member_id_id')

    op.drop_table('voucher_offers')
    with op.batch_alter_table('reward_order_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reward_order_events_order_id'))

    op.drop_table('reward_order_events')
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.drop_index('ix_vouchers_reminder_due', postgresql_where=sa.text("status = 'active' AND reminded_at IS NULL"), sqlite_where=sa.text("status = 'active' AND reminded_at IS NULL"))
        batch_op.drop_index(batch_op.f('ix_vouchers_redemption_id'))
        batch_op.drop_index('ix_vouchers_member_id_reward_id_issued_at')
        batch_op.drop_index('ix_vouchers_member_id_id')
        batch_op.drop_index('ix_vouchers_active_expires_at', postgresql_where=sa.text("status = 'active'"), sqlite_where=sa.text("status = 'active'"))

    op.drop_table('vouchers')
    with op.batch_alter_table('reward_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_reward_orders_status_id')
        batch_op.drop_index('ix_reward_orders_member_id_reward_id_created_at')
        batch_op.drop_index('ix_reward_orders_member_id_id')

    op.drop_table('reward_orders')
    with op.batch_alter_table('reward_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_reward_codes_available', postgresql_where=sa.text("status = 'available'"), sqlite_where=sa.text("status = 'available'"))

    op.drop_table('reward_codes')
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_redemptions_reward_id'))
        batch_op.drop_index('ix_redemptions_member_id_id')

    op.drop_table('redemptions')
    with op.batch_alter_table('reward_code_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reward_code_imports_reward_id'))

    op.drop_table('reward_code_imports')
    op.drop_table('reward_tiers')
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.drop_index('ix_rewards_country_active_points_cost')

    op.drop_table('rewards')


APP_ROLE = "partner_wallet_app"
APPEND_ONLY = ("redemptions", "reward_order_events")
NEVER_DELETED = ("reward_codes", "vouchers", "reward_orders", "reward_code_imports")
VOUCHER_FINAL = "a voucher that is used, expired or cancelled never changes"
CODE_ISSUED = "a code once issued stays issued, under the same lookup hash"


def _create_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION rewards_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '%: % on % refused', TG_ARGV[0], TG_OP, TG_TABLE_NAME
                    USING ERRCODE = 'restrict_violation';
            END $$
        """)
        op.execute(f"""
            CREATE TRIGGER vouchers_final BEFORE UPDATE ON vouchers FOR EACH ROW
            WHEN (OLD.status <> 'active') EXECUTE FUNCTION rewards_refuse_change('{VOUCHER_FINAL}')
        """)
        op.execute(f"""
            CREATE TRIGGER reward_codes_issued_stay BEFORE UPDATE ON reward_codes FOR EACH ROW
            WHEN ((OLD.status = 'issued' AND NEW.status <> 'issued') OR NEW.lookup_hash <> OLD.lookup_hash)
            EXECUTE FUNCTION rewards_refuse_change('{CODE_ISSUED}')
        """)
        op.execute(f"REVOKE UPDATE, DELETE ON {', '.join(APPEND_ONLY)} FROM {APP_ROLE}")
        op.execute(f"REVOKE DELETE ON {', '.join(NEVER_DELETED)} FROM {APP_ROLE}")
    else:
        op.execute(f"""
            CREATE TRIGGER vouchers_final BEFORE UPDATE ON vouchers WHEN OLD.status <> 'active'
            BEGIN SELECT RAISE(ABORT, '{VOUCHER_FINAL}'); END
        """)
        op.execute(f"""
            CREATE TRIGGER reward_codes_issued_stay BEFORE UPDATE ON reward_codes
            WHEN (OLD.status = 'issued' AND NEW.status <> 'issued') OR NEW.lookup_hash <> OLD.lookup_hash
            BEGIN SELECT RAISE(ABORT, '{CODE_ISSUED}'); END
        """)


def _drop_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS vouchers_final ON vouchers")
        op.execute("DROP TRIGGER IF EXISTS reward_codes_issued_stay ON reward_codes")
        op.execute("DROP FUNCTION IF EXISTS rewards_refuse_change()")
    else:
        op.execute("DROP TRIGGER IF EXISTS vouchers_final")
        op.execute("DROP TRIGGER IF EXISTS reward_codes_issued_stay")
