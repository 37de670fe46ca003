"""Fixtures for the Apple pass tests: development identities (made once per run), content, openssl."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import subprocess
import zipfile
from pathlib import Path
from typing import Any, Callable

import pytest

from passes import member_card
from passes.apple import Coupon, Identity, StoreCard, development_identity

OPENSSL = "/usr/bin/openssl"
PASS_TYPE = "pass.com.example.partnerwallet"
TEAM = "ABCDE12345"
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
CARD_KEYS = [("k1", b"member-card-test-key-0123456789ab")]


@pytest.fixture(scope="session")
def identity_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the run's development identity lives."""
    return tmp_path_factory.mktemp("apple-identity") / "dev"


@pytest.fixture(scope="session")
def identity(identity_dir: Path) -> Identity:
    """The development identity the passes are signed with."""
    return development_identity(identity_dir, pass_type_id=PASS_TYPE, team_id=TEAM, now=NOW)


@pytest.fixture(scope="session")
def other_identity(tmp_path_factory: pytest.TempPathFactory) -> Identity:
    """A second development identity for the same pass type: its own root, intermediate and key."""
    return development_identity(tmp_path_factory.mktemp("apple-other") / "dev", pass_type_id=PASS_TYPE, team_id=TEAM,
                                now=NOW)


@pytest.fixture
def payload() -> str:
    """A real member QR payload, as the till's POST /pos/scan accepts it."""
    return member_card.issue("40012345678", keys=CARD_KEYS, now=NOW).payload


@pytest.fixture
def card(payload: str) -> StoreCard:
    """A member's store card with everything filled in."""
    return StoreCard(
        serial_number="card-7f3a9c",
        pass_type_id=PASS_TYPE,
        team_id=TEAM,
        organization_name="Partner Wallet",
        description="Partner Wallet member card",
        member_number="40012345678",
        member_name="Layla Haddad",
        barcode_message=payload,
        balance=12_480,
        tier_name="Gold",
        expiring=[(300, dt.date(2027, 3, 31)), (120, dt.date(2027, 1, 31))],
        terms="Points expire 24 months after they are earned.",
        web_service_url="https://wallet.example.com/api/passes/",
        authentication_token="tok_0123456789abcdef0123",
        relevant_date=NOW,
    )


@pytest.fixture
def coupon() -> Coupon:
    """An unused voucher for a reward."""
    return Coupon(
        serial_number="voucher-91",
        pass_type_id=PASS_TYPE,
        team_id=TEAM,
        organization_name="Partner Wallet",
        description="Partner Wallet voucher",
        voucher_code="WINTER-7QK2-M9PX",
        reward_name="Wheel alignment",
        expires_at=dt.datetime(2027, 2, 28, 23, 59, tzinfo=dt.timezone.utc),
        member_name="Layla Haddad",
        web_service_url="https://wallet.example.com/api/passes/",
        authentication_token="tok_fedcba9876543210fedc",
    )


def unzip(pkpass: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(pkpass)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def replace(content: Any, **changes: Any) -> Any:
    return dataclasses.replace(content, **changes)


@pytest.fixture
def cms_verify(tmp_path: Path) -> Callable[[bytes, bytes, Path], subprocess.CompletedProcess[str]]:
    """Runs the real ``openssl cms -verify`` on a detached signature, its content and a CA file."""

    def run(signature: bytes, content: bytes, ca_file: Path) -> subprocess.CompletedProcess[str]:
        (tmp_path / "signature").write_bytes(signature)
        (tmp_path / "manifest.json").write_bytes(content)
        return subprocess.run(
            [OPENSSL, "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "signature"),
             "-content", str(tmp_path / "manifest.json"), "-CAfile", str(ca_file), "-purpose", "any",
             "-out", str(tmp_path / "verified")],
            capture_output=True, text=True, timeout=30, check=False)

    if not Path(OPENSSL).exists():
        pytest.fail(f"{OPENSSL} is missing (Debian package openssl)")
    return run
