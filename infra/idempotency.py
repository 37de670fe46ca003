"""Stored first responses of value-moving requests, by the client's ``Idempotency-Key``.

A phone on a bad line sends a redemption, loses the answer and sends it again: the
second request must get the first answer, not a second redemption. The record is
written in the same database transaction as the movement itself, so either both
exist or neither does. The key is scoped to the caller, so two users' keys never
collide. The same key with another body is a client bug and is refused.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text, UniqueConstraint, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from infra.db import Base
from infra.errors import IdempotencyConflict


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_idempotency_records_scope_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]
    # The bytes the client got, so a replay is identical to the letter.
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(index=True)


def find(session: Session, *, scope: str, key: str, request_hash: str) -> IdempotencyRecord | None:
    """The first response under this key, or None. Raises ``IdempotencyConflict`` for another body."""
    record = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key))
    if record is not None and record.request_hash != request_hash:
        raise IdempotencyConflict()
    return record


def reserve(session: Session, *, scope: str, key: str, request_hash: str, now: dt.datetime) -> IdempotencyRecord | None:
    """Claim the key for this request before any work is done; None when this request holds it now.

    The claim is a row inserted in the caller's transaction, so it stands or falls with the
    work. Several requests with one key at once: the UNIQUE index makes the others wait for
    the first one's transaction; when it commits they get its record back (to replay its
    response), when it rolls back one of them takes the key. Without the claim, the others
    would run the work themselves and answer 409 "already refunded" instead of the first
    response (the same key and body must get the same answer).

    Returns the earlier record when one exists. Raises ``IdempotencyConflict`` when that
    record was made for another body.
    """
    try:
        with session.begin_nested():
            session.add(IdempotencyRecord(scope=scope, key=key, request_hash=request_hash, status=0, body="",
                                          created_at=now))
    except IntegrityError:
        record = find(session, scope=scope, key=key, request_hash=request_hash)
        if record is None:  # removed meanwhile (forget_before): a key that old is no longer recognised
            return reserve(session, scope=scope, key=key, request_hash=request_hash, now=now)
        return record
    return None


def complete(session: Session, *, scope: str, key: str, status: int, body: str) -> None:
    """Store the response under the key this request reserved."""
    session.execute(update(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
                    .values(status=status, body=body).execution_options(synchronize_session=False))


KEEP = dt.timedelta(days=7)


def forget_before(session: Session, before: dt.datetime, *, limit: int = 10_000) -> int:
    """Delete up to ``limit`` records made before ``before``; returns how many. In slices, so
    a first run on a big table holds no long lock.

    A retry of a request older than this is no longer recognised: keep the window far longer
    than any client retries (a phone offline over a weekend retries within days). A purchase
    is still protected by its receipt number; a redemption by nothing else.
    """
    oldest = select(IdempotencyRecord.id).where(IdempotencyRecord.created_at < before).order_by(
        IdempotencyRecord.created_at).limit(limit)
    return session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id.in_(oldest))).rowcount


def forget_all_before(factory, before: dt.datetime) -> int:  # type: ignore[no-untyped-def]
    """``forget_before`` in slices, each committed, until nothing older is left; returns how many."""
    total = 0
    while True:
        with factory() as session:
            done = forget_before(session, before)
            session.commit()
        total += done
        if not done:
            return total
