"""How often a member may redeem one reward: per day, per month, ever.

Days and months are the member's own (its timezone): "once a day" resets at the member's
midnight, not at UTC's. What counts is what the member still has of it: vouchers not
cancelled and orders not cancelled (a cancelled one was refunded and gives its turn back).
The count is read under the member's account lock (``redemption.redeem`` takes it first),
so two redemptions at once cannot both pass a limit of one.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wallet.members.models import Member
from wallet.rewards.errors import LimitReached
from wallet.rewards.models import Order, Reward, Voucher


def _starts(member: Member, now: dt.datetime) -> dict[str, dt.datetime | None]:
    local = now.astimezone(ZoneInfo(member.timezone))
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return {"day": day.astimezone(dt.timezone.utc), "month": day.replace(day=1).astimezone(dt.timezone.utc),
            "ever": None}


def redeemed_since(session: Session, reward: Reward, member: Member, since: dt.datetime | None) -> int:
    """How many of ``reward`` the member redeemed since ``since`` (None: ever) and still has."""
    if reward.kind == "physical":
        query = select(func.coalesce(func.sum(Order.quantity), 0)).where(
            Order.member_id == member.id, Order.reward_id == reward.id, Order.status != "cancelled")
        if since is not None:
            query = query.where(Order.created_at >= since)
    else:
        query = select(func.count()).select_from(Voucher).where(
            Voucher.member_id == member.id, Voucher.reward_id == reward.id, Voucher.source == "redemption",
            Voucher.status != "cancelled")
        if since is not None:
            query = query.where(Voucher.issued_at >= since)
    return int(session.scalar(query) or 0)


def check(session: Session, reward: Reward, member: Member, quantity: int, now: dt.datetime) -> None:
    """Raises ``LimitReached`` (the tightest period first) when ``quantity`` more would pass a limit."""
    starts = _starts(member, now)
    for period, limit in (("day", reward.limit_per_day), ("month", reward.limit_per_month),
                          ("ever", reward.limit_ever)):
        if limit is None:
            continue
        already = redeemed_since(session, reward, member, starts[period])
        if already + quantity > limit:
            raise LimitReached(period=period, limit=limit, already=already)
