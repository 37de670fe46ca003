"""Invariant checks shared by the ledger tests."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wallet.ledger import LedgerAccount, LedgerEntry, PointLot


def assert_consistent(session: Session, account_id: int) -> int:
    """cached balance = sum of entries = sum of open lots >= 0, and every transaction sums to zero; returns the balance."""
    session.expire_all()
    account = session.get(LedgerAccount, account_id)
    entries = session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(LedgerEntry.account_id == account_id))
    lots = session.scalar(select(func.coalesce(func.sum(PointLot.remaining), 0)).where(PointLot.account_id == account_id))
    assert account.balance == entries == lots, (account.balance, entries, lots)
    assert account.balance >= 0
    unbalanced = session.execute(
        select(LedgerEntry.transaction_id).group_by(LedgerEntry.transaction_id).having(func.sum(LedgerEntry.amount) != 0)
    ).all()
    assert unbalanced == []
    return account.balance
