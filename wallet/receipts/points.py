"""A receipt's points: the till's earning rules over the eligible products, booked once.

The same program (points per unit of money, rounding, minimum), tier multiplier, bonuses
and daily cap as a purchase at the till, so a partner earns the same for a tyre whether the
cashier scanned the card or the partner photographed the invoice. The ledger posting's
idempotency key is the receipt's, so a job that runs twice, or a review approved twice at
once, books it once.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from wallet import ledger
from wallet.earning import daily_caps, rules, tiers
from wallet.members.models import Member
from wallet.receipts.models import Receipt


def estimate(session: Session, receipt: Receipt, member: Member, *, amount: Decimal,
             lines: list[dict[str, Any]], now: dt.datetime) -> rules.Result:
    """What the receipt earns by the rules of the member's country now (nothing is written)."""
    program = rules.program_terms(session, receipt.country)
    tier = tiers.get_tier(session, member.tier)
    account = ledger.member_account(session, member.id, now)
    at = receipt.purchased_at or now
    earned_today = (daily_caps.earned_on(session, account.id, daily_caps.local_day(now, member.timezone))
                    if program.daily_cap is not None else 0)
    return rules.compute(
        program=program, bonuses=rules.active_bonuses(session, receipt.country, at, member.id),
        tier_code=tier.code, tier_name=tier.name, tier_multiplier=tier.multiplier, total=amount,
        lines=[rules.Line(sku=line["description"][:64], quantity=1, unit_price=Decimal(line["amount"]),
                          category=line.get("category")) for line in lines],
        at=at, earned_today=earned_today)


def book(session: Session, receipt: Receipt, member: Member, *, result: rules.Result, now: dt.datetime,
         actor_user_id: int | None = None, reason: str | None = None) -> ledger.LedgerTransaction | None:
    """Credit ``result``'s points for the receipt (None when it earns nothing). Lifts the tier."""
    if result.points <= 0:
        return None
    program = rules.program_terms(session, receipt.country)
    account = ledger.member_account(session, member.id, now, lock=True)
    tx = ledger.earn(session, member_id=member.id, points=result.points, now=now,
                     expires_at=rules.add_months(now, program.expiry_months),
                     description=f"Receipt from {receipt.merchant or receipt.seller_tax_number or 'a shop'}"[:255],
                     reference=f"receipt {receipt.id}", idempotency_key=f"receipt:{receipt.id}",
                     breakdown=result.breakdown, actor_user_id=actor_user_id, reason=reason, locked_account=account)
    tiers.upgrade_on_earn(session, member, now, account=account)
    if program.daily_cap is not None:
        daily_caps.add(session, account.id, daily_caps.local_day(now, member.timezone), result.points)
    return tx
