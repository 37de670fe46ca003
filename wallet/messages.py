"""Telling a member something (a receipt decided, a voucher about to expire) without the
wallet knowing how messages travel.

The wallet sits below ``notifications`` (which imports members and the ledger), so it does
not write inbox rows or push itself: it queues a ``notifications.member_message`` job in
the caller's transaction, and ``notifications.messages`` puts the message in the member's
inbox and pushes it to their phones. The job name is the contract between the two (a test
checks every job name the code queues has a handler). ``key`` makes a message once only:
the same key queued twice is one message.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from infra.jobs import enqueue

MEMBER_MESSAGE_JOB = "notifications.member_message"


def tell_member(session: Session, *, member_id: int, key: str, title: dict[str, str], body: dict[str, str],
                now: dt.datetime, deep_link: str | None = None) -> None:
    """Queue a message (``title``/``body`` by language: "en" required, "ar" and "pl" when there)."""
    if "en" not in title or "en" not in body:
        raise ValueError("a member message needs its English text")
    enqueue(session, MEMBER_MESSAGE_JOB, now=now, dedupe_key=f"message:{key}"[:200], member_id=member_id,
            title=title, body=body, deep_link=deep_link)
