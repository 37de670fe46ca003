"""Portugal: the QR code on invoices and other fiscal documents (Portaria 195/2020).

The code is ``key:value`` fields joined by ``*``, in a fixed order: A issuer NIF, B
buyer NIF (``999999990`` for a final consumer), C buyer country, D document type, E
status, F date (YYYYMMDD), G the document's unique identification, H the ATCUD
(series validation code, ``-``, sequence number; ``0`` before series were
communicated), I1-I8 / J1-J8 / K1-K8 the VAT bases and totals of up to three tax
regions (mainland, Azores, Madeira), L amounts outside VAT, M stamp duty, N total
taxes, O total of the document with taxes, P withholding, Q four characters of the
document's signature hash, R the software certificate number, S other information.
A, B, C, D, E, F, G, H, I1, N, O, Q and R are mandatory; the others appear when they
have a value. Sources: AT's "Especificações Técnicas Código QR" (field table, maximum
lengths, the worked examples), as summarised by Oracle's and Sage X3's localisation
guides, and AT's FAQ 879 (H is ``0`` until series are communicated).

Strict about structure (each defect its own reason): fields out of order, repeated,
unknown, malformed, too long, or a mandatory one missing; an issuer NIF that is not
9 digits or fails its mod-11 check digit; a date that does not exist; an ATCUD that is
not ``CODE-NUMBER``. Lenient, with a warning: blanks around a value (the
specification's own examples have them), amounts without decimals or with a decimal
comma, a buyer NIF that fails its check, and totals that do not add up (N is the sum
of the VAT totals and stamp duty, O the sum of the bases, L and N: true of every
example in the specification).

Amounts are in euros (SAF-T (PT) amounts are). The QR code is not signed: Q is a
fragment of the document's signature, which cannot be checked without the document,
so ``signature`` is "absent".
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from . import registry
from .reading import FiscalKeys, FiscalReading
from .tax_numbers import nif_checks, nif_is_well_formed
from .values import amount, check_year, content_key, date_in_future, refuse, warning

FORMAT: Final = "atcud"
LISBON = ZoneInfo("Europe/Lisbon")
GENERIC_CONSUMER = "999999990"

_REGION_FIELDS = [f"{group}{n}" for group in "IJK" for n in range(1, 9)]
ORDER = ["A", "B", "C", "D", "E", "F", "G", "H", *_REGION_FIELDS, "L", "M", "N", "O", "P", "Q", "R", "S"]
_POSITION = {key: index for index, key in enumerate(ORDER)}
MAX_LENGTH = {
    "A": 9, "B": 30, "C": 12, "D": 2, "E": 1, "F": 8, "G": 60, "H": 70,
    **{key: (5 if key.endswith("1") else 16) for key in _REGION_FIELDS},
    "L": 16, "M": 16, "N": 16, "O": 16, "P": 16, "Q": 4, "R": 4, "S": 65,
}  # fmt: skip
MANDATORY = ("A", "B", "C", "D", "E", "F", "G", "H", "I1", "N", "O", "Q", "R")
_AMOUNTS = [key for key in ORDER if key in MAX_LENGTH and MAX_LENGTH[key] == 16]
_TAX_FIELDS = [f"{group}{n}" for group in "IJK" for n in (4, 6, 8)] + ["M"]
_BASE_FIELDS = [f"{group}{n}" for group in "IJK" for n in (2, 3, 5, 7)] + ["L"]
# Slack for totals that were rounded line by line before they were added up.
_SUM_TOLERANCE = Decimal("0.05")

INVOICES = {"FT": "invoice", "FS": "simplified invoice", "FR": "invoice-receipt"}
STATUSES = {"N": "normal", "S": "self-billing", "A": "cancelled", "R": "summary", "F": "invoiced"}

_DETECT = re.compile(r"A:[^*]{0,20}\*B:")
_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_ATCUD = re.compile(r"([A-Za-z0-9]{8,})-([0-9]{1,20})")
_REGION = re.compile(r"0|[A-Z]{2}(-[A-Z]{2})?")
_HASH_CHARS = re.compile(r"[A-Za-z0-9+/=]{4}")
_SEQUENCE_IN_ID = re.compile(r"/([0-9]{1,20})$")


def detect(text: str) -> bool:
    """Starts with the issuer NIF field and the buyer NIF field, as every such code does."""
    return bool(_DETECT.match(text))


def parse(text: str, *, now: dt.datetime, keys: FiscalKeys) -> FiscalReading:
    warnings: list[str] = []
    fields = _fields(text, warnings)

    nif = fields["A"]
    if not nif_is_well_formed(nif):
        raise refuse(FORMAT, "nif_format", f"the issuer NIF {nif!r} is not 9 digits")
    if not nif_checks(nif):
        raise refuse(FORMAT, "nif_checksum", f"the issuer NIF {nif} fails its check digit")
    buyer = fields["B"]
    if fields["C"] == "PT" and nif_is_well_formed(buyer) and not nif_checks(buyer):
        warnings.append(warning("atcud.buyer_nif_checksum", f"the buyer NIF {buyer} fails its check digit"))
    document_type, status = fields["D"], fields["E"]
    if not re.fullmatch(r"[A-Z]{2}", document_type):
        raise refuse(FORMAT, "bad_value", f"the document type {document_type!r} is not two capital letters")
    if status not in STATUSES:
        raise refuse(FORMAT, "bad_value", f"the document status {status!r} is none of {''.join(STATUSES)}")
    if document_type not in INVOICES:
        warnings.append(warning("atcud.document_type", f"the document is of type {document_type}, not an invoice"))
    if status == "A":
        warnings.append(warning("atcud.cancelled", "the document is marked cancelled (E:A)"))
    issued_on = _date(fields["F"])
    atcud = _atcud(fields["H"], fields["G"], warnings)
    for key in ("I1", "J1", "K1"):
        if key in fields and not _REGION.fullmatch(fields[key]):
            raise refuse(FORMAT, "bad_value", f"the tax region {key} {fields[key]!r} is not a region code")
    if not _HASH_CHARS.fullmatch(fields["Q"]):
        raise refuse(FORMAT, "bad_value", f"Q {fields['Q']!r} is not four characters of a signature")
    if not fields["R"].isascii() or not fields["R"].isdigit():
        raise refuse(FORMAT, "bad_value", f"the software certificate number {fields['R']!r} is not a number")

    amounts = {key: amount(FORMAT, f"amount {key}", fields[key], warnings) for key in _AMOUNTS if key in fields}
    _check_sums(amounts, warnings)
    date_in_future(FORMAT, issued_on, LISBON, now, warnings)

    details = {
        "buyer_country": fields["C"],
        "document_status": status,
        "document_type": document_type,
        "software_certificate": fields["R"],
        "tax_region": fields["I1"],
    }
    for key, name in (("M", "stamp_duty"), ("P", "withholding"), ("S", "other")):
        if key in fields:
            details[name] = fields[key]
    key_parts = [nif, atcud.upper()] if atcud else [nif, document_type, fields["G"], fields["F"]]
    return FiscalReading(
        format=FORMAT,
        country="PT",
        seller_name=None,
        seller_tax_number=nif,
        buyer_tax_number=None if buyer == GENERIC_CONSUMER else buyer,
        invoice_number=fields["G"],
        issued_at=dt.datetime(issued_on.year, issued_on.month, issued_on.day, tzinfo=LISBON),
        total=amounts["O"],
        vat=amounts["N"],
        currency="EUR",
        invoice_hash=fields["Q"],
        signature="absent",
        warnings=tuple(warnings),
        content_key=content_key(FORMAT, *key_parts),
        details=tuple(sorted(details.items())),
    )


def _fields(text: str, warnings: list[str]) -> dict[str, str]:
    """The fields by key, refusing every structural defect."""
    fields: dict[str, str] = {}
    last = -1
    blanks: list[str] = []
    for segment in text.split("*"):
        key, colon, value = segment.partition(":")
        if not colon or not key:
            raise refuse(FORMAT, "bad_field", f"{segment[:20]!r} is not a key:value field")
        if key not in _POSITION:
            raise refuse(FORMAT, "unknown_field", f"{key[:10]!r} is not a field of the Portuguese QR code")
        if key in fields:
            raise refuse(FORMAT, "duplicate_field", f"field {key} appears twice")
        if _POSITION[key] < last:
            raise refuse(FORMAT, "field_order", f"field {key} comes after {ORDER[last]}")
        last = _POSITION[key]
        if value != value.strip():
            blanks.append(key)
            value = value.strip()
        if not value:
            raise refuse(FORMAT, "missing_field", f"field {key} is empty")
        if len(value) > MAX_LENGTH[key]:
            raise refuse(FORMAT, "field_too_long", f"field {key} has {len(value)} characters, at most {MAX_LENGTH[key]}")
        fields[key] = value
    if blanks:
        warnings.append(warning("atcud.value_whitespace", f"blanks around the value of {', '.join(blanks)} were removed"))
    for key in MANDATORY:
        if key not in fields:
            raise refuse(FORMAT, "missing_field", f"the mandatory field {key} is missing")
    for group in "JK":
        if f"{group}1" not in fields and any(f"{group}{n}" in fields for n in range(2, 9)):
            raise refuse(FORMAT, "missing_field", f"{group}2-{group}8 are given without the tax region {group}1")
    return fields


def _date(text: str) -> dt.date:
    match = _DATE.fullmatch(text)
    if not match:
        raise refuse(FORMAT, "bad_date", f"the date {text!r} is not YYYYMMDD")
    year, month, day = (int(part) for part in match.groups())
    check_year(FORMAT, "bad_date", year, text)
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise refuse(FORMAT, "bad_date", f"the date {text} does not exist") from None


def _atcud(text: str, document_id: str, warnings: list[str]) -> str | None:
    """The ATCUD, or None when the code says ``0`` (issued before series had validation codes)."""
    if text == "0":
        warnings.append(warning("atcud.no_atcud", "the code has no ATCUD (H:0); the document is named by its number"))
        return None
    match = _ATCUD.fullmatch(text)
    if not match:
        raise refuse(FORMAT, "bad_atcud", f"the ATCUD {text[:30]!r} is not VALIDATIONCODE-NUMBER")
    in_id = _SEQUENCE_IN_ID.search(document_id)
    if in_id and int(in_id.group(1)) != int(match.group(2)):
        warnings.append(
            warning("atcud.atcud_mismatch", f"the ATCUD's number {match.group(2)} is not the document's number {in_id.group(1)}")
        )
    return text


def _check_sums(amounts: dict[str, Decimal], warnings: list[str]) -> None:
    taxes = sum((amounts.get(key, Decimal(0)) for key in _TAX_FIELDS), Decimal(0))
    if abs(amounts["N"] - taxes) > _SUM_TOLERANCE:
        text = f"the tax total N {amounts['N']} is not the sum of the taxes {taxes}"
        warnings.append(warning("atcud.tax_total_mismatch", text))
    if any(key in amounts for key in _BASE_FIELDS):
        gross = sum((amounts.get(key, Decimal(0)) for key in _BASE_FIELDS), Decimal(0)) + amounts["N"]
        if abs(amounts["O"] - gross) > _SUM_TOLERANCE:
            warnings.append(warning("atcud.total_mismatch", f"the total O {amounts['O']} is not bases plus taxes {gross}"))


registry.register(registry.FiscalFormat(FORMAT, detect, parse))
