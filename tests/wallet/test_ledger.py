"""The ledger: every point right, through earns, spends, expiry, refunds and retries."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from tests.conftest import START
from tests.wallet.helpers import assert_consistent
from wallet import ledger
from wallet.earning import tiers
from wallet.errors import AlreadyReversed, IdempotencyConflict, InsufficientPoints
from wallet.ledger import LotMovement, PointLot
from wallet.members import accounts

YEAR = dt.timedelta(days=365)


@pytest.fixture
def member(session):
    """A fresh partner in the UAE."""
    m = accounts.register_member(session, email="m@example.com", password="a long password", name="M",
                                 country="AE", now=START)
    session.flush()
    return m


def earn(session, member, points, at=START, life=YEAR, **kw):
    return ledger.earn(session, member_id=member.id, points=points, now=at, expires_at=at + life,
                       description="test earn", **kw)


def spend(session, member, points, at=START, **kw):
    return ledger.spend(session, member_id=member.id, points=points, now=at, description="test spend", **kw)


def lots_of(session, member):
    account = ledger.member_account(session, member.id, START)
    return [(lot.points, lot.remaining) for lot in
            session.scalars(select(PointLot).where(PointLot.account_id == account.id).order_by(PointLot.id))]


def test_earning_credits_the_balance_and_opens_a_lot(session, member):
    tx = earn(session, member, 120)
    account = ledger.member_account(session, member.id, START)
    assert (tx.type, tx.points, account.balance, account.lifetime_earned) == ("earn", 120, 120, 120)
    assert lots_of(session, member) == [(120, 120)]
    assert assert_consistent(session, account.id) == 120


def test_spending_takes_the_oldest_lots_first_across_several(session, member):
    # given three lots, oldest first
    for i, points in enumerate((100, 50, 200)):
        earn(session, member, points, at=START + dt.timedelta(days=i))

    # when
    tx = spend(session, member, 170, at=START + dt.timedelta(days=5))

    # then the first two are used up and the third gave 20
    assert lots_of(session, member) == [(100, 0), (50, 0), (200, 180)]
    movements = session.scalars(select(LotMovement.amount).where(LotMovement.transaction_id == tx.id)
                                .order_by(LotMovement.id)).all()
    assert movements == [-100, -50, -20]
    assert assert_consistent(session, tx.account_id) == 180


def test_spending_more_than_the_balance_is_refused_and_changes_nothing(session, member):
    earn(session, member, 100)
    with pytest.raises(InsufficientPoints) as refused:
        spend(session, member, 101)
    assert (refused.value.needed, refused.value.balance) == (101, 100)
    assert lots_of(session, member) == [(100, 100)]


def test_expiry_moves_out_what_is_left_of_a_partly_spent_lot(session, member):
    # given a lot of 100 of which 30 were spent, and a younger lot
    earn(session, member, 100, at=START, life=dt.timedelta(days=30))
    earn(session, member, 40, at=START + dt.timedelta(days=10), life=YEAR)
    spend(session, member, 30, at=START + dt.timedelta(days=20))

    # when the first lot's day passes, twice
    later = START + dt.timedelta(days=31)
    assert ledger.expire_due(session, now=later) == 1
    assert ledger.expire_due(session, now=later) == 0

    # then 70 expired, the younger lot is untouched
    account = ledger.member_account(session, member.id, later)
    assert lots_of(session, member) == [(100, 0), (40, 40)]
    expire = ledger.history(session, account, before_id=None, limit=1)[0]
    assert (expire.transaction.type, expire.amount, expire.balance_after) == ("expire", -70, 40)
    assert assert_consistent(session, account.id) == 40


def test_a_spend_never_uses_points_that_are_due_to_expire(session, member):
    earn(session, member, 100, life=dt.timedelta(days=30))
    later = START + dt.timedelta(days=31)
    with pytest.raises(InsufficientPoints):
        spend(session, member, 10, at=later)
    # the refused spend did not expire them either: it was rolled back with it
    session.rollback()


def test_reversing_an_earn_takes_the_points_back_from_its_own_lot(session, member):
    earn(session, member, 50)
    purchase = earn(session, member, 200, at=START + dt.timedelta(days=1))
    reversal = ledger.reverse(session, transaction_id=purchase.id, now=START + dt.timedelta(days=2),
                              description="refund")
    assert (reversal.type, reversal.points, reversal.shortfall, reversal.reverses_id) == ("reversal", -200, 0, purchase.id)
    assert lots_of(session, member) == [(50, 50), (200, 0)]
    account = ledger.member_account(session, member.id, START)
    assert account.lifetime_earned == 50
    assert assert_consistent(session, account.id) == 50


def test_reversing_an_earn_after_the_points_were_spent_stops_at_zero_and_records_the_shortfall(session, member):
    purchase = earn(session, member, 200)
    spend(session, member, 150)
    reversal = ledger.reverse(session, transaction_id=purchase.id, now=START, description="refund")
    assert (reversal.points, reversal.shortfall) == (-50, 150)
    assert assert_consistent(session, reversal.account_id) == 0


def test_reversing_a_redemption_puts_the_points_back_into_their_lots(session, member):
    earn(session, member, 100)
    earn(session, member, 100, at=START + dt.timedelta(days=1))
    redemption = spend(session, member, 150, at=START + dt.timedelta(days=2))
    ledger.reverse(session, transaction_id=redemption.id, now=START + dt.timedelta(days=3), description="cancelled")
    assert lots_of(session, member) == [(100, 100), (100, 100)]
    assert assert_consistent(session, redemption.account_id) == 200


def test_a_transaction_is_reversed_only_once(session, member):
    tx = earn(session, member, 100)
    ledger.reverse(session, transaction_id=tx.id, now=START, description="refund")
    with pytest.raises(AlreadyReversed):
        ledger.reverse(session, transaction_id=tx.id, now=START, description="refund again")


def test_the_same_idempotency_key_returns_the_first_transaction(session, member):
    first = earn(session, member, 100, idempotency_key="k-1")
    again = earn(session, member, 100, idempotency_key="k-1")
    assert again.id == first.id
    assert assert_consistent(session, first.account_id) == 100


def test_the_same_idempotency_key_for_another_movement_is_a_conflict(session, member):
    earn(session, member, 100, idempotency_key="k-2")
    with pytest.raises(IdempotencyConflict):
        earn(session, member, 999, idempotency_key="k-2")


def test_adjustments_record_who_and_why_and_need_a_reason(session, member):
    admin = accounts.create_staff(session, email="a@example.com", password="a long password", name="A",
                                  role="admin", now=START)
    tx = ledger.adjust(session, member_id=member.id, points=-0 + 25, reason="goodwill: late delivery",
                       actor_user_id=admin.id, now=START, expires_at=START + YEAR)
    assert (tx.type, tx.points, tx.actor_user_id, tx.reason) == ("adjust", 25, admin.id, "goodwill: late delivery")
    assert ledger.member_account(session, member.id, START).lifetime_earned == 0  # not qualifying
    with pytest.raises(ValueError):
        ledger.adjust(session, member_id=member.id, points=5, reason="  ", actor_user_id=admin.id, now=START,
                      expires_at=START + YEAR)


@pytest.mark.parametrize("statement", [
    "UPDATE ledger_entries SET amount = amount + 1",
    "DELETE FROM ledger_entries",
    "UPDATE ledger_transactions SET description = 'rewritten'",
    "DELETE FROM ledger_transactions",
    "DELETE FROM lot_movements",
])
def test_the_database_refuses_to_change_or_delete_ledger_rows(session, member, statement):
    tx = earn(session, member, 100)
    spend(session, member, 10)
    session.flush()
    with pytest.raises((IntegrityError, DBAPIError)) as refused, session.begin_nested():
        session.execute(text(statement))
    # SQLite's trigger says so; on PostgreSQL the application's role may not even try
    # (test_the_database_guards.py shows the owner meets the same triggers)
    assert "append-only" in str(refused.value) or "permission denied" in str(refused.value)
    assert assert_consistent(session, tx.account_id) == 90


def test_the_database_refuses_a_member_balance_below_zero(session, member):
    earn(session, member, 10)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(text("UPDATE ledger_accounts SET balance = -1 WHERE owner_type = 'member'"))


@pytest.mark.postgres_only
def test_postgresql_refuses_a_transaction_whose_entries_do_not_sum_to_zero(engine, member, session):
    with engine.connect() as conn:
        trans = conn.begin()
        account_id = conn.execute(text(
            "INSERT INTO ledger_accounts (owner_type, owner_id, kind, balance, lifetime_earned, created_at) "
            "VALUES ('program', -99, 'test', 0, 0, now()) RETURNING id")).scalar()
        tx_id = conn.execute(text(
            "INSERT INTO ledger_transactions (type, account_id, description, shortfall, created_at) "
            "VALUES ('adjust', :a, 'lopsided', 0, now()) RETURNING id"), {"a": account_id}).scalar()
        conn.execute(text("INSERT INTO ledger_entries (transaction_id, account_id, amount, created_at) "
                          "VALUES (:t, :a, 5, now())"), {"t": tx_id, "a": account_id})
        with pytest.raises(DBAPIError, match="does not balance"):
            trans.commit()


def test_an_earn_lifts_the_tier_and_the_nightly_job_lowers_it_a_year_later(session, member):
    # given: Silver needs 2,000 qualifying points in the rolling 12 months
    earn(session, member, 1_999)
    assert tiers.upgrade_on_earn(session, member, START).code == "blue"

    # when one more point arrives
    earn(session, member, 1, at=START + dt.timedelta(days=100))
    assert tiers.upgrade_on_earn(session, member, START + dt.timedelta(days=100)).code == "silver"

    # then the nightly job keeps Silver while the points are in the window ...
    assert tiers.recalculate_all(session, now=START + dt.timedelta(days=364)) == {"upgraded": 0, "downgraded": 0}
    assert member.tier == "silver"
    # ... and lowers it once the 1,999 leave it
    assert tiers.recalculate_all(session, now=START + dt.timedelta(days=365)) == {"upgraded": 0, "downgraded": 1}
    assert member.tier == "blue"


def test_a_refund_lowers_qualifying_points(session, member):
    tx = earn(session, member, 2_500)
    tiers.upgrade_on_earn(session, member, START)
    ledger.reverse(session, transaction_id=tx.id, now=START, description="refund")
    progress = tiers.progress(session, member, START)
    assert (progress.tier.code, progress.qualifying_points) == ("silver", 0)  # until the nightly job
    tiers.recalculate_all(session, now=START)
    assert member.tier == "blue"


def test_refunding_a_purchase_whose_points_expired_takes_nothing_earned_elsewhere(session, member):
    # given 100 points that expired, then 50 newer ones
    purchase = earn(session, member, 100, life=dt.timedelta(days=30))
    later = START + dt.timedelta(days=60)
    ledger.expire_due(session, now=later)
    earn(session, member, 50, at=later)

    # when the old purchase is refunded
    reversal = ledger.reverse(session, transaction_id=purchase.id, now=later, description="refund")

    # then the 50 stay: the 100 were already gone, and nothing was spent
    assert (reversal.points, reversal.shortfall) == (0, 0)
    assert assert_consistent(session, reversal.account_id) == 50


def test_a_refunded_purchase_no_longer_counts_toward_the_daily_cap(session, member):
    account = ledger.member_account(session, member.id, START)
    first = earn(session, member, 100)
    assert ledger.earned_since(session, account, START) == 100
    ledger.reverse(session, transaction_id=first.id, now=START, description="refund")
    assert ledger.earned_since(session, account, START) == 0
    earn(session, member, 30)
    assert ledger.earned_since(session, account, START) == 30


def test_expiring_soon_is_one_line_per_day_and_a_short_list_however_long_the_history(session, member):
    # given two lots that expire on the same day, and forty more on forty later days
    earn(session, member, 10, life=dt.timedelta(days=5, hours=1))
    earn(session, member, 15, life=dt.timedelta(days=5, hours=3))
    for day in range(6, 46):
        earn(session, member, 1, life=dt.timedelta(days=day))
    account = ledger.member_account(session, member.id, START)

    # when
    soon = ledger.expiring(session, account, START, dt.timedelta(days=90))

    # then
    assert soon[0] == (25, START + dt.timedelta(days=5, hours=1))
    assert len(soon) == 31 and all(points == 1 for points, _ in soon[1:])


def test_earn_refuses_a_locked_account_that_is_not_the_members(session):
    """The till hands earn the account it locked; someone else's must never be credited by mistake."""
    alice = accounts.register_member(session, email="alice@example.com", password="x" * 12, name="A", country="AE",
                                     now=START)
    bob = accounts.register_member(session, email="bob@example.com", password="x" * 12, name="B", country="AE",
                                   now=START)
    bobs = ledger.member_account(session, bob.id, START, lock=True)
    with pytest.raises(ValueError, match="not this member's account"):
        ledger.earn(session, member_id=alice.id, points=10, now=START, expires_at=START + dt.timedelta(days=365),
                    description="till", locked_account=bobs)
    assert bobs.balance == 0


