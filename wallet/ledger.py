"""The points ledger: append-only, double-entry.

An *entry* moves points into (+) or out of (-) one *account*; a *transaction* is a
set of entries that sums to zero. A member's points account is balanced against the
program's accounts: issuance (points created), redemption (points spent), expiry
(points that lapsed) and adjustment (an admin's correction). Nothing is updated or
deleted: a mistake is undone by a reversal transaction that points at the original,
and the database refuses a second reversal of the same transaction.

What always holds, for every member account, and is checked by the tests:
cached ``balance`` = sum of its entries = sum of ``remaining`` over its lots >= 0.

Earned points go into *lots* with their own expiry. Spending consumes the oldest
lots first, and every consumption is a *lot movement*, so a reversal can put points
back into the very lots they came from.

Concurrency: every posting locks the member's account row first (``SELECT ... FOR
UPDATE`` on PostgreSQL; on SQLite the whole write transaction is serialised, see
``wallet.db``) and checks the balance under that lock. A posting locks exactly one
member account and never updates a program account (their balances are the sum of
their entries, read when needed), so there is no second lock to take in the wrong
order and no hot row that every posting would queue on.

Idempotency: a transaction may carry a key, unique in the database. Posting again
with a key already used returns the first transaction when it describes the same
movement, and raises ``IdempotencyConflict`` when it does not.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column, relationship

from wallet.db import Base
from wallet.errors import AlreadyReversed, Conflict, IdempotencyConflict, InsufficientPoints, NotFound


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
        # and a long-standing member has far more spent ones: index just the live.
        Index("ix_point_lots_live_by_account", "account_id", "expires_at",
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


# --- accounts ---------------------------------------------------------------------


def _get_or_create_account(
    session: Session, owner_type: str, owner_id: int, kind: str, now: dt.datetime, *, lock: bool
) -> LedgerAccount:
    query = select(LedgerAccount).where(
        LedgerAccount.owner_type == owner_type, LedgerAccount.owner_id == owner_id, LedgerAccount.kind == kind
    )
    if lock:
        query = query.with_for_update()
    account = session.scalar(query)
    if account is not None:
        return account
    try:
        with session.begin_nested():
            account = LedgerAccount(owner_type=owner_type, owner_id=owner_id, kind=kind, created_at=now)
            session.add(account)
    except IntegrityError:
        pass  # created by a concurrent transaction meanwhile; read (and lock) theirs
    account = session.scalar(query)
    assert account is not None
    return account


def member_account(session: Session, member_id: int, now: dt.datetime, *, lock: bool = False) -> LedgerAccount:
    """The member's points account, created on first use; locked for the transaction with ``lock``."""
    return _get_or_create_account(session, "member", member_id, AccountKind.POINTS, now, lock=lock)


def program_account(session: Session, kind: AccountKind, now: dt.datetime) -> LedgerAccount:
    cache: dict[str, LedgerAccount] = session.info.setdefault("program_accounts", {})
    account = cache.get(kind)
    if account is None or account not in session:
        account = cache[kind] = _get_or_create_account(session, *PROGRAM_OWNER, kind, now, lock=False)
    return account


# --- posting ----------------------------------------------------------------------


@dataclass(frozen=True)
class Posting:
    """What a caller asks to book, for comparison with an earlier posting under the same key."""

    type: TxType
    points: int


def _replay(session: Session, key: str | None, account: LedgerAccount, posting: Posting) -> LedgerTransaction | None:
    if key is None:
        return None
    earlier = session.scalar(select(LedgerTransaction).where(LedgerTransaction.idempotency_key == key))
    if earlier is None:
        return None
    if earlier.account_id != account.id or earlier.type != posting.type or earlier.points != posting.points:
        raise IdempotencyConflict()
    return earlier


def _book(
    session: Session,
    account: LedgerAccount,
    counter: LedgerAccount,
    *,
    type: TxType,
    points: int,
    now: dt.datetime,
    description: str,
    **fields: Any,
) -> LedgerTransaction:
    """Write a transaction of two entries: ``points`` into ``account``, the opposite into ``counter``."""
    tx = LedgerTransaction(type=type, account_id=account.id, description=description, created_at=now, **fields)
    if points:
        tx.entries = [
            LedgerEntry(account_id=account.id, amount=points, balance_after=account.balance + points, created_at=now),
            LedgerEntry(account_id=counter.id, amount=-points, created_at=now),
        ]
    try:
        # Added inside the savepoint: begin_nested() flushes what is pending before it
        # opens, so a row added earlier would fail outside the savepoint's protection.
        with session.begin_nested():
            session.add(tx)
    except IntegrityError as exc:
        # Only reachable by a race the account lock did not cover (a key reused for
        # another member's posting); the constraint is the last word.
        if fields.get("reverses_id") is not None:
            raise AlreadyReversed() from exc
        raise IdempotencyConflict() from exc
    account.balance += points
    session.flush()
    return tx


