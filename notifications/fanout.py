"""Campaign fan-out, in steps that each commit, so a job can stop anywhere and run again.

1. ``target_next``: the segment's opted-in members, 50,000 member ids at a time, get an
   inbox notification in their language, and each of their devices a delivery row
   (INSERT ... SELECT, one statement each, UNIQUE per campaign so a second run adds
   nothing). Sending starts after the first chunk.
2. ``claim_due``: up to 500 due deliveries are taken; a member in quiet hours (in
   their own timezone) is put off to the morning; a member over the frequency cap is
   skipped; the rest are marked ``claimed`` and committed *before* FCM is called.
3. ``record``: FCM's answer per token is written; dead tokens are deleted.

A claimed delivery is never claimed again, so a retried job cannot send a device
the same campaign twice (at most once; a worker that dies mid-call leaves its batch
``claimed``, and a later run marks such rows failed after ``STALE_AFTER``: ``fail_stale``).
The loop that drives these steps is the ``campaigns.send`` job (``notifications.jobs``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, literal, literal_column, select, text, true, update
from sqlalchemy.orm import Session

from infra.db import among, insert_ignoring, is_postgres
from notifications import devices, segments, voucher_offers
from notifications.campaigns import LANGUAGES, Campaign, Delivery, campaign_push
from notifications.devices import Device
from notifications.errors import NotFound
from notifications.inbox import Notification
from notifications.policy import Policy
from notifications.push import Push
from wallet.earning.rules import BonusAudience
from wallet.members.models import Member

BATCH = 500
EXAMINE_PER_CLAIM = 4  # a claim looks at no more than this many times its limit
TARGET_CHUNK = 50_000  # member ids per targeting step
STALE_AFTER = dt.timedelta(minutes=15)


def target_next(session: Session, campaign_id: int, *, now: dt.datetime, wait: bool = False,
                chunk: int = TARGET_CHUNK) -> Literal["targeted", "busy", "done"]:
    """Target the segment's members in the next ``chunk`` of member ids: their inbox
    notifications and deliveries (idempotent). ``busy`` when another worker is targeting
    this campaign right now (``wait=True`` waits for it instead).

    In chunks, each committed by the caller, so the first pushes go out a second after
    the start instead of after the whole segment (25 s at 1M), and a second worker sends
    while the first targets.
    """
    query = select(Campaign).where(Campaign.id == campaign_id)
    if not session.scalar(select(Campaign.id).where(Campaign.id == campaign_id)):
        raise NotFound("no such campaign")
    campaign = session.scalar(query.with_for_update(skip_locked=not wait))
    if campaign is None:
        return "busy"
    if campaign.status == "scheduled":
        campaign.status, campaign.started_at = "sending", now
    if campaign.status != "sending" or campaign.targeted_at is not None:
        return "done"
    # From the next member id that exists: imported or sparse ids make no run of empty chunks.
    following = session.scalar(select(func.min(Member.id)).where(Member.id > campaign.targeted_through))
    low = campaign.targeted_through if following is None else following - 1
    high = low + chunk
    segment = segments.get(session, campaign.segment_id)
    members = (segments.members_query(segment.rules, now)
               .where(Member.marketing_opt_in.is_(True), Member.id > low, Member.id <= high).subquery())
    message = campaign.message

    def pick(part: str) -> Any:
        texts = message[part]
        return case(*[(Member.language == lang, literal(texts[lang])) for lang in LANGUAGES if texts.get(lang)],
                    else_=literal(texts["en"]))

    # ON CONFLICT DO NOTHING on the UNIQUE (campaign, member) and (campaign, device)
    # keys makes a second run add nothing. Not NOT EXISTS: planned while the table is
    # still empty, that anti-join rescans the growing table per row (quadratic at 1M).
    session.execute(insert_ignoring(session, Notification).from_select(
        ["member_id", "campaign_id", "language", "title", "body", "deep_link", "image_url", "created_at"],
        select(Member.id, literal(campaign.id), Member.language, pick("title"), pick("body"),
               literal(message.get("deep_link")), literal(message.get("image_url")),
               literal(now, type_=Notification.created_at.type))
        .join(members, members.c.id == Member.id)
        .where(true()),  # SQLite's upsert needs a WHERE on INSERT ... SELECT
    ).on_conflict_do_nothing())
    these = (Notification.campaign_id == campaign.id, Notification.member_id > low, Notification.member_id <= high)
    session.execute(insert_ignoring(session, Delivery).from_select(
        ["campaign_id", "notification_id", "member_id", "device_id", "token", "platform", "status", "due_at",
         "deferred"],
        select(literal(campaign.id), Notification.id, Notification.member_id, Device.id, Device.token,
               Device.platform, literal("pending"), literal(now, type_=Delivery.due_at.type), literal(False))
        .join(Device, Device.member_id == Notification.member_id)
        .where(*these),
    ).on_conflict_do_nothing())
    if voucher_offers.is_voucher_offer(campaign.offer):
        voucher_offers.target(session, campaign.id, campaign.offer or {}, chunk=these, now=now)
    if campaign.bonus_rule_id is not None:
        session.execute(insert_ignoring(session, BonusAudience).from_select(
            ["rule_id", "member_id"],
            select(literal(campaign.bonus_rule_id), Notification.member_id).where(*these),
        ).on_conflict_do_nothing())
    campaign.targeted_through = high
    if high >= (session.scalar(select(func.max(Member.id))) or 0):
        campaign.targeted_at = now  # a member who registers after this is not in this campaign
    session.flush()
    return "targeted"


def start(session: Session, campaign_id: int, *, now: dt.datetime) -> int:
    """Target the whole segment in this transaction (idempotent). Returns members targeted."""
    while target_next(session, campaign_id, now=now, wait=True) == "targeted":
        pass
    return session.scalar(select(func.count()).select_from(Notification).where(Notification.campaign_id == campaign_id)) or 0


@dataclass(frozen=True)
class Claimed:
    delivery_ids: list[int]
    notification_ids: list[int]
    pushes: list[Push]
    more: bool = False  # stopped at the examination cap: due deliveries may remain even with no pushes


def _set(session: Session, ids: list[int], **values: Any) -> None:
    if ids:
        session.execute(update(Delivery).where(among(session, Delivery.id, ids)).values(**values)
                        .execution_options(synchronize_session=False))


def _pushes_in_window(session: Session, campaign_id: int, member_ids: list[int], since: dt.datetime) -> dict[int, int]:
    """Per member, other campaigns' pushes that count toward the cap: those FCM accepted since
    ``since`` and those claimed by a worker and not yet answered (in flight).

    Correlated per member on purpose: each count is an index probe whatever the planner
    believes. As one IN (...) over the notifications, PostgreSQL chose a sequential scan of
    a million rows once its statistics lagged a big campaign (115 ms per batch of 500).
    """
    accepted = (select(func.count()).where(Notification.member_id == Member.id, Notification.pushed_at > since,
                                            Notification.campaign_id != campaign_id)
                .correlate(Member).scalar_subquery())
    in_flight = (select(func.count(func.distinct(Delivery.notification_id)))
                 .join(Notification, Notification.id == Delivery.notification_id)
                 # 'claimed' as SQL text, not a parameter: only then does any plan match the
                 # partial index ix_campaign_deliveries_in_flight (WHERE status = 'claimed').
                 .where(Delivery.member_id == Member.id, Delivery.status == literal_column("'claimed'"),
                        Delivery.campaign_id != campaign_id, Notification.pushed_at.is_(None))
                 .correlate(Member).scalar_subquery())
    return {member_id: count for member_id, count in session.execute(
        select(Member.id, accepted + in_flight).where(among(session, Member.id, member_ids))) if count}


def fail_stale(session: Session, campaign_id: int, *, now: dt.datetime) -> int:
    """Deliveries a worker claimed and never answered for (it died mid-call): failed, not retried,
    since FCM may have them. Once per job run, not per batch: the scan walks every claimed
    row version of the campaign that vacuum has not yet removed (14 ms a batch at 1M)."""
    return session.execute(
        update(Delivery)
        .where(Delivery.campaign_id == campaign_id, Delivery.status == "claimed", Delivery.claimed_at < now - STALE_AFTER)
        .values(status="failed", error="the worker stopped while sending; not retried, to never send twice")
        .execution_options(synchronize_session=False)
    ).rowcount


def claim_due(session: Session, campaign_id: int, *, now: dt.datetime, policy: Policy, limit: int = BATCH) -> Claimed:
    """Take up to ``limit`` due deliveries to send now; put off the quiet, skip the capped. Commit before sending.

    Set-based: one locking SELECT, one count for the cap, and one UPDATE per outcome (claimed,
    capped, each distinct morning), whatever the batch size.
    """
    campaign = session.get(Campaign, campaign_id)
    assert campaign is not None
    claimed: list[Any] = []
    if campaign.paused_until is not None and campaign.paused_until > now:
        return Claimed(delivery_ids=[], notification_ids=[], pushes=[])
    # Rows looked at per call, claimed or not: an evening campaign puts most members off to
    # the morning, and one call must not walk (and lock the members of) the whole segment.
    budget = EXAMINE_PER_CLAIM * limit
    more = False
    while len(claimed) < limit:
        if budget <= 0:
            more = True
            break
        rows = session.execute(
            select(Delivery.id, Delivery.notification_id, Delivery.member_id, Delivery.token, Delivery.platform,
                   Member.timezone, Notification.title, Notification.body)
            .join(Member, Member.id == Delivery.member_id)
            .join(Notification, Notification.id == Delivery.notification_id)
            .where(Delivery.campaign_id == campaign_id, Delivery.status == "pending", Delivery.due_at <= now)
            .order_by(Delivery.due_at, Delivery.id)  # the index order: LIMIT stops early, no sort of all pending
            .limit(limit - len(claimed))
            # The member too: two campaigns claiming one member at once would each count the
            # other's push as not yet made. NO KEY UPDATE leaves purchases' foreign-key checks alone.
            .with_for_update(skip_locked=True, key_share=True, of=[Delivery, Member])
        ).all()
        if not rows:
            break
        budget -= len(rows)
        recent = _pushes_in_window(session, campaign_id, list({row.member_id for row in rows}), now - policy.cap_window)
        take, capped, mornings = [], [], defaultdict(list)
        for row in rows:
            local = now.astimezone(ZoneInfo(row.timezone))
            if recent.get(row.member_id, 0) >= policy.cap:
                capped.append(row.id)
            elif policy.quiet(local):
                mornings[policy.morning_after(local)].append(row.id)
            else:
                take.append(row)
        _set(session, capped, status="capped")
        for morning, ids in mornings.items():
            _set(session, ids, due_at=morning, deferred=True)
        _set(session, [row.id for row in take], status="claimed", claimed_at=now)
        claimed.extend(take)
    message = campaign.message
    pushes = [campaign_push(campaign_id, message, row.token, row.platform, row.title, row.body,
                    collapse_key=f"campaign-{campaign_id}", notification_id=row.notification_id)
              for row in claimed]
    return Claimed(delivery_ids=[row.id for row in claimed], notification_ids=[row.notification_id for row in claimed],
                   pushes=pushes, more=more)


def record(session: Session, claimed: Claimed, outcomes: list[Any], *, now: dt.datetime) -> int:
    """Write FCM's answers; delete devices whose tokens are dead. Returns how many tokens were removed."""
    sent = [(delivery_id, o.message_id) for delivery_id, o in zip(claimed.delivery_ids, outcomes) if o.status == "sent"]
    if sent and is_postgres(session):
        # One statement for the whole batch: the message ids ride along as a second array.
        session.execute(text(
            "UPDATE campaign_deliveries AS d SET status = 'sent', sent_at = :now, message_id = v.message_id"
            " FROM unnest(CAST(:ids AS bigint[]), CAST(:message_ids AS varchar[])) AS v(id, message_id)"
            " WHERE d.id = v.id"
        ), {"now": now, "ids": [i for i, _ in sent], "message_ids": [m for _, m in sent]})
    elif sent:
        session.execute(update(Delivery), [{"id": i, "status": "sent", "message_id": m, "sent_at": now} for i, m in sent])
    others = [{"id": delivery_id, "status": o.status, "error": o.error}
              for delivery_id, o in zip(claimed.delivery_ids, outcomes) if o.status != "sent"]
    if others:
        session.execute(update(Delivery), others)  # one executemany by primary key; failures are few
    pushed = sorted({n for n, o in zip(claimed.notification_ids, outcomes) if o.status == "sent"})
    if pushed:
        session.execute(update(Notification)
                        .where(among(session, Notification.id, pushed), Notification.pushed_at.is_(None))
                        .values(pushed_at=now).execution_options(synchronize_session=False))
    removed = devices.remove_tokens(session, [o.token for o in outcomes if o.status == "invalid"])
    session.flush()
    return removed


