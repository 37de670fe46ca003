"""An admin's correction of a member's points, with the reason and the admin recorded.

A credit becomes a lot that lives as long as the member's country's points do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from wallet import ledger
from wallet.earning import rules
from wallet.members.accounts import get_member


@dataclass(frozen=True)
class Adjustment:
    transaction: ledger.LedgerTransaction
    balance: int


def adjust_member(session: Session, *, member_id: int, points: int, reason: str, actor_user_id: int,
                  now: dt.datetime, idempotency_key: str | None = None) -> Adjustment:
    """Raises ``NotFound`` (member, or its country's program) and ``InsufficientPoints`` (a debit)."""
    member = get_member(session, member_id)
    program = rules.get_program(session, member.country)
    tx = ledger.adjust(session, member_id=member.id, points=points, reason=reason, actor_user_id=actor_user_id,
                       now=now, expires_at=rules.add_months(now, program.expiry_months),
                       idempotency_key=idempotency_key)
    return Adjustment(transaction=tx, balance=ledger.member_account(session, member.id, now).balance)
