"""Campaigns: a message for a segment, sent now or at a time, with an optional offer.

Life of a campaign: ``draft`` -> ``scheduled`` -> ``sending`` -> ``sent``. Scheduling
queues ``campaigns.send`` jobs (``notifications.jobs``) due at ``send_at``; they fan the
campaign out in committed steps (``notifications.fanout``). An offer is a bonus, which becomes
a bonus rule for the targeted members only (the till applies it like any other), or a voucher
(``{"kind": "voucher", "reward_id": N}``), which each targeted member may claim once
(``notifications.voucher_offers``).
"""


from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, UniqueConstraint, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from infra.db import Base
from infra.cache import bump
from infra.jobs import enqueue
from notifications import segments, voucher_offers
from notifications.devices import Device
from notifications.errors import Conflict, InvalidInput, NotFound
from notifications.inbox import Notification
from notifications.push import Push
from wallet.earning.rules import BonusRule, Program, within_limits
from wallet.members.models import Member

LANGUAGES = ("en", "ar", "pl")
SEND_JOB = "campaigns.send"


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="RESTRICT"))
    message: Mapped[dict[str, Any]] = mapped_column(JSON)
    offer: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    bonus_rule_id: Mapped[int | None] = mapped_column(ForeignKey("bonus_rules.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    send_at: Mapped[dt.datetime | None]
    created_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime]
    started_at: Mapped[dt.datetime | None]
    # Targeting goes by ranges of member ids: done up to this id; targeted_at once all are.
    targeted_through: Mapped[int] = mapped_column(default=0, server_default="0")
    targeted_at: Mapped[dt.datetime | None]
    # FCM was unavailable: no claims before this (``release``).
    paused_until: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]


