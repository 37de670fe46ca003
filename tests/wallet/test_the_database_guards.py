"""What PostgreSQL itself refuses, whatever the application (or someone with its password) asks.

The tests run as the application's role (``partner_wallet_app``), as production does; a few
also as the owner, to show the triggers stand even where privileges would not stop it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.wallet.helpers import assert_consistent
from tests.wallet.test_ledger import earn, member, spend  # noqa: F401 (member is a fixture)

pytestmark = pytest.mark.postgres_only
LEDGER = ("ledger_accounts", "ledger_transactions", "ledger_entries", "point_lots", "lot_movements", "qualifying_days")


def refused(session, statement: str, *, immediate: bool = False) -> str:
    """The database's refusal of ``statement`` (checked at once, as at commit, with ``immediate``)."""
    with pytest.raises(DBAPIError) as error, session.begin_nested():
        if immediate:
            session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        session.execute(text(statement))
    return str(error.value.orig)


def test_the_application_connects_as_a_role_that_owns_nothing(session):
    user, superuser = session.execute(text("SELECT current_user, usesuper FROM pg_user WHERE usename = current_user")).one()
    assert (user, superuser) == ("partner_wallet_app", False)
    owned = session.scalar(text("SELECT count(*) FROM pg_tables WHERE tableowner = current_user"))
    assert owned == 0


@pytest.mark.parametrize("table", LEDGER)
def test_the_application_may_not_truncate_the_ledger(session, member, table):
    earn(session, member, 100)
    assert "permission denied" in refused(session, f"TRUNCATE {table} CASCADE")


@pytest.mark.parametrize("table", LEDGER)
def test_not_even_the_owner_may_truncate_the_ledger(owner_engine, table):
    with owner_engine.connect() as conn, pytest.raises(DBAPIError, match="append-only: TRUNCATE"):
        with conn.begin():
            conn.execute(text(f"TRUNCATE {table} CASCADE"))


@pytest.mark.parametrize("statement", [
    "ALTER TABLE ledger_entries DISABLE TRIGGER ALL",
    "SET session_replication_role = replica",
    "DROP TRIGGER ledger_entries_append_only ON ledger_entries",
    "DELETE FROM ledger_accounts",
    "DELETE FROM point_lots",
    "UPDATE ledger_entries SET amount = 1",
])
def test_the_application_cannot_switch_the_guards_off_or_go_round_them(session, member, statement):
    earn(session, member, 100)
    message = refused(session, statement)
    assert "permission denied" in message or "must be owner" in message


def test_a_balance_moved_without_an_entry_is_refused_at_commit(session, member):
    tx = earn(session, member, 100)
    message = refused(session, "UPDATE ledger_accounts SET balance = balance + 1000000 WHERE owner_type = 'member'",
                      immediate=True)
    assert "moved without an entry" in message
    assert assert_consistent(session, tx.account_id) == 100


def test_a_lot_refilled_without_a_movement_is_refused_at_commit(session, member):
    tx = earn(session, member, 100)
    spend(session, member, 60)
    assert "moved without a lot movement" in refused(session, "UPDATE point_lots SET remaining = points", immediate=True)
    assert "only remaining may change" in refused(session, "UPDATE point_lots SET points = points + 1000")
    assert assert_consistent(session, tx.account_id) == 40


def test_an_entry_that_does_not_continue_the_running_balance_is_refused(session, member):
    tx = earn(session, member, 100)
    account_id = tx.account_id
    message = refused(session, f"""
        WITH t AS (INSERT INTO ledger_transactions (type, account_id, description, shortfall, created_at)
                   VALUES ('adjust', {account_id}, 'forged', 0, now()) RETURNING id)
        INSERT INTO ledger_entries (transaction_id, account_id, amount, balance_after, created_at)
        SELECT id, {account_id}, 5, 999999, now() FROM t""")
    assert "does not continue its balance" in message
