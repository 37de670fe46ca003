"""Fifty tills and phones at once on one member: no lost update, no double booking, never below zero.

Runs on PostgreSQL with real commits from real threads, in a schema of its own
that the real migrations build and the test drops.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from infra.db import make_sessionmaker
from tests.conftest import START
from tests.wallet.helpers import assert_consistent
from wallet import ledger
from wallet.errors import InsufficientPoints
from wallet.ledger import LedgerEntry, LedgerTransaction
from wallet.members import accounts

pytestmark = pytest.mark.postgres_only

THREADS = 50
ROUNDS = 6


def test_fifty_threads_earning_and_spending_on_one_member_keep_the_ledger_exact(isolated_engine):
    # given a member with nothing
    factory = make_sessionmaker(isolated_engine)
    with factory() as session:
        member_id = accounts.register_member(session, email="busy@example.com", password="x" * 12, name="Busy",
                                             country="AE", now=START).id
        session.commit()
    start = threading.Barrier(THREADS)
    outcome = {"earned": 0, "spent": 0, "refused": 0}
    lock = threading.Lock()

    def worker(n: int) -> None:
        start.wait()  # everyone at once
        for r in range(ROUNDS):
            key = f"earn-{n}-{r}"
            for _attempt in range(2):  # the second is a retry of the same request
                with factory() as s:
                    ledger.earn(s, member_id=member_id, points=10, now=START, expires_at=START + dt.timedelta(days=365),
                                description="till", idempotency_key=key)
                    s.commit()
            with lock:
                outcome["earned"] += 10
            with factory() as s:
                try:
                    ledger.spend(s, member_id=member_id, points=15, now=START, description="voucher")
                    s.commit()
                    with lock:
                        outcome["spent"] += 15
                except InsufficientPoints:
                    s.rollback()
                    with lock:
                        outcome["refused"] += 1

    # when
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(worker, range(THREADS)))

    # then
    with factory() as session:
        account = ledger.member_account(session, member_id, START)
        balance = assert_consistent(session, account.id)
        assert balance == outcome["earned"] - outcome["spent"]
        assert outcome["earned"] == THREADS * ROUNDS * 10
        # every key applied exactly once, though each was sent twice
        per_key = session.execute(
            select(LedgerTransaction.idempotency_key, func.count())
            .where(LedgerTransaction.idempotency_key.is_not(None))
            .group_by(LedgerTransaction.idempotency_key)
        ).all()
        assert len(per_key) == THREADS * ROUNDS and {count for _, count in per_key} == {1}
        # the balance never dipped below zero at any point in the history
        lowest = session.scalar(select(func.min(LedgerEntry.balance_after)).where(LedgerEntry.account_id == account.id))
        assert lowest >= 0
        # and the running balance recorded on each entry adds up in order
        amounts = session.execute(
            select(LedgerEntry.amount, LedgerEntry.balance_after)
            .where(LedgerEntry.account_id == account.id).order_by(LedgerEntry.id)
        ).all()
        running = 0
        for amount, after in amounts:
            running += amount
            assert after == running


@pytest.fixture
def live_till(isolated_engine, settings, clock):
    """An app on the isolated schema (real commits), with a store, a signed-in cashier and a partner."""
    from api import create_app
    from tests.conftest import PASSWORD

    app = create_app({"SETTINGS": settings, "ENGINE": isolated_engine, "CLOCK": clock})
    factory = app.extensions["sessionmaker"]
    with factory() as s:
        store = accounts.create_store(s, name="Busy", country="AE", currency="AED", now=clock())
        s.flush()
        accounts.create_staff(s, email="till@example.com", password=PASSWORD, name="Till", role="cashier",
                              store_id=store.id, now=clock())
        member = accounts.register_member(s, email="p@example.com", password=PASSWORD, name="P", country="AE",
                                          now=clock())
        s.commit()
        number = member.member_number
    client = app.test_client()
    token = client.post("/api/v1/auth/login", json={"email": "till@example.com", "password": PASSWORD}).json
    return app, {"Authorization": f"Bearer {token['access_token']}"}, number, factory


def _at_once(count, call):
    start = threading.Barrier(count)

    def run(_):
        start.wait()
        return call()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_the_same_purchase_sent_ten_times_at_once_with_one_key_books_once_and_answers_alike(live_till):
    app, headers, number, factory = live_till
    body = {"member_number": number, "receipt_number": "R-1", "total": {"amount": "250.00", "currency": "AED"}}

    responses = _at_once(10, lambda: app.test_client().post(
        "/api/v1/pos/purchases", json=body, headers={**headers, "Idempotency-Key": "tap-1"}))

    assert {r.status_code for r in responses} == {201}
    assert len({r.get_data() for r in responses}) == 1
    with factory() as s:
        member = s.scalar(select(accounts.Member).where(accounts.Member.member_number == number))
        assert assert_consistent(s, ledger.member_account(s, member.id, START).id) == 250


def test_ten_refunds_of_one_purchase_at_once_reverse_it_once(live_till):
    app, headers, number, factory = live_till
    body = {"member_number": number, "receipt_number": "R-2", "total": {"amount": "400.00", "currency": "AED"}}
    purchase = app.test_client().post("/api/v1/pos/purchases", json=body, headers=headers).json

    responses = _at_once(10, lambda: app.test_client().post(
        f"/api/v1/pos/purchases/{purchase['id']}/refund", headers=headers))

    assert sorted(r.status_code for r in responses) == [201] + [409] * 9
    with factory() as s:
        member = s.scalar(select(accounts.Member).where(accounts.Member.member_number == number))
        assert assert_consistent(s, ledger.member_account(s, member.id, START).id) == 0


def test_ten_refunds_at_once_of_a_purchase_that_earned_nothing_refund_it_once(live_till):
    # given a purchase below the minimum: no points, so no ledger transaction to guard it
    app, headers, number, factory = live_till
    body = {"member_number": number, "receipt_number": "R-0", "total": {"amount": "0.50", "currency": "AED"}}
    purchase = app.test_client().post("/api/v1/pos/purchases", json=body, headers=headers).json
    assert purchase["points_earned"] == 0

    responses = _at_once(10, lambda: app.test_client().post(
        f"/api/v1/pos/purchases/{purchase['id']}/refund", headers=headers))

    assert sorted(r.status_code for r in responses) == [201] + [409] * 9


def test_ten_refunds_at_once_with_one_key_all_get_the_first_answer(live_till):
    app, headers, number, factory = live_till
    body = {"member_number": number, "receipt_number": "R-3", "total": {"amount": "300.00", "currency": "AED"}}
    purchase = app.test_client().post("/api/v1/pos/purchases", json=body, headers=headers).json

    responses = _at_once(10, lambda: app.test_client().post(
        f"/api/v1/pos/purchases/{purchase['id']}/refund", headers={**headers, "Idempotency-Key": "refund-once"}))

    assert [r.status_code for r in responses] == [201] * 10
    assert len({r.get_data() for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 9
    with factory() as s:
        member = s.scalar(select(accounts.Member).where(accounts.Member.member_number == number))
        assert assert_consistent(s, ledger.member_account(s, member.id, START).id) == 0
