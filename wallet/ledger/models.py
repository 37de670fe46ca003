"""The ledger's tables: accounts, transactions, entries, lots, lot movements, qualifying days.

The invariants are in the migrations too: no UPDATE or DELETE of entries, transactions or
lot movements (a trigger), non-zero amounts and member balances never below zero (CHECKs),
and on PostgreSQL entries that sum to zero per transaction (a deferred constraint trigger).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from infra.db import Base


class AccountKind(enum.StrEnum):
    POINTS = "points"  # a member's (later: a company's) spendable points
    ISSUANCE = "issuance"
    REDEMPTION = "redemption"
    EXPIRY = "expiry"
    ADJUSTMENT = "adjustment"


class TxType(enum.StrEnum):
    EARN = "earn"
    BONUS = "bonus"
    REDEEM = "redeem"
    EXPIRE = "expire"
    ADJUST = "adjust"
    REVERSAL = "reversal"


# Points that count towards a tier. Adjustments and redemptions do not.
QUALIFYING = (TxType.EARN, TxType.BONUS)
PROGRAM_OWNER = ("program", 0)


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("owner_type", "owner_id", "kind", name="uq_ledger_accounts_owner"),
        CheckConstraint("owner_type <> 'member' OR balance >= 0", name="member_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    # Kept for member accounts only, in the same transaction as their entries.
    balance: Mapped[int] = mapped_column(default=0)
    lifetime_earned: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime]


class LedgerTransaction(Base):
    __tablename__ = "ledger_transactions"
    __table_args__ = (
        CheckConstraint("type IN ('earn', 'bonus', 'redeem', 'expire', 'adjust', 'reversal')", name="type_known"),
        CheckConstraint("shortfall >= 0", name="shortfall_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id", ondelete="RESTRICT"), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    description: Mapped[str] = mapped_column(String(255))
    reference: Mapped[str | None] = mapped_column(String(120))
    # UNIQUE: a transaction is reversed at most once, whatever races.
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_transactions.id", ondelete="RESTRICT"), unique=True
    )
    reason: Mapped[str | None] = mapped_column(Text)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    breakdown: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # Points a reversal could not take back because they were already spent.
    shortfall: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime]

    entries: Mapped[list["LedgerEntry"]] = relationship(back_populates="transaction", lazy="selectin")

    @property
    def points(self) -> int:
        """The movement on the member's account (0 for a reversal that found nothing to take back)."""
        return sum(e.amount for e in self.entries if e.account_id == self.account_id)


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        Index("ix_ledger_entries_account_id_id", "account_id", "id"),
        Index("ix_ledger_entries_account_id_created_at", "account_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_transactions.id", ondelete="RESTRICT"), index=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id", ondelete="RESTRICT"))
    amount: Mapped[int]
    # The account's balance after this entry; member accounts only. Makes history O(page).
    balance_after: Mapped[int | None]
    created_at: Mapped[dt.datetime]

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries", lazy="joined")


class PointLot(Base):
    __tablename__ = "point_lots"
    __table_args__ = (
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining_in_range"),
        Index("ix_point_lots_account_id_earned_at", "account_id", "earned_at", "id"),
        # Only live lots are ever searched (to spend, expire or list what expires soon),
        # and a long-standing member has far more spent ones: index just the live. With
        # ``remaining`` in it, "what expires soon" is read from the index alone.
        Index("ix_point_lots_live_expiring", "account_id", "expires_at", "remaining",
              postgresql_where=text("remaining > 0"), sqlite_where=text("remaining > 0")),
        Index("ix_point_lots_live_by_expiry", "expires_at",
              postgresql_where=text("remaining > 0"), sqlite_where=text("remaining > 0")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id", ondelete="RESTRICT"))
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id", ondelete="RESTRICT"), index=True)
    points: Mapped[int]
    remaining: Mapped[int]
    earned_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]

    # Set with the transaction in one flush (its id is not known before).
    transaction: Mapped["LedgerTransaction"] = relationship()


# "Live" as SQL text, not a bound 0: a generic (prepared) plan matches a partial index only
# when the query spells the index's own predicate.
LIVE = PointLot.remaining > literal_column("0")


class LotMovement(Base):
    """Points taken out of (-) or put back into (+) a lot by a transaction."""

    __tablename__ = "lot_movements"
    __table_args__ = (CheckConstraint("amount <> 0", name="amount_not_zero"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("point_lots.id", ondelete="RESTRICT"), index=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[int]


class QualifyingDay(Base):
    """Qualifying points per account per UTC day: a rolling 12 months is a sum of at most 366 rows."""

    __tablename__ = "qualifying_days"

    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id", ondelete="RESTRICT"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    points: Mapped[int] = mapped_column(default=0)
