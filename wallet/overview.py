"""What the partner's wallet screen shows, read in one place: balance, what expires soon,
tier progress, the vouchers the member can still use, and (as they arrive) points pending review."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

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
    """Two statements, whatever the member's history: the account's figures with the rolling
    year's qualifying points, what reviews would give and the active vouchers, in one row; then
    what expires soon."""
    row = session.execute(_figures_query(), {"member_id": member.id, "now": now,
                                             "since": now.date() - dt.timedelta(days=364)}).first()
    if row is None:  # an account not made yet (imported members): made now, empty
        made = ledger.member_account(session, member.id, now)
        row = (made.id, 0, 0, 0, 0, session.scalar(vouchers.active_count_query(member.id, now)))
    account_id, balance, lifetime, qualifying_points, pending_points, active_vouchers = row
    ladder = tiers.all_tiers(session)
    current = tiers.get_tier(session, member.tier)
    higher = [t for t in ladder if t.rank > current.rank]
    next_tier = higher[0] if higher else None
    return WalletOverview(
        balance=balance,
        pending=int(pending_points),
        lifetime_earned=lifetime,
        currency_value=None,
        expiring=[Expiring(p, e) for p, e in ledger.expiring_for(session, account_id, now, expiring_within)],
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


@functools.cache
def _figures_query() -> Select[Any]:
    """The account's row with the rolling year's qualifying points, what reviews would give and
    the active vouchers. Built once (bound parameters): making it per request cost a wallet read
    more Python than running it."""
    account, day = ledger.LedgerAccount, ledger.QualifyingDay
    member_id = bindparam("member_id")
    qualifying = (select(func.coalesce(func.sum(day.points), 0))
                  .where(day.account_id == account.id, day.day >= bindparam("since")).scalar_subquery())
    pending = (select(func.coalesce(func.sum(Receipt.points_pending), 0))
               .where(Receipt.member_id == member_id, Receipt.status == "review").scalar_subquery())
    active = vouchers.active_count_query(member_id, bindparam("now")).scalar_subquery()
    return (select(account.id, account.balance, account.lifetime_earned, qualifying, pending, active)
            .where(account.owner_type == "member", account.owner_id == member_id,
                   account.kind == ledger.AccountKind.POINTS))


def history(session: Session, member: Member, now: dt.datetime, *, before_id: int | None,
            limit: int) -> list[ledger.LedgerEntry]:
    """The member's points history, newest first (see ``ledger.history``)."""
    return ledger.history(session, ledger.member_account(session, member.id, now), before_id=before_id, limit=limit)
