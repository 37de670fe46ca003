"""Fixtures for the Google Wallet tests: the local Google stand-in and a service account pointed at it."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from passes import member_card
from passes.google import loyalty_object
from tests.passes.google.wallet_server import WalletServer

ISSUER = "3388000000012345678"
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
CARD_KEYS = [("k1", b"member-card-test-key-0123456789ab")]


@pytest.fixture
def google() -> Iterator[WalletServer]:
    """The local OAuth token endpoint and Wallet API."""
    server = WalletServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _account() -> tuple[dict[str, Any], rsa.RSAPrivateKey]:
    return WalletServer.service_account("http://127.0.0.1:9/token")  # token_uri replaced per test


@pytest.fixture
def account(_account: tuple[dict[str, Any], rsa.RSAPrivateKey], google: WalletServer) -> dict[str, Any]:
    """A service-account JSON whose token_uri is the local token endpoint (one RSA key per run)."""
    return {**_account[0], "token_uri": f"{google.url}/token"}


@pytest.fixture
def account_key(_account: tuple[dict[str, Any], rsa.RSAPrivateKey]) -> rsa.RSAPrivateKey:
    """The service account's private key."""
    return _account[1]


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
