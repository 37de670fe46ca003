"""A country's receipt rules as admins set them: allowed sellers, age, minimum, caps, product patterns."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from wallet.errors import InvalidInput
from wallet.receipts.decision import compile_patterns
from wallet.receipts.models import ReceiptProgram
from wallet.receipts.outcomes import receipt_rules


def get(session: Session, country: str, now: dt.datetime) -> ReceiptProgram:
    """The country's rules (the defaults when none were set)."""
    return receipt_rules(session, country, now)


def save(session: Session, *, country: str, now: dt.datetime, **values: Any) -> ReceiptProgram:
    """Create or replace the country's rules. Raises ``InvalidInput`` naming a bad product pattern."""
    try:
        compile_patterns(values.get("product_patterns", []))
    except ValueError as exc:
        raise InvalidInput(str(exc), field="product_patterns") from exc
    program = session.get(ReceiptProgram, country) or ReceiptProgram(country=country)
    for key, value in values.items():
        setattr(program, key, value)
    program.updated_at = now
    session.add(program)
    session.flush()
    return program
