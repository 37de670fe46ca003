"""Value readers the formats share: amounts, dates in the future, base64, content keys.

Each reader either returns the value (with the warnings its leniency cost) or raises
``FiscalCodeRefused`` naming the format; none of them guesses. Digits are ASCII only:
``Decimal`` would happily read Arabic-Indic digits, and a code that uses them is not
one any fiscal authority specifies.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from decimal import Decimal

from .errors import FiscalCodeRefused

# A time read from a code may be a local time its generator labelled as UTC (a known
# habit of ZATCA QR generators: local time with "Z" appended). No zone is more than 14
# hours ahead of UTC, so anything further ahead than that cannot be explained away.
FUTURE_SLACK = dt.timedelta(hours=14)

# Larger amounts are not receipts; the bound also keeps Decimal arithmetic cheap.
MAX_AMOUNT = Decimal(10) ** 13

_PLAIN = re.compile(r"-?[0-9]{1,14}\.[0-9]{1,6}")
_WHOLE = re.compile(r"-?[0-9]{1,14}")
_COMMA = re.compile(r"-?[0-9]{1,14},[0-9]{1,2}")
_B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def warning(code: str, text: str) -> str:
    """A warning as FiscalReading keeps it: ``"<format>.<code>: <text>"``."""
    return f"{code}: {text}"


def refuse(format: str, reason: str, message: str) -> FiscalCodeRefused:
    """The exception to raise; ``reason`` is the short code without the format prefix."""
    return FiscalCodeRefused(format, f"{format}.{reason}", message)


def amount(format: str, name: str, text: str, warnings: list[str]) -> Decimal:
    """``text`` as a Decimal amount.

    ``115.00`` is read as written. ``115`` (no decimals), ``115,50`` (a decimal comma)
    and a minus sign are read too, each adding a warning to ``warnings``. Anything else
    (thousands separators, a currency, spaces, other digits) is refused with reason
    ``<format>.bad_amount``: which of ``1,150`` and ``1.150`` was meant cannot be known.
    """
    if _PLAIN.fullmatch(text):
        value = Decimal(text)
    elif _WHOLE.fullmatch(text):
        value = Decimal(text)
        warnings.append(warning(f"{format}.amount_no_decimals", f"the {name} {text!r} is written without decimals"))
    elif _COMMA.fullmatch(text):
        value = Decimal(text.replace(",", "."))
        warnings.append(warning(f"{format}.amount_comma_decimal", f"the {name} {text!r} uses a decimal comma"))
    else:
        raise refuse(format, "bad_amount", f"the {name} {text[:40]!r} is not an amount")
    if value < 0:
        warnings.append(warning(f"{format}.negative_amount", f"the {name} is negative ({text})"))
    return value


def checked_amount(format: str, name: str, value: Decimal) -> Decimal:
    """A Decimal that came from JSON, refused with ``<format>.bad_field`` unless it is a sane amount."""
    if not value.is_finite() or abs(value) >= MAX_AMOUNT or int(value.as_tuple().exponent) < -6:
        raise refuse(format, "bad_field", f"the {name} {value} is not an amount")
    return value


def check_year(format: str, reason: str, year: int, text: str) -> None:
    """Refuse dates outside 2000-2099: no e-invoicing code predates them, and far years overflow in UTC."""
    if not 2000 <= year <= 2099:
        raise refuse(format, reason, f"{text[:40]!r} is not a date of this century")


def time_in_future(format: str, issued_at: dt.datetime, now: dt.datetime, warnings: list[str]) -> None:
    """Warn when a code's date and time lie further ahead of ``now`` than a zone mix-up explains."""
    if issued_at - now > FUTURE_SLACK:
        text = f"the code says it was issued at {issued_at.isoformat()}, after now"
        warnings.append(warning(f"{format}.issued_in_future", text))


def date_in_future(format: str, issued_on: dt.date, zone: dt.tzinfo, now: dt.datetime, warnings: list[str]) -> None:
    """Warn when a code's date is after today in the country's zone."""
    if issued_on > now.astimezone(zone).date():
        text = f"the code says it was issued on {issued_on.isoformat()}, after today"
        warnings.append(warning(f"{format}.issued_in_future", text))


def b64decode_strict(text: str) -> bytes | None:
    """Standard base64 with its padding and nothing else, or None.

    Non-canonical encodings (stray bits in the last character) are refused too: two
    different texts must not decode to the same bytes.
    """
    if len(text) % 4 or not _B64.fullmatch(text):
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if base64.b64encode(data).decode("ascii") == text else None


def b64url_decode_strict(text: str) -> bytes | None:
    """base64url without padding (RFC 7515 section 2), canonical, or None."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        return None
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return data if b64url_encode(data) == text else None


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def content_key(format: str, *parts: str) -> str:
    """``"<format>:<sha256 hex>"`` of the identifying parts, unambiguously joined."""
    digest = hashlib.sha256("\x1f".join((format, *parts)).encode("utf-8")).hexdigest()
    return f"{format}:{digest}"


def amount_key(value: Decimal) -> str:
    """An amount as the content key sees it: ``115``, ``115.0`` and ``115.00`` are one amount."""
    return format(value.normalize(), "f") if value else "0"
