"""What the partner's wallet screen shows, read in one place: balance, what expires soon,
tier progress, the vouchers the member can still use, and (as they arrive) points pending review."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import String, bindparam, cast, func, literal, literal_column, null, select, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from infra.db import UTCDateTime, driver_rows, prepared
from wallet import ledger
from wallet.earning import tiers
from wallet.members.models import Member, Role, User
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
    figures, days = _read(session.connection(), "member", member.id, now, expiring_within)
    if figures is None:  # an account not made yet (imported members): made now, empty
        ledger.member_account(session, member.id, now)
        figures = (_FIGURES, 0, 0, 0, 0, session.scalar(vouchers.active_count_query(member.id, now)), None, member.tier)
    return _overview(session, figures, days)


def wallet_of_partner(connection: Connection, user_id: int, now: dt.datetime, *,
                      expiring_within: dt.timedelta = EXPIRING_WITHIN) -> WalletOverview | None:
    """The wallet of the partner signed in as ``user_id``, in the same one statement, which also
    checks that the user is an active partner: the sign-in and the wallet in one round trip, on
    ``connection`` and without a session. None when it is not, or its account is not made yet
    (``wallet_of`` then says which)."""
    figures, days = _read(connection, "user", user_id, now, expiring_within)
    return None if figures is None else _overview(connection, figures, days)


def _read(connection: Connection, key: str, key_id: int, now: dt.datetime,
          expiring_within: dt.timedelta) -> tuple[Any, list[Any]]:
    rows = driver_rows(connection, _wallet_query(key), {
        "key_id": key_id, "now": now, "since": now.date() - dt.timedelta(days=364),
        "until": now + expiring_within})
    if not rows or rows[0][0] != _FIGURES:
        return None, []
    return rows[0], rows[1:]


def _overview(reader: Session | Connection, figures: Any, days: list[Any]) -> WalletOverview:
    _, balance, lifetime, qualifying_points, pending_points, active_vouchers, _, tier_code = figures
    ladder = tiers.all_tiers(reader)
    current = tiers.get_tier(reader, tier_code)
    higher = [t for t in ladder if t.rank > current.rank]
    next_tier = higher[0] if higher else None
    return WalletOverview(
        balance=int(balance),  # the UNION's column is numeric on PostgreSQL (it also holds sums)
        pending=int(pending_points),
        lifetime_earned=int(lifetime),
        currency_value=None,
        expiring=[Expiring(int(day[1]), day[6]) for day in days],  # (part, points, ..., first expiry, _)
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
def _wallet_query(key: str) -> Any:
    """The wallet's figures and what expires soon as one UNION ALL, built once (bound parameters
    ``key_id``, ``now``, ``since``, ``until``): a row ``(part 0, balance, lifetime, qualifying,
    pending, active vouchers, NULL, tier)``, then ``(part 1, points, NULL..., first expiry, NULL)``
    per day. ``key`` "member": ``key_id`` is the member's id; "user": the partner's user id, and
    the rows come only while that user is active and a partner. One statement instead of three:
    on a wallet read each statement cost about as much as everything else the read does in the
    worker (bench/README.md)."""
    account, day = ledger.LedgerAccount, ledger.QualifyingDay
    key_id = bindparam("key_id")
    is_points = (account.owner_type == "member", account.owner_id == Member.id,
                 account.kind == ledger.AccountKind.POINTS)
    if key == "member":
        whose: tuple[Any, ...] = (Member.id == key_id,)
    else:
        whose = (Member.user_id == key_id, User.id == Member.user_id, User.is_active.is_(True),
                 User.role == Role.PARTNER.value)
    qualifying = (select(func.coalesce(func.sum(day.points), 0))
                  .where(day.account_id == account.id, day.day >= bindparam("since")).scalar_subquery())
    pending = (select(func.coalesce(func.sum(Receipt.points_pending), 0))
               .where(Receipt.member_id == Member.id, Receipt.status == literal_column("'review'"))
               .scalar_subquery())
    active = vouchers.active_count_query(Member.id, bindparam("now")).scalar_subquery()
    figures = select(literal(_FIGURES).label("part"), account.balance.label("points"), account.lifetime_earned,
                     qualifying, pending, active, cast(null(), UTCDateTime()).label("expires_at"),
                     Member.tier.label("tier")).where(*is_points, *whose)
    days = ledger.expiring_days(select(account.id).where(*is_points, *whose).scalar_subquery(),
                                ledger.EXPIRING_DAYS).subquery()
    expiring = select(literal(_EXPIRING), days.c.points, null(), null(), null(), null(), days.c.first,
                      cast(null(), String()))
    both = union_all(figures, expiring).subquery()
    return prepared(select(both).order_by(both.c.part, both.c.expires_at))


def history(session: Session, member: Member, now: dt.datetime, *, before_id: int | None,
            limit: int) -> list[ledger.LedgerEntry]:
    """The member's points history, newest first (see ``ledger.history``)."""
    return ledger.history(session, ledger.member_account(session, member.id, now), before_id=before_id, limit=limit)