def release(session: Session, campaign_id: int, claimed: Claimed, *, until: dt.datetime) -> None:
    """Pause the campaign until ``until`` and put the claimed batch back: FCM was unavailable
    (``FcmUnavailable``) and accepted none of it, so it goes again then. The one way a device
    could get it twice is a request that timed out after FCM took it, the same risk as any retry."""
    _set(session, claimed.delivery_ids, status="pending", claimed_at=None)
    session.execute(update(Campaign).where(Campaign.id == campaign_id)
                    .values(paused_until=until).execution_options(synchronize_session=False))


def finish_if_done(session: Session, campaign_id: int, *, now: dt.datetime) -> bool:
    """Mark the campaign sent when no delivery is waiting (deferred ones keep it sending)."""
    waiting = session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.campaign_id == campaign_id, Delivery.status.in_(["pending", "claimed"])))
    campaign = session.get(Campaign, campaign_id)
    assert campaign is not None
    if waiting == 0 and campaign.status == "sending" and campaign.targeted_at is not None:
        campaign.status, campaign.finished_at = "sent", now
        session.flush()
        return True
    return False


def next_due(session: Session, campaign_id: int) -> dt.datetime | None:
    """When the campaign next has work: its first put-off delivery (not before a pause ends), or
    the moment a claim left by a worker that died becomes stale (``fail_stale``). None: nothing waits."""
    due = session.scalar(select(func.min(Delivery.due_at)).where(
        Delivery.campaign_id == campaign_id, Delivery.status == "pending"))
    paused_until = session.scalar(select(Campaign.paused_until).where(Campaign.id == campaign_id))
    if due is not None and paused_until is not None:
        due = max(due, paused_until)
    oldest_claim = session.scalar(select(func.min(Delivery.claimed_at)).where(
        Delivery.campaign_id == campaign_id, Delivery.status == "claimed"))
    stale_at = oldest_claim + STALE_AFTER if oldest_claim is not None else None
    return min((t for t in (due, stale_at) if t is not None), default=None)


