"""The passes a member holds in Apple Wallet or Google Wallet, and the phones registered for updates.

A ``WalletPass`` row exists once something outside needs to know about a pass: a phone
registered it with the PassKit web service, or Google holds its object. It records the
content hash last announced, so an update job that finds the same hash sends nothing (jobs
run twice), and ``updated_at`` is the pass's Last-Modified and the "updated since" tag a
phone asks with. ``notified_hash`` is the hash the phones were last pushed for: committed
after the pushes, so a job that died between the two pushes again rather than never.

The authentication token Wallet sends back is never stored: it is an HMAC of the serial
number (``passes.registrations.token_for``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from infra.db import Base

KINDS = ("member", "voucher")


class WalletPass(Base):
    __tablename__ = "wallet_passes"
    __table_args__ = (
        CheckConstraint("kind IN ('member', 'voucher')", name="kind_known"),
        CheckConstraint("(kind = 'voucher') = (voucher_id IS NOT NULL)", name="voucher_pass_names_its_voucher"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    serial_number: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"), index=True)
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id", ondelete="RESTRICT"), unique=True)
    # Apple: the hash of the pass last made current, and the one the phones were pushed for.
    content_hash: Mapped[str | None] = mapped_column(String(64))
    notified_hash: Mapped[str | None] = mapped_column(String(64))
    # Google: the hash of the object last PATCHed (None: Google holds no object, or never saved).
    google_hash: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(index=True)
    created_at: Mapped[dt.datetime]

    registrations: Mapped[list["PassRegistration"]] = relationship(back_populates="wallet_pass",
                                                                   cascade="all, delete-orphan")


class PassRegistration(Base):
    """One phone (Wallet's device library) that asked to be told when a pass changes."""

    __tablename__ = "pass_registrations"
    __table_args__ = (UniqueConstraint("device_library_id", "pass_id", name="uq_pass_registrations_device_pass"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_library_id: Mapped[str] = mapped_column(String(128))  # the unique pair serves its lookups
    pass_id: Mapped[int] = mapped_column(ForeignKey("wallet_passes.id", ondelete="CASCADE"), index=True)
    push_token: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]

    wallet_pass: Mapped[WalletPass] = relationship(back_populates="registrations")
