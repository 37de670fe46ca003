"""ledger, lots, tiers, earning rules, purchases, idempotency

The ledger's invariants are enforced here as well as in Python: entries and
transactions are never updated or deleted (a trigger refuses it, on both databases);
lot movements likewise; on PostgreSQL the entries of one transaction must sum to zero
at commit (a deferred constraint trigger). Seeds the four tiers and a program per
country, which admins then change through the API.

Revision ID: b11b5f13be7e
Revises: 4e106ba4b40f
Create Date: 2026-11-23 03:55:19.511453
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.db


revision = 'b11b5f13be7e'
down_revision = '4e106ba4b40f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bonus_rules',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Numeric(precision=10, scale=3), nullable=False),
    sa.Column('skus', sa.JSON(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('tiers', sa.JSON(), nullable=False),
    sa.Column('starts_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('multiplier', 'per_item')", name=op.f('ck_bonus_rules_kind_known')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_bonus_rules_window_ordered')),
    sa.CheckConstraint('value > 0', name=op.f('ck_bonus_rules_value_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bonus_rules'))
    )
    with op.batch_alter_table('bonus_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bonus_rules_country'), ['country'], unique=False)

    op.create_table('idempotency_records',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_records')),
    sa.UniqueConstraint('scope', 'key', name='uq_idempotency_records_scope_key')
    )
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_records_created_at'), ['created_at'], unique=False)

    op.create_table('ledger_accounts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('owner_type', sa.String(length=16), nullable=False),
    sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('balance', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lifetime_earned', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("owner_type <> 'member' OR balance >= 0", name=op.f('ck_ledger_accounts_member_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_accounts')),
    sa.UniqueConstraint('owner_type', 'owner_id', 'kind', name='uq_ledger_accounts_owner')
    )
    op.create_table('products',
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('sku', name=op.f('pk_products'))
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_products_category'), ['category'], unique=False)

    op.create_table('programs',
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('points_per_unit', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('per_amount', sa.Numeric(precision=14, scale=3), nullable=False),
    sa.Column('rounding', sa.String(length=8), nullable=False),
    sa.Column('min_purchase', sa.Numeric(precision=14, scale=3), nullable=False),
    sa.Column('daily_cap', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('expiry_months', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('updated_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("rounding IN ('down', 'half_up', 'up')", name=op.f('ck_programs_rounding_known')),
    sa.CheckConstraint('per_amount > 0 AND points_per_unit >= 0 AND expiry_months > 0', name=op.f('ck_programs_sane')),
    sa.PrimaryKeyConstraint('country', name=op.f('pk_programs'))
    )
    op.create_table('tiers',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('rank', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('min_points', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('multiplier', sa.Numeric(precision=6, scale=3), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_tiers')),
    sa.UniqueConstraint('rank', name=op.f('uq_tiers_rank'))
    )
    op.create_table('qualifying_days',
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('points', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_accounts.id'], name=op.f('fk_qualifying_days_account_id_ledger_accounts'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('account_id', 'day', name=op.f('pk_qualifying_days'))
    )
    op.create_table('ledger_transactions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=True),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=True),
    sa.Column('reverses_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('actor_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('breakdown', sa.JSON(), nullable=True),
    sa.Column('shortfall', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("type IN ('earn', 'bonus', 'redeem', 'expire', 'adjust', 'reversal')", name=op.f('ck_ledger_transactions_type_known')),
    sa.CheckConstraint('shortfall >= 0', name=op.f('ck_ledger_transactions_shortfall_not_negative')),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_accounts.id'], name=op.f('fk_ledger_transactions_account_id_ledger_accounts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_ledger_transactions_actor_user_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reverses_id'], ['ledger_transactions.id'], name=op.f('fk_ledger_transactions_reverses_id_ledger_transactions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_transactions')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_ledger_transactions_idempotency_key')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_ledger_transactions_reverses_id'))
    )
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_transactions_account_id'), ['account_id'], unique=False)

    op.create_table('ledger_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('balance_after', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_ledger_entries_amount_not_zero')),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_accounts.id'], name=op.f('fk_ledger_entries_account_id_ledger_accounts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_ledger_entries_transaction_id_ledger_transactions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entries_account_id_created_at', ['account_id', 'created_at'], unique=False)
        batch_op.create_index('ix_ledger_entries_account_id_id', ['account_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_transaction_id'), ['transaction_id'], unique=False)

    op.create_table('point_lots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('remaining', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('earned_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('points > 0', name=op.f('ck_point_lots_points_positive')),
    sa.CheckConstraint('remaining >= 0 AND remaining <= points', name=op.f('ck_point_lots_remaining_in_range')),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_accounts.id'], name=op.f('fk_point_lots_account_id_ledger_accounts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_point_lots_transaction_id_ledger_transactions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_lots'))
    )
    with op.batch_alter_table('point_lots', schema=None) as batch_op:
        batch_op.create_index('ix_point_lots_account_id_earned_at', ['account_id', 'earned_at', 'id'], unique=False)
        batch_op.create_index('ix_point_lots_expires_at', ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_point_lots_transaction_id'), ['transaction_id'], unique=False)

    op.create_table('purchases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('store_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cashier_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('receipt_number', sa.String(length=64), nullable=False),
    sa.Column('total_amount', sa.Numeric(precision=14, scale=3), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('points_earned', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('refund_transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('refunded_at', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cashier_user_id'], ['users.id'], name=op.f('fk_purchases_cashier_user_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_purchases_member_id_members'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['refund_transaction_id'], ['ledger_transactions.id'], name=op.f('fk_purchases_refund_transaction_id_ledger_transactions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_purchases_store_id_stores'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_purchases_transaction_id_ledger_transactions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchases')),
    sa.UniqueConstraint('store_id', 'receipt_number', name='uq_purchases_store_receipt')
    )
    with op.batch_alter_table('purchases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchases_member_id'), ['member_id'], unique=False)

    op.create_table('lot_movements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_lot_movements_amount_not_zero')),
    sa.ForeignKeyConstraint(['lot_id'], ['point_lots.id'], name=op.f('fk_lot_movements_lot_id_point_lots'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_lot_movements_transaction_id_ledger_transactions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lot_movements'))
    )
    with op.batch_alter_table('lot_movements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lot_movements_lot_id'), ['lot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lot_movements_transaction_id'), ['transaction_id'], unique=False)

    _create_triggers()
    _seed()


def downgrade() -> None:
    _drop_triggers()
    with op.batch_alter_table('lot_movements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lot_movements_transaction_id'))
        batch_op.drop_index(batch_op.f('ix_lot_movements_lot_id'))

    op.drop_table('lot_movements')
    with op.batch_alter_table('purchases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchases_member_id'))

    op.drop_table('purchases')
    with op.batch_alter_table('point_lots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_point_lots_transaction_id'))
        batch_op.drop_index('ix_point_lots_expires_at')
        batch_op.drop_index('ix_point_lots_account_id_earned_at')

    op.drop_table('point_lots')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entries_transaction_id'))
        batch_op.drop_index('ix_ledger_entries_account_id_id')
        batch_op.drop_index('ix_ledger_entries_account_id_created_at')

    op.drop_table('ledger_entries')
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_transactions_account_id'))

    op.drop_table('ledger_transactions')
    op.drop_table('qualifying_days')
    op.drop_table('tiers')
    op.drop_table('programs')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_products_category'))

    op.drop_table('products')
    op.drop_table('ledger_accounts')
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_records_created_at'))

    op.drop_table('idempotency_records')
    with op.batch_alter_table('bonus_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bonus_rules_country'))

    op.drop_table('bonus_rules')


IMMUTABLE = ("ledger_entries", "ledger_transactions", "lot_movements")


def _create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
                    USING ERRCODE = 'restrict_violation';
            END $$
        """)
        for table in IMMUTABLE:
            op.execute(f"""
                CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
            """)
        op.execute("""
            CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE total bigint;
            BEGIN
                SELECT sum(amount) INTO total FROM ledger_entries WHERE transaction_id = NEW.transaction_id;
                IF total <> 0 THEN
                    RAISE EXCEPTION 'ledger transaction % does not balance: its entries sum to %',
                        NEW.transaction_id, total USING ERRCODE = 'check_violation';
                END IF;
                RETURN NULL;
            END $$
        """)
        op.execute("""
            CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced()
        """)
    else:
        for table in IMMUTABLE:
            for event in ("UPDATE", "DELETE"):
                op.execute(f"""
                    CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table}
                    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: {event} on {table} refused'); END
                """)


