"""What a member's passes show, read from the database once for Apple and Google alike.

A pass is a picture of a few facts (balance, tier, name, the points expiring soonest; for a
voucher its code, reward, validity and status). ``member_facts`` / ``voucher_facts`` read
them; the ``*_card`` / ``*_object`` functions turn facts into the builders' content. The
content hash of what is built decides whether anything changed (``passes.updates``).

Serial numbers are ``m<member id>`` and ``v<voucher id>``: stable, and they name the row the
PassKit web service must find before any registration exists. They are not secret; the
authentication token (an HMAC of the serial, ``token_for``) is what a phone proves itself with.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from passes import member_card
from passes.apple import Coupon, StoreCard
from passes.google import loyalty_class, loyalty_object, object_id, offer_class, offer_object
from wallet import overview
from wallet.members.models import Member
from wallet.rewards import vouchers
from wallet.rewards.codes import CodeVault
from wallet.rewards.models import Reward

SERIAL = re.compile(r"(m|v)([1-9][0-9]{0,18})")
TERMS = ("Points are earned on purchases at participating stores and expire as shown. "
         "The program's full terms are in the app.")


def member_serial(member_id: int) -> str:
    return f"m{member_id}"


def voucher_serial(voucher_id: int) -> str:
    return f"v{voucher_id}"


def parse_serial(serial: str) -> tuple[str, int] | None:
    """``("member", id)`` or ``("voucher", id)`` for a serial we issue, else None."""
    match = SERIAL.fullmatch(serial or "")
    if match is None:
        return None
    return ("member" if match.group(1) == "m" else "voucher"), int(match.group(2))


def token_for(serial: str, key: bytes) -> str:
    """The pass's authentication token: 32 characters, derived, never stored."""
    digest = hmac.new(key, f"apple-pass:{serial}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]


def token_matches(serial: str, token: str, key: bytes) -> bool:
    return hmac.compare_digest(token_for(serial, key).encode(), (token or "").encode("utf-8", "replace"))


@dataclass(frozen=True)
class MemberFacts:
    member_id: int
    member_number: str
    name: str
    balance: int
    tier_name: str
    expiring: tuple[tuple[int, dt.date], ...]


@dataclass(frozen=True)
class VoucherFacts:
    voucher_id: int
    member_id: int
    member_name: str
    code: str
    reward_id: int
    reward_name: str
    status: str  # active | used | expired | cancelled
    expires_at: dt.datetime


def member_facts(session: Session, member: Member, now: dt.datetime) -> MemberFacts:
    """What the member's card shows now: one statement (``wallet.overview.wallet_of``)."""
    wallet = overview.wallet_of(session, member, now)
    return MemberFacts(member_id=member.id, member_number=member.member_number, name=member.name,
                       balance=wallet.balance, tier_name=member.tier_name,
                       expiring=tuple((e.points, e.expires_at.date()) for e in wallet.expiring))


def voucher_facts(session: Session, voucher_id: int, vault: CodeVault, now: dt.datetime) -> VoucherFacts | None:
    """What the voucher's pass shows now, or None when there is no such voucher."""
    voucher = session.get(vouchers.Voucher, voucher_id)
    if voucher is None:
        return None
    reward = session.get(Reward, voucher.reward_id)
    member = session.get(Member, voucher.member_id)
    assert reward is not None and member is not None  # foreign keys
    status = voucher.status
    if status == "active" and voucher.expires_at <= now:
        status = "expired"
    return VoucherFacts(voucher_id=voucher.id, member_id=voucher.member_id, member_name=member.name,
                        code=vouchers.reveal(voucher, vault).code, reward_id=reward.id,
                        reward_name=reward.names.get(member.language) or reward.names["en"],
                        status=status, expires_at=voucher.expires_at)


def _web_service(settings: Any) -> str:
    # Wallet appends /v1/devices/... itself: the URL is the service's base.
    return settings.public_url.rstrip("/") + "/passkit"


def store_card(facts: MemberFacts, settings: Any) -> StoreCard:
    """The member's Apple store card: the pass barcode (``PWP1``), which ``POST /pos/scan`` accepts."""
    serial = member_serial(facts.member_id)
    return StoreCard(
        serial_number=serial, pass_type_id=settings.apple_pass_type_id, team_id=settings.apple_pass_team_id,
        organization_name=settings.apple_pass_organization,
        description=f"{settings.apple_pass_organization} member card",
        member_number=facts.member_number, member_name=facts.name,
        barcode_message=member_card.issue_for_pass(facts.member_number, keys=settings.qr_keys()),
        balance=facts.balance, tier_name=facts.tier_name, expiring=facts.expiring, terms=TERMS,
        web_service_url=_web_service(settings), authentication_token=token_for(serial, settings.pass_token_key()),
    )


def coupon(facts: VoucherFacts, settings: Any) -> Coupon:
    """The voucher's Apple coupon: its code as barcode, voided once used or cancelled."""
    serial = voucher_serial(facts.voucher_id)
    state = facts.status if facts.status in ("used", "cancelled") else "active"  # Wallet greys out the expired
    return Coupon(
        serial_number=serial, pass_type_id=settings.apple_pass_type_id, team_id=settings.apple_pass_team_id,
        organization_name=settings.apple_pass_organization, description=f"{facts.reward_name} voucher",
        voucher_code=facts.code, reward_name=facts.reward_name, expires_at=facts.expires_at, state=state,
        member_name=facts.member_name, terms=TERMS,
        web_service_url=_web_service(settings), authentication_token=token_for(serial, settings.pass_token_key()),
    )


def google_class_id(settings: Any) -> str:
    return object_id(settings.google_wallet_issuer_id, settings.google_wallet_class_suffix)


def google_loyalty_class(settings: Any) -> dict[str, Any] | None:
    """The program's loyalty class, or None without GOOGLE_WALLET_LOGO_URL (Google needs a logo)."""
    if not settings.google_wallet_logo_url:
        return None
    return loyalty_class(issuer_id=settings.google_wallet_issuer_id, class_suffix=settings.google_wallet_class_suffix,
                         issuer_name=settings.apple_pass_organization, program_name=settings.apple_pass_organization,
                         program_logo_uri=settings.google_wallet_logo_url)


def google_member_object(facts: MemberFacts, settings: Any) -> dict[str, Any]:
    return loyalty_object(issuer_id=settings.google_wallet_issuer_id, object_suffix=member_serial(facts.member_id),
                          class_id=google_class_id(settings), member_number=facts.member_number,
                          member_name=facts.name,
                          barcode_value=member_card.issue_for_pass(facts.member_number, keys=settings.qr_keys()),
                          balance=facts.balance, tier_name=facts.tier_name, expiring=facts.expiring)


def google_offer_class_id(settings: Any, reward_id: int) -> str:
    return object_id(settings.google_wallet_issuer_id, f"{settings.google_wallet_class_suffix}-reward-{reward_id}")


def google_offer_class(facts: VoucherFacts, settings: Any) -> dict[str, Any]:
    return offer_class(issuer_id=settings.google_wallet_issuer_id,
                       class_suffix=f"{settings.google_wallet_class_suffix}-reward-{facts.reward_id}",
                       issuer_name=settings.apple_pass_organization, provider=settings.apple_pass_organization,
                       title=facts.reward_name)


def google_voucher_object(facts: VoucherFacts, settings: Any) -> dict[str, Any]:
    return offer_object(issuer_id=settings.google_wallet_issuer_id, object_suffix=voucher_serial(facts.voucher_id),
                        class_id=google_offer_class_id(settings, facts.reward_id), voucher_code=facts.code,
                        status=facts.status, expires_at=facts.expires_at)  # type: ignore[arg-type]


def object_hash(obj: dict[str, Any]) -> str:
    """A SHA-256 of a Google object as sent: equal hashes, nothing to PATCH."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
