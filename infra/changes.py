"""Notes, on a session, of which things changed in its transaction: for whoever reacts after.

A domain package that changes something by a bulk UPDATE (which no ORM event sees) says so
with ``note(session, "voucher", id)``; a package above it (``passes.tracking``) reads the
notes before the commit and queues its jobs in the same transaction. The wallet thereby
never imports what reacts to it. A rollback drops the notes with the work.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

NOTES = "changed_things"


def note(session: Session, kind: str, thing_id: int) -> None:
    session.info.setdefault(NOTES, {}).setdefault(kind, set()).add(thing_id)


def take(session: Session) -> dict[str, set[int]]:
    """The notes so far, removed from the session."""
    return session.info.pop(NOTES, None) or {}


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(NOTES, None)
