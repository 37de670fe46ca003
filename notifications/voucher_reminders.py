"""The reminder a member gets a week before a voucher expires: in the inbox, and pushed to its
phones when it opted in and has any.

An hourly job (``rewards.voucher_reminders``) takes the vouchers whose ``remind_at`` has come,
a batch at a time (``SKIP LOCKED``: two workers share the work), writes each one's inbox
message and marks it ``reminded_at`` in one commit, and only then pushes: so a voucher is
reminded at most once, whatever retries, and a push never announces a message that was
rolled back. A member in its quiet hours (its own clock) is left for a later run; the
reminder waits for the morning rather than waking anyone. Reminders are the member's own
business, not marketing: they do not count towards the campaigns' weekly cap.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import literal_column, select
from sqlalchemy.orm import Session, sessionmaker

from infra.jobs import JobContext, job
from notifications import devices
from notifications.devices import Device
from notifications.inbox import Notification
from notifications.jobs import push_sender
from notifications.policy import Policy
from notifications.push import Push, PushUnavailable
from wallet.members.models import Member
from wallet.rewards.models import Reward, Voucher

logger = logging.getLogger(__name__)

BATCH = 500
TEXTS = {
    "en": ("Your voucher expires soon", "{reward} expires on {date}. Use it before then."),
    "ar": ("قسيمتك تنتهي قريبًا", "تنتهي صلاحية {reward} في {date}. استخدمها قبل ذلك."),
    "pl": ("Twój voucher wkrótce wygaśnie", "{reward} wygasa {date}. Wykorzystaj go wcześniej."),
}


def _texts(language: str, reward_names: dict[str, str], expires_at: dt.datetime, zone: str) -> tuple[str, str]:
    title, body = TEXTS.get(language, TEXTS["en"])
    name = reward_names.get(language) or reward_names["en"]
    return title, body.format(reward=name, date=expires_at.astimezone(ZoneInfo(zone)).date().isoformat())


def _batch(session: Session, *, now: dt.datetime, after_id: int, policy: Policy,
           limit: int) -> tuple[int, list[Push], list[int], int | None]:
    """Remind the next batch; returns how many were reminded, the pushes to send after the
    commit with their notification ids, and the last voucher id looked at (None: nothing left)."""
    rows = session.execute(
        select(Voucher, Member, Reward.names)
        .join(Member, Member.id == Voucher.member_id).join(Reward, Reward.id == Voucher.reward_id)
        .where(Voucher.status == literal_column("'active'"), Voucher.reminded_at.is_(None),
               Voucher.remind_at <= now, Voucher.expires_at > now, Voucher.id > after_id)
        .order_by(Voucher.id).limit(limit)
        .with_for_update(skip_locked=True, of=Voucher)
    ).all()
    if not rows:
        return 0, [], [], None
    reminded = 0
    pushes: list[Push] = []
    notes: list[int] = []
    for voucher, member, names in rows:
        if policy.quiet(now.astimezone(ZoneInfo(member.timezone))):
            continue  # a later run, after the member's night
        title, body = _texts(member.language, names, voucher.expires_at, member.timezone)
        link = f"partnerwallet://vouchers/{voucher.id}"
        note = Notification(member_id=member.id, campaign_id=None, language=member.language, title=title, body=body,
                            deep_link=link, created_at=now)
        session.add(note)
        session.flush()
        voucher.reminded_at = now
        reminded += 1
        if member.marketing_opt_in:
            for device in session.scalars(select(Device).where(Device.member_id == member.id).order_by(Device.id)):
                pushes.append(Push(token=device.token, platform=device.platform, title=title, body=body,
                                   data={"voucher_id": str(voucher.id), "notification_id": str(note.id),
                                         "deep_link": link},
                                   collapse_key=f"voucher-{voucher.id}"))
                notes.append(note.id)
    session.flush()
    return reminded, pushes, notes, rows[-1][0].id


def _push(factory: sessionmaker[Session], sender: Any, pushes: list[Push], notes: list[int], now: dt.datetime) -> int:
    try:
        outcomes = sender.send(pushes)
    except PushUnavailable as outage:
        logger.warning("voucher reminders: %d pushes not sent, push unavailable: %s (the inbox has them)",
                       len(pushes), outage)
        return 0
    pushed = {note for note, outcome in zip(notes, outcomes) if outcome.status == "sent"}
    with factory() as session:
        for note in session.scalars(select(Notification).where(Notification.id.in_(pushed))):
            note.pushed_at = note.pushed_at or now
        devices.remove_tokens(session, [o.token for o in outcomes if o.status == "invalid"])
        session.commit()
    return len(pushed)


def send_reminders(factory: sessionmaker[Session], *, now: dt.datetime, sender: Any, policy: Policy,
                   batch: int = BATCH) -> dict[str, int]:
    """Remind every voucher that is due; returns how many were reminded and how many inbox
    messages were pushed to at least one phone."""
    after, reminded, pushed = 0, 0, 0
    while True:
        with factory() as session:
            done, pushes, notes, last = _batch(session, now=now, after_id=after, policy=policy, limit=batch)
            session.commit()
        if last is None:
            return {"reminded": reminded, "pushed": pushed}
        reminded, after = reminded + done, last
        if pushes:
            pushed += _push(factory, sender, pushes, notes, now)


@job("rewards.voucher_reminders", every=dt.timedelta(hours=1), offset=dt.timedelta(minutes=35))
def remind(ctx: JobContext) -> dict[str, int]:
    return send_reminders(ctx.factory, now=ctx.clock(), sender=push_sender(ctx.resources),
                          policy=Policy.from_settings(ctx.settings))
