"""Messages the program sends one member (a receipt decided, a voucher about to expire): the
``notifications.member_message`` job that ``wallet.messages.tell_member`` queues.

The message goes to the inbox in the member's language and, when the member has agreed to
pushes and has a phone, to the phone. Safe to run twice: one inbox row per message key, and a
push only for a row this run wrote.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from infra.jobs import JobContext, job
from notifications.campaigns import localized
from notifications.devices import Device
from notifications.inbox import Notification
from notifications.jobs import push_sender
from notifications.push import Push
from wallet.members.models import Member


@job("notifications.member_message")
def member_message(ctx: JobContext, *, member_id: int, title: dict[str, str], body: dict[str, str],
                   deep_link: str | None = None) -> None:
    now = ctx.clock()
    with ctx.factory() as session:
        member = session.get(Member, member_id)
        if member is None:
            return
        heading, text = localized({"title": title, "body": body}, member.language)
        note = Notification(member_id=member_id, campaign_id=None, language=member.language, title=heading[:200],
                            body=text, deep_link=deep_link, created_at=now, message_key=f"job:{ctx.job_id}")
        try:
            with session.begin_nested():
                session.add(note)
        except IntegrityError:
            return  # written by an earlier run of this job: its push went (or was tried) then
        tokens = [] if not member.marketing_opt_in else list(session.execute(
            select(Device.token, Device.platform).where(Device.member_id == member_id)))
        session.commit()
    if tokens:
        pushes = [Push(token=t, platform=p, title=heading, body=text,
                       data={k: v for k, v in {"notification_id": str(note.id), "deep_link": deep_link}.items() if v})
                  for t, p in tokens]
        outcomes: list[Any] = push_sender(ctx.resources).send(pushes)
        if any(o.status == "sent" for o in outcomes):
            with ctx.factory() as session:
                session.get(Notification, note.id).pushed_at = now  # type: ignore[union-attr]
                session.commit()
