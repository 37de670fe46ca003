"""The rewards' tables: the catalog, code pools and their imports, redemptions, vouchers, orders.

What the database itself holds to (the migration adds triggers for the first two):
- a code is issued at most once: ``vouchers.code_id`` is UNIQUE, and a code once
  ``issued`` never goes back to ``available``;
- a voucher that is used, expired or cancelled never changes again (so "used exactly
  once" does not rest on Python alone), and ``used`` always says when, where and by whom;
- no code is stored in plain text: ``ciphertext`` is AES-GCM (``wallet.rewards.codes``)
  and the till finds a code by ``lookup_hash``, a keyed HMAC;
- redemptions and order events are append-only (on PostgreSQL the application's role may
  not UPDATE or DELETE them).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from infra.db import Base
from wallet.members.models import Store

KINDS = ("voucher", "digital", "physical")
CODE_SOURCES = ("pool", "generated")
VOUCHER_STATUSES = ("active", "used", "expired", "cancelled")
ORDER_STATUSES = ("ordered", "confirmed", "shipped", "delivered", "cancelled")


def _known(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Reward(Base):
    """A thing partners spend points on. ``voucher`` and ``digital`` rewards hand out codes, from a
    vendor's pool (``code_source = 'pool'``: the pool is the stock) or made by the program
    (``generated``: ``stock`` counts, None is unlimited); ``physical`` ones are shipped (``stock``)."""

    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint(_known("kind", KINDS), name="kind_known"),
        CheckConstraint("(kind = 'physical') = (code_source IS NULL)", name="codes_unless_physical"),
        CheckConstraint("code_source IS NULL OR " + _known("code_source", CODE_SOURCES), name="code_source_known"),
        CheckConstraint("code_source IS NULL OR code_source <> 'pool' OR stock IS NULL", name="pool_is_the_stock"),
        CheckConstraint("points_cost > 0", name="cost_positive"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
        CheckConstraint("(face_value_amount IS NULL) = (face_value_currency IS NULL)", name="face_value_whole"),
        CheckConstraint("validity_days > 0", name="validity_positive"),
        CheckConstraint("available_from IS NULL OR available_until IS NULL OR available_until > available_from",
                        name="window_ordered"),
        Index("ix_rewards_country_active_points_cost", "country", "active", "points_cost"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    code_source: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    country: Mapped[str] = mapped_column(String(2))
    points_cost: Mapped[int]
    face_value_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    face_value_currency: Mapped[str | None] = mapped_column(String(3))
    stock: Mapped[int | None]
    limit_per_day: Mapped[int | None]
    limit_per_month: Mapped[int | None]
    limit_ever: Mapped[int | None]
    # A voucher is valid this many days from its issue (or until its vendor code expires, if sooner).
    validity_days: Mapped[int] = mapped_column(default=365)
    available_from: Mapped[dt.datetime | None]
    available_until: Mapped[dt.datetime | None]
    # {"en": ..., "ar": ..., "pl": ...}; English always there (the fallback).
    names: Mapped[dict[str, str]] = mapped_column(JSON)
    descriptions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    image_key: Mapped[str | None] = mapped_column(String(255))
    image_sha256: Mapped[str | None] = mapped_column(String(64))
    image_content_type: Mapped[str | None] = mapped_column(String(32))
    # Fewer codes (or stock) than this left: a warning in the log, and the admin list says low_stock.
    low_stock_threshold: Mapped[int] = mapped_column(default=50)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    tier_rows: Mapped[list["RewardTier"]] = relationship(lazy="selectin", cascade="all, delete-orphan")

    @property
    def tiers(self) -> list[str]:
        """The tiers that may see and redeem it; empty: every tier."""
        return sorted(row.tier for row in self.tier_rows)

    def name_in(self, language: str) -> str:
        return self.names.get(language) or self.names["en"]

    def description_in(self, language: str) -> str | None:
        return (self.descriptions or {}).get(language) or (self.descriptions or {}).get("en")

    @property
    def face_value(self) -> dict[str, Any] | None:
        if self.face_value_amount is None:
            return None
        return {"amount": self.face_value_amount, "currency": self.face_value_currency}


class RewardTier(Base):
    __tablename__ = "reward_tiers"

    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id", ondelete="CASCADE"), primary_key=True)
    tier: Mapped[str] = mapped_column(ForeignKey("tiers.code", ondelete="RESTRICT"), primary_key=True)


class CodeImport(Base):
    """One upload of a vendor's CSV: who, when, what it held and what came of it (never the codes)."""

    __tablename__ = "reward_code_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id", ondelete="RESTRICT"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    file_sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(default=0)
    imported: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime]