def test_the_tills_credit_writes_what_earn_writes_and_the_session_sees_the_new_balance(session, member):
    # given a member with 100 points, its account loaded in this session
    earn(session, member, 100)
    account = ledger.member_account(session, member.id, START, lock=True)
    assert account.balance == 100

    # when the till's Core path credits 40 under the lock it holds
    credited = ledger.credit_locked(
        session, member_id=member.id, account_id=account.id, balance=account.balance, points=40, now=START,
        expires_at=START + YEAR, description="Purchase at Busy", idempotency_key="purchase:1",
        reference="receipt R-1", breakdown=[{"rule": "base", "points": 40}])

    # then the loaded account shows it, and the rows are an ordinary earn's
    assert (credited.balance, credited.qualifying_points) == (140, 140)
    assert (account.balance, account.lifetime_earned) == (140, 140)
    tx = session.get(ledger.LedgerTransaction, credited.transaction_id)
    assert (tx.type, tx.points, tx.idempotency_key, tx.reference, tx.breakdown) == (
        "earn", 40, "purchase:1", "receipt R-1", [{"rule": "base", "points": 40}])
    assert sorted((e.amount, e.balance_after) for e in tx.entries) == [(-40, None), (40, 140)]
    assert lots_of(session, member) == [(100, 100), (40, 40)]
    assert ledger.qualifying_points(session, account, START) == 140
    assert assert_consistent(session, account.id) == 140
    # and the next posting continues the running balance it left
    assert spend(session, member, 130).points == -130
    assert assert_consistent(session, account.id) == 10


def test_the_tills_credit_refuses_a_balance_it_was_not_holding(session, member):
    earn(session, member, 100)
    account = ledger.member_account(session, member.id, START, lock=True)
    # PostgreSQL's running-balance guard refuses the entry at once; SQLite's path checks the result
    with pytest.raises((RuntimeError, IntegrityError), match="moved under a lock|does not continue its balance"):
        ledger.credit_locked(session, member_id=member.id, account_id=account.id, balance=90, points=10,
                             now=START, expires_at=START + YEAR, description="x", idempotency_key="purchase:2")
