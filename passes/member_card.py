"""The rotating member QR the app shows at the till.

Payload: ``PW1.<kid>.<member_number>.<window>.<mac>``, in QR alphanumeric-friendly
characters. ``PW1`` names the scheme (HMAC-SHA256, truncated to 128 bits), ``kid`` the
key, ``window`` the minute-long time slot it was made for. A till accepts a payload
for ``VALID_WINDOWS`` windows after its own (a phone that fetched it a little while
ago, a cashier who was slow) and one window before (a server clock slightly ahead of
the phone's). After that it is refused as expired, so a screenshot sent to a friend
stops working within minutes.

A Wallet pass cannot rotate its barcode every minute (the phone fetches a pass only when it
is told it changed), so passes carry ``PWP1.<kid>.<member_number>.<mac>``: the same keys,
no time window, like a plastic card. It names only the member number and lets a till
collect on the account as the printed number does; a screenshot of it keeps working until
the key it was signed with is dropped, which is the price of a card in the phone's wallet.
The MAC is over a body that starts with its own scheme, so neither payload can be turned
into the other.

Keys rotate by adding a new one at the front of the list: new cards are signed with
it, and cards in flight signed with an older key still verify until that key is
removed. A public-key scheme (``PW2``) a till can check offline can follow under
its own prefix.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import io
import re
from dataclasses import dataclass

import qrcode
import qrcode.image.svg

from infra.errors import InvalidInput

SCHEME = "PW1"
PASS_SCHEME = "PWP1"
WINDOW_SECONDS = 60
VALID_WINDOWS = 3  # the window itself and up to three after it
EARLY_WINDOWS = 1


class CardError(InvalidInput):
    """A payload the till must refuse; ``message`` is what the cashier reads."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="qr_payload")


@dataclass(frozen=True)
class Card:
    member_number: str
    payload: str
    expires_at: dt.datetime


def _window(at: dt.datetime) -> int:
    return int(at.timestamp()) // WINDOW_SECONDS


def _mac(key: bytes, message: str) -> str:
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()[:16]
    return base64.b32encode(digest).decode().rstrip("=")


def issue(member_number: str, *, keys: list[tuple[str, bytes]], now: dt.datetime) -> Card:
    """A payload for ``now``, signed with the first key."""
    kid, key = keys[0]
    window = _window(now)
    body = f"{SCHEME}.{kid}.{member_number}.{window}"
    expires = dt.datetime.fromtimestamp((window + 1 + VALID_WINDOWS) * WINDOW_SECONDS, dt.timezone.utc)
    return Card(member_number=member_number, payload=f"{body}.{_mac(key, body)}", expires_at=expires)


def issue_for_pass(member_number: str, *, keys: list[tuple[str, bytes]]) -> str:
    """The payload of a Wallet pass's barcode: no time window, signed with the first key."""
    kid, key = keys[0]
    body = f"{PASS_SCHEME}.{kid}.{member_number}"
    return f"{body}.{_mac(key, body)}"


PASS_PAYLOAD = re.compile(r"PWP1\.([A-Za-z0-9]{1,16})\.([0-9]{6,20})\.([A-Za-z2-7]{26})")


def _verify_pass(text: str, keys: list[tuple[str, bytes]]) -> str:
    match = PASS_PAYLOAD.fullmatch(text)
    if match is None:
        raise CardError("this member code is not genuine")
    kid, number, mac = match.groups()
    key = dict(keys).get(kid)
    if key is None or not hmac.compare_digest(_mac(key, f"{PASS_SCHEME}.{kid}.{number}").encode(),
                                              mac.upper().encode()):
        raise CardError("this member code is not genuine")
    return number


# The payload's whole alphabet: ASCII only, so nothing but these characters ever reaches the
# MAC comparison (hmac.compare_digest refuses non-ASCII str) or int() (which reads "١٢").
PAYLOAD = re.compile(r"PW1\.([A-Za-z0-9]{1,16})\.([0-9]{6,20})\.([0-9]{1,12})\.([A-Za-z2-7]{26})")


def verify(payload: str, *, keys: list[tuple[str, bytes]], now: dt.datetime) -> str:
    """The member number in a genuine, current payload (or a genuine Wallet pass's). Raises
    ``CardError`` with the reason."""
    text = payload.strip()
    if text.startswith(f"{PASS_SCHEME}."):
        return _verify_pass(text, keys)
    if not text.startswith(f"{SCHEME}."):
        raise CardError("this is not a Partner Wallet member code")
    match = PAYLOAD.fullmatch(text)
    if match is None:
        raise CardError("this member code is not genuine")
    kid, number, window_text, mac = match.groups()
    key = dict(keys).get(kid)
    if key is None:
        raise CardError("this member code is not genuine")
    body = f"{SCHEME}.{kid}.{number}.{window_text}"
    if not hmac.compare_digest(_mac(key, body).encode(), mac.upper().encode()):
        raise CardError("this member code is not genuine")
    age = _window(now) - int(window_text)
    if age > VALID_WINDOWS:
        raise CardError("this member code has expired: ask the member to refresh the app")
    if age < -EARLY_WINDOWS:
        raise CardError("this member code is from the future: check the till's clock")
    return number


def png(payload: str, *, box_size: int = 10) -> bytes:
    image = qrcode.make(payload, box_size=box_size, border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def svg(payload: str) -> bytes:
    image = qrcode.make(payload, image_factory=qrcode.image.svg.SvgPathImage, border=4)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()
