"""The voucher wallet: issuing a voucher, what the member sees, the till's "used", an admin's
cancel with its refund, and the expiry sweep.

A voucher changes state once and only forward: ``active`` -> ``used`` | ``expired`` |
``cancelled``. Every change is one conditional UPDATE (``WHERE status = 'active' AND ...``),
so of two tills scanning one voucher at the same moment exactly one wins: on PostgreSQL the
second UPDATE waits for the first's row lock, re-reads the row, finds it used and changes
nothing; that till is told when and where it was used. The database refuses any change to a
voucher that is no longer active (a trigger, see the migration).

Lock order, the same everywhere points move: the member's points account, then the voucher.
A cancel reverses the points first (``ledger.reverse`` locks the account) and then claims the
voucher; a redemption locks the account and only inserts vouchers; the till locks only the
voucher. No two of them can wait on each other in a circle.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal_column, or_, select, update
from sqlalchemy.orm import Session

from infra import changes
from wallet import ledger
from wallet.members.models import Member, Store
from wallet.rewards import codes
from wallet.rewards.codes import CodeRefused, CodeVault
from wallet.rewards.errors import (
    InvalidRewardInput,
    VoucherAlreadyUsed,
    VoucherCancelled,
    VoucherExpired,
    VoucherNotFound,
    VoucherOtherCountry,
)
from wallet.rewards.models import Reward, RewardCode, Voucher

ACTIVE = Voucher.status == literal_column("'active'")
EXPIRE_BATCH = 1000
REMIND_BEFORE = dt.timedelta(days=7)


def new_voucher(session: Session, *, reward: Reward, member: Member, code: RewardCode, now: dt.datetime,
                source: str = "redemption", points: int = 0, transaction_id: int | None = None,
                redemption_id: int | None = None) -> Voucher:
    """A voucher for ``code`` (already issued) in the member's wallet. It lives the reward's
    ``validity_days``, or until the vendor's code expires when that comes first."""
    expires_at = now + dt.timedelta(days=reward.validity_days)
    if code.expires_at is not None and code.expires_at < expires_at:
        expires_at = code.expires_at
    voucher = Voucher(member_id=member.id, reward_id=reward.id, redemption_id=redemption_id, code_id=code.id,
                      transaction_id=transaction_id, source=source, points=points, country=reward.country,
                      status="active", issued_at=now, expires_at=expires_at,
                      # Reminded a week before it expires; one that never had a week to live is not.
                      remind_at=expires_at - REMIND_BEFORE if expires_at - REMIND_BEFORE > now else None)
    session.add(voucher)
    return voucher


def _status_filter(status: str, now: dt.datetime):  # type: ignore[no-untyped-def]
    if status == "active":
        return ACTIVE & (Voucher.expires_at > now)
    if status == "expired":
        return or_(Voucher.status == "expired", ACTIVE & (Voucher.expires_at <= now))
    return Voucher.status == status


def page(session: Session, *, member_id: int, now: dt.datetime, status: str | None, before_id: int | None,
         limit: int) -> list[Voucher]:
    """The member's vouchers, newest first, optionally of one status (as ``Voucher.status_at`` tells it)."""
    query = select(Voucher).where(Voucher.member_id == member_id)
    if status:
        query = query.where(_status_filter(status, now))
    if before_id is not None:
        query = query.where(Voucher.id < before_id)
    return list(session.scalars(query.order_by(Voucher.id.desc()).limit(limit)))


def admin_page(session: Session, *, now: dt.datetime, member_id: int | None = None, reward_id: int | None = None,
               status: str | None = None, before_id: int | None = None, limit: int = 20) -> list[Voucher]:
    """Vouchers for support, newest first, by member, reward and status (never with their codes)."""
    query = select(Voucher)
    if member_id is not None:
        query = query.where(Voucher.member_id == member_id)
    if reward_id is not None:
        query = query.where(Voucher.reward_id == reward_id)
    if status:
        query = query.where(_status_filter(status, now))
    if before_id is not None:
        query = query.where(Voucher.id < before_id)
    return list(session.scalars(query.order_by(Voucher.id.desc()).limit(limit)))


def active_count_query(member_id: int, now: dt.datetime) -> Any:
    """``SELECT count(*)`` of the vouchers the member can still use (the wallet screen puts it in its row)."""
    return select(func.count()).select_from(Voucher).where(Voucher.member_id == member_id,
                                                          _status_filter("active", now))


def active_count(session: Session, member_id: int, now: dt.datetime) -> int:
    """Vouchers the member can still use."""
    return int(session.scalar(active_count_query(member_id, now)) or 0)


def own(session: Session, *, member_id: int, voucher_id: int) -> Voucher:
    """The member's own voucher. Raises ``VoucherNotFound`` (another member's included)."""
    voucher = session.get(Voucher, voucher_id)
    if voucher is None or voucher.member_id != member_id:
        raise VoucherNotFound()
    return voucher


def get(session: Session, voucher_id: int) -> Voucher:
    """The voucher a genuine QR names. Raises ``VoucherNotFound``."""
    voucher = session.get(Voucher, voucher_id)
    if voucher is None:
        raise VoucherNotFound()
    return voucher


@dataclass(frozen=True)
class Revealed:
    """A voucher with its code and PIN in clear, for its owner's eyes only."""

    voucher: Voucher
    code: str
    pin: str | None


def reveal(voucher: Voucher, vault: CodeVault) -> Revealed:
    code, pin = vault.open(voucher.code)
    return Revealed(voucher=voucher, code=code, pin=pin)


