"""Stored first responses of value-moving requests, by the client's ``Idempotency-Key``.

A phone on a bad line sends a redemption, loses the answer and sends it again: the
second request must get the first answer, not a second redemption. The record is
written in the same database transaction as the movement itself, so either both
exist or neither does. The key is scoped to the caller, so two users' keys never
collide. The same key with another body is a client bug and is refused.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text, UniqueConstraint, delete, select
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


def save(
    session: Session, *, scope: str, key: str, request_hash: str, status: int, body: str, now: dt.datetime
) -> None:
    """Store the response. Raises ``IdempotencyConflict`` when a concurrent request stored one first."""
    try:
        with session.begin_nested():
            session.add(IdempotencyRecord(scope=scope, key=key, request_hash=request_hash, status=status,
                                          body=body, created_at=now))
    except IntegrityError as exc:
        raise IdempotencyConflict("a request with this idempotency key is already being processed") from exc


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
