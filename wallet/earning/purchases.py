"""Purchases booked at the till, and their refunds.

A receipt number is unique per store: the same receipt booked twice (a cashier's
double tap, a till retrying on a bad line) returns the first booking when it is the
same purchase and is refused when it is not. A refund reverses the points of the
purchase; the database refuses a second reversal of the same transaction.

Refund after the points were spent: the refund takes back what the balance still
holds (never below zero) and records the rest as the reversal's ``shortfall``, so
finance sees what was given away and support can follow up. Refusing the refund
would leave the till unable to refund the money; pushing the balance negative would
break the invariant every other part relies on.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint, bindparam, insert, select, update
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from infra.db import Base, insert_for, is_postgres, prepared
from wallet import ledger
from wallet.earning import daily_caps, rules, tiers
from wallet.errors import AlreadyReversed, Conflict, InvalidInput, NotFound
from wallet.members.accounts import find_active_by_number
from wallet.members.models import Member, Role, Store, User
from wallet.money import MINOR_UNITS


class Purchase(Base):
    __tablename__ = "purchases"
    __table_args__ = (UniqueConstraint("store_id", "receipt_number", name="uq_purchases_store_receipt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="RESTRICT"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"), index=True)
    cashier_user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    receipt_number: Mapped[str] = mapped_column(String(64))
    total_amount: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    currency: Mapped[str] = mapped_column(String(3))
    points_earned: Mapped[int] = mapped_column(default=0)
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id", ondelete="RESTRICT"))
    refund_transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_transactions.id", ondelete="RESTRICT")
    )
    refunded_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]


_PURCHASES = Purchase.__table__


@functools.cache
def _insert_purchase(postgres: bool) -> Any:
    """The receipt's row of a purchase that earns nothing (one that earns is written with its credit),
    only if this store has not booked its number; returns its id (or nothing). Built once: making it
    per purchase cost more Python than running it."""
    return prepared(insert_for(postgres)(_PURCHASES).on_conflict_do_nothing(index_elements=["store_id", "receipt_number"])
                    .returning(_PURCHASES.c.id))


class PurchaseLine(Base):
    """One line of a receipt, with the product's category as it was when booked (for segments)."""

    __tablename__ = "purchase_lines"
    __table_args__ = (Index("ix_purchase_lines_category_purchase_id", "category", "purchase_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchases.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Numeric(14, 3))


@dataclass(frozen=True)
class Booking:
    purchase: "Purchase | BookedPurchase"
    balance: int
    breakdown: list[dict[str, Any]]
    tier: str


def _check_amount(amount: Decimal, currency: str, field: str) -> None:
    if amount.as_tuple().exponent < -MINOR_UNITS[currency]:  # type: ignore[operator]
        raise InvalidInput(f"{currency} has {MINOR_UNITS[currency]} decimals", field=field)


@dataclass(frozen=True)
class Scanned:
    member: Member
    balance: int


def scan(session: Session, *, member_number: str, field: str, now: dt.datetime) -> Scanned:
    """Who the cashier has in front of it, with the balance. Raises ``NotFound`` naming ``field``."""
    member = find_active_by_number(session, member_number, field=field)
    return Scanned(member=member, balance=ledger.member_account(session, member.id, now).balance)


def book(
    session: Session,
    *,
    store: "Store | TillStore",
    cashier_user_id: int,
    member: "TillMember | None" = None,
    member_number: str,
    member_field: str = "member_number",
    receipt_number: str,
    total: Decimal,
    currency: str,
    items: list[dict[str, Any]] | None,
    now: dt.datetime,
) -> Booking:
    """Book a purchase for the member with this number and earn its points. ``member``: that
    member with its account already locked (``till_and_member``); else it is read and locked here.

    Raises ``NotFound`` (the member, naming ``member_field``), ``InvalidInput`` (currency,
    amounts) and ``Conflict`` (the receipt number booked for another purchase).
    """
    if currency != store.currency:
        raise InvalidInput(f"this store takes {store.currency}, not {currency}", field="total.currency")
    _check_amount(total, currency, "total.amount")
    lines = items or []
    for i, item in enumerate(lines):
        _check_amount(item["unit_price"], currency, f"items.{i}.unit_price")
    if lines:
        # The lines are the receipt: they add up to its total, give or take a minor unit a line
        # (prices rounded line by line) but never more than 1% of the total. Lines that do not
        # are how points get minted.
        listed = sum((item["unit_price"] * item["quantity"] for item in lines), Decimal(0))
        minor = Decimal(1).scaleb(-MINOR_UNITS[currency])
        slack = max(minor, min(minor * len(lines), total / 100))
        if abs(listed - total) > slack:
            raise InvalidInput(f"the items add up to {listed} {currency}, not the total of {total} {currency}",
                               field="items")

    # The member and its points account, the account locked: one statement. Lock first, then
    # insert the receipt: a retry racing the first attempt waits for it and then finds it.
    if member is None:
        member = member_with_locked_account(session, member_number, field=member_field, now=now)
    program = rules.program_terms(session, store.country)
    tier = tiers.get_tier(session, member.tier)
    categories = rules.categories_of(session, [i["sku"] for i in lines])
    result = rules.compute(
        program=program,
        bonuses=rules.active_bonuses(session, store.country, now, member.id),
        tier_code=tier.code,
        tier_name=tier.name,
        tier_multiplier=tier.multiplier,
        total=total,
        lines=[rules.Line(i["sku"], i["quantity"], i["unit_price"], categories.get(i["sku"])) for i in lines],
        at=now,
        earned_today=(daily_caps.earned_on(session, member.account_id, daily_caps.local_day(now, member.timezone))
                      if program.daily_cap is not None else 0),
    )
    # The receipt, inserted only if this store has not booked its number: no savepoint, no
    # second look for the common case. With points, in the credit's own statement.
    receipt = dict(store_id=store.id, member_id=member.id, cashier_user_id=cashier_user_id,
                   receipt_number=receipt_number, total_amount=total, currency=currency,
                   points_earned=result.points, created_at=now)
    balance, tier_code = member.balance, member.tier
    credited = None
    conn = session.connection()
    if result.points > 0:
        credited = ledger.credit_locked(
            session,
            member_id=member.id,
            account_id=member.account_id,
            balance=member.balance,
            points=result.points,
            now=now,
            expires_at=rules.add_months(now, program.expiry_months),
            description=f"Purchase at {store.name}",
            reference=f"receipt {receipt_number}",
            # The key is made from the receipt's new id: nothing holds it yet.
            new_row=ledger.NewRow(_PURCHASES, receipt, ("store_id", "receipt_number"), "purchase:"),
            breakdown=result.breakdown,
            watched=member.holds_pass,  # else no pass update to queue: one statement fewer
        )
        purchase_id = credited.row_id if credited else None
    else:
        purchase_id = conn.scalar(_insert_purchase(is_postgres(session)), receipt)
    if purchase_id is None:
        earlier = session.scalar(
            select(Purchase).where(Purchase.store_id == store.id, Purchase.receipt_number == receipt_number))
        assert earlier is not None
        if (earlier.member_id, earlier.total_amount, earlier.currency) != (member.id, total, currency):
            raise Conflict("this receipt number was already booked at this store", field="receipt_number")
        return _booking(session, earlier, member)
    if lines:
        conn.execute(insert(PurchaseLine.__table__), [
            {"purchase_id": purchase_id, "sku": i["sku"], "category": categories.get(i["sku"]),
             "quantity": i["quantity"], "unit_price": i["unit_price"]} for i in lines])
    if credited is not None:
        balance = credited.balance
        tier_code = tiers.lift(session, member.id, member.tier, credited.qualifying_points,
                               watched=member.holds_pass).code
        if program.daily_cap is not None:
            daily_caps.add(session, member.account_id, daily_caps.local_day(now, member.timezone), result.points)
    booked = BookedPurchase(id=purchase_id, receipt_number=receipt_number, points_earned=result.points)
    return Booking(purchase=booked, balance=balance, breakdown=result.breakdown, tier=tier_code)


@dataclass(frozen=True)
class BookedPurchase:
    """What the till is told of a purchase it just booked (the row itself is not read back)."""

    id: int
    receipt_number: str
    points_earned: int


@dataclass(frozen=True)
class TillMember:
    """The member at the till, as a purchase needs it: plain values, not an ORM object."""

    id: int
    tier: str
    timezone: str
    account_id: int
    balance: int  # read under the account's lock
    holds_pass: bool  # a wallet pass of the member's card was served


@dataclass(frozen=True)
class TillStore:
    """The cashier's store, as a purchase needs it."""

    id: int
    name: str
    country: str
    currency: str


def till_and_member(session: Session, *, cashier_user_id: int,
                    member_number: str) -> tuple[TillStore, TillMember] | None:
    """The store of the active cashier ``cashier_user_id`` (an open one) and the active member with
    this number, its account locked for the transaction: the till's sign-in and its first read
    in one statement. None when any of that is not so (``member_with_locked_account`` and the
    cashier's own check then say which)."""
    row = session.connection().execute(_TILL_LOCKING_ACCOUNT, {"p_number": member_number,
                                                                "p_cashier": cashier_user_id}).first()
    if row is None:
        return None
    member_id, tier, timezone, _, account_id, balance, holds_pass, store_id, name, country, currency = row
    return (TillStore(store_id, name, country, currency),
            TillMember(member_id, tier, timezone, account_id, balance, holds_pass))


def member_with_locked_account(session: Session, member_number: str, *, field: str, now: dt.datetime) -> TillMember:
    """The active member with this number and its points account, locked for the transaction.

    Raises ``NotFound`` naming ``field``.
    """
    row = session.connection().execute(_MEMBER_LOCKING_ACCOUNT, {"p_number": member_number}).first()
    if row is None:  # no such member, or (imported, say) one whose account is not made yet
        found = find_active_by_number(session, member_number, field=field)
        made = ledger.member_account(session, found.id, now, lock=True)
        return TillMember(found.id, found.tier, found.timezone, made.id, made.balance, found.holds_wallet_pass)
    member_id, tier, timezone, is_active, account_id, balance, holds_pass = row
    if not is_active:
        raise NotFound("no active member with this number", field=field)
    return TillMember(member_id, tier, timezone, account_id, balance, holds_pass)


_ACCOUNT = ledger.LedgerAccount.__table__
_MEMBER_LOCKING_ACCOUNT = prepared(
    select(Member.id, Member.tier, Member.timezone, User.is_active, _ACCOUNT.c.id, _ACCOUNT.c.balance,
           Member.holds_wallet_pass)
    .join(User, User.id == Member.user_id)
    .join(_ACCOUNT, (_ACCOUNT.c.owner_type == "member") & (_ACCOUNT.c.owner_id == Member.id)
          & (_ACCOUNT.c.kind == ledger.AccountKind.POINTS))
    .where(Member.member_number == bindparam("p_number"))
    .with_for_update(of=_ACCOUNT)
)
_CASHIER = aliased(User, name="cashier")
_TILL_LOCKING_ACCOUNT = (
    _MEMBER_LOCKING_ACCOUNT.add_columns(Store.id, Store.name, Store.country, Store.currency)
    .join(_CASHIER, _CASHIER.id == bindparam("p_cashier"))
    .join(Store, Store.id == _CASHIER.store_id)
    .where(User.is_active.is_(True), _CASHIER.is_active.is_(True), _CASHIER.role == Role.CASHIER.value,
           Store.is_active.is_(True))
)


def _booking(session: Session, purchase: Purchase, member: TillMember) -> Booking:
    tx = session.get(ledger.LedgerTransaction, purchase.transaction_id) if purchase.transaction_id else None
    return Booking(
        purchase=purchase,
        balance=member.balance,
        breakdown=(tx.breakdown if tx else None) or [],
        tier=member.tier,
    )


def start_of_local_day(now: dt.datetime, timezone: str) -> dt.datetime:
    local = now.astimezone(ZoneInfo(timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.timezone.utc)


def get_at_store(session: Session, purchase_id: int, store_id: int) -> Purchase:
    """The purchase, if it was booked at this store. Raises ``NotFound`` otherwise (not 403: ids are not confirmed)."""
    purchase = session.get(Purchase, purchase_id)
    if purchase is None or purchase.store_id != store_id:
        raise NotFound("no such purchase at this store")
    return purchase


@dataclass(frozen=True)
class Refunded:
    purchase_id: int
    points_reversed: int
    shortfall: int
    balance: int


def refund_at_store(session: Session, *, purchase_id: int, store_id: int, actor_user_id: int,
                    now: dt.datetime) -> Refunded:
    """Refund a purchase booked at this store. Raises ``NotFound`` and ``AlreadyReversed``."""
    purchase = get_at_store(session, purchase_id, store_id)
    tx = refund(session, purchase=purchase, actor_user_id=actor_user_id, now=now)
    return Refunded(purchase_id=purchase.id, points_reversed=-tx.points if tx else 0,
                    shortfall=tx.shortfall if tx else 0,
                    balance=ledger.member_account(session, purchase.member_id, now).balance)


def refund(session: Session, *, purchase: Purchase, actor_user_id: int, now: dt.datetime) -> ledger.LedgerTransaction | None:
    """Reverse the purchase's points. Raises ``AlreadyReversed`` when it was already refunded.

    Returns the reversal, or None for a purchase that earned nothing.
    """
    # One conditional UPDATE decides which of several refunds at once wins, whatever the
    # points: it holds the purchase's row lock until commit, and the others find it refunded.
    # (Only a purchase that earned points also has the ledger's UNIQUE reverses_id behind it.)
    won = session.execute(
        update(Purchase).where(Purchase.id == purchase.id, Purchase.refunded_at.is_(None))
        .values(refunded_at=now).execution_options(synchronize_session=False)
    ).rowcount == 1
    if not won:
        raise AlreadyReversed("this purchase was already refunded")
    session.refresh(purchase)
    tx = None
    if purchase.transaction_id is not None:
        tx = ledger.reverse(
            session,
            transaction_id=purchase.transaction_id,
            now=now,
            description=f"Refund of receipt {purchase.receipt_number}",
            actor_user_id=actor_user_id,
        )
        purchase.refund_transaction_id = tx.id
        store = session.get(Store, purchase.store_id)
        member = session.get(Member, purchase.member_id)
        assert store is not None and member is not None
        if tx.points and rules.program_terms(session, store.country).daily_cap is not None:
            # What was taken back no longer counts on the day it was earned.
            daily_caps.add(session, tx.account_id, daily_caps.local_day(purchase.created_at, member.timezone),
                           tx.points)
    session.flush()
    return tx