def _drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_entries")
        for table in IMMUTABLE:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS ledger_check_balanced()")
        op.execute("DROP FUNCTION IF EXISTS ledger_refuse_change()")
    else:
        for table in IMMUTABLE:
            for event in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event}")


def _seed() -> None:
    import datetime as dt
    from decimal import Decimal

    tiers = sa.table("tiers", sa.column("code"), sa.column("name"), sa.column("rank"), sa.column("min_points"),
                     sa.column("multiplier", sa.Numeric(6, 3)))
    op.bulk_insert(tiers, [
        {"code": "blue", "name": "Blue", "rank": 0, "min_points": 0, "multiplier": Decimal("1.0")},
        {"code": "silver", "name": "Silver", "rank": 1, "min_points": 2_000, "multiplier": Decimal("1.25")},
        {"code": "gold", "name": "Gold", "rank": 2, "min_points": 10_000, "multiplier": Decimal("1.5")},
        {"code": "platinum", "name": "Platinum", "rank": 3, "min_points": 40_000, "multiplier": Decimal("2.0")},
    ])
    programs = sa.table("programs", sa.column("country"), sa.column("currency"), sa.column("points_per_unit"),
                        sa.column("per_amount", sa.Numeric(14, 3)), sa.column("rounding"),
                        sa.column("min_purchase", sa.Numeric(14, 3)),
                        sa.column("daily_cap"), sa.column("expiry_months"),
                        sa.column("updated_at", infra.db.UTCDateTime()))
    now = dt.datetime.now(dt.timezone.utc)
    # One point per unit of money; the three-decimal dinars and rial per tenth, so a
    # point is worth about the same everywhere.
    rates = {"AE": ("AED", "1"), "SA": ("SAR", "1"), "QA": ("QAR", "1"), "KW": ("KWD", "0.1"),
             "BH": ("BHD", "0.1"), "OM": ("OMR", "0.1"), "PL": ("PLN", "1")}
    op.bulk_insert(programs, [
        {"country": country, "currency": currency, "points_per_unit": 1, "per_amount": Decimal(per),
         "rounding": "down", "min_purchase": Decimal(0), "daily_cap": None, "expiry_months": 24, "updated_at": now}
        for country, (currency, per) in rates.items()
    ])