class RewardCode(Base):
    """A code of a reward: a vendor's, imported into the pool (``available`` until it is issued), or
    one the program made for a voucher (``issued`` from the start)."""

    __tablename__ = "reward_codes"
    __table_args__ = (
        CheckConstraint(_known("status", ("available", "issued")), name="status_known"),
        CheckConstraint(_known("source", ("vendor", "generated")), name="source_known"),
        CheckConstraint("(status = 'issued') = (issued_at IS NOT NULL)", name="issued_when"),
        # The claim walks this index: a reward's available codes, soonest expiry first.
        Index("ix_reward_codes_available", "reward_id", "expires_at", "id",
              postgresql_where=text("status = 'available'"), sqlite_where=text("status = 'available'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id", ondelete="RESTRICT"))
    # HMAC-SHA256 of the normalised code under the lookup key, hex: how a typed code is found.
    lookup_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[str] = mapped_column(String(16))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    pin_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[dt.datetime | None]
    import_id: Mapped[int | None] = mapped_column(ForeignKey("reward_code_imports.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime]
    issued_at: Mapped[dt.datetime | None]


class Redemption(Base):
    """A partner spending points on a reward: what, how many, for how much. Append-only."""

    __tablename__ = "redemptions"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("points_spent >= 0", name="points_not_negative"),
        Index("ix_redemptions_member_id_id", "member_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id", ondelete="RESTRICT"), index=True)
    quantity: Mapped[int]
    points_spent: Mapped[int]
    created_at: Mapped[dt.datetime]


class Voucher(Base):
    """A code in a member's wallet. Its points (when it was bought with points) are one ledger
    transaction of its own, so cancelling one voucher of several refunds exactly its share."""

    __tablename__ = "vouchers"
    __table_args__ = (
        CheckConstraint(_known("status", VOUCHER_STATUSES), name="status_known"),
        CheckConstraint(_known("source", ("redemption", "offer")), name="source_known"),
        CheckConstraint("(status = 'used') = (used_at IS NOT NULL AND used_store_id IS NOT NULL "
                        "AND used_by_user_id IS NOT NULL)", name="used_where_and_by_whom"),
        CheckConstraint("(status = 'cancelled') = (cancelled_at IS NOT NULL)", name="cancelled_when"),
        CheckConstraint("expires_at > issued_at", name="expires_after_issue"),
        Index("ix_vouchers_member_id_id", "member_id", "id"),
        Index("ix_vouchers_member_id_reward_id_issued_at", "member_id", "reward_id", "issued_at"),
        # The expiry sweep and the reminders look only at active vouchers.
        Index("ix_vouchers_active_expires_at", "expires_at",
              postgresql_where=text("status = 'active'"), sqlite_where=text("status = 'active'")),
        Index("ix_vouchers_reminder_due", "remind_at",
              postgresql_where=text("status = 'active' AND reminded_at IS NULL"),
              sqlite_where=text("status = 'active' AND reminded_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id", ondelete="RESTRICT"))
    redemption_id: Mapped[int | None] = mapped_column(ForeignKey("redemptions.id", ondelete="RESTRICT"), index=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("reward_codes.id", ondelete="RESTRICT"), unique=True)
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id", ondelete="RESTRICT"))
    source: Mapped[str] = mapped_column(String(16), default="redemption")
    points: Mapped[int] = mapped_column(default=0)
    # The reward's country when it was issued: a till elsewhere refuses it.
    country: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(16), default="active")
    issued_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    used_store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="RESTRICT"))
    used_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    cancelled_at: Mapped[dt.datetime | None]
    cancelled_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    refund_transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_transactions.id", ondelete="RESTRICT"))
    # When the reminder is due (7 days before expiry; None when the voucher never lived that long),
    # and when it went out: at most once per voucher.
    remind_at: Mapped[dt.datetime | None]
    reminded_at: Mapped[dt.datetime | None]

    reward: Mapped[Reward] = relationship(lazy="joined", viewonly=True)
    code: Mapped[RewardCode] = relationship(lazy="joined", viewonly=True)
    used_store: Mapped[Store | None] = relationship(lazy="select", viewonly=True)

    def status_at(self, now: dt.datetime) -> str:
        """The status as a partner sees it: an active voucher past its time is expired, sweep or not."""
        if self.status == "active" and self.expires_at <= now:
            return "expired"
        return self.status


class Order(Base):
    """A physical reward on its way: the address, the state, the carrier and tracking number."""

    __tablename__ = "reward_orders"
    __table_args__ = (
        CheckConstraint(_known("status", ORDER_STATUSES), name="status_known"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("(status = 'delivered') = (delivered_at IS NOT NULL)", name="delivered_when"),
        CheckConstraint("(status = 'cancelled') = (cancelled_at IS NOT NULL)", name="cancelled_when"),
        Index("ix_reward_orders_member_id_id", "member_id", "id"),
        Index("ix_reward_orders_member_id_reward_id_created_at", "member_id", "reward_id", "created_at"),
        Index("ix_reward_orders_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id", ondelete="RESTRICT"))
    redemption_id: Mapped[int] = mapped_column(ForeignKey("redemptions.id", ondelete="RESTRICT"), unique=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id", ondelete="RESTRICT"))
    quantity: Mapped[int]
    points_spent: Mapped[int]
    country: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(16), default="ordered")
    address: Mapped[dict[str, Any]] = mapped_column(JSON)
    carrier: Mapped[str | None] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    delivered_at: Mapped[dt.datetime | None]
    cancelled_at: Mapped[dt.datetime | None]
    refund_transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_transactions.id", ondelete="RESTRICT"))

    reward: Mapped[Reward] = relationship(lazy="joined", viewonly=True)
    events: Mapped[list["OrderEvent"]] = relationship(lazy="selectin", order_by="OrderEvent.id", viewonly=True)


class OrderEvent(Base):
    """One step of an order's timeline. Append-only."""

    __tablename__ = "reward_order_events"
    __table_args__ = (CheckConstraint(_known("status", ORDER_STATUSES), name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("reward_orders.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime]
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    carrier: Mapped[str | None] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(500))
