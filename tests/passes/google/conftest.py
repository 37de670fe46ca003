"""Fixtures for the Google Wallet tests (the local Google stand-in and the service account: tests/passes/conftest.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from passes import member_card
from passes.google import loyalty_object
from tests.passes.conftest import ISSUER  # the stand-in and the service account are fixtures there

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
CARD_KEYS = [("k1", b"member-card-test-key-0123456789ab")]


@pytest.fixture
def payload() -> str:
    """A real member QR payload, as the till's POST /pos/scan accepts it."""
    return member_card.issue("40012345678", keys=CARD_KEYS, now=NOW).payload


@pytest.fixture
def member(payload: str) -> dict[str, Any]:
    """A member's loyalty object."""
    return loyalty_object(issuer_id=ISSUER, object_suffix="member-7f3a9c", class_id=f"{ISSUER}.partner-wallet",
                          member_number="40012345678", member_name="Layla Haddad", barcode_value=payload,
                          balance=12_480, tier_name="Gold")
