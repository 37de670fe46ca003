"""What is kept of a receipt: the photo's place and fingerprints, what was read, the decision.

A receipt is ``processing`` from upload until the recognition job decides it ``approved``,
``rejected`` or ``review``; an admin decides the ones in review (``ReceiptDecision`` keeps
every decision, the job's and the admins', and is never changed). What was read is kept
even when the receipt is rejected, so the partner sees why.

One claim per receipt, across all members: ``content_key`` (from the fiscal code's fields, or
from the seller's tax number, receipt number, time and total that OCR read) is UNIQUE among
receipts that are not rejected, so two members photographing one receipt, or one member
photographing it twice from two angles, earn once however the jobs race.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column

from infra.db import Base

STATUSES = ("processing", "approved", "rejected", "review")


class ReceiptProgram(Base):
    """A country's rules for receipts, set by admins (``PUT /admin/receipt-programs/{country}``)."""

    __tablename__ = "receipt_programs"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    # The distributors' and shops' tax numbers whose receipts count; empty: any seller.
    allowed_sellers: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_age_days: Mapped[int] = mapped_column(default=14)
    min_total: Mapped[Decimal] = mapped_column(Numeric(14, 3), default=Decimal(0))
    # A total above this goes to review however well it was read (None: no such threshold).
    review_above: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    member_daily_limit: Mapped[int] = mapped_column(default=5)
    member_weekly_limit: Mapped[int] = mapped_column(default=20)
    seller_daily_limit: Mapped[int] = mapped_column(default=500)
    seller_weekly_limit: Mapped[int] = mapped_column(default=2500)
    # A new member's first receipts go to review.
    first_receipts_reviewed: Mapped[int] = mapped_column(default=1)
    # Which receipt lines are the manufacturer's products: [{"pattern": regex, "category": str}]
    # over the line's text (SKUs, brand names, tyre sizes such as "205/55 R16").
    product_patterns: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[dt.datetime]


class Receipt(Base):
    __tablename__ = "receipts"
    __table_args__ = (
        CheckConstraint("status IN ('processing', 'approved', 'rejected', 'review')", name="status_known"),
        CheckConstraint("points >= 0", name="points_not_negative"),
        Index("ix_receipts_member_id_id", "member_id", "id"),
        Index("ix_receipts_status_id", "status", "id"),
        Index("ix_receipts_member_id_file_sha256", "member_id", "file_sha256"),
        Index("ix_receipts_file_sha256", "file_sha256"),
        Index("ix_receipts_seller_tax_number_uploaded_at", "seller_tax_number", "uploaded_at"),
        Index("uq_receipts_content_key_claimed", "content_key", unique=True,
              postgresql_where=text("status <> 'rejected'"), sqlite_where=text("status <> 'rejected'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))
    country: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(12), default="processing")
    reason_code: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(500))
    points: Mapped[int] = mapped_column(default=0)
    # Points a review would give if approved (shown as pending in the wallet).
    points_pending: Mapped[int] = mapped_column(default=0)
    # What was read: "zatca", "ksef", "atcud", "gst" (a fiscal code) or "ocr".
    format: Mapped[str | None] = mapped_column(String(8))
    merchant: Mapped[str | None] = mapped_column(String(200))
    seller_tax_number: Mapped[str | None] = mapped_column(String(32))
    receipt_number: Mapped[str | None] = mapped_column(String(64))
    purchased_at: Mapped[dt.datetime | None]
    total_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    currency: Mapped[str | None] = mapped_column(String(3))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # What of the total earns: the eligible products' lines, or the total when the program names none.
    eligible_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    # Why a reviewer should look (a warning of the reader, a signal of the photo), as {code, message}.
    signals: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    content_key: Mapped[str | None] = mapped_column(String(300))
    # The seller, the minute and the total, however they were read: the same purchase read once
    # from its fiscal code and once, from a blurred photo, by OCR has two content keys but this
    # one (a second claim of it goes to review).
    purchase_key: Mapped[str | None] = mapped_column(String(120), index=True)
    file_sha256: Mapped[str] = mapped_column(String(64))
    perceptual_hash: Mapped[str | None] = mapped_column(String(16))
    # The file store keys: the upload until it is read, then the stripped copy only.
    upload_key: Mapped[str | None] = mapped_column(String(200))
    image_key: Mapped[str | None] = mapped_column(String(200))
    image_media_type: Mapped[str | None] = mapped_column(String(32))
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id", ondelete="RESTRICT"))
    uploaded_at: Mapped[dt.datetime]
    decided_at: Mapped[dt.datetime | None]


class ReceiptDecision(Base):
    """Every decision on a receipt, the job's (``actor_user_id`` None) and the admins'. Append-only."""

    __tablename__ = "receipt_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    points: Mapped[int] = mapped_column(default=0)
    reason_code: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(500))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime]
