"""Saudi Arabia: the QR code of a ZATCA (Fatoora) simplified tax invoice.

The code is base64 of TLV records: a 1-byte tag, a 1-byte length, the value (ZATCA
"Electronic Invoice Security Features Implementation Standards" 1.1, section 4).
Tags 1-5 (seller name, VAT registration number, ISO 8601 timestamp, total with VAT,
VAT total) are UTF-8 text and mandatory since December 2021; tags 6-9 (phase 2,
January 2023) are the invoice hash, the ECDSA signature of that hash, the ECDSA public
key and ZATCA's CA signature of the signing certificate.

How phase 2 is really encoded is settled by ZATCA's SDK sample invoices, not by the
standard's prose (which says tag 6 holds the 32 hash bytes): tag 6 is the base64 text
of the SHA-256 hash (44 characters), tag 7 the base64 text of a DER ECDSA signature,
tag 8 the DER SubjectPublicKeyInfo of a secp256k1 key and tag 9 a DER signature, both
raw bytes. Tag 7 signs the 32 hash bytes with ECDSA over SHA-256: verifying the SDK
samples with ``cryptography`` succeeds that way and fails for the base64 text or a
pre-hashed digest. The 32-raw-bytes form of tag 6 is read too, as the standard allows.

Strict about structure, each defect with its own reason: text that is not canonical
base64, a length running past the end, an unknown or repeated tag, a missing or empty
tag 1-5, tags 1-5 not UTF-8, a hash that is not 32 bytes (as text or raw). Lenient about values that
can still be read, each with a warning: a VAT number that is not 15 digits starting
and ending with 3, a timestamp without a zone (read in Asia/Riyadh) or with an offset
or in ``22/11/2021 03:00 am`` form, amounts without decimals or with a decimal comma.

Trailing zero bytes are stripped with a warning, not refused. Some tills write the
TLV into a fixed-size buffer and encode the whole buffer; the zeros then read as
records with tag 0 and length 0. They carry no data and hide none (every byte is
zero), and refusing them would refuse real receipts from those tills. A tag 0 record
followed by anything that is not zero is refused (``zatca.tag_zero``).

What "valid" proves: the hash was signed by the key printed beside it. Anyone can
make a key pair; only tag 9 (ZATCA's signature of the whole certificate, which the
code does not carry) ties the key to ZATCA. The key's fingerprint is kept in
``details["public_key_sha256"]`` so that the points rules can notice a seller whose
key changes. Nor does the signature cover tags 1-5: a genuine code with an edited
total still verifies. So ``content_key`` is the VAT number and the hash when there
is a hash (an edited total is then still the same receipt), and the VAT number,
time and total only for phase 1 codes. The code carries no currency; VAT totals on Saudi invoices are in SAR
and so is ``currency``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from typing import Final
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import load_der_public_key

from . import registry
from .reading import FiscalKeys, FiscalReading, Signature
from .tax_numbers import saudi_vat_number_looks_right
from .values import amount, amount_key, b64decode_strict, check_year, content_key, refuse, time_in_future, warning

FORMAT: Final = "zatca"
RIYADH = ZoneInfo("Asia/Riyadh")
TAG_NAMES = {
    1: "seller name",
    2: "VAT registration number",
    3: "timestamp",
    4: "total with VAT",
    5: "VAT total",
    6: "invoice hash",
    7: "ECDSA signature",
    8: "ECDSA public key",
    9: "certificate signature",
}
_TEXT_TAGS = (1, 2, 3, 4, 5)
_STAMP_TAGS = (6, 7, 8)

_ALPHABET = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
_ISO = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?"
    r"([Zz]|[+-][0-9]{2}:?[0-9]{2})?"
)
_DAY_FIRST = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})[ T]+([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))? ?([AaPp][Mm])?")


def detect(text: str) -> bool:
    """Base64 (either alphabet, so a wrong one is refused rather than ignored) whose first record is tag 1.

    Every generator writes the seller name first; a code that does not is not taken
    for a ZATCA code (sniffing tags 1-9 would claim one random base64 token in 21,
    tag 1 alone claims one in 256).
    """
    if len(text) < 20 or not _ALPHABET.fullmatch(text):
        return False
    head = text[:4].replace("-", "+").replace("_", "/")
    return base64.b64decode(head, validate=True)[0] == 1


def parse(text: str, *, now: dt.datetime, keys: FiscalKeys) -> FiscalReading:
    warnings: list[str] = []
    data = b64decode_strict(text)
    if data is None:
        raise refuse(FORMAT, "bad_base64", "the code is not valid base64 (standard alphabet, with padding)")
    records = _records(data, warnings)
    for tag in _TEXT_TAGS:
        if not records.get(tag):
            raise refuse(FORMAT, "missing_tag", f"tag {tag} ({TAG_NAMES[tag]}) is missing or empty")
    try:
        text_values = {tag: records[tag].decode("utf-8") for tag in _TEXT_TAGS}
    except UnicodeDecodeError as error:
        tag = next(t for t in _TEXT_TAGS if not _is_utf8(records[t]))
        raise refuse(FORMAT, "not_utf8", f"tag {tag} ({TAG_NAMES[tag]}) is not UTF-8 text") from error

    vat_number = text_values[2]
    if not saudi_vat_number_looks_right(vat_number):
        warnings.append(
            warning(
                "zatca.vat_number_format",
                f"the VAT number {vat_number[:20]!r} is not 15 digits starting and ending with 3",
            )
        )
    issued_at = _timestamp(text_values[3], warnings)
    total = amount(FORMAT, "total with VAT", text_values[4], warnings)
    vat = amount(FORMAT, "VAT total", text_values[5], warnings)
    if abs(vat) > abs(total):
        warnings.append(warning("zatca.vat_exceeds_total", f"the VAT total {vat} is more than the total {total}"))
    time_in_future(FORMAT, issued_at, now, warnings)

    invoice_hash = _hash(records[6]) if 6 in records else None
    signature, details = _stamp(records, invoice_hash, warnings)

    # The signature covers the invoice hash, not tags 3-5: with a hash, the hash names
    # the invoice, so a code whose total was edited is still the same receipt.
    if invoice_hash is not None:
        key_parts = [vat_number, invoice_hash.hex()]
    else:
        key_parts = [vat_number, issued_at.astimezone(dt.timezone.utc).isoformat(), amount_key(total)]
    return FiscalReading(
        format=FORMAT,
        country="SA",
        seller_name=text_values[1],
        seller_tax_number=vat_number,
        buyer_tax_number=None,
        invoice_number=None,
        issued_at=issued_at,
        total=total,
        vat=vat,
        currency="SAR",
        invoice_hash=None if invoice_hash is None else base64.b64encode(invoice_hash).decode("ascii"),
        signature=signature,
        warnings=tuple(warnings),
        content_key=content_key(FORMAT, *key_parts),
        details=tuple(sorted(details.items())),
    )


def _records(data: bytes, warnings: list[str]) -> dict[int, bytes]:
    """The records by tag, refusing any structural defect; trailing zero padding is dropped."""
    records: dict[int, bytes] = {}
    order: list[int] = []
    position = 0
    while position < len(data):
        tag = data[position]
        if tag == 0:
            if data[position:].count(0) == len(data) - position:
                warnings.append(
                    warning("zatca.zero_padding", f"{len(data) - position} zero bytes after the last record were ignored")
                )
                break
            raise refuse(FORMAT, "tag_zero", f"a record with tag 0 at byte {position} is followed by data")
        if position + 1 >= len(data):
            raise refuse(FORMAT, "length_past_end", f"tag {tag} at byte {position} has no length byte")
        end = position + 2 + data[position + 1]
        if end > len(data):
            raise refuse(
                FORMAT,
                "length_past_end",
                f"tag {tag} at byte {position} says {data[position + 1]} bytes, {len(data) - position - 2} are left",
            )
        if tag not in TAG_NAMES:
            raise refuse(FORMAT, "unknown_tag", f"tag {tag} at byte {position} is not a ZATCA tag (1-9)")
        if tag in records:
            raise refuse(FORMAT, "duplicate_tag", f"tag {tag} ({TAG_NAMES[tag]}) appears twice")
        records[tag] = data[position + 2 : end]
        order.append(tag)
        position = end
    if order != sorted(order):
        warnings.append(warning("zatca.tag_order", f"the tags come in the order {order}, not 1 to 9"))
    return records


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _timestamp(text: str, warnings: list[str]) -> dt.datetime:
    """Tag 3 as an aware datetime; refuses ``zatca.bad_timestamp`` when it is not a time at all."""
    iso = _ISO.fullmatch(text)
    day_first = None if iso else _DAY_FIRST.fullmatch(text)
    if not iso and not day_first:
        raise refuse(FORMAT, "bad_timestamp", f"the timestamp {text[:40]!r} is not a date and time")
    try:
        if iso:
            year, month, day, hour, minute = (int(iso.group(i)) for i in range(1, 6))
            second = int(iso.group(6) or 0)
            micro = int((iso.group(7) or "0")[:6].ljust(6, "0"))
            zone_text = iso.group(8)
        else:
            assert day_first is not None
            day, month, year, hour, minute = (int(day_first.group(i)) for i in range(1, 6))
            second, micro, zone_text = int(day_first.group(6) or 0), 0, None
            meridiem = (day_first.group(7) or "").lower()
            if meridiem:
                if not 1 <= hour <= 12:
                    raise ValueError("12-hour clock")
                hour = hour % 12 + (12 if meridiem == "pm" else 0)
            warnings.append(warning("zatca.timestamp_format", f"the timestamp {text!r} is not ISO 8601"))
        check_year(FORMAT, "bad_timestamp", year, text)
        zone = _zone(zone_text, text, warnings)
        return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)
    except ValueError:
        raise refuse(FORMAT, "bad_timestamp", f"the timestamp {text[:40]!r} is not a real date and time") from None


def _zone(zone_text: str | None, text: str, warnings: list[str]) -> dt.tzinfo:
    if zone_text is None:
        warnings.append(
            warning("zatca.timestamp_no_zone", f"the timestamp {text!r} has no time zone; read as Saudi time (Asia/Riyadh)")
        )
        return RIYADH
    if zone_text in ("Z", "z"):
        return dt.timezone.utc
    digits = zone_text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 14 or minutes > 59:
        raise ValueError("offset")
    offset = dt.timedelta(hours=hours, minutes=minutes) * (1 if zone_text[0] == "+" else -1)
    warnings.append(warning("zatca.timestamp_offset", f"the timestamp {text!r} has an offset instead of Z"))
    return dt.timezone(offset)


def _hash(value: bytes) -> bytes:
    """Tag 6 as the 32 hash bytes: base64 text (what ZATCA's SDK writes) or the raw bytes (the standard's prose)."""
    try:
        decoded = b64decode_strict(value.decode("ascii"))
    except UnicodeDecodeError:
        decoded = None
    if decoded is not None and len(value) != 32:
        value = decoded
    if len(value) != 32:
        raise refuse(FORMAT, "hash_length", f"tag 6 (invoice hash) holds {len(value)} bytes, SHA-256 is 32")
    return value


def _stamp(records: dict[int, bytes], invoice_hash: bytes | None, warnings: list[str]) -> tuple[Signature, dict[str, str]]:
    """The signature state and the details phase 2 adds."""
    present = [tag for tag in (6, 7, 8, 9) if tag in records]
    if not present:
        return "absent", {"phase": "1"}
    details = {"phase": "2", "certificate_signature": "present" if 9 in records else "absent"}
    missing = [tag for tag in _STAMP_TAGS if tag not in records]
    if missing:
        names = ", ".join(f"{tag} ({TAG_NAMES[tag]})" for tag in missing)
        warnings.append(warning("zatca.stamp_incomplete", f"phase 2 tags are missing: {names}; the signature cannot be checked"))
        return "unverifiable", details
    assert invoice_hash is not None
    signature = _signature_der(records[7], warnings)
    key = _public_key(records[8], warnings)
    if key is not None:
        spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        details["public_key_sha256"] = hashlib.sha256(spki).hexdigest()
    if signature is None or key is None:
        unreadable = "tag 7 (ECDSA signature)" if signature is None else "tag 8 (ECDSA public key)"
        warnings.append(warning("zatca.signature_malformed", f"{unreadable} cannot be decoded"))
        return "invalid", details
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256K1):
        warnings.append(warning("zatca.signature_malformed", "tag 8 is not a secp256k1 public key, which ZATCA requires"))
        return "invalid", details
    try:
        key.verify(signature, invoice_hash, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        warnings.append(warning("zatca.signature_invalid", "the ECDSA signature does not match the invoice hash and public key"))
        return "invalid", details
    return "valid", details


def _signature_der(value: bytes, warnings: list[str]) -> bytes | None:
    """Tag 7 as DER: base64 text of it (ZATCA's SDK) or, with a warning, the DER itself."""
    try:
        decoded = b64decode_strict(value.decode("ascii"))
    except UnicodeDecodeError:
        decoded = None
    if decoded is not None and decoded[:1] == b"\x30":
        return decoded
    if value[:1] == b"\x30":
        warnings.append(warning("zatca.nonstandard_encoding", "tag 7 holds the DER signature itself, not its base64 text"))
        return value
    return None


def _public_key(value: bytes, warnings: list[str]) -> PublicKeyTypes | None:
    """Tag 8 as a public key: DER (ZATCA's SDK) or, with a warning, the base64 text of the DER."""
    try:
        return load_der_public_key(value)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        pass
    try:
        decoded = b64decode_strict(value.decode("ascii"))
    except UnicodeDecodeError:
        decoded = None
    if decoded is None:
        return None
    try:
        key = load_der_public_key(decoded)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None
    warnings.append(warning("zatca.nonstandard_encoding", "tag 8 holds the base64 text of the public key, not the DER"))
    return key


registry.register(registry.FiscalFormat(FORMAT, detect, parse))
