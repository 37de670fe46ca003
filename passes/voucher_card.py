"""The QR a voucher shows at the till: ``PWV1.<kid>.<voucher_id>.<mac>``.

``PWV1`` names the scheme (HMAC-SHA256 over the rest, truncated to 128 bits, base32), beside
the member card's ``PW1``; ``kid`` names the key, so keys rotate as the member card's do (a
new key first; payloads made with an older one verify until it is dropped). A till tells a
real voucher from a typed or made-up one by the MAC alone, before any database lookup. There
is no time window: a voucher's QR is good as long as the voucher is (its expiry, use and
cancellation are the database's to say), and it names nothing but the voucher's id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from infra.errors import InvalidInput
from passes import member_card

SCHEME = "PWV1"
# The payload's whole alphabet, checked before anything else: ASCII only, so nothing but these
# characters reaches the MAC comparison (hmac.compare_digest refuses non-ASCII str) or int()
# (which would read Arabic-Indic digits, "١٢", as 12).
PAYLOAD = re.compile(r"PWV1\.([A-Za-z0-9]{1,16})\.([1-9][0-9]{0,18})\.([A-Za-z2-7]{26})")


class VoucherCodeError(InvalidInput):
    """A payload the till must refuse; ``message`` is what the cashier reads."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="qr_payload")


def _mac(key: bytes, body: str) -> str:
    return base64.b32encode(hmac.new(key, body.encode(), hashlib.sha256).digest()[:16]).decode().rstrip("=")


def issue(voucher_id: int, *, keys: list[tuple[str, bytes]]) -> str:
    """The payload of ``voucher_id``, signed with the first (newest) key."""
    kid, key = keys[0]
    body = f"{SCHEME}.{kid}.{voucher_id}"
    return f"{body}.{_mac(key, body)}"


def is_voucher_payload(payload: str) -> bool:
    """Whether a scanned payload claims to be a voucher's (rather than a member card's)."""
    return payload.strip().startswith(f"{SCHEME}.")


def verify(payload: str, *, keys: list[tuple[str, bytes]]) -> int:
    """The voucher id of a genuine payload. Raises ``VoucherCodeError`` with the reason."""
    text = payload.strip()
    if not is_voucher_payload(text):
        raise VoucherCodeError("this is not a Partner Wallet voucher code")
    match = PAYLOAD.fullmatch(text)
    if match is None:
        raise VoucherCodeError("this voucher code is not genuine")
    kid, voucher_id, mac = match.groups()
    key = dict(keys).get(kid)
    if key is None:
        raise VoucherCodeError("this voucher code is not genuine")
    if not hmac.compare_digest(_mac(key, f"{SCHEME}.{kid}.{voucher_id}").encode(), mac.upper().encode()):
        raise VoucherCodeError("this voucher code is not genuine")
    return int(voucher_id)


def png(payload: str, *, box_size: int = 10) -> bytes:
    """The QR image of ``payload`` (the member card's renderer)."""
    return member_card.png(payload, box_size=box_size)
