"""What the partner's wallet screen shows, read in one place: balance, what expires soon,
tier progress, the vouchers the member can still use, and (as they arrive) points pending review."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from wallet import ledger
from wallet.earning import tiers
from wallet.members.models import Member
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
    account = ledger.member_account(session, member.id, now)
    progress = tiers.progress(session, member, now)
    return WalletOverview(
        balance=account.balance,
        pending=0,  # receipts in review: with receipt scanning
        lifetime_earned=account.lifetime_earned,
        currency_value=None,
        expiring=[Expiring(p, e) for p, e in ledger.expiring(session, account, now, expiring_within)],
        tier=TierStatus(
            code=progress.tier.code,
            name=progress.tier.name,
            multiplier=progress.tier.multiplier,
            qualifying_points=progress.qualifying_points,
            next_tier=progress.next_tier.name if progress.next_tier else None,
            points_to_next=progress.points_to_next,
        ),
        active_vouchers=vouchers.active_count(session, member.id, now),
    )


def history(session: Session, member: Member, now: dt.datetime, *, before_id: int | None,
            limit: int) -> list[ledger.LedgerEntry]:
    """The member's points history, newest first (see ``ledger.history``)."""
    return ledger.history(session, ledger.member_account(session, member.id, now), before_id=before_id, limit=limit)