def find_by_code(session: Session, typed: str, *, vault: CodeVault) -> Voucher:
    """The voucher a code typed at the till names. Raises ``InvalidRewardInput`` (field ``code``:
    not a code, or a generated code with a symbol wrong) and ``VoucherNotFound``."""
    try:
        normal = codes.normalize(typed)
    except CodeRefused as exc:
        raise InvalidRewardInput("this is not a voucher code", field="code") from exc
    candidates = [normal]
    if codes.looks_generated(normal) and codes.generated_form(normal) != normal:
        candidates.append(codes.generated_form(normal))
    for candidate in candidates:
        voucher = session.scalar(select(Voucher).join(RewardCode, RewardCode.id == Voucher.code_id)
                                 .where(RewardCode.lookup_hash == vault.lookup_hash(candidate)))
        if voucher is not None:
            return voucher
    if codes.looks_generated(normal) and not codes.checks(normal):
        raise InvalidRewardInput("this voucher code is mistyped: a character is wrong or two are swapped",
                                 field="code")
    raise VoucherNotFound("no voucher has this code")


def _refusal(session: Session, voucher: Voucher, now: dt.datetime, store: Store | None = None) -> Exception:
    """Why ``voucher`` cannot be used (or cancelled) now, as the error to raise."""
    if voucher.status == "used":
        used_store = session.get(Store, voucher.used_store_id) if voucher.used_store_id else None
        assert voucher.used_at is not None
        return VoucherAlreadyUsed(used_at=voucher.used_at, store_id=voucher.used_store_id,
                                  store_name=used_store.name if used_store else None)
    if voucher.status == "cancelled":
        return VoucherCancelled(cancelled_at=voucher.cancelled_at)
    if voucher.status == "expired" or voucher.expires_at <= now:
        return VoucherExpired(expired_at=voucher.expires_at)
    if store is not None and voucher.country != store.country:
        return VoucherOtherCountry(voucher_country=voucher.country, store_country=store.country)
    raise AssertionError("an active voucher was refused without a reason")


def use_at_till(session: Session, *, voucher: Voucher, store: Store, cashier_user_id: int,
                now: dt.datetime) -> Voucher:
    """Mark the voucher used, at ``store``, by this cashier: once. Raises ``VoucherAlreadyUsed``
    (when and where), ``VoucherExpired``, ``VoucherCancelled`` and ``VoucherOtherCountry``."""
    done = session.execute(
        update(Voucher)
        .where(Voucher.id == voucher.id, ACTIVE, Voucher.expires_at > now, Voucher.country == store.country)
        .values(status="used", used_at=now, used_store_id=store.id, used_by_user_id=cashier_user_id)
        .execution_options(synchronize_session=False))
    # Read again either way: after losing a race this shows the winner's committed row.
    session.refresh(voucher)
    if done.rowcount != 1:
        raise _refusal(session, voucher, now, store)
    changes.note(session, "voucher", voucher.id)  # its Wallet passes turn void (passes.tracking)
    return voucher


@dataclass(frozen=True)
class Cancelled:
    voucher: Voucher
    points_refunded: int
    balance: int


def cancel(session: Session, *, voucher_id: int, actor_user_id: int, reason: str, now: dt.datetime) -> Cancelled:
    """An admin cancels an unused voucher; the points it cost come back by a reversal of its own
    transaction. Raises ``VoucherNotFound`` and what ``use_at_till`` raises for a voucher that is
    no longer active."""
    voucher = session.get(Voucher, voucher_id)
    if voucher is None:
        raise VoucherNotFound()
    if voucher.status != "active" or voucher.expires_at <= now:
        raise _refusal(session, voucher, now)
    refund = None
    if voucher.transaction_id is not None:
        # Points first (the account lock), then the voucher: the fixed order (module docstring).
        refund = ledger.reverse(session, transaction_id=voucher.transaction_id, now=now,
                                description=f"Refund: {voucher.reward.names['en']} (voucher cancelled)"[:255],
                                actor_user_id=actor_user_id, reason=reason)
    done = session.execute(
        update(Voucher).where(Voucher.id == voucher.id, ACTIVE, Voucher.expires_at > now)
        .values(status="cancelled", cancelled_at=now, cancelled_by_user_id=actor_user_id, cancel_reason=reason,
                refund_transaction_id=refund.id if refund else None)
        .execution_options(synchronize_session=False))
    session.refresh(voucher)
    if done.rowcount != 1:  # used at a till meanwhile: the caller's rollback takes the refund back too
        raise _refusal(session, voucher, now)
    changes.note(session, "voucher", voucher.id)
    balance = ledger.member_account(session, voucher.member_id, now).balance
    return Cancelled(voucher=voucher, points_refunded=refund.points if refund else 0, balance=balance)


def expire_due(session: Session, *, now: dt.datetime, limit: int = EXPIRE_BATCH) -> int:
    """Mark up to ``limit`` active vouchers past their time as expired; returns how many (call
    again while it returns ``limit``). Safe to run twice or at once: each UPDATE re-checks."""
    due = select(Voucher.id).where(ACTIVE, Voucher.expires_at <= now).order_by(Voucher.expires_at).limit(limit)
    return session.execute(
        update(Voucher).where(Voucher.id.in_(due), ACTIVE, Voucher.expires_at <= now)
        .values(status="expired").execution_options(synchronize_session=False)).rowcount
