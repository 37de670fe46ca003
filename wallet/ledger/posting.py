"""Posting to the ledger: earn, spend, adjust, reverse, expire.

Every posting locks the member's account first and checks the balance under that lock
(see the package's docstring); a posting with an idempotency key already used returns
the first transaction or raises ``IdempotencyConflict``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wallet.errors import AlreadyReversed, Conflict, IdempotencyConflict, InsufficientPoints, NotFound
from infra.db import insert_ignoring
from wallet.ledger.accounts import member_account, program_account_id
from wallet.ledger.models import (
    LIVE,
    QUALIFYING,
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    LotMovement,
    PointLot,
    QualifyingDay,
    TxType,
)


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
    counter_id: int,
    *,
    type: TxType,
    points: int,
    now: dt.datetime,
    description: str,
    fresh: bool = False,
    **fields: Any,
) -> LedgerTransaction:
    """Write a transaction of two entries: ``points`` into ``account``, the opposite into the
    account ``counter_id``, and move the account's cached balance with them.

    ``fresh``: the caller knows no UNIQUE constraint can refuse it (its idempotency key is made
    from a row it just inserted, and it reverses nothing): the rows are flushed with the
    caller's next flush, without a savepoint of their own. Otherwise they are written at once in
    a savepoint, so a conflict becomes ``IdempotencyConflict`` or ``AlreadyReversed``.
    """
    tx = LedgerTransaction(type=type, account_id=account.id, description=description, created_at=now, **fields)
    if points:
        tx.entries = [
            LedgerEntry(account_id=account.id, amount=points, balance_after=account.balance + points, created_at=now),
            LedgerEntry(account_id=counter_id, amount=-points, created_at=now),
        ]
    if fresh:
        session.add(tx)
    else:
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
    if not fresh:
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
        program_account_id(session, AccountKind.EXPIRY, now),
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
    """Add to the account's day of qualifying points: one upsert, whether the day has a row yet or not."""
    insert = insert_ignoring(session, QualifyingDay).values(account_id=account.id, day=day, points=points)
    session.execute(insert.on_conflict_do_update(
        index_elements=["account_id", "day"], set_={"points": QualifyingDay.points + insert.excluded.points}))


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
    fresh_key: bool = False,
) -> LedgerTransaction:
    """Credit ``points`` (> 0) to the member in a new lot that expires at ``expires_at``.

    ``type`` is earn or bonus (qualifying for tiers) or adjust (not qualifying).
    ``locked_account``: the member's account when the caller already holds its lock in this
    transaction (the till does), which saves locking it again. ``fresh_key``: the
    ``idempotency_key`` is made from a row the caller has just inserted, so no earlier posting
    can hold it and none is looked for (the till's purchase). Everything is written in one flush.
    Raises ``IdempotencyConflict``.
    """
    if points <= 0:
        raise ValueError("earn takes a positive number of points")
    if locked_account is not None:
        if (locked_account.owner_type, locked_account.owner_id) != ("member", member_id):
            raise ValueError("locked_account is not this member's account")
        account = locked_account
    else:
        account = member_account(session, member_id, now, lock=True)
    if not fresh_key:
        earlier = _replay(session, idempotency_key, account, Posting(type, points))
        if earlier is not None:
            return earlier
    counter_kind = AccountKind.ADJUSTMENT if type == TxType.ADJUST else AccountKind.ISSUANCE
    tx = _book(
        session,
        account,
        program_account_id(session, counter_kind, now),
        type=type,
        points=points,
        now=now,
        description=description,
        reference=reference,
        idempotency_key=idempotency_key,
        breakdown=breakdown,
        actor_user_id=actor_user_id,
        reason=reason,
        fresh=fresh_key,
    )
    session.add(PointLot(account_id=account.id, transaction=tx, points=points, remaining=points, earned_at=now,
                         expires_at=expires_at))
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
        program_account_id(session, counter_kind, now),
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
    counter = counter_id or program_account_id(session, AccountKind.ISSUANCE, now)
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
