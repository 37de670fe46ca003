"""What the partner's wallet screen shows, read in one place: balance, what expires soon,
tier progress, the vouchers the member can still use, and (as they arrive) points pending review."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, cast, func, literal, null, select, union_all
from sqlalchemy.orm import Session

from infra.db import UTCDateTime
from wallet import ledger
from wallet.earning import tiers
from wallet.members.models import Member
from wallet.receipts.models import Receipt
from wallet.rewards import vouchers

EXPIRING_WITHIN = dt.timedelta(days=90)


@dataclass(frozen=True)
class Expiring:
    points: int
    expires_at: dt.datetime


@dataclass(frozen=True)
class TierStatus:
    code: str
    name: str
    multiplier: Decimal
    qualifying_points: int
    next_tier: str | None
    points_to_next: int | None


@dataclass(frozen=True)
class WalletOverview:
    balance: int
    pending: int
    lifetime_earned: int
    currency_value: None
    expiring: list[Expiring]
    tier: TierStatus
    active_vouchers: int


def wallet_of(session: Session, member: Member, now: dt.datetime, *,
              expiring_within: dt.timedelta = EXPIRING_WITHIN) -> WalletOverview:
    """One statement, whatever the member's history: the account's figures with the rolling
    year's qualifying points, what reviews would give and the active vouchers in its first row,
    then one row per day of what expires soon."""
    rows = session.execute(_wallet_query(), {
        "member_id": member.id, "now": now, "since": now.date() - dt.timedelta(days=364),
        "until": now + expiring_within}).all()
    if not rows:  # an account not made yet (imported members): made now, empty
        ledger.member_account(session, member.id, now)
        figures: Any = (_FIGURES, 0, 0, 0, 0, session.scalar(vouchers.active_count_query(member.id, now)), None)
        days: list[Any] = []
    else:
        figures, days = rows[0], rows[1:]
    _, balance, lifetime, qualifying_points, pending_points, active_vouchers, _ = figures
    ladder = tiers.all_tiers(session)
    current = tiers.get_tier(session, member.tier)
    higher = [t for t in ladder if t.rank > current.rank]
    next_tier = higher[0] if higher else None
    return WalletOverview(
        balance=int(balance),  # the UNION's column is numeric on PostgreSQL (it also holds sums)
        pending=int(pending_points),
        lifetime_earned=int(lifetime),
        currency_value=None,
        expiring=[Expiring(int(day.points), day.expires_at) for day in days],
        tier=TierStatus(
            code=current.code,
            name=current.name,
            multiplier=current.multiplier,
            qualifying_points=int(qualifying_points),
            next_tier=next_tier.name if next_tier else None,
            points_to_next=max(next_tier.min_points - int(qualifying_points), 0) if next_tier else None,
        ),
        active_vouchers=int(active_vouchers or 0),
    )


_FIGURES, _EXPIRING = 0, 1  # the ``part`` of a row of the wallet's statement


@functools.cache
def _wallet_query() -> Any:
    """The wallet's figures and what expires soon as one UNION ALL, built once (bound parameters
    ``member_id``, ``now``, ``since``, ``until``): a row ``(part 0, balance, lifetime,
    qualifying, pending, active vouchers, NULL)``, then ``(part 1, points, NULL..., first expiry)``
    per day. One statement instead of two: on a wallet read each statement cost about as much
    as everything else the read does in the worker (bench/README.md)."""
    account, day = ledger.LedgerAccount, ledger.QualifyingDay
    member_id = bindparam("member_id")
    is_members = (account.owner_type == "member", account.owner_id == member_id,
                  account.kind == ledger.AccountKind.POINTS)
    qualifying = (select(func.coalesce(func.sum(day.points), 0))
                  .where(day.account_id == account.id, day.day >= bindparam("since")).scalar_subquery())
    pending = (select(func.coalesce(func.sum(Receipt.points_pending), 0))
               .where(Receipt.member_id == member_id, Receipt.status == "review").scalar_subquery())
    active = vouchers.active_count_query(member_id, bindparam("now")).scalar_subquery()
    figures = select(literal(_FIGURES).label("part"), account.balance.label("points"), account.lifetime_earned,
                     qualifying, pending, active, cast(null(), UTCDateTime()).label("expires_at")).where(*is_members)
    days = ledger.expiring_days(select(account.id).where(*is_members).scalar_subquery(), ledger.EXPIRING_DAYS).subquery()
    expiring = select(literal(_EXPIRING), days.c.points, null(), null(), null(), null(), days.c.first)
    both = union_all(figures, expiring).subquery()
    return select(both).order_by(both.c.part, both.c.expires_at)


def history(session: Session, member: Member, now: dt.datetime, *, before_id: int | None,
            limit: int) -> list[ledger.LedgerEntry]:
    """The member's points history, newest first (see ``ledger.history``)."""
    return ledger.history(session, ledger.member_account(session, member.id, now), before_id=before_id, limit=limit)
