"""A campaign's voucher offer: the targeted members may each claim one voucher of a reward, free.

The campaign's ``offer`` is ``{"kind": "voucher", "reward_id": N, "claim_until": time | None}``.
Fan-out (``fanout.target_next``) writes one offer row per targeted member of the reward's
country, chunk by chunk, UNIQUE per (campaign, member), so a second run adds nothing. The
member finds it at ``GET /me/offers`` and claims it once: the claim locks the offer row, so
two taps at once issue one voucher, and the second is told the voucher is already in the
wallet. No points move; the voucher comes out of the reward's stock like any other.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, UniqueConstraint, literal, or_, select, true
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from infra.db import Base, insert_ignoring
from notifications.errors import InvalidInput
from notifications.inbox import Notification
from wallet.members.models import Member
from wallet.rewards import redemption
from wallet.rewards.codes import CodeVault
from wallet.rewards.errors import NotAvailableNow, OfferAlreadyClaimed, OfferNotFound
from wallet.rewards.models import Reward, Voucher

KIND = "voucher"


class VoucherOffer(Base):
    __tablename__ = "voucher_offers"
    __table_args__ = (
        UniqueConstraint("campaign_id", "member_id", name="uq_voucher_offers_campaign_member"),
        Index("ix_voucher_offers_member_id_id", "member_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="RESTRICT"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id", ondelete="RESTRICT"))
    claim_until: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
    claimed_at: Mapped[dt.datetime | None]
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id", ondelete="RESTRICT"), unique=True)

    reward: Mapped[Reward] = relationship(lazy="joined", viewonly=True)


def is_voucher_offer(offer: dict[str, Any] | None) -> bool:
    return bool(offer) and offer.get("kind") == KIND  # type: ignore[union-attr]


def checked_offer(session: Session, offer: dict[str, Any]) -> dict[str, Any]:
    """The offer as a campaign stores it (JSON). Raises ``InvalidInput`` (``offer.reward_id``)."""
    reward = session.get(Reward, offer["reward_id"])
    if reward is None:
        raise InvalidInput("no such reward", field="offer.reward_id")
    if reward.kind == "physical":
        raise InvalidInput("a campaign offers a voucher, not a shipped reward", field="offer.reward_id")
    if not reward.active:
        raise InvalidInput("this reward is switched off", field="offer.reward_id")
    until = offer.get("claim_until")
    return {"kind": KIND, "reward_id": reward.id, "claim_until": until.isoformat() if until else None}


def target(session: Session, campaign_id: int, offer: dict[str, Any], *, chunk: tuple[Any, ...],
           now: dt.datetime) -> None:
    """Offer rows for the members of this targeting chunk (``chunk``: the conditions on the
    campaign's notifications) who live where the reward is offered. Idempotent."""
    reward = session.get(Reward, offer["reward_id"])
    if reward is None:
        return
    until = dt.datetime.fromisoformat(offer["claim_until"]) if offer.get("claim_until") else None
    session.execute(insert_ignoring(session, VoucherOffer).from_select(
        ["campaign_id", "member_id", "reward_id", "claim_until", "created_at"],
        select(literal(campaign_id), Notification.member_id, literal(reward.id),
               literal(until, type_=VoucherOffer.claim_until.type), literal(now, type_=VoucherOffer.created_at.type))
        .join(Member, Member.id == Notification.member_id)
        .where(*chunk, Member.country == reward.country, true()),
    ).on_conflict_do_nothing())


def open_offers(session: Session, *, member_id: int, now: dt.datetime, before_id: int | None,
                limit: int) -> list[VoucherOffer]:
    """The member's offers it can still claim, newest first."""
    query = select(VoucherOffer).where(
        VoucherOffer.member_id == member_id, VoucherOffer.claimed_at.is_(None),
        or_(VoucherOffer.claim_until.is_(None), VoucherOffer.claim_until > now))
    if before_id is not None:
        query = query.where(VoucherOffer.id < before_id)
    return list(session.scalars(query.order_by(VoucherOffer.id.desc()).limit(limit)))


def claim(session: Session, *, member: Member, offer_id: int, now: dt.datetime, vault: CodeVault) -> Voucher:
    """Claim the member's offer: its voucher, issued once. Raises ``OfferNotFound`` (another
    member's included), ``OfferAlreadyClaimed``, ``NotAvailableNow`` (the claim window ended) and
    what ``redemption.grant`` raises (out of stock: the offer stays claimable)."""
    offer = session.scalar(select(VoucherOffer).where(VoucherOffer.id == offer_id).with_for_update(of=VoucherOffer)
                           .execution_options(populate_existing=True))
    if offer is None or offer.member_id != member.id:
        raise OfferNotFound()
    if offer.claimed_at is not None:
        raise OfferAlreadyClaimed(claimed_at=offer.claimed_at, voucher_id=offer.voucher_id)
    if offer.claim_until is not None and offer.claim_until <= now:
        raise NotAvailableNow(ended_at=offer.claim_until)
    voucher = redemption.grant(session, member=member, reward_id=offer.reward_id, now=now, vault=vault)
    offer.claimed_at, offer.voucher_id = now, voucher.id
    session.flush()
    return voucher
