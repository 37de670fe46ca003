"""The formats, and ``read``: which one a decoded code belongs to, and what it says.

A format is a cheap ``detect`` (does this text have the shape of my codes: a base64
TLV starting with tag 1, a KSeF link, ``A:...*B:``, a JWS) and a strict ``parse``.
The first format whose ``detect`` claims the text parses it, and its verdict is final:
a reading, or ``FiscalCodeRefused``. Text no format claims (a shop's URL, an EAN-13,
a loyalty barcode) is not a fiscal code and gives None. The detectors are written so
that at most one claims any text (base64 has no ``:``, ``*`` or ``.``; a JWS has dots;
a link has ``://``), so the order of registration decides nothing.

Size is checked before any format looks at the text: a QR code holds at most 2,953
bytes of binary data (4,296 alphanumeric characters), so more than 4 KiB did not come
from one, and nothing is decoded from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from .errors import FiscalCodeRefused
from .reading import FiscalKeys, FiscalReading

MAX_TEXT_BYTES = 4096
# Scanners add a line end now and then; no fiscal code begins or ends with blanks.
_BLANKS = " \t\r\n"


@dataclass(frozen=True)
class FiscalFormat:
    name: str
    detect: Callable[[str], bool]
    parse: Callable[..., FiscalReading]  # parse(text, *, now, keys) -> FiscalReading


_FORMATS: list[FiscalFormat] = []


def register(fiscal_format: FiscalFormat) -> FiscalFormat:
    """Adds a format; each format module calls this once when it is imported."""
    if any(f.name == fiscal_format.name for f in _FORMATS):
        raise ValueError(f"format {fiscal_format.name!r} is already registered")
    _FORMATS.append(fiscal_format)
    return fiscal_format


def registered_formats() -> tuple[str, ...]:
    return tuple(f.name for f in _FORMATS)


def claimants(text: str) -> tuple[str, ...]:
    """The formats whose ``detect`` claims ``text`` (after trimming blanks); for tests and diagnostics."""
    text = text.strip(_BLANKS)
    return tuple(f.name for f in _FORMATS if f.detect(text))


def read(text: str, *, now: dt.datetime, keys: FiscalKeys | None = None) -> FiscalReading | None:
    """What the decoded code ``text`` says, or None when it is not a fiscal code.

    ``now`` (timezone-aware) is the moment the receipt is read, used only to flag codes
    dated in the future. ``keys`` are the public keys signatures are checked against;
    without them GST and KSeF KOD II signatures are "unverifiable".

    Raises ``FiscalCodeRefused`` when a format claims the text but cannot read all of
    it, or when the text is over ``MAX_TEXT_BYTES``; ``FiscalKeysInvalid`` when a
    configured key cannot be loaded.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if len(text) > MAX_TEXT_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
        raise FiscalCodeRefused(None, "fiscal.too_large", f"{len(text)} characters is more than a QR code holds")
    text = text.strip(_BLANKS)
    for fiscal_format in _FORMATS:
        if fiscal_format.detect(text):
            return fiscal_format.parse(text, now=now, keys=keys or FiscalKeys())
    return None
