"""What goes on an Apple Wallet pass: the member's store card and a voucher's coupon, as plain values.

``StoreCard`` and ``Coupon`` are frozen dataclasses the caller fills from the database and
settings; ``passes.apple.pkpass`` turns them into signed ``.pkpass`` files. They check, when
made, what does not depend on the signing identity, so a bad value fails where it is set,
with ``ContentError`` naming the field:

- ``serial_number``: unique within the pass type; it appears in the PassKit web service's
  URLs, so 1-64 characters of ``A-Z a-z 0-9 . _ -``. Use an opaque id, not the member number.
- ``barcode_message``: exactly what the till's ``POST /pos/scan`` accepts (the member QR
  payload) or, on a coupon, the voucher code. Wallet encodes it as ISO-8859-1, so it must be
  representable there; at most 512 characters.
- ``web_service_url`` and ``authentication_token`` come together or not at all (Wallet
  ignores one without the other). The URL is the PassKit web service's base, to which
  Wallet appends ``/v1/devices/...``; https, or http for a development identity only (checked
  at build). The token is what Wallet sends back as ``Authorization: ApplePass <token>``:
  16-256 characters of ``A-Z a-z 0-9 . _ ~ + / = -``.
- times (``relevant_date``, ``expires_at``) are timezone-aware; dates in ``expiring`` are
  ``datetime.date``.
- colours are ``(r, g, b)`` tuples of 0-255.

There is no language field: Wallet chooses the language on the phone from the
``pass.strings`` files every pass carries (en, ar, pl). Free texts (``terms``,
``tier_name``, ``reward_name``) are shown as given, so give them in the member's language.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal, Sequence
from urllib.parse import urlsplit

from passes.apple.errors import ContentError

Color = tuple[int, int, int]

BRAND_FOREGROUND: Color = (255, 255, 255)
BRAND_BACKGROUND: Color = (17, 42, 70)
BRAND_LABEL: Color = (255, 193, 7)

SERIAL = re.compile(r"[A-Za-z0-9._-]{1,64}")
TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]{16,256}")
MAX_BARCODE = 512
MAX_TEXT = 200  # names, descriptions, tier and reward names: a pass shows a line of it
MAX_TERMS = 10_000
MAX_EXPIRING = 50  # refused above this; the pass shows the first MAX_EXPIRING_SHOWN
MAX_EXPIRING_SHOWN = 10

CouponState = Literal["active", "used", "cancelled"]
COUPON_STATES: tuple[str, ...] = ("active", "used", "cancelled")


def _text(name: str, value: object, *, limit: int = MAX_TEXT, required: bool = True) -> None:
    if not isinstance(value, str):
        raise ContentError(f"{name} must be text", reason="invalid", field=name)
    if required and not value.strip():
        raise ContentError(f"{name} is empty", reason="invalid", field=name)
    if len(value) > limit:
        raise ContentError(f"{name} is {len(value)} characters; at most {limit}", reason="too_long", field=name)


def _color(name: str, value: object) -> None:
    if not (isinstance(value, tuple) and len(value) == 3
            and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value)):
        raise ContentError(f"{name} must be an (r, g, b) tuple of 0-255", reason="invalid", field=name)


def _aware(name: str, value: object, *, required: bool = False) -> None:
    if value is None and not required:
        return
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ContentError(f"{name} must be a timezone-aware datetime", reason="invalid", field=name)


def _common(content: "StoreCard | Coupon") -> None:
    if not isinstance(content.serial_number, str) or not SERIAL.fullmatch(content.serial_number):
        raise ContentError("serial_number must be 1-64 characters of A-Z a-z 0-9 . _ -", reason="invalid",
                           field="serial_number")
    for name in ("pass_type_id", "team_id", "organization_name", "description"):
        _text(name, getattr(content, name))
    if content.logo_text is not None:
        _text("logo_text", content.logo_text)
    _text("terms", content.terms, limit=MAX_TERMS, required=False)
    for name in ("foreground_color", "background_color", "label_color"):
        _color(name, getattr(content, name))
    _aware("relevant_date", content.relevant_date)
    url, token = content.web_service_url, content.authentication_token
    if (url is None) != (token is None):
        raise ContentError("web_service_url and authentication_token go together: give both or neither",
                           reason="invalid", field="authentication_token" if token is None else "web_service_url")
    if url is not None:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("https", "http") or not parts.netloc or len(url) > 1000:
            raise ContentError("web_service_url must be an https:// URL", reason="invalid", field="web_service_url")
        if not isinstance(token, str) or not TOKEN.fullmatch(token):
            raise ContentError("authentication_token must be 16-256 characters of A-Z a-z 0-9 . _ ~ + / = -",
                               reason="invalid", field="authentication_token")


def _barcode(name: str, value: object) -> None:
    _text(name, value, limit=MAX_BARCODE)
    try:
        value.encode("iso-8859-1")  # type: ignore[union-attr]
    except UnicodeEncodeError as exc:
        raise ContentError(f"{name} has characters Wallet cannot put in its ISO-8859-1 barcode",
                           reason="not_latin1", field=name) from exc


@dataclass(frozen=True)
class StoreCard:
    """A member's loyalty card (Wallet's ``storeCard`` style).

    Front: the points balance (primary), tier and member name (secondary), member number
    (auxiliary), the member QR. Back: the points expiring soonest, the terms, and a note on
    a development pass. ``expiring`` is a sequence of ``(points, date)``; the card shows the
    first ten by date.
    """

    serial_number: str
    pass_type_id: str
    team_id: str
    organization_name: str
    description: str
    member_number: str
    member_name: str
    barcode_message: str
    balance: int
    tier_name: str
    expiring: Sequence[tuple[int, dt.date]] = ()  # stored as a tuple sorted by date; datetimes become dates
    terms: str = ""
    web_service_url: str | None = None
    authentication_token: str | None = None
    relevant_date: dt.datetime | None = None
    logo_text: str | None = None
    foreground_color: Color = BRAND_FOREGROUND
    background_color: Color = BRAND_BACKGROUND
    label_color: Color = BRAND_LABEL

    def __post_init__(self) -> None:
        _common(self)
        _text("member_number", self.member_number, limit=64)
        _text("member_name", self.member_name)
        _text("tier_name", self.tier_name)
        _barcode("barcode_message", self.barcode_message)
        if not isinstance(self.balance, int) or isinstance(self.balance, bool):
            raise ContentError("balance must be a whole number of points", reason="invalid", field="balance")
        expiring = tuple(self.expiring)
        if len(expiring) > MAX_EXPIRING:
            raise ContentError(f"expiring has {len(expiring)} entries; at most {MAX_EXPIRING}", reason="too_long",
                               field="expiring")
        for entry in expiring:
            if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], int)
                    and not isinstance(entry[0], bool) and isinstance(entry[1], dt.date)):
                raise ContentError("expiring holds (points, date) pairs", reason="invalid", field="expiring")
        # frozen: a list given by the caller becomes a tuple, so the card stays immutable and hashable
        days = sorted(((points, _day(day)) for points, day in expiring), key=lambda e: (e[1], e[0]))
        object.__setattr__(self, "expiring", tuple(days))


def _day(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


@dataclass(frozen=True)
class Coupon:
    """A voucher the member holds (Wallet's ``coupon`` style).

    Front: the reward (primary), valid-until date and status (secondary), the code
    (auxiliary), and the code as QR with the code as its human-readable text. ``state``
    ``used`` or ``cancelled`` makes the pass ``voided``; Wallet greys out a voided pass and an
    expired one (``expires_at`` past) by itself.
    """

    serial_number: str
    pass_type_id: str
    team_id: str
    organization_name: str
    description: str
    voucher_code: str
    reward_name: str
    expires_at: dt.datetime | None = None
    state: CouponState = "active"
    member_name: str | None = None
    terms: str = ""
    web_service_url: str | None = None
    authentication_token: str | None = None
    relevant_date: dt.datetime | None = None
    logo_text: str | None = None
    foreground_color: Color = BRAND_FOREGROUND
    background_color: Color = BRAND_BACKGROUND
    label_color: Color = BRAND_LABEL

    def __post_init__(self) -> None:
        _common(self)
        _barcode("voucher_code", self.voucher_code)
        _text("reward_name", self.reward_name)
        if self.member_name is not None:
            _text("member_name", self.member_name)
        _aware("expires_at", self.expires_at)
        if self.state not in COUPON_STATES:
            raise ContentError(f"state must be one of {', '.join(COUPON_STATES)}", reason="invalid", field="state")

    @property
    def voided(self) -> bool:
        """True once the voucher is used or cancelled: Wallet shows it as void."""
        return self.state in ("used", "cancelled")
