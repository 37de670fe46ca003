"""Physical rewards on their way: an order with its address and a timeline of steps.

``ordered`` -> ``confirmed`` -> ``shipped`` (with carrier and tracking number) -> ``delivered``;
before delivery an order may be ``cancelled``, which refunds its points (a reversal of its one
ledger transaction) and puts the stock back. Every step is a row of the timeline the partner
sees. Cancelling locks the member's points account before the order, the order of every
value-moving path here (``vouchers``' docstring).

How long delivery takes is counted in working days of the order's country (the Gulf
countries but the UAE rest on Friday and Saturday; the UAE and Poland on Saturday and
Sunday; public holidays are not known here and count as working days).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wallet import ledger
from wallet.members.models import Member
from wallet.rewards import stock
from wallet.rewards.errors import InvalidRewardInput, OrderNotFound, OrderTransitionRefused
from wallet.rewards.models import Order, OrderEvent, Redemption, Reward

NEXT = {"ordered": ("confirmed", "cancelled"), "confirmed": ("shipped", "cancelled"),
        "shipped": ("delivered", "cancelled"), "delivered": (), "cancelled": ()}
WEEKEND = {"AE": (5, 6), "PL": (5, 6), "SA": (4, 5), "QA": (4, 5), "KW": (4, 5), "BH": (4, 5), "OM": (4, 5)}
DEFAULT_WEEKEND = (5, 6)


def place(session: Session, *, reward: Reward, member: Member, redemption: Redemption,
          transaction: ledger.LedgerTransaction, quantity: int, address: dict[str, Any], now: dt.datetime) -> Order:
    order = Order(member_id=member.id, reward_id=reward.id, redemption_id=redemption.id, transaction_id=transaction.id,
                  quantity=quantity, points_spent=redemption.points_spent, country=reward.country, status="ordered",
                  address=address, created_at=now, updated_at=now)
    session.add(order)
    session.flush()
    session.add(OrderEvent(order_id=order.id, status="ordered", at=now))
    session.flush()
    return order


def get(session: Session, order_id: int) -> Order:
    """Raises ``OrderNotFound``."""
    order = session.get(Order, order_id)
    if order is None:
        raise OrderNotFound()
    return order


def own(session: Session, *, member_id: int, order_id: int) -> Order:
    """The member's own order. Raises ``OrderNotFound`` (another member's included)."""
    order = session.get(Order, order_id)
    if order is None or order.member_id != member_id:
        raise OrderNotFound()
    return order


def page(session: Session, *, member_id: int | None = None, status: str | None = None, before_id: int | None,
         limit: int) -> list[Order]:
    """Orders newest first: one member's (``member_id``) or everyone's, optionally of one status."""
    query = select(Order)
    if member_id is not None:
        query = query.where(Order.member_id == member_id)
    if status:
        query = query.where(Order.status == status)
    if before_id is not None:
        query = query.where(Order.id < before_id)
    return list(session.scalars(query.order_by(Order.id.desc()).limit(limit)))


def move(session: Session, order_id: int, *, status: str, actor_user_id: int, now: dt.datetime,
         carrier: str | None = None, tracking_number: str | None = None, note: str | None = None) -> Order:
    """Move an order one step along (see ``NEXT``). Shipping needs the carrier and tracking number;
    cancelling refunds the points and restocks. Raises ``OrderNotFound``, ``OrderTransitionRefused``
    and ``InvalidRewardInput``."""
    found = session.get(Order, order_id)
    if found is None:
        raise OrderNotFound()
    if status == "shipped" and not (carrier and tracking_number):
        raise InvalidRewardInput("a shipped order needs its carrier and tracking number",
                                 field="tracking_number" if carrier else "carrier")
    if status == "cancelled":
        ledger.member_account(session, found.member_id, now, lock=True)  # the account first, then the order
    order = session.scalar(select(Order).where(Order.id == order_id).with_for_update(of=Order).execution_options(
        populate_existing=True))
    assert order is not None
    if status not in NEXT[order.status]:
        raise OrderTransitionRefused(order.status, status)
    if status == "cancelled":
        refund = ledger.reverse(session, transaction_id=order.transaction_id, now=now, actor_user_id=actor_user_id,
                                description=f"Refund: {order.reward.names['en']} (order cancelled)"[:255],
                                reason=note)
        stock.give_back(session, order.reward, order.quantity)
        order.refund_transaction_id, order.cancelled_at = refund.id, now
    if status == "shipped":
        order.carrier, order.tracking_number = carrier, tracking_number
    if status == "delivered":
        order.delivered_at = now
    # The status with its time, together: the database checks they agree at every flush.
    order.status, order.updated_at = status, now
    session.add(OrderEvent(order_id=order.id, status=status, at=now, actor_user_id=actor_user_id,
                           carrier=carrier if status == "shipped" else None,
                           tracking_number=tracking_number if status == "shipped" else None, note=note))
    session.flush()
    session.expire(order, ["events"])
    return order


def working_days(start: dt.datetime, end: dt.datetime, country: str) -> int:
    """Working days after ``start``'s day up to and including ``end``'s (UTC days): delivered the
    next working day is 1, the same day 0."""
    weekend = WEEKEND.get(country, DEFAULT_WEEKEND)
    first, last = start.date(), end.date()
    if last <= first:
        return 0
    total = (last - first).days
    weeks, rest = divmod(total, 7)
    days = weeks * (7 - len(weekend))
    for offset in range(1, rest + 1):
        if (first + dt.timedelta(days=weeks * 7 + offset)).weekday() not in weekend:
            days += 1
    return days


@dataclass(frozen=True)
class DeliveryTimes:
    delivered: int
    median_working_days: float | None
    p90_working_days: int | None


def delivery_times(session: Session, *, since: dt.datetime, country: str | None = None) -> DeliveryTimes:
    """Median and 90th percentile (nearest rank) of working days from order to delivery, over the
    orders delivered since ``since``."""
    query = select(Order.created_at, Order.delivered_at, Order.country).where(
        Order.status == "delivered", Order.delivered_at >= since)
    if country:
        query = query.where(Order.country == country)
    days = sorted(working_days(created, delivered, where) for created, delivered, where in session.execute(query))
    if not days:
        return DeliveryTimes(delivered=0, median_working_days=None, p90_working_days=None)
    return DeliveryTimes(delivered=len(days), median_working_days=float(statistics.median(days)),
                         p90_working_days=days[math.ceil(0.9 * len(days)) - 1])
