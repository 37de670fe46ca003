"""How a decision on a receipt is written, whoever makes it (the recognition job, an admin), and
the country's receipt rules as the decision reads them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from wallet.messages import tell_member
from wallet.receipts.models import Receipt, ReceiptDecision, ReceiptProgram

STATUS_TEXT = {
    "approved": ({"en": "Your receipt counted", "ar": "تم احتساب إيصالك", "pl": "Paragon zaliczony"},
                 {"en": "{points} points were added to your wallet.", "ar": "أضيفت {points} نقطة إلى محفظتك.",
                  "pl": "Dodaliśmy {points} pkt do Twojego portfela."}),
    "rejected": ({"en": "Your receipt did not count", "ar": "لم يُحتسب إيصالك", "pl": "Paragon nie został zaliczony"},
                 {"en": "{reason}", "ar": "{reason}", "pl": "{reason}"}),
    "review": ({"en": "Your receipt is being checked", "ar": "إيصالك قيد المراجعة", "pl": "Sprawdzamy Twój paragon"},
               {"en": "A person checks it; about {points} points are pending.",
                "ar": "يراجعه أحد الموظفين؛ حوالي {points} نقطة معلقة.",
                "pl": "Sprawdza go pracownik; ok. {points} pkt czeka na zatwierdzenie."}),
}


def receipt_rules(session: Session, country: str, now: dt.datetime) -> ReceiptProgram:
    """The country's receipt rules, or the defaults when an admin has set none."""
    return session.get(ReceiptProgram, country) or ReceiptProgram(country=country, allowed_sellers=[], max_age_days=14,
                                                                   min_total=0, review_above=None,
                                                                   member_daily_limit=5, member_weekly_limit=20,
                                                                   seller_daily_limit=500, seller_weekly_limit=2500,
                                                                   first_receipts_reviewed=1, product_patterns=[],
                                                                   updated_at=now)


def record(session: Session, receipt: Receipt, *, status: str, now: dt.datetime, points_given: int = 0,
           reason_code: str | None = None, reason: str | None = None, actor_user_id: int | None = None) -> None:
    """Write a decision on the receipt and in its audit trail, and tell the member."""
    receipt.status, receipt.reason_code, receipt.reason = status, reason_code, reason
    receipt.points = points_given if status == "approved" else 0
    receipt.decided_at = now
    session.add(ReceiptDecision(receipt_id=receipt.id, status=status, points=receipt.points, reason_code=reason_code,
                                reason=reason, actor_user_id=actor_user_id, created_at=now))
    title, body = STATUS_TEXT[status]
    shown = receipt.points if status == "approved" else receipt.points_pending
    tell_member(session, member_id=receipt.member_id, key=f"receipt:{receipt.id}:{status}:{actor_user_id or 0}",
                title=title, body={k: v.format(points=shown, reason=reason or "") for k, v in body.items()},
                deep_link=f"partnerwallet://receipts/{receipt.id}", now=now)
    session.flush()