def _sweep_due(session: Session, account: LedgerAccount, now: dt.datetime) -> LedgerTransaction | None:
    """Expire what is left of the account's lots that are due. The account must be locked."""
    lots = session.scalars(
        select(PointLot)
        .where(PointLot.account_id == account.id, LIVE, PointLot.expires_at <= now)
        .order_by(PointLot.expires_at, PointLot.id)
    ).all()
    total = sum(lot.remaining for lot in lots)
    if not total:
        return None
    tx = _book(
        session,
        account,
        program_account(session, AccountKind.EXPIRY, now),
        type=TxType.EXPIRE,
        points=-total,
        now=now,
        description=f"{total} points expired",
    )
    for lot in lots:
        session.add(LotMovement(lot_id=lot.id, transaction_id=tx.id, amount=-lot.remaining))
        lot.remaining = 0
    session.flush()
    return tx


def _consume(session: Session, account: LedgerAccount, tx: LedgerTransaction, points: int, now: dt.datetime,
             first: Iterable[PointLot] = ()) -> int:
    """Take up to ``points`` out of the account's live lots, ``first`` ones first, then oldest first.

    Returns how many were taken.
    """
    wanted = points
    first = list(first)
    rest = session.scalars(
        select(PointLot)
        .where(PointLot.account_id == account.id, LIVE, PointLot.expires_at > now)
        .order_by(PointLot.earned_at, PointLot.id)
    ).all()
    for lot in first + [lot for lot in rest if lot not in first]:
        if wanted == 0:
            break
        take = min(lot.remaining, wanted)
        if take:
            lot.remaining -= take
            wanted -= take
            session.add(LotMovement(lot_id=lot.id, transaction_id=tx.id, amount=-take))
    session.flush()
    return points - wanted


def _add_qualifying(session: Session, account: LedgerAccount, day: dt.date, points: int) -> None:
    row = session.get(QualifyingDay, (account.id, day))
    if row is None:
        session.add(QualifyingDay(account_id=account.id, day=day, points=points))
    else:
        row.points += points
    session.flush()


def earn(
    session: Session,
    *,
    member_id: int,
    points: int,
    now: dt.datetime,
    expires_at: dt.datetime,
    description: str,
    type: TxType = TxType.EARN,
    reference: str | None = None,
    idempotency_key: str | None = None,
    breakdown: list[dict[str, Any]] | None = None,
    actor_user_id: int | None = None,
    reason: str | None = None,
    locked_account: LedgerAccount | None = None,
) -> LedgerTransaction:
    """Credit ``points`` (> 0) to the member in a new lot that expires at ``expires_at``.

    ``type`` is earn or bonus (qualifying for tiers) or adjust (not qualifying).
    ``locked_account``: the member's account when the caller already holds its lock in this
    transaction (the till does), which saves locking it again. Raises ``IdempotencyConflict``.
    """
    if points <= 0:
        raise ValueError("earn takes a positive number of points")
    if locked_account is not None:
        if (locked_account.owner_type, locked_account.owner_id) != ("member", member_id):
            raise ValueError("locked_account is not this member's account")
        account = locked_account
    else:
        account = member_account(session, member_id, now, lock=True)
    earlier = _replay(session, idempotency_key, account, Posting(type, points))
    if earlier is not None:
        return earlier
    counter_kind = AccountKind.ADJUSTMENT if type == TxType.ADJUST else AccountKind.ISSUANCE
    tx = _book(
        session,
        account,
        program_account(session, counter_kind, now),
        type=type,
        points=points,
        now=now,
        description=description,
        reference=reference,
        idempotency_key=idempotency_key,
        breakdown=breakdown,
        actor_user_id=actor_user_id,
        reason=reason,
    )
    session.add(
        PointLot(account_id=account.id, transaction_id=tx.id, points=points, remaining=points,
                 earned_at=now, expires_at=expires_at)
    )
    if type in QUALIFYING:
        account.lifetime_earned += points
        _add_qualifying(session, account, now.date(), points)
    session.flush()
    return tx