class Delivery(Base):
    __tablename__ = "campaign_deliveries"
    __table_args__ = (
        UniqueConstraint("campaign_id", "device_id", name="uq_campaign_deliveries_campaign_device"),
        Index("ix_campaign_deliveries_due", "campaign_id", "status", "due_at", "id"),
        # Pushes in flight per member, for the frequency cap; only claimed rows, so it stays small.
        Index("ix_campaign_deliveries_in_flight", "member_id", postgresql_where=text("status = 'claimed'"),
              sqlite_where=text("status = 'claimed'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="RESTRICT"))
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    member_id: Mapped[int]
    # No foreign key: a device may be deleted (a dead token) while its history stays.
    device_id: Mapped[int]
    token: Mapped[str] = mapped_column(String(4096))
    platform: Mapped[str] = mapped_column(String(8))
    # pending -> claimed -> sent | failed | invalid;  pending -> capped
    status: Mapped[str] = mapped_column(String(8), default="pending")
    due_at: Mapped[dt.datetime]
    deferred: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(String(500))


def localized(message: dict[str, Any], language: str) -> tuple[str, str]:
    """Title and body in ``language``, falling back to English."""
    title, body = message["title"], message["body"]
    return title.get(language) or title["en"], body.get(language) or body["en"]


def create(
    session: Session, *, name: str, segment_id: int, message: dict[str, Any], created_by_user_id: int,
    now: dt.datetime, send_at: dt.datetime | None = None, offer: dict[str, Any] | None = None,
) -> Campaign:
    """A draft. ``offer``: bonus terms (``value`` a Decimal, ``starts_at``/``ends_at`` aware times),
    or a voucher (``{"kind": "voucher", "reward_id": N, "claim_until": aware time | None}``).

    Raises ``InvalidInput`` (segment_id, offer).
    """
    if session.get(segments.Segment, segment_id) is None:
        raise InvalidInput("no such segment", field="segment_id")
    if voucher_offers.is_voucher_offer(offer):
        offer = voucher_offers.checked_offer(session, offer)  # type: ignore[arg-type]
    elif offer:
        program = session.get(Program, offer["country"])
        if program is None:
            raise InvalidInput(f"no earning program is set up for {offer['country']}", field="offer.country")
        if not within_limits(program, offer["kind"], offer["value"]):
            raise InvalidInput("this offer is above what the program lets a campaign give "
                               f"(at most ×{program.max_bonus_multiplier} or {program.max_bonus_per_item} points "
                               "an item); make it a bonus rule an admin approves", field="offer.value")
        # Stored as JSON: decimals and times as strings, read back in ``schedule``.
        offer = {**offer, "value": str(offer["value"]), "starts_at": offer["starts_at"].isoformat(),
                 "ends_at": offer["ends_at"].isoformat()}
    campaign = Campaign(name=name.strip(), segment_id=segment_id, message=message, offer=offer, send_at=send_at,
                        created_by_user_id=created_by_user_id, created_at=now, status="draft")
    session.add(campaign)
    session.flush()
    return campaign


def get(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("no such campaign")
    return campaign


def schedule(session: Session, campaign_id: int, *, now: dt.datetime, senders: int = 1) -> Campaign:
    """Queue a draft for its ``send_at`` (now if none): ``senders`` send jobs due then share
    its fan-out (one per worker process). Its offer becomes a bonus for the targeted members only.

    Raises ``NotFound``, and ``Conflict`` for a campaign that is not a draft.
    """
    campaign = get(session, campaign_id)
    if campaign.status != "draft":
        raise Conflict(f"this campaign is {campaign.status}; only a draft can be scheduled")
    campaign.send_at = campaign.send_at or now
    campaign.status = "scheduled"
    if campaign.offer and not voucher_offers.is_voucher_offer(campaign.offer):
        offer = campaign.offer
        rule = BonusRule(
            name=offer.get("name") or campaign.name, country=offer["country"], kind=offer["kind"],
            value=Decimal(str(offer["value"])), skus=offer.get("skus", []), categories=offer.get("categories", []),
            tiers=[], starts_at=dt.datetime.fromisoformat(offer["starts_at"]),
            ends_at=dt.datetime.fromisoformat(offer["ends_at"]), active=True, audience_only=True, created_at=now,
            created_by_user_id=campaign.created_by_user_id, approved_at=now,  # within limits: checked at create
            approved_by_user_id=campaign.created_by_user_id,
        )
        session.add(rule)
        session.flush()
        bump(session, "bonus_rules")
        campaign.bonus_rule_id = rule.id
    for i in range(max(senders, 1)):
        enqueue(session, SEND_JOB, now=now, run_at=campaign.send_at, dedupe_key=f"{SEND_JOB}:{campaign.id}:{i}",
                campaign_id=campaign.id)
    session.flush()
    return campaign


def due_campaigns(session: Session, now: dt.datetime) -> list[int]:
    """Campaigns to work on: scheduled ones whose time has come, and those still sending."""
    return list(session.scalars(
        select(Campaign.id).where(
            ((Campaign.status == "scheduled") & (Campaign.send_at <= now)) | (Campaign.status == "sending")
        ).order_by(Campaign.id)
    ))


def campaign_push(campaign_id: int, message: dict[str, Any], token: str, platform: str, title: str, body: str, *,
          collapse_key: str, notification_id: int | None = None) -> Push:
    """The push as the app reads it: its data keys (campaign_id, notification_id, deep_link) are a contract."""
    data = {"campaign_id": str(campaign_id), "notification_id": str(notification_id) if notification_id else None,
            "deep_link": message.get("deep_link")}
    return Push(token=token, platform=platform, title=title, body=body,
                data={k: v for k, v in data.items() if v}, image_url=message.get("image_url"),
                collapse_key=collapse_key)


def stats(session: Session, campaign_id: int) -> dict[str, int]:
    """Members targeted and opened; deliveries (devices) by outcome. Raises ``NotFound``."""
    get(session, campaign_id)
    by_status = dict(session.execute(
        select(Delivery.status, func.count()).where(Delivery.campaign_id == campaign_id).group_by(Delivery.status)
    ).all())
    notes = session.execute(
        select(func.count(), func.count(Notification.opened_at)).where(Notification.campaign_id == campaign_id)
    ).one()
    deferred = session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.campaign_id == campaign_id, Delivery.deferred.is_(True))) or 0
    return {
        "targeted": notes[0],
        "sent": by_status.get("sent", 0),
        "failed": by_status.get("failed", 0),
        "skipped_capped": by_status.get("capped", 0),
        "skipped_quiet_hours": deferred,
        "invalid_tokens_removed": by_status.get("invalid", 0),
        "opened": notes[1],
        "waiting": by_status.get("pending", 0) + by_status.get("claimed", 0),
    }


def test_pushes(session: Session, campaign_id: int, *, member_id: int) -> list[Push]:
    """Pushes of this campaign for one member's devices, in their language; no inbox entry, no stats.

    Raises ``NotFound`` (campaign) and ``InvalidInput`` (member_id).
    """
    campaign = get(session, campaign_id)
    member = session.get(Member, member_id)
    if member is None:
        raise InvalidInput("no such member", field="member_id")
    title, body = localized(campaign.message, member.language)
    return [
        campaign_push(campaign.id, campaign.message, d.token, d.platform, f"[TEST] {title}", body,
              collapse_key=f"test-{campaign.id}")
        for d in session.scalars(select(Device).where(Device.member_id == member_id).order_by(Device.id))
    ]


def send_test(session: Session, campaign_id: int, *, member_id: int, sender: Any) -> dict[str, int]:
    """Send the campaign to one member's devices now, marked [TEST]; counts of what FCM took.

    A handful of pushes, answered in the request because the marketer is waiting for the
    outcome. Raises what ``test_pushes`` raises, and ``PushUnavailable`` when FCM is down.
    """
    pushes = test_pushes(session, campaign_id, member_id=member_id)
    outcomes = sender.send(pushes) if pushes else []
    return {"devices": len(pushes), "sent": sum(o.status == "sent" for o in outcomes),
            "failed": sum(o.status != "sent" for o in outcomes)}
