"""Random sequences of earn, spend, refund, expire and adjust never break the ledger's invariants."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import START
from tests.wallet.helpers import assert_consistent
from wallet import ledger
from wallet.errors import Conflict, InsufficientPoints
from wallet.members import accounts

_emails = itertools.count()

operations = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.integers(1, 500), st.integers(1, 400)),
        st.tuples(st.just("spend"), st.integers(1, 600)),
        st.tuples(st.just("reverse"), st.integers(0, 50)),
        st.tuples(st.just("wait_and_expire"), st.integers(0, 200)),
        st.tuples(st.just("adjust"), st.integers(-300, 300).filter(bool)),
        st.tuples(st.just("retry_last_key"),),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_any_sequence_keeps_balance_entries_and_lots_equal_and_never_negative(session, ops):
    savepoint = session.begin_nested()
    try:
        member = accounts.register_member(session, email=f"p{next(_emails)}@example.com", password="x" * 12,
                                          name="P", country="AE", now=START)
        admin_id = member.user_id
        now = START
        done: list[int] = []
        last_key: tuple[str, int] | None = None
        for op in ops:
            kind = op[0]
            try:
                if kind == "earn":
                    key = f"earn-{len(done)}-{member.id}"
                    tx = ledger.earn(session, member_id=member.id, points=op[1], now=now,
                                     expires_at=now + dt.timedelta(days=op[2]), description="e", idempotency_key=key)
                    last_key = (key, op[1])
                    done.append(tx.id)
                elif kind == "spend":
                    done.append(ledger.spend(session, member_id=member.id, points=op[1], now=now, description="s").id)
                elif kind == "reverse" and done:
                    ledger.reverse(session, transaction_id=done[op[1] % len(done)], now=now, description="r")
                elif kind == "wait_and_expire":
                    now += dt.timedelta(days=op[1])
                    ledger.expire_due(session, now=now)
                elif kind == "adjust":
                    done.append(ledger.adjust(session, member_id=member.id, points=op[1], reason="test",
                                              actor_user_id=admin_id, now=now,
                                              expires_at=now + dt.timedelta(days=90)).id)
                elif kind == "retry_last_key" and last_key:
                    before = len(ledger.history(session, ledger.member_account(session, member.id, now),
                                                before_id=None, limit=1000))
                    ledger.earn(session, member_id=member.id, points=last_key[1], now=now,
                                expires_at=now + dt.timedelta(days=1), description="e", idempotency_key=last_key[0])
                    after = len(ledger.history(session, ledger.member_account(session, member.id, now),
                                               before_id=None, limit=1000))
                    assert after == before  # the retry booked nothing
            except (InsufficientPoints, Conflict):
                pass  # refused moves must leave the ledger as it was, which the check below sees
            assert_consistent(session, ledger.member_account(session, member.id, now).id)
    finally:
        savepoint.rollback()
