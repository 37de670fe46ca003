"""The catalog: what admins put in it, and what a partner is shown of it.

A partner sees a reward when it is switched on, is for the partner's country, is inside its
availability window and is for the partner's tier (a reward with no tiers is for all). The
same test guards a redemption (``offered_to``), so nothing can be redeemed that the catalog
would not show. Stock: a vendor pool's is its available, unexpired codes; otherwise the
``stock`` column (None: unlimited).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, literal_column, or_, select
from sqlalchemy.orm import Session

from wallet.members.models import Member, Tier
from wallet.rewards.errors import InvalidRewardInput, NotAvailableNow, NotForYourTier, RewardNotFound
from wallet.rewards.models import Reward, RewardCode, RewardTier

AVAILABLE = RewardCode.status == literal_column("'available'")
# A code is handed out only while it has at least this long to live: a partner never gets a
# voucher that dies before they reach a shop.
MIN_CODE_LIFE = dt.timedelta(days=1)
PATCHABLE = frozenset({
    "category", "country", "points_cost", "face_value", "stock", "limit_per_day", "limit_per_month", "limit_ever",
    "validity_days", "available_from", "available_until", "names", "descriptions", "tiers", "low_stock_threshold",
    "active",
})
SORTS = ("newest", "points_cost", "-points_cost")


def usable(now: dt.datetime) -> Any:
    """The SQL test of a pool code that may still be handed out at ``now``."""
    return or_(RewardCode.expires_at.is_(None), RewardCode.expires_at > now + MIN_CODE_LIFE)


def _check(session: Session, reward: Reward) -> None:
    if reward.code_source == "pool" and reward.stock is not None:
        raise InvalidRewardInput("a reward with a vendor pool counts its codes; it takes no stock figure",
                                 field="stock")
    if reward.available_from and reward.available_until and reward.available_until <= reward.available_from:
        raise InvalidRewardInput("must be after available_from", field="available_until")
    if reward.face_value_currency and reward.face_value_amount is not None and reward.face_value_amount <= 0:
        raise InvalidRewardInput("a face value is more than zero", field="face_value.amount")


def _set_tiers(session: Session, reward: Reward, tiers: list[str]) -> None:
    known = set(session.scalars(select(Tier.code)))
    unknown = sorted(set(tiers) - known)
    if unknown:
        raise InvalidRewardInput(f"no such tier: {', '.join(unknown)} (tiers are {', '.join(sorted(known))})",
                                 field="tiers")
    reward.tier_rows = [row for row in reward.tier_rows if row.tier in tiers]
    have = {row.tier for row in reward.tier_rows}
    reward.tier_rows.extend(RewardTier(tier=code) for code in sorted(set(tiers) - have))


def _apply(reward: Reward, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if name == "face_value":
            reward.face_value_amount = value["amount"] if value else None
            reward.face_value_currency = value["currency"] if value else None
        elif name in ("available_from", "available_until") and value is not None:
            setattr(reward, name, value.astimezone(dt.timezone.utc))
        elif name != "tiers":
            setattr(reward, name, value)


def create_reward(session: Session, *, now: dt.datetime, kind: str, code_source: str | None = None,
                  tiers: list[str] | None = None, **fields: Any) -> Reward:
    """A new reward. ``code_source`` for a voucher or digital reward: ``pool`` (vendor codes, the
    default) or ``generated``; a physical reward has none. Raises ``InvalidRewardInput``."""
    if kind == "physical":
        if code_source is not None:
            raise InvalidRewardInput("a physical reward is shipped and has no codes", field="code_source")
    else:
        code_source = code_source or "pool"
    reward = Reward(kind=kind, code_source=code_source, created_at=now, updated_at=now, descriptions={})
    _apply(reward, fields)
    _check(session, reward)
    session.add(reward)
    _set_tiers(session, reward, tiers or [])
    session.flush()
    return reward


def get_reward(session: Session, reward_id: int) -> Reward:
    """Raises ``RewardNotFound``."""
    reward = session.get(Reward, reward_id)
    if reward is None:
        raise RewardNotFound("no such reward")
    return reward


def update_reward(session: Session, reward_id: int, changes: dict[str, Any], *, now: dt.datetime) -> Reward:
    """Change what ``PATCHABLE`` names (kind and code source stay). Raises ``RewardNotFound``,
    ``InvalidRewardInput``."""
    unknown = set(changes) - PATCHABLE
    if unknown:
        raise ValueError(f"not patchable: {sorted(unknown)}")
    reward = get_reward(session, reward_id)
    _apply(reward, changes)
    if "tiers" in changes:
        _set_tiers(session, reward, changes["tiers"])
    _check(session, reward)
    reward.updated_at = now
    session.flush()
    return reward


def offered(member: Member, now: dt.datetime) -> Any:
    """The SQL test of a reward the member may see and redeem now."""
    tier_ok = or_(~exists().where(RewardTier.reward_id == Reward.id),
                  exists().where(RewardTier.reward_id == Reward.id, RewardTier.tier == member.tier))
    return and_(Reward.active.is_(True), Reward.country == member.country,
                or_(Reward.available_from.is_(None), Reward.available_from <= now),
                or_(Reward.available_until.is_(None), Reward.available_until > now), tier_ok)


def offered_to(session: Session, reward_id: int, member: Member, now: dt.datetime) -> Reward:
    """The reward, when the member may redeem it now. Raises ``RewardNotFound`` (unknown, switched
    off, another country's), ``NotForYourTier`` and ``NotAvailableNow``, in that order."""
    reward = session.get(Reward, reward_id)
    if reward is None or not reward.active or reward.country != member.country:
        raise RewardNotFound()
    if reward.tiers and member.tier not in reward.tiers:
        names = list(session.scalars(select(Tier.name).where(Tier.code.in_(reward.tiers)).order_by(Tier.rank)))
        raise NotForYourTier(names)
    if reward.available_from is not None and reward.available_from > now:
        raise NotAvailableNow(starts_at=reward.available_from)
    if reward.available_until is not None and reward.available_until <= now:
        raise NotAvailableNow(ended_at=reward.available_until)
    return reward


@dataclass(frozen=True)
class CatalogItem:
    reward: Reward
    name: str
    description: str | None
    in_stock: bool
    affordable: bool


def _has_codes(now: dt.datetime) -> Any:
    return exists().where(RewardCode.reward_id == Reward.id, AVAILABLE, usable(now)).label("has_codes")


def _in_stock(reward: Reward, has_codes: bool) -> bool:
    if reward.code_source == "pool":
        return bool(has_codes)
    return reward.stock is None or reward.stock > 0


def catalog(session: Session, *, member: Member, balance: int, now: dt.datetime, category: str | None = None,
            affordable: bool | None = None, sort: str = "newest", after: tuple[int, int] | None = None,
            limit: int = 20) -> list[CatalogItem]:
    """A page of what the member may redeem, in its language: ``sort`` newest first, or by points
    cost (``points_cost`` up, ``-points_cost`` down, ties by id). ``after`` is the (points_cost, id)
    (or (0, id) for newest) of the last item of the previous page."""
    query = select(Reward, _has_codes(now)).where(offered(member, now))
    if category:
        query = query.where(Reward.category == category)
    if affordable is not None:
        query = query.where((Reward.points_cost <= balance) if affordable else (Reward.points_cost > balance))
    if sort == "newest":
        if after:
            query = query.where(Reward.id < after[1])
        query = query.order_by(Reward.id.desc())
    elif sort == "points_cost":
        if after:
            query = query.where(or_(Reward.points_cost > after[0],
                                    and_(Reward.points_cost == after[0], Reward.id > after[1])))
        query = query.order_by(Reward.points_cost, Reward.id)
    else:
        if after:
            query = query.where(or_(Reward.points_cost < after[0],
                                    and_(Reward.points_cost == after[0], Reward.id < after[1])))
        query = query.order_by(Reward.points_cost.desc(), Reward.id.desc())
    return [_item(reward, has_codes, member, balance) for reward, has_codes in session.execute(query.limit(limit))]


def _item(reward: Reward, has_codes: bool, member: Member, balance: int) -> CatalogItem:
    return CatalogItem(reward=reward, name=reward.name_in(member.language),
                       description=reward.description_in(member.language), in_stock=_in_stock(reward, has_codes),
                       affordable=reward.points_cost <= balance)


def catalog_item(session: Session, reward_id: int, *, member: Member, balance: int, now: dt.datetime) -> CatalogItem:
    """One reward as the member's catalog shows it. Raises what ``offered_to`` raises."""
    reward = offered_to(session, reward_id, member, now)
    has_codes = session.scalar(select(_has_codes(now)).select_from(Reward).where(Reward.id == reward.id))
    return _item(reward, bool(has_codes), member, balance)


@dataclass(frozen=True)
class StockCounts:
    available: int  # in the pool, unexpired (or the stock figure; None: unlimited)
    issued: int
    expired_unissued: int  # past (or within a day of) their expiry, never handed out


def stock_counts(session: Session, rewards: list[Reward], now: dt.datetime) -> dict[int, StockCounts]:
    """Per reward: codes available, issued, and expired in the pool unissued (counts, never codes).
    A reward without a pool reports its stock figure as available."""
    ids = [r.id for r in rewards]
    rows = session.execute(
        select(RewardCode.reward_id,
               func.count().filter(AVAILABLE, usable(now)),
               func.count().filter(RewardCode.status == literal_column("'issued'")),
               func.count().filter(AVAILABLE, ~usable(now)))
        .where(RewardCode.reward_id.in_(ids)).group_by(RewardCode.reward_id)
    ).all() if ids else []
    found = {reward_id: (a, i, e) for reward_id, a, i, e in rows}
    counts = {}
    for reward in rewards:
        available, issued, expired = found.get(reward.id, (0, 0, 0))
        if reward.code_source != "pool":
            available = reward.stock  # type: ignore[assignment]
        counts[reward.id] = StockCounts(available=available, issued=issued, expired_unissued=expired)
    return counts


def is_low(reward: Reward, counts: StockCounts) -> bool:
    return counts.available is not None and counts.available < reward.low_stock_threshold


def admin_page(session: Session, *, before_id: int | None, limit: int, country: str | None = None,
               kind: str | None = None) -> list[Reward]:
    """Every reward, switched off ones too, newest first."""
    query = select(Reward)
    if before_id is not None:
        query = query.where(Reward.id < before_id)
    if country:
        query = query.where(Reward.country == country)
    if kind:
        query = query.where(Reward.kind == kind)
    return list(session.scalars(query.order_by(Reward.id.desc()).limit(limit)))