def spend(
    session: Session,
    *,
    member_id: int,
    points: int,
    now: dt.datetime,
    description: str,
    type: TxType = TxType.REDEEM,
    reference: str | None = None,
    idempotency_key: str | None = None,
    actor_user_id: int | None = None,
    reason: str | None = None,
) -> LedgerTransaction:
    """Debit ``points`` (> 0), oldest lots first. Lots already due expire first.

    ``type`` is redeem or adjust. Raises ``InsufficientPoints``, ``IdempotencyConflict``.
    """
    if points <= 0:
        raise ValueError("spend takes a positive number of points")
    account = member_account(session, member_id, now, lock=True)
    earlier = _replay(session, idempotency_key, account, Posting(type, -points))
    if earlier is not None:
        return earlier
    _sweep_due(session, account, now)
    if account.balance < points:
        raise InsufficientPoints(needed=points, balance=account.balance)
    counter_kind = AccountKind.ADJUSTMENT if type == TxType.ADJUST else AccountKind.REDEMPTION
    tx = _book(
        session,
        account,
        program_account(session, counter_kind, now),
        type=type,
        points=-points,
        now=now,
        description=description,
        reference=reference,
        idempotency_key=idempotency_key,
        actor_user_id=actor_user_id,
        reason=reason,
    )
    taken = _consume(session, account, tx, points, now)
    assert taken == points, "lots and balance disagree"
    return tx


def adjust(
    session: Session,
    *,
    member_id: int,
    points: int,
    reason: str,
    actor_user_id: int,
    now: dt.datetime,
    expires_at: dt.datetime,
    idempotency_key: str | None = None,
) -> LedgerTransaction:
    """An admin's correction: ``points`` may be positive (a new lot) or negative. ``reason`` is required.

    Raises ``InsufficientPoints`` for a debit larger than the balance.
    """
    if not reason.strip():
        raise ValueError("an adjustment needs a reason")
    if points == 0:
        raise ValueError("an adjustment of zero points")
    common = dict(
        member_id=member_id, now=now, type=TxType.ADJUST, description=f"Adjustment: {reason.strip()[:200]}",
        idempotency_key=idempotency_key, actor_user_id=actor_user_id, reason=reason.strip(),
    )
    if points > 0:
        return earn(session, points=points, expires_at=expires_at, **common)
    return spend(session, points=-points, **common)


def reverse(
    session: Session,
    *,
    transaction_id: int,
    now: dt.datetime,
    description: str,
    actor_user_id: int | None = None,
    reason: str | None = None,
) -> LedgerTransaction:
    """Undo a transaction with a new one that points at it.

    A credit (earn, bonus, positive adjustment) is taken back from the lot it made,
    then from the oldest other lots, as far as the balance goes: points already
    spent cannot be taken back, so the balance stops at zero and what is missing is
    recorded as ``shortfall``. A debit (redeem, negative adjustment) puts the points
    back into the lots they came from; a lot that has expired since lapses at the
    next sweep. Expiries and reversals are not reversed (an admin adjusts instead).

    Raises ``NotFound`` and ``Conflict`` (already reversed, or not reversible).
    """
    original = session.get(LedgerTransaction, transaction_id)
    if original is None:
        raise NotFound("no such transaction")
    if original.type in (TxType.EXPIRE, TxType.REVERSAL):
        raise Conflict(f"a transaction of type {original.type} cannot be reversed")
    account = session.scalar(select(LedgerAccount).where(LedgerAccount.id == original.account_id).with_for_update())
    assert account is not None
    if session.scalar(select(LedgerTransaction.id).where(LedgerTransaction.reverses_id == original.id)) is not None:
        raise AlreadyReversed()
    counter_id = next(e.account_id for e in original.entries if e.account_id != account.id) if original.entries else None
    counter = session.get(LedgerAccount, counter_id) if counter_id else program_account(session, AccountKind.ISSUANCE, now)
    assert counter is not None
    amount = original.points
    common = dict(type=TxType.REVERSAL, now=now, description=description, reverses_id=original.id,
                  actor_user_id=actor_user_id, reason=reason, reference=original.reference)

    if amount > 0:
        _sweep_due(session, account, now)
        own_lots = session.scalars(select(PointLot).where(PointLot.transaction_id == original.id)).all()
        # Points of this credit that already expired are gone from the balance once;
        # taking them back again would eat points the member earned elsewhere.
        expired = -int(session.scalar(
            select(func.coalesce(func.sum(LotMovement.amount), 0))
            .join(LedgerTransaction, LedgerTransaction.id == LotMovement.transaction_id)
            .where(LotMovement.lot_id.in_([lot.id for lot in own_lots]), LedgerTransaction.type == TxType.EXPIRE)
        ) or 0)
        claimable = amount - expired
        take = min(claimable, account.balance)
        tx = _book(session, account, counter, points=-take, shortfall=claimable - take, **common)
        if take:
            assert _consume(session, account, tx, take, now, first=own_lots) == take
        if original.type in QUALIFYING:
            account.lifetime_earned -= amount
            _add_qualifying(session, account, original.created_at.date(), -amount)
    else:
        tx = _book(session, account, counter, points=-amount, **common)
        for movement in session.scalars(select(LotMovement).where(LotMovement.transaction_id == original.id)):
            lot = session.get(PointLot, movement.lot_id)
            assert lot is not None
            lot.remaining -= movement.amount
            session.add(LotMovement(lot_id=lot.id, transaction_id=tx.id, amount=-movement.amount))
    session.flush()
    return tx


