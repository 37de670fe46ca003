"""What a fiscal code said, as one frozen value, and the keys needed to check it.

A ``FiscalReading`` is complete or it does not exist: ``__post_init__`` checks that
every field the format always carries is there and well-typed, so a parser that
forgot one fails loudly instead of handing a half-read receipt to the points rules.
Fields the format does not carry (ZATCA has no invoice number, KSeF no amount) are
None, never guessed.

``warnings`` are ``"code: human text"`` strings. Any warning means "a person looks at
this receipt before points are given"; a reading without warnings may be approved
automatically by the rules that decide points. ``signature`` says how far the code
itself could be checked, not whether the receipt is genuine; see ``Signature``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

Format = Literal["zatca", "ksef", "atcud", "gst"]

# "valid": the signature in the code checks against the key it must check against.
#   For ZATCA that key is printed in the same code (tag 8): "valid" proves the hash was
#   signed by the holder of that key, not that ZATCA certified the key (tag 9 signs the
#   whole certificate, which the code does not carry). For GST the key is one of the
#   e-invoice portals' keys configured in FiscalKeys; for KSeF KOD II the issuer's KSeF
#   certificate configured in FiscalKeys.
# "invalid": a signature is there and does not check (or cannot be decoded).
# "absent": the format carries no signature (ZATCA phase 1, KSeF KOD I, ATCUD).
# "unverifiable": a signature is there but the key to check it is not available.
Signature = Literal["valid", "invalid", "absent", "unverifiable"]

COUNTRIES: dict[str, str] = {"zatca": "SA", "ksef": "PL", "atcud": "PT", "gst": "IN"}
SIGNATURES = ("valid", "invalid", "absent", "unverifiable")

# What each format always carries; a reading without one of these is a parser bug.
_REQUIRED: dict[str, tuple[str, ...]] = {
    "zatca": ("seller_name", "seller_tax_number", "issued_at", "total", "vat"),
    "ksef": ("seller_tax_number", "invoice_hash"),  # KOD II carries no date
    "atcud": ("seller_tax_number", "invoice_number", "issued_at", "total", "vat"),
    "gst": ("seller_tax_number", "invoice_number", "issued_at", "total", "invoice_hash"),
}


@dataclass(frozen=True)
class FiscalKeys:
    """Public keys the readers check signatures against; configured, never fetched.

    ``gst_public_keys``: PEM public keys or certificates of India's e-invoice
    registration portals (NIC and the other IRPs), which sign the e-invoice QR code.
    ``ksef_certificates``: PEM or DER KSeF certificates of type "Offline", found by
    serial number to check a KSeF KOD II link.
    """

    gst_public_keys: tuple[bytes, ...] = ()
    ksef_certificates: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class FiscalReading:
    """One fiscal code, read completely.

    ``issued_at`` is timezone-aware. Formats that carry only a date (KSeF, ATCUD, GST)
    give midnight of that date in the country's zone; a ZATCA time written without a
    zone is read in Asia/Riyadh and says so in a warning. It is None only for a KSeF
    KOD II link, which carries no date.

    ``content_key`` names the receipt, not the photo: the same receipt photographed
    twice, or by two members, gives the same key; another receipt gives another. It is
    ``"<format>:<sha256 hex>"`` of the fiscal fields that identify the document.

    ``details`` holds the other things the code said that a reviewer may want to see
    (document type, environment, public-key fingerprint), as sorted ``(name, value)``
    pairs.
    """

    format: Format
    country: str
    seller_name: str | None
    seller_tax_number: str | None
    buyer_tax_number: str | None
    invoice_number: str | None
    issued_at: dt.datetime | None
    total: Decimal | None
    vat: Decimal | None
    currency: str | None
    invoice_hash: str | None
    signature: Signature
    warnings: tuple[str, ...]
    content_key: str
    details: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        if self.format not in COUNTRIES or COUNTRIES[self.format] != self.country:
            raise ValueError(f"unknown format/country {self.format!r}/{self.country!r}")
        for name in _REQUIRED[self.format]:
            if getattr(self, name) is None:
                raise ValueError(f"a {self.format} reading needs {name}")
        if self.issued_at is not None and self.issued_at.utcoffset() is None:
            raise ValueError("issued_at must be timezone-aware")
        for name in ("total", "vat"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, Decimal) and value.is_finite()):
                raise ValueError(f"{name} must be a finite Decimal")
        if self.signature not in SIGNATURES:
            raise ValueError(f"unknown signature state {self.signature!r}")
        if not self.content_key.startswith(self.format + ":") or len(self.content_key) != len(self.format) + 65:
            raise ValueError("content_key must be '<format>:<sha256 hex>'")
        for warning in self.warnings:
            code, sep, text = warning.partition(": ")
            if not (sep and text and code.startswith(self.format + ".")):
                raise ValueError(f"a warning is '<format>.<code>: <text>', not {warning!r}")
        if list(self.details) != sorted(dict(self.details).items()):
            raise ValueError("details must be sorted (name, value) pairs with unique names")

    @property
    def warning_codes(self) -> tuple[str, ...]:
        """The machine codes of ``warnings``, in order."""
        return tuple(warning.partition(": ")[0] for warning in self.warnings)

    def detail(self, name: str) -> str | None:
        """The detail called ``name``, or None when the code did not say."""
        return dict(self.details).get(name)
