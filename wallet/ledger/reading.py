"""Reading the ledger: qualifying points, what expires soon, history, what was earned today."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, aliased

from wallet.ledger.models import (
    LIVE,
    QUALIFYING,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    PointLot,
    QualifyingDay,
    TxType,
)


def qualifying_points(session: Session, account: LedgerAccount, now: dt.datetime) -> int:
    """Qualifying points earned over the last 365 days, today included."""
    since = now.date() - dt.timedelta(days=364)
    total = session.scalar(
        select(func.coalesce(func.sum(QualifyingDay.points), 0)).where(
            QualifyingDay.account_id == account.id, QualifyingDay.day >= since
        )
    )
    return int(total or 0)


EXPIRING_DAYS = 31  # at most this many days of "expiring soon", whatever the history


def expiring(session: Session, account: LedgerAccount, now: dt.datetime, within: dt.timedelta,
             limit: int = EXPIRING_DAYS) -> list[tuple[int, dt.datetime]]:
    """``expiring_for`` the account."""
    return expiring_for(session, account.id, now, within, limit)


def expiring_for(session: Session, account_id: int, now: dt.datetime, within: dt.timedelta,
                 limit: int = EXPIRING_DAYS) -> list[tuple[int, dt.datetime]]:
    """``(points, first expiry that day)`` per day (UTC) for live lots expiring within ``within``, soonest first.

    One row per day, at most ``limit``: a partner with thousands of purchases gets a
    short list, and the query reads only that member's live lots (from their index alone).
    """
    rows = session.execute(_expiring_query(limit), {"account_id": account_id, "now": now, "until": now + within})
    return [(int(points), first) for points, first in rows]


@functools.cache
def _expiring_query(limit: int) -> Select[Any]:
    # Built once: on a wallet read, making the statement and its cache key cost more Python
    # than running it (bench/README.md).
    return expiring_days(bindparam("account_id"), limit)


def expiring_days(account_id: Any, limit: int) -> Select[Any]:
    """The SELECT of ``expiring_for``, for the account ``account_id`` (a value or an expression;
    the wallet's one statement passes a subquery), with bound parameters ``now`` and ``until``."""
    return (
        select(func.sum(PointLot.remaining).label("points"), func.min(PointLot.expires_at).label("first"))
        .where(
            PointLot.account_id == account_id,
            LIVE,
            PointLot.expires_at > bindparam("now"),
            PointLot.expires_at <= bindparam("until"),
        )
        .group_by(func.date(PointLot.expires_at))
        .order_by(func.min(PointLot.expires_at))
        .limit(limit)
    )


def history(session: Session, account: LedgerAccount, *, before_id: int | None, limit: int) -> list[LedgerEntry]:
    """The account's entries, newest first, starting below ``before_id``: an index range scan, whatever the history's length."""
    query = select(LedgerEntry).where(LedgerEntry.account_id == account.id)
    if before_id is not None:
        query = query.where(LedgerEntry.id < before_id)
    return list(session.scalars(query.order_by(LedgerEntry.id.desc()).limit(limit)).unique())


def earned_since(session: Session, account: LedgerAccount, since: dt.datetime) -> int:
    """Qualifying points credited since ``since``, less reversals of those credits (for the daily earn cap)."""
    original = aliased(LedgerTransaction)
    counted = or_(
        LedgerTransaction.type.in_([t.value for t in QUALIFYING]),
        and_(LedgerTransaction.type == TxType.REVERSAL, original.type.in_([t.value for t in QUALIFYING]),
             original.created_at >= since),
    )
    total = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .outerjoin(original, original.id == LedgerTransaction.reverses_id)
        .where(LedgerEntry.account_id == account.id, LedgerEntry.created_at >= since, counted)
    )
    return max(int(total or 0), 0)
