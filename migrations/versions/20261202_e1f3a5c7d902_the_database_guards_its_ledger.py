"""the database guards its own ledger: no TRUNCATE, balances and lots move only with entries, an application role

PostgreSQL only (SQLite has no TRUNCATE, no roles and no deferred triggers; its UPDATE and
DELETE triggers on the append-only tables stay as they were):

- BEFORE TRUNCATE triggers on every ledger table: row triggers do not fire on TRUNCATE.
- A member account's cached balance must equal the ``balance_after`` of its newest entry,
  and every entry's ``balance_after`` must continue the one before it: checked at commit for
  every account a transaction touched (constraint triggers), so ``UPDATE ledger_accounts SET
  balance = balance + 1000000`` fails unless entries that add up to it are written with it.
  Each check is one index probe, whatever the length of the history.
- A lot's ``remaining`` must equal its ``points`` plus its lot movements, and its points,
  account and transaction never change: ``UPDATE point_lots SET remaining = points`` fails.
- The role ``partner_wallet_app``, which owns nothing: it may read and write the program's
  tables, may only INSERT into (and read) the append-only ones, may not DELETE accounts or
  lots, and as no owner it can neither TRUNCATE nor switch a trigger off. The migrations run
  as the owner; the application connects as this role (README, "Security").

Revision ID: e1f3a5c7d902
Revises: c4a9e7b2d510
Create Date: 2026-12-02 05:30:00
"""

from __future__ import annotations

from alembic import op

revision = "e1f3a5c7d902"
down_revision = "c4a9e7b2d510"
branch_labels = None
depends_on = None

APP_ROLE = "partner_wallet_app"
LEDGER = ("ledger_accounts", "ledger_transactions", "ledger_entries", "point_lots", "lot_movements", "qualifying_days")
APPEND_ONLY = ("ledger_transactions", "ledger_entries", "lot_movements")
NEVER_DELETED = ("ledger_accounts", "point_lots")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION ledger_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the ledger is append-only: TRUNCATE on % refused', TG_TABLE_NAME
                USING ERRCODE = 'restrict_violation';
        END $$
    """)
    for table in LEDGER:
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_truncate()")

    # An entry continues its account's running balance (member accounts keep one).
    op.execute("""
        CREATE FUNCTION ledger_check_running_balance() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE before bigint;
        BEGIN
            IF NEW.balance_after IS NULL THEN
                RETURN NEW;
            END IF;
            SELECT balance_after INTO before FROM ledger_entries
                WHERE account_id = NEW.account_id AND balance_after IS NOT NULL AND id < NEW.id
                ORDER BY id DESC LIMIT 1;
            IF NEW.balance_after <> coalesce(before, 0) + NEW.amount THEN
                RAISE EXCEPTION 'ledger entry of account % does not continue its balance: % + % is not %',
                    NEW.account_id, coalesce(before, 0), NEW.amount, NEW.balance_after USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$
    """)
    op.execute("CREATE TRIGGER ledger_entries_running_balance BEFORE INSERT ON ledger_entries "
               "FOR EACH ROW EXECUTE FUNCTION ledger_check_running_balance()")

    # A member's cached balance is its newest entry's balance_after, at commit.
    op.execute("""
        CREATE FUNCTION ledger_check_cached_balance() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE account ledger_accounts; latest bigint;
        BEGIN
            SELECT * INTO account FROM ledger_accounts WHERE id = NEW.id;
            IF account.owner_type <> 'member' THEN
                RETURN NULL;
            END IF;
            SELECT balance_after INTO latest FROM ledger_entries
                WHERE account_id = NEW.id AND balance_after IS NOT NULL ORDER BY id DESC LIMIT 1;
            IF account.balance <> coalesce(latest, 0) THEN
                RAISE EXCEPTION 'the balance of account % moved without an entry: % cached, % in the ledger',
                    NEW.id, account.balance, coalesce(latest, 0) USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE CONSTRAINT TRIGGER ledger_accounts_balance_has_entries AFTER UPDATE OF balance ON ledger_accounts
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.balance IS DISTINCT FROM NEW.balance)
        EXECUTE FUNCTION ledger_check_cached_balance()
    """)

    # A lot: what it was given never changes; what is left is what its movements left.
    op.execute("""
        CREATE FUNCTION ledger_refuse_lot_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.points <> OLD.points OR NEW.account_id <> OLD.account_id OR NEW.transaction_id <> OLD.transaction_id
               OR NEW.earned_at <> OLD.earned_at OR NEW.expires_at <> OLD.expires_at THEN
                RAISE EXCEPTION 'point lot %: only remaining may change', NEW.id USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NEW;
        END $$
    """)
    op.execute("CREATE TRIGGER point_lots_fixed BEFORE UPDATE ON point_lots "
               "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_lot_rewrite()")
    op.execute("""
        CREATE FUNCTION ledger_check_lot_remaining() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE lot point_lots; moved bigint;
        BEGIN
            SELECT * INTO lot FROM point_lots WHERE id = NEW.id;
            SELECT coalesce(sum(amount), 0) INTO moved FROM lot_movements WHERE lot_id = NEW.id;
            IF lot.remaining <> lot.points + moved THEN
                RAISE EXCEPTION 'point lot % moved without a lot movement: % left, % + % in the ledger',
                    NEW.id, lot.remaining, lot.points, moved USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE CONSTRAINT TRIGGER point_lots_remaining_has_movements AFTER UPDATE OF remaining ON point_lots
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.remaining IS DISTINCT FROM NEW.remaining)
        EXECUTE FUNCTION ledger_check_lot_remaining()
    """)

    # The application's role. A role belongs to the cluster, not the database: created once.
    op.execute(f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
            END IF;
        END $$
    """)
    op.execute(f"""
        DO $$ BEGIN
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO {APP_ROLE}', current_schema());
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO {APP_ROLE}',
                           current_schema());
            EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO {APP_ROLE}', current_schema());
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES '
                           'TO {APP_ROLE}', current_schema());
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}',
                           current_schema());
        END $$
    """)
    op.execute(f"REVOKE UPDATE, DELETE ON {', '.join(APPEND_ONLY)} FROM {APP_ROLE}")
    op.execute(f"REVOKE DELETE ON {', '.join(NEVER_DELETED)} FROM {APP_ROLE}")
    op.execute(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {APP_ROLE}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""
        DO $$ BEGIN
            EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM {APP_ROLE}', current_schema());
            EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM {APP_ROLE}', current_schema());
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON TABLES FROM {APP_ROLE}', current_schema());
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON SEQUENCES FROM {APP_ROLE}',
                           current_schema());
            EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM {APP_ROLE}', current_schema());
        END $$
    """)
    op.execute("DROP TRIGGER IF EXISTS point_lots_remaining_has_movements ON point_lots")
    op.execute("DROP TRIGGER IF EXISTS point_lots_fixed ON point_lots")
    op.execute("DROP TRIGGER IF EXISTS ledger_accounts_balance_has_entries ON ledger_accounts")
    op.execute("DROP TRIGGER IF EXISTS ledger_entries_running_balance ON ledger_entries")
    for table in LEDGER:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    for function in ("ledger_check_lot_remaining", "ledger_refuse_lot_rewrite", "ledger_check_cached_balance",
                     "ledger_check_running_balance", "ledger_refuse_truncate"):
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
