"""A member's phones, by their FCM registration token.

Upserted by token: a phone that changes hands (a shared shop phone, a new login)
moves to the member who registered it last, so pushes follow the person signed in.

Tokens are unique by their SHA-256 (``token_digest``), not by the text: a B-tree index
entry holds at most about 2.7 KB on PostgreSQL, and a registration token may be longer.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import CheckConstraint, ForeignKey, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from infra.db import Base
from notifications.errors import NotFound

PLATFORMS = ("android", "ios", "web")


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (CheckConstraint("platform IN ('android', 'ios', 'web')", name="platform_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(4096))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    platform: Mapped[str] = mapped_column(String(8))
    locale: Mapped[str | None] = mapped_column(String(35))
    app_version: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def register(
    session: Session, *, member_id: int, token: str, platform: str, now: dt.datetime,
    locale: str | None = None, app_version: str | None = None,
) -> Device:
    query = select(Device).where(Device.token_digest == digest(token)).with_for_update()
    device = session.scalar(query)
    if device is None:
        try:
            with session.begin_nested():
                device = Device(token=token, token_digest=digest(token), created_at=now, member_id=member_id, platform=platform, last_seen_at=now)
                session.add(device)
        except IntegrityError:  # the same phone registered twice at once: update the winner's row
            device = session.scalar(query)
            assert device is not None
    device.member_id, device.platform, device.last_seen_at = member_id, platform, now
    device.locale, device.app_version = locale, app_version
    session.flush()
    return device


def unregister(session: Session, *, member_id: int, token: str) -> None:
    """Raises ``NotFound`` when the member has no device with this token (another's token included)."""
    result = session.execute(delete(Device).where(Device.token_digest == digest(token), Device.member_id == member_id))
    if result.rowcount == 0:
        raise NotFound("no such device")


def remove_tokens(session: Session, tokens: list[str]) -> int:
    """Forget tokens FCM says are dead; returns how many were known."""
    if not tokens:
        return 0
    return session.execute(delete(Device).where(Device.token_digest.in_([digest(t) for t in tokens]))).rowcount
