"""Seeing, in any session, that a member's pass may have changed, and queueing its update.

One listener instead of a call at every place that moves points: after each flush it looks
at what the flush wrote (a member account's ``balance``, a member's ``tier``, a user's
``name``; the points expiring soonest only change with the balance) and, for vouchers
changed by bulk UPDATEs, at the notes ``infra.changes`` holds. Before the commit it queues
one ``passes.*_changed`` job per member or voucher *per minute* (the job's dedupe key names
the minute), to run when that minute ends: a burst of ten earns makes one job, one content
hash, one push per phone. That costs a purchase one statement (INSERT ... ON CONFLICT DO
NOTHING into ``jobs``), in its own transaction, so the job exists exactly when the change does.

The till knows whether the member was ever served a pass of its card (``Member.holds_wallet_pass``,
read with the member it locks) and notes nothing for one who was not: for most members a
purchase then queues nothing. Elsewhere a member without passes gets the job too; it reads one
row and stops.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from infra import changes
from infra.clock import session_clock
from infra.jobs import enqueue
from wallet.ledger.models import LedgerAccount
from wallet.members.models import Member, User
from wallet.rewards.models import Voucher

MEMBER_JOB = "passes.member_changed"
VOUCHER_JOB = "passes.voucher_changed"
COALESCE_SECONDS = 60


def _changed(obj: Any, name: str) -> bool:
    return inspect(obj).attrs[name].history.has_changes()


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _context: Any) -> None:
    # after_flush still shows the flush's objects and their attribute history
    for obj in session.dirty:
        if isinstance(obj, LedgerAccount):
            if obj.owner_type == "member" and _changed(obj, "balance"):
                changes.note(session, "member", obj.owner_id)
        elif isinstance(obj, Member):
            if _changed(obj, "tier"):
                changes.note(session, "member", obj.id)
        elif isinstance(obj, User):
            if _changed(obj, "name"):
                changes.note(session, "user", obj.id)
        elif isinstance(obj, Voucher):
            if _changed(obj, "status"):
                changes.note(session, "voucher", obj.id)


def slot_of(now: dt.datetime) -> tuple[int, dt.datetime]:
    """The minute ``now`` falls in, and when it ends (when its job runs)."""
    slot = int(now.timestamp()) // COALESCE_SECONDS
    return slot, dt.datetime.fromtimestamp((slot + 1) * COALESCE_SECONDS, dt.timezone.utc)


def schedule(session: Session, kind: str, thing_id: int, now: dt.datetime) -> int | None:
    """Queue the update of a member's (``kind`` "member") or a voucher's pass, coalesced per minute."""
    name = MEMBER_JOB if kind == "member" else VOUCHER_JOB
    slot, run_at = slot_of(now)
    return enqueue(session, name, now=now, run_at=run_at, dedupe_key=f"{name}:{thing_id}@{slot}",
                   **{f"{kind}_id": thing_id})


@event.listens_for(Session, "before_commit")
def _schedule(session: Session) -> None:
    session.flush()  # what is still pending is seen by _collect first
    if changes.NOTES not in session.info:
        return
    noted = changes.take(session)
    if not noted:
        return
    now = session_clock(session.info)()
    members = set(noted.get("member", ()))
    users = noted.get("user")
    if users:
        members.update(session.scalars(select(Member.id).where(Member.user_id.in_(sorted(users)))))
    for member_id in sorted(members):
        schedule(session, "member", member_id, now)
    for voucher_id in sorted(noted.get("voucher", ())):
        schedule(session, "voucher", voucher_id, now)
