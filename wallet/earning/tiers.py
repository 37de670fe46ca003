"""Tiers: Blue, Silver, Gold, Platinum by qualifying points over a rolling 12 months.

An earn can only lift a member's tier; the nightly recalculation also lowers it
when old points leave the window, so a member is never demoted in the middle of a
purchase.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from infra import changes
from infra.cache import VersionedCache
from infra.db import forget_loaded
from wallet.ledger import LedgerAccount, QualifyingDay, member_account, qualifying_points
from wallet.members.models import Member, Tier

__all__ = ["Tier", "TierProgress", "all_tiers", "get_tier", "lift", "progress", "recalculate_all", "tier_for", "upgrade_on_earn"]


@dataclass(frozen=True)
class TierProgress:
    tier: TierTerms
    qualifying_points: int
    next_tier: TierTerms | None
    points_to_next: int | None


@dataclass(frozen=True)
class TierTerms:
    """A tier as the rules read it, detached from any session (cached per process)."""

    code: str
    name: str
    rank: int
    min_points: int
    multiplier: Decimal


# The tiers change only with a migration (bump "tiers" in it, or restart, when they do).
TIERS = VersionedCache("tiers", lambda session: [
    TierTerms(t.code, t.name, t.rank, t.min_points, t.multiplier)
    for t in session.scalars(select(Tier).order_by(Tier.rank))])


def all_tiers(session: Session | Connection) -> list[TierTerms]:
    """Lowest first, from the process's cache."""
    return TIERS.get(session)


def tier_for(tiers: list[TierTerms], points: int) -> TierTerms:
    return [t for t in tiers if t.min_points <= points][-1]


def get_tier(session: Session | Connection, code: str) -> TierTerms:
    tiers = all_tiers(session)
    # A member's tier removed from the table is treated as the lowest.
    return next((t for t in tiers if t.code == code), tiers[0])


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
                    tiers: list[TierTerms] | None = None) -> TierTerms:
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


def lift(session: Session, member_id: int, tier_code: str, qualifying: int, *, watched: bool = True) -> TierTerms:
    """``upgrade_on_earn`` for a caller that has the member's tier code and its qualifying points
    already (the till): no read at all, one UPDATE only when the tier goes up. ``watched``: as
    ``ledger.credit_locked``'s (False: no wallet pass shows the tier, so no change is noted)."""
    tiers = all_tiers(session)
    earned = tier_for(tiers, qualifying)
    current = get_tier(session, tier_code)
    if earned.rank <= current.rank:
        return current
    session.connection().execute(update(Member.__table__).where(Member.__table__.c.id == member_id)
                                 .values(tier=earned.code))
    forget_loaded(session, Member, member_id, ["tier", "tier_info"])
    if watched:
        changes.note(session, "member", member_id)
    return earned


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
