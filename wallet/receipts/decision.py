"""The decision on a read receipt: approve, send to review, or reject with a reason a partner reads.

Pure: it takes what was read, the country's receipt rules and what the caller counted (the
member's receipts today and this week, the seller's, whether a near-same photo exists) and
returns an ``Outcome``. Rejections come first (a receipt that cannot count is told so at
once), then anything that asks for a person (a warning, an unsure reading, a signal of the
photo, a high value, a new member), and only a clean, machine-read or confidently read
receipt that passes every rule is approved without one.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from wallet.receipts.models import ReceiptProgram
from wallet.receipts.reading import Line, Reading

MAX_PATTERNS = 100
MAX_PATTERN_LENGTH = 200
FUTURE_SLACK = dt.timedelta(hours=14)  # tills in the Gulf that stamp local time as UTC


@dataclass(frozen=True)
class Counts:
    """What the caller counted of this member's and this seller's other receipts (not rejected)."""

    member_today: int = 0
    member_week: int = 0
    member_ever: int = 0
    seller_today: int = 0
    seller_week: int = 0
    similar_photo: bool = False
    same_purchase: bool = False  # another claim has this receipt's seller, minute and total


@dataclass
class Outcome:
    status: str  # approved | review | rejected
    reason_code: str | None = None
    reason: str | None = None
    eligible_amount: Decimal = Decimal(0)
    eligible_lines: list[dict[str, str]] = field(default_factory=list)
    signals: list[dict[str, str]] = field(default_factory=list)


def compile_patterns(patterns: list[dict[str, str]]) -> list[tuple[re.Pattern[str], str]]:
    """The program's product patterns, compiled. Raises ``ValueError`` naming a bad one."""
    if len(patterns) > MAX_PATTERNS:
        raise ValueError(f"at most {MAX_PATTERNS} product patterns")
    compiled = []
    for i, p in enumerate(patterns):
        pattern = p.get("pattern", "")
        if not pattern or len(pattern) > MAX_PATTERN_LENGTH:
            raise ValueError(f"product pattern {i}: 1 to {MAX_PATTERN_LENGTH} characters")
        try:
            compiled.append((re.compile(pattern, re.IGNORECASE), p.get("category") or "eligible"))
        except re.error as exc:
            raise ValueError(f"product pattern {i} is not a regular expression: {exc}") from exc
    return compiled


def eligible(lines: list[Line], patterns: list[tuple[re.Pattern[str], str]]) -> list[tuple[Line, str]]:
    """The lines that are the manufacturer's products, with the category of the first pattern they match."""
    found = []
    for line in lines:
        for pattern, category in patterns:
            if pattern.search(line.description):
                found.append((line, category))
                break
    return found


def _reject(code: str, reason: str, signals: list[dict[str, str]]) -> Outcome:
    return Outcome("rejected", code, reason, signals=signals)


def decide(reading: Reading, rules: ReceiptProgram, *, currency: str, counts: Counts, now: dt.datetime,
           high_value: bool = False) -> Outcome:
    signals = list(reading.signals)
    if reading.total is None and reading.purchased_at is None and not reading.machine_read:
        if any(s["code"] == "ocr_unavailable" for s in signals):
            return Outcome("review", "ocr_unavailable", "OCR not available: a person will read this receipt",
                           signals=signals)
        return _reject("unreadable", "we could not read this receipt: photograph it flat, whole and in good light",
                       signals)
    when = reading.purchased_at
    if when is not None:
        if when > now + FUTURE_SLACK:
            return _reject("future", f"this receipt is dated {when:%Y-%m-%d}, in the future", signals)
        if when < now - dt.timedelta(days=rules.max_age_days):
            return _reject("too_old", f"this receipt is from {when:%Y-%m-%d}; receipts count for "
                                      f"{rules.max_age_days} days after the purchase", signals)
    if rules.allowed_sellers and reading.seller_tax_number and reading.seller_tax_number not in rules.allowed_sellers:
        return _reject("seller_not_allowed", f"the seller {reading.merchant or reading.seller_tax_number} is not one "
                                             "of the program's distributors", signals)
    if reading.currency and reading.currency != currency:
        return _reject("wrong_currency", f"this receipt is in {reading.currency}; the program here counts {currency}",
                       signals)
    if reading.total is not None and reading.total < rules.min_total:
        return _reject("below_minimum", f"receipts count from {rules.min_total.normalize()} {currency}", signals)
    if counts.member_today >= rules.member_daily_limit:
        return _reject("member_daily_limit", f"you have sent {counts.member_today} receipts today; "
                                             f"at most {rules.member_daily_limit} count a day", signals)
    if counts.member_week >= rules.member_weekly_limit:
        return _reject("member_weekly_limit", f"you have sent {counts.member_week} receipts this week; "
                                              f"at most {rules.member_weekly_limit} count a week", signals)

    patterns = compile_patterns(rules.product_patterns)
    outcome = Outcome("approved", signals=signals)
    if patterns and reading.lines:
        matched = eligible(reading.lines, patterns)
        if not matched:
            return _reject("no_eligible_products", "none of the products on this receipt earn points", signals)
        outcome.eligible_amount = sum((line.amount for line, _ in matched), Decimal(0))
        outcome.eligible_lines = [{"description": line.description, "category": category,
                                   "amount": str(line.amount)} for line, category in matched]
    elif patterns:
        outcome.eligible_amount = reading.total or Decimal(0)
        signals.append({"code": "no_lines", "message": "no product lines were read: which products earn is unknown"})
    else:
        outcome.eligible_amount = reading.total or Decimal(0)

    def review(code: str, message: str) -> None:
        signals.append({"code": code, "message": message})

    if reading.content_key is None:
        review("no_identity", "the receipt could not be told apart from others (seller, number, time, total)")
    if reading.total is None:
        review("no_total", "no total was read")
    if when is None:
        review("no_date", "no date was read")
    if reading.seller_tax_number is None and rules.allowed_sellers:
        review("no_seller", "the seller's tax number was not read")
    if counts.seller_today >= rules.seller_daily_limit or counts.seller_week >= rules.seller_weekly_limit:
        review("seller_volume", "unusually many receipts from this seller")
    if counts.similar_photo:
        review("similar_photo", "a near-same photo was sent before")
    if counts.same_purchase:
        review("same_purchase", "another receipt claimed has the same seller, time and total")
    if high_value or (rules.review_above is not None and (reading.total or 0) > rules.review_above):
        review("high_value", "a high-value receipt")
    if counts.member_ever < rules.first_receipts_reviewed:
        review("new_member", "one of the member's first receipts")
    if signals:
        outcome.status = "review"
        outcome.reason_code = signals[0]["code"]
        outcome.reason = "a person checks this receipt before the points are given"
    return outcome