def expire_due(session: Session, *, now: dt.datetime, limit: int = 1000) -> int:
    """Expire what is left of every lot due by ``now``; safe to run twice or concurrently.

    Handles up to ``limit`` accounts, each in its own savepoint; returns how many
    accounts had points expire (call again while it returns ``limit``).
    """
    account_ids = session.scalars(
        select(PointLot.account_id)
        .where(LIVE, PointLot.expires_at <= now)
        .group_by(PointLot.account_id)
        .order_by(PointLot.account_id)
        .limit(limit)
    ).all()
    expired = 0
    for account_id in account_ids:
        account = session.scalar(select(LedgerAccount).where(LedgerAccount.id == account_id).with_for_update())
        if account is not None and _sweep_due(session, account, now) is not None:
            expired += 1
    return expired


# --- reading ----------------------------------------------------------------------


def qualifying_points(session: Session, account: LedgerAccount, now: dt.datetime) -> int:
    """Qualifying points earned over the last 365 days, today included."""
    since = now.date() - dt.timedelta(days=364)
    total = session.scalar(
        select(func.coalesce(func.sum(QualifyingDay.points), 0)).where(
            QualifyingDay.account_id == account.id, QualifyingDay.day >= since
        )
    )
    return int(total or 0)


def expiring(session: Session, account: LedgerAccount, now: dt.datetime, within: dt.timedelta,
             limit: int = 31) -> list[tuple[int, dt.datetime]]:
    """``(points, first expiry that day)`` per day (UTC) for live lots expiring within ``within``, soonest first.

    One row per day, at most ``limit``: a partner with thousands of purchases gets a
    short list, and the query reads only that member's live lots.
    """
    day = func.date(PointLot.expires_at)
    rows = session.execute(
        select(func.sum(PointLot.remaining), func.min(PointLot.expires_at))
        .where(
            PointLot.account_id == account.id,
            LIVE,
            PointLot.expires_at > now,
            PointLot.expires_at <= now + within,
        )
        .group_by(day)
        .order_by(func.min(PointLot.expires_at))
        .limit(limit)
    ).all()
    return [(int(points), first) for points, first in rows]


def history(session: Session, account: LedgerAccount, *, before_id: int | None, limit: int) -> list[LedgerEntry]:
    """The account's entries, newest first, starting below ``before_id``: an index range scan, whatever the history's length."""
    query = select(LedgerEntry).where(LedgerEntry.account_id == account.id)
    if before_id is not None:
        query = query.where(LedgerEntry.id < before_id)
    return list(session.scalars(query.order_by(LedgerEntry.id.desc()).limit(limit)).unique())


def earned_since(session: Session, account: LedgerAccount, since: dt.datetime) -> int:
    """Qualifying points credited since ``since``, less reversals of those credits (for the daily earn cap)."""
    original = aliased(LedgerTransaction)
    counted = or_(
        LedgerTransaction.type.in_([t.value for t in QUALIFYING]),
        and_(LedgerTransaction.type == TxType.REVERSAL, original.type.in_([t.value for t in QUALIFYING]),
             original.created_at >= since),
    )
    total = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .outerjoin(original, original.id == LedgerTransaction.reverses_id)
        .where(LedgerEntry.account_id == account.id, LedgerEntry.created_at >= since, counted)
    )
    return max(int(total or 0), 0)
