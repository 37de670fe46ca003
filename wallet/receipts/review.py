"""Receipts as partners and admins see them: a member's own, the review queue, an admin's decision.

An admin decides a receipt in review (or overturns a rejection): approving books the points
(the review's estimate unless the admin names another number) with the admin and the reason
on the ledger entry; rejecting gives its reason to the partner. Every decision is kept in
``receipt_decisions``. Deciding twice is refused (409): the receipt is locked while it is
decided, so two admins at once cannot both approve it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wallet.earning import rules
from wallet.errors import Conflict, NotFound
from wallet.members.models import Member
from wallet.receipts import points
from wallet.receipts.models import Receipt, ReceiptDecision
from wallet.receipts.outcomes import record


def of_member(session: Session, member_id: int, *, before_id: int | None, limit: int) -> list[Receipt]:
    query = select(Receipt).where(Receipt.member_id == member_id)
    if before_id is not None:
        query = query.where(Receipt.id < before_id)
    return list(session.scalars(query.order_by(Receipt.id.desc()).limit(limit)))


def get_for_member(session: Session, member_id: int, receipt_id: int) -> Receipt:
    """The member's own receipt. Raises ``NotFound`` for another member's (its existence is not confirmed)."""
    receipt = session.get(Receipt, receipt_id)
    if receipt is None or receipt.member_id != member_id:
        raise NotFound("no such receipt")
    return receipt


def queue(session: Session, *, status: str, before_id: int | None, limit: int) -> list[Receipt]:
    query = select(Receipt).where(Receipt.status == status)
    if before_id is not None:
        query = query.where(Receipt.id < before_id)
    return list(session.scalars(query.order_by(Receipt.id.desc()).limit(limit)))


def decisions(session: Session, receipt_id: int) -> list[ReceiptDecision]:
    return list(session.scalars(select(ReceiptDecision).where(ReceiptDecision.receipt_id == receipt_id)
                                .order_by(ReceiptDecision.id)))


def pending_points(session: Session, member_id: int) -> int:
    """Points the member's receipts in review would give (the wallet's ``pending``)."""
    return int(session.scalar(select(func.coalesce(func.sum(Receipt.points_pending), 0)).where(
        Receipt.member_id == member_id, Receipt.status == "review")) or 0)


def _locked(session: Session, receipt_id: int) -> Receipt:
    receipt = session.scalar(select(Receipt).where(Receipt.id == receipt_id).with_for_update())
    if receipt is None:
        raise NotFound("no such receipt")
    return receipt


def approve(session: Session, receipt_id: int, *, actor_user_id: int, reason: str, now: dt.datetime,
            points_given: int | None = None) -> Receipt:
    """Book the receipt's points: the estimate by today's rules, or ``points_given``.

    Raises ``NotFound``, and ``Conflict`` for a receipt that is not in review.
    """
    receipt = _locked(session, receipt_id)
    if receipt.status != "review":
        raise Conflict(f"this receipt is {receipt.status}; only one in review can be approved")
    member = session.get(Member, receipt.member_id)
    assert member is not None
    if points_given is None:
        result = points.estimate(session, receipt, member, amount=receipt.eligible_amount or Decimal(0),
                                 lines=receipt.lines, now=now)
    else:
        result = rules.Result(points=0)
        result.add("review", f"set by a reviewer: {reason.strip()[:200]}", points_given)
    tx = points.book(session, receipt, member, result=result, now=now, actor_user_id=actor_user_id,
                     reason=reason.strip())
    receipt.transaction_id = tx.id if tx else None
    receipt.points_pending = 0
    record(session, receipt, status="approved", points_given=result.points, reason=reason.strip(),
           actor_user_id=actor_user_id, now=now)
    return receipt


def reject(session: Session, receipt_id: int, *, actor_user_id: int, reason: str, now: dt.datetime) -> Receipt:
    """Raises ``NotFound``, and ``Conflict`` for a receipt that is not in review."""
    receipt = _locked(session, receipt_id)
    if receipt.status != "review":
        raise Conflict(f"this receipt is {receipt.status}; only one in review can be rejected")
    receipt.points_pending = 0
    receipt.content_key = None  # rejected: it no longer claims the receipt
    record(session, receipt, status="rejected", reason_code="reviewer", reason=reason.strip(),
           actor_user_id=actor_user_id, now=now)
    return receipt
