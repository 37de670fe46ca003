"""India: the signed QR code of a GST e-invoice, issued by an Invoice Registration Portal.

The code is a JWS in compact form (``header.payload.signature``, base64url without
padding), RS256, signed by the IRP that registered the invoice. The payload is
``{"data": "<JSON text>", "iss": "NIC"}``; the JSON text inside ``data`` holds
SellerGstin, BuyerGstin, DocNo, DocTyp (INV, CRN, DBN), DocDt (DD/MM/YYYY),
TotInvVal, ItemCnt, MainHsnCode, Irn (the 64-hex Invoice Reference Number) and IrnDt
(``YYYY-MM-DD HH:MM:SS``, Indian time). Sources: ClearTax's e-invoicing API basics,
Logitax's "Get Decrypted Signed QR Code" and a signed QR from the NIC sandbox
(issuer "NIC Sandbox") published in a support forum, decoded while writing this.

The signature is checked with RSASSA-PKCS1-v1_5 / SHA-256 over the ASCII of
``header.payload`` against the IRPs' public keys configured in
``FiscalKeys.gst_public_keys`` (each IRP signs with its own key; any one may match).
Without keys it is "unverifiable", with a warning. A sandbox code is read with a
warning: it is not a real invoice.

Strict: three base64url segments; a header with ``alg`` RS256 (the XML-DSig name of
RSA-SHA256, which some IRPs were reported to write, is read with a warning); JSON
objects where JSON objects belong; every field present with the right type; GSTINs
of the regular-taxpayer shape with a valid check character (the buyer may be
``URP``, an unregistered person); real dates; a 64-hex IRN. Fields beyond these in
``data`` are ignored: JSON objects grow. The IRN is a hash of the seller GSTIN, the
financial year, the document type and number, but the exact concatenation is not
published, so it is not recomputed.

``issued_at`` is the document date (DocDt) at midnight in Asia/Kolkata; IrnDt, when
the portal registered it, is in ``details``. A code registered before its document
date is flagged: the portal refuses future-dated documents.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import re
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from . import registry
from .errors import FiscalKeysInvalid
from .reading import FiscalKeys, FiscalReading, Signature
from .tax_numbers import gstin_checks, gstin_is_well_formed
from .values import b64url_decode_strict, check_year, checked_amount, content_key, date_in_future, refuse, warning

FORMAT: Final = "gst"
KOLKATA = ZoneInfo("Asia/Kolkata")
UNREGISTERED_BUYER = "URP"
DOCUMENT_TYPES = {"INV": "invoice", "CRN": "credit note", "DBN": "debit note"}
_XMLDSIG_RS256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
# Padding is tolerated here so that a padded code is refused (gst.bad_base64), not ignored.
_JWS = re.compile(r"(eyJ[A-Za-z0-9_=-]+)\.(eyJ[A-Za-z0-9_=-]+)\.([A-Za-z0-9_=-]*)")
_DOC_DATE = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})")
_IRN_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})")
_IRN = re.compile(r"[0-9a-f]{64}")
_HSN = re.compile(r"[0-9]{2,8}")


def detect(text: str) -> bool:
    """A JWS whose header has an ``alg`` and whose payload is an object with a ``data`` claim."""
    match = _JWS.fullmatch(text)
    if not match:
        return False
    header, payload = _json_object(match.group(1), strict=False), _json_object(match.group(2), strict=False)
    return header is not None and "alg" in header and payload is not None and "data" in payload


def parse(text: str, *, now: dt.datetime, keys: FiscalKeys) -> FiscalReading:
    match = _JWS.fullmatch(text)
    assert match is not None
    header_text, payload_text, signature_text = match.groups()
    header, payload = _json_object(header_text), _json_object(payload_text)
    if header is None or payload is None:
        raise refuse(FORMAT, "bad_base64", "the header or payload is not base64url without padding")
    warnings: list[str] = []
    if header["alg"] == _XMLDSIG_RS256:
        warnings.append(warning("gst.nonstandard_alg", "the header names RSA-SHA256 by its XML-DSig URI, not RS256"))
    elif header["alg"] != "RS256":
        raise refuse(FORMAT, "unsupported_alg", f"the code is signed with {str(header['alg'])[:30]!r}, e-invoices with RS256")
    signature_bytes = b64url_decode_strict(signature_text)
    if not signature_bytes:
        raise refuse(FORMAT, "bad_base64", "the signature is not base64url without padding")
    data = _data(payload["data"])

    seller = _gstin(_text(data, "SellerGstin", 15), "seller")
    buyer_text = _text(data, "BuyerGstin", 15)
    buyer = None if buyer_text == UNREGISTERED_BUYER else _gstin(buyer_text, "buyer")
    document_number = _text(data, "DocNo", 50)
    document_type = _text(data, "DocTyp", 3)
    if document_type not in DOCUMENT_TYPES:
        raise refuse(FORMAT, "bad_field", f"DocTyp {document_type!r} is none of {', '.join(DOCUMENT_TYPES)}")
    if document_type != "INV":
        warnings.append(warning("gst.document_type", f"the document is a {DOCUMENT_TYPES[document_type]}, not an invoice"))
    issued_on = _doc_date(_text(data, "DocDt", 10))
    total = checked_amount(FORMAT, "TotInvVal", _number(data, "TotInvVal"))
    item_count = _number(data, "ItemCnt")
    if item_count != item_count.to_integral_value() or not 1 <= item_count <= 100_000:
        raise refuse(FORMAT, "bad_field", f"ItemCnt {item_count} is not a count of items")
    hsn = data.get("MainHsnCode")
    hsn_text = str(hsn) if isinstance(hsn, (str, int)) and not isinstance(hsn, bool) else None
    if hsn_text is None or not _HSN.fullmatch(hsn_text):
        raise refuse(FORMAT, "missing_field" if hsn is None else "bad_field", "MainHsnCode is not an HSN code")
    irn = _text(data, "Irn", 64)
    if not _IRN.fullmatch(irn):
        raise refuse(FORMAT, "bad_irn", "the IRN is not 64 lower-case hexadecimal characters")
    registered_at = _irn_date(_text(data, "IrnDt", 19))

    if registered_at.date() < issued_on:
        warnings.append(
            warning(
                "gst.registered_before_issue",
                f"the IRN was registered on {registered_at.date()}, before the document date {issued_on}",
            )
        )
    date_in_future(FORMAT, issued_on, KOLKATA, now, warnings)
    issuer = payload.get("iss")
    if isinstance(issuer, str) and "sandbox" in issuer.lower():
        warnings.append(warning("gst.sandbox", f"the code was issued by {issuer[:30]!r}, a test portal, not for a real invoice"))
    signature = _verify(f"{header_text}.{payload_text}".encode("ascii"), signature_bytes, keys, warnings)

    details = {
        "document_type": document_type,
        "item_count": str(int(item_count)),
        "main_hsn_code": hsn_text,
        "registered_at": registered_at.isoformat(),
    }
    if isinstance(issuer, str):
        details["issuer"] = issuer[:64]
    return FiscalReading(
        format=FORMAT,
        country="IN",
        seller_name=None,
        seller_tax_number=seller,
        buyer_tax_number=buyer,
        invoice_number=document_number,
        issued_at=dt.datetime(issued_on.year, issued_on.month, issued_on.day, tzinfo=KOLKATA),
        total=total,
        vat=None,
        currency="INR",
        invoice_hash=irn,
        signature=signature,
        warnings=tuple(warnings),
        content_key=content_key(FORMAT, irn),
        details=tuple(sorted(details.items())),
    )


def _json_object(segment: str, *, strict: bool = True) -> dict[str, Any] | None:
    """A base64url segment holding a JSON object, or None; ``strict=False`` tolerates padding."""
    if strict:
        raw = b64url_decode_strict(segment)
    else:
        unpadded = segment.rstrip("=")
        try:
            raw = base64.urlsafe_b64decode(unpadded + "=" * (-len(unpadded) % 4))
        except ValueError:  # binascii.Error: a length no base64 has
            return None
    if raw is None:
        return None
    try:
        value = json.loads(raw.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _data(value: object) -> dict[str, Any]:
    if not isinstance(value, str):
        raise refuse(FORMAT, "bad_data", "the data claim is not a JSON text")
    try:
        data = json.loads(value, parse_float=Decimal)
    except (ValueError, RecursionError):
        raise refuse(FORMAT, "bad_data", "the data claim is not valid JSON") from None
    if not isinstance(data, dict):
        raise refuse(FORMAT, "bad_data", "the data claim is not a JSON object")
    return data


def _text(data: dict[str, Any], name: str, max_length: int) -> str:
    if name not in data:
        raise refuse(FORMAT, "missing_field", f"{name} is missing")
    value = data[name]
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise refuse(FORMAT, "bad_field", f"{name} is not text of 1 to {max_length} characters")
    return value


def _number(data: dict[str, Any], name: str) -> Decimal:
    if name not in data:
        raise refuse(FORMAT, "missing_field", f"{name} is missing")
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise refuse(FORMAT, "bad_field", f"{name} is not a number")
    if isinstance(value, int) and abs(value) >= 10**15:
        raise refuse(FORMAT, "bad_field", f"{name} is out of range")
    return checked_amount(FORMAT, name, Decimal(value))


def _gstin(value: str, role: str) -> str:
    if not gstin_is_well_formed(value):
        raise refuse(FORMAT, f"{role}_gstin_format", f"the {role} GSTIN {value!r} does not have the GSTIN shape")
    if not gstin_checks(value):
        raise refuse(FORMAT, f"{role}_gstin_checksum", f"the {role} GSTIN {value} fails its check character")
    return value


def _doc_date(text: str) -> dt.date:
    match = _DOC_DATE.fullmatch(text)
    if not match:
        raise refuse(FORMAT, "bad_date", f"DocDt {text!r} is not DD/MM/YYYY")
    day, month, year = (int(part) for part in match.groups())
    check_year(FORMAT, "bad_date", year, text)
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise refuse(FORMAT, "bad_date", f"DocDt {text} does not exist") from None


def _irn_date(text: str) -> dt.datetime:
    match = _IRN_DATE.fullmatch(text)
    if not match:
        raise refuse(FORMAT, "bad_date", f"IrnDt {text!r} is not YYYY-MM-DD HH:MM:SS")
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    check_year(FORMAT, "bad_date", year, text)
    try:
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=KOLKATA)
    except ValueError:
        raise refuse(FORMAT, "bad_date", f"IrnDt {text} does not exist") from None


def _verify(signed: bytes, signature: bytes, keys: FiscalKeys, warnings: list[str]) -> Signature:
    public_keys = _public_keys(keys.gst_public_keys)
    if not public_keys:
        text = "no e-invoice portal key is configured; the signature is not checked"
        warnings.append(warning("gst.signature_unverifiable", text))
        return "unverifiable"
    for key in public_keys:
        try:
            key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            continue
        return "valid"
    warnings.append(warning("gst.signature_invalid", "the signature matches none of the configured e-invoice portal keys"))
    return "invalid"


@functools.lru_cache(maxsize=8)
def _public_keys(blobs: tuple[bytes, ...]) -> tuple[rsa.RSAPublicKey, ...]:
    """The configured keys (PEM public keys or certificates), loaded once per configuration."""
    loaded = []
    for blob in blobs:
        key: PublicKeyTypes
        try:
            if b"CERTIFICATE" in blob:
                key = x509.load_pem_x509_certificate(blob).public_key()
            else:
                key = serialization.load_pem_public_key(blob)
        except (ValueError, TypeError, UnsupportedAlgorithm) as error:
            raise FiscalKeysInvalid(f"a GST portal key cannot be loaded: {error}") from error
        if not isinstance(key, rsa.RSAPublicKey):
            raise FiscalKeysInvalid("a GST portal key is not an RSA key; e-invoice QR codes are signed with RS256")
        loaded.append(key)
    return tuple(loaded)


registry.register(registry.FiscalFormat(FORMAT, detect, parse))
