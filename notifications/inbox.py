"""The in-app inbox: every campaign message and every message to the member alone (a receipt
decided, a voucher about to expire), pushed or not."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from infra.db import Base
from notifications.errors import NotFound


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("campaign_id", "member_id", name="uq_notifications_campaign_member"),
        Index("ix_notifications_member_id_id", "member_id", "id"),
        Index("ix_notifications_member_id_pushed_at", "member_id", "pushed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="RESTRICT"))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    deep_link: Mapped[str | None] = mapped_column(String(500))
    image_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime]
    # A message to one member (not a campaign's): its key, so the job that writes it twice writes it once.
    message_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # When a push for it was first accepted by FCM; the frequency cap counts these.
    pushed_at: Mapped[dt.datetime | None]
    read_at: Mapped[dt.datetime | None]
    opened_at: Mapped[dt.datetime | None]


def page(session: Session, *, member_id: int, before_id: int | None, limit: int) -> list[Notification]:
    query = select(Notification).where(Notification.member_id == member_id)
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    return list(session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def mark(session: Session, *, member_id: int, notification_id: int, read: bool, opened: bool,
         now: dt.datetime) -> Notification:
    """Mark the member's own notification read and/or opened (the first time counts). Raises ``NotFound``."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.member_id != member_id:
        raise NotFound("no such notification")
    if (read or opened) and notification.read_at is None:
        notification.read_at = now
    if opened and notification.opened_at is None:
        notification.opened_at = now
    session.flush()
    return notification
