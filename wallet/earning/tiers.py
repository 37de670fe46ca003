"""Tiers: Blue, Silver, Gold, Platinum by qualifying points over a rolling 12 months.

An earn can only lift a member's tier; the nightly recalculation also lowers it
when old points leave the window, so a member is never demoted in the middle of a
purchase.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wallet.ledger import LedgerAccount, QualifyingDay, member_account, qualifying_points
from wallet.members.models import Member, Tier

__all__ = ["Tier", "TierProgress", "all_tiers", "get_tier", "progress", "recalculate_all", "tier_for", "upgrade_on_earn"]


@dataclass(frozen=True)
class TierProgress:
    tier: Tier
    qualifying_points: int
    next_tier: Tier | None
    points_to_next: int | None


def all_tiers(session: Session) -> list[Tier]:
    return list(session.scalars(select(Tier).order_by(Tier.rank)))


def tier_for(tiers: list[Tier], points: int) -> Tier:
    return [t for t in tiers if t.min_points <= points][-1]


def get_tier(session: Session, code: str) -> Tier:
    tier = session.get(Tier, code)
    if tier is None:  # a member's tier was removed from the table: treat as the lowest
        return all_tiers(session)[0]
    return tier


def progress(session: Session, member: Member, now: dt.datetime) -> TierProgress:
    tiers = all_tiers(session)
    current = get_tier(session, member.tier)
    points = qualifying_points(session, member_account(session, member.id, now), now)
    higher = [t for t in tiers if t.rank > current.rank]
    next_tier = higher[0] if higher else None
    return TierProgress(
        tier=current,
        qualifying_points=points,
        next_tier=next_tier,
        points_to_next=max(next_tier.min_points - points, 0) if next_tier else None,
    )


def upgrade_on_earn(session: Session, member: Member, now: dt.datetime, *, account: LedgerAccount | None = None,
                    tiers: list[Tier] | None = None) -> Tier:
    """Lift the member's tier if its qualifying points now reach a higher one; never lowers it.
    ``account`` and ``tiers`` when the caller has them already (one query less each)."""
    tiers = tiers or all_tiers(session)
    account = account or member_account(session, member.id, now)
    earned = tier_for(tiers, qualifying_points(session, account, now))
    if earned.rank > get_tier(session, member.tier).rank:
        member.tier = earned.code
        session.flush()
        session.expire(member, ["tier_info"])
    return get_tier(session, member.tier)


def recalculate_all(session: Session, *, now: dt.datetime) -> dict[str, int]:
    """Set every member's tier from its rolling 12 months (the nightly job). Returns counts of changes.

    One grouped query for all members' qualifying points; only changed rows are written.
    """
    tiers = all_tiers(session)
    since = now.date() - dt.timedelta(days=364)
    points_by_member = dict(
        session.execute(
            select(LedgerAccount.owner_id, func.sum(QualifyingDay.points))
            .join(QualifyingDay, QualifyingDay.account_id == LedgerAccount.id)
            .where(LedgerAccount.owner_type == "member", QualifyingDay.day >= since)
            .group_by(LedgerAccount.owner_id)
        ).all()
    )
    rank = {t.code: t.rank for t in tiers}
    changes = {"upgraded": 0, "downgraded": 0}
    for member in session.scalars(select(Member).execution_options(yield_per=1000)):
        target = tier_for(tiers, int(points_by_member.get(member.id) or 0))
        if target.code != member.tier:
            changes["upgraded" if target.rank > rank.get(member.tier, -1) else "downgraded"] += 1
            member.tier = target.code
            session.expire(member, ["tier_info"])
    session.flush()
    return changes
