"""Poland: the KSeF verification links printed as QR codes on invoices (KOD I, KOD II).

Source: the Ministry of Finance's KSeF 2.0 documentation, "Kody weryfikujące QR"
(github.com/CIRFMF/ksef-docs, kody-qr.md, as of its 2025-12-29 revision), and the
official C# client's ``VerificationLinkService``.

KOD I (on every invoice issued through KSeF) is
``https://qr.ksef.mf.gov.pl/invoice/{seller NIP}/{issue date DD-MM-YYYY}/{SHA-256 of the
invoice file, base64url without padding}``. It carries no amount, no buyer and no
signature: KSeF itself can tell whether an invoice with that hash exists. KOD II (only
on invoices issued offline) is ``.../certificate/{context type}/{context id}/{seller
NIP}/{certificate serial}/{hash}/{signature}``; the signature covers the link without
``https://`` and without the signature segment, made with the issuer's KSeF "Offline"
certificate: RSASSA-PSS (SHA-256, MGF1-SHA-256, 32-byte salt) or ECDSA P-256 over
SHA-256 (IEEE P1363 ``r||s`` recommended, DER allowed), base64url. KOD II carries no
date. It is checked when that certificate is in ``FiscalKeys.ksef_certificates``.

Hosts: ``qr.ksef.mf.gov.pl`` (production), ``qr-test.`` and ``qr-demo.`` (test and
pre-production). Until December 2025 the documentation used
``https://ksef{,-test,-demo}.mf.gov.pl/client-app/invoice/...``; links of that form are
read too, with a warning, as are test and demo links (they are not real invoices).

``content_key`` is the seller NIP and the invoice hash, without the date: the hash
already identifies the invoice file, and KOD I and KOD II of one offline invoice then
name the same receipt, so that photographing each code separately does not count
twice.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Final
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from . import registry
from .errors import FiscalKeysInvalid
from .reading import FiscalKeys, FiscalReading, Signature
from .tax_numbers import nip_checks, nip_is_well_formed
from .values import b64url_decode_strict, check_year, content_key, date_in_future, refuse, warning

FORMAT: Final = "ksef"
WARSAW = ZoneInfo("Europe/Warsaw")
# host -> (environment, path prefix before "invoice"/"certificate", current documentation?)
HOSTS = {
    "qr.ksef.mf.gov.pl": ("production", "/", True),
    "qr-test.ksef.mf.gov.pl": ("test", "/", True),
    "qr-demo.ksef.mf.gov.pl": ("demo", "/", True),
    "ksef.mf.gov.pl": ("production", "/client-app/", False),
    "ksef-test.mf.gov.pl": ("test", "/client-app/", False),
    "ksef-demo.mf.gov.pl": ("demo", "/client-app/", False),
}
CONTEXT_TYPES = ("Nip", "InternalId", "NipVatUe", "PeppolId")
_PREFIXES = ("/invoice/", "/certificate/", "/client-app/invoice/", "/client-app/certificate/")
_LINK = re.compile(r"(?i:(https?)://([a-z0-9.-]+))(/[^?#]*)?(.*)", re.DOTALL)
_DATE = re.compile(r"([0-9]{2})-([0-9]{2})-([0-9]{4})")
_SERIAL = re.compile(r"[0-9A-Fa-f]{1,40}")
_CONTEXT_VALUE = re.compile(r"[A-Za-z0-9-]{1,64}")
_STANDARD_B64_HASH = re.compile(r"[A-Za-z0-9+/]{43}=?")


def detect(text: str) -> bool:
    """A link to a KSeF host whose path is an invoice or certificate link."""
    match = _LINK.fullmatch(text)
    if not match or match.group(2).lower() not in HOSTS:
        return False
    return (match.group(3) or "").startswith(_PREFIXES)


def parse(text: str, *, now: dt.datetime, keys: FiscalKeys) -> FiscalReading:
    match = _LINK.fullmatch(text)
    assert match is not None
    scheme, host, path, rest = match.group(1), match.group(2), match.group(3) or "", match.group(4)
    if scheme != "https" or host != host.lower():
        raise refuse(FORMAT, "bad_url", f"a KSeF link is https:// with a lower-case host, not {text[:40]!r}")
    if rest:
        raise refuse(FORMAT, "bad_url", "a KSeF link has no port, query or fragment")
    environment, prefix, current = HOSTS[host]
    if not path.startswith(prefix) or path.startswith("/client-app/") != (prefix == "/client-app/"):
        raise refuse(FORMAT, "bad_url", f"links on {host} start with {prefix}invoice/ or {prefix}certificate/")
    kind, *segments = path[len(prefix) :].split("/")
    warnings: list[str] = []
    if not current:
        warnings.append(warning("ksef.legacy_address", f"the link uses the address {host}{prefix}, documented until 2025"))
    if environment != "production":
        note = f"the link is to the KSeF {environment} environment, not a real invoice"
        warnings.append(warning("ksef.test_environment", note))
    if kind == "invoice":
        return _kod_i(segments, environment, now, warnings)
    return _kod_ii(text, segments, environment, keys, warnings)


def _kod_i(segments: list[str], environment: str, now: dt.datetime, warnings: list[str]) -> FiscalReading:
    if len(segments) > 3 and _STANDARD_B64_HASH.fullmatch("/".join(segments[2:])):
        # A hash in standard base64 (as in the July 2025 draft of the documentation):
        # its "/" split the path. Refuse it for its alphabet, not as a strange link.
        segments = [*segments[:2], "/".join(segments[2:])]
    if len(segments) != 3:
        raise refuse(FORMAT, "bad_url", "KOD I is .../invoice/{NIP}/{DD-MM-YYYY}/{hash}")
    nip_text, date_text, hash_text = segments
    nip = _nip(nip_text, "seller NIP")
    issued_on = _date(date_text)
    invoice_hash = _hash(hash_text)
    date_in_future(FORMAT, issued_on, WARSAW, now, warnings)
    return FiscalReading(
        format=FORMAT,
        country="PL",
        seller_name=None,
        seller_tax_number=nip,
        buyer_tax_number=None,
        invoice_number=None,
        issued_at=dt.datetime(issued_on.year, issued_on.month, issued_on.day, tzinfo=WARSAW),
        total=None,
        vat=None,
        currency="PLN",
        invoice_hash=hash_text,
        signature="absent",
        warnings=tuple(warnings),
        content_key=content_key(FORMAT, nip, invoice_hash.hex()),
        details=(("code", "KOD I"), ("environment", environment)),
    )


def _kod_ii(text: str, segments: list[str], environment: str, keys: FiscalKeys, warnings: list[str]) -> FiscalReading:
    if len(segments) != 6:
        raise refuse(FORMAT, "bad_url", "KOD II is .../certificate/{type}/{id}/{NIP}/{serial}/{hash}/{signature}")
    context_type, context_value, nip_text, serial, hash_text, signature_text = segments
    if context_type not in CONTEXT_TYPES:
        raise refuse(FORMAT, "bad_context", f"the context type {context_type[:20]!r} is none of {', '.join(CONTEXT_TYPES)}")
    if context_type == "Nip":
        _nip(context_value, "context NIP")
    elif not _CONTEXT_VALUE.fullmatch(context_value):
        raise refuse(FORMAT, "bad_context", f"the context identifier {context_value[:20]!r} is malformed")
    nip = _nip(nip_text, "seller NIP")
    if not _SERIAL.fullmatch(serial):
        raise refuse(FORMAT, "bad_certificate_serial", f"the certificate serial {serial[:20]!r} is not hexadecimal")
    invoice_hash = _hash(hash_text)
    signature_bytes = b64url_decode_strict(signature_text)
    if not signature_bytes:
        raise refuse(FORMAT, "bad_signature_encoding", "the signature segment is not base64url without padding")
    warnings.append(warning("ksef.no_issue_date", "KOD II carries no issue date; KOD I of the same invoice does"))
    signed = text[len("https://") : len(text) - len(signature_text) - 1]
    signature = _verify(signed.encode("ascii"), signature_bytes, int(serial, 16), keys, warnings)
    return FiscalReading(
        format=FORMAT,
        country="PL",
        seller_name=None,
        seller_tax_number=nip,
        buyer_tax_number=None,
        invoice_number=None,
        issued_at=None,
        total=None,
        vat=None,
        currency="PLN",
        invoice_hash=hash_text,
        signature=signature,
        warnings=tuple(warnings),
        content_key=content_key(FORMAT, nip, invoice_hash.hex()),
        details=(
            ("certificate_serial", serial.upper()),
            ("code", "KOD II"),
            ("context", f"{context_type}:{context_value}"),
            ("environment", environment),
        ),
    )


def _nip(text: str, name: str) -> str:
    if not nip_is_well_formed(text):
        raise refuse(FORMAT, "nip_format", f"the {name} {text[:20]!r} is not 10 digits")
    if not nip_checks(text):
        raise refuse(FORMAT, "nip_checksum", f"the {name} {text} fails its check digit")
    return text


def _date(text: str) -> dt.date:
    match = _DATE.fullmatch(text)
    if not match:
        raise refuse(FORMAT, "bad_date", f"the issue date {text[:20]!r} is not DD-MM-YYYY")
    day, month, year = (int(part) for part in match.groups())
    check_year(FORMAT, "bad_date", year, text)
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise refuse(FORMAT, "bad_date", f"the issue date {text} does not exist") from None


def _hash(text: str) -> bytes:
    """The invoice hash: exactly the base64url of 32 bytes, 43 characters, no padding."""
    if "=" in text:
        raise refuse(FORMAT, "hash_padding", "the invoice hash has base64 padding; KSeF writes base64url without it")
    if re.search(r"[^A-Za-z0-9_-]", text):
        raise refuse(FORMAT, "hash_alphabet", "the invoice hash has characters outside base64url (+ or / are standard base64)")
    if len(text) != 43:
        raise refuse(FORMAT, "hash_length", f"the invoice hash is {len(text)} characters; SHA-256 in base64url is 43")
    decoded = b64url_decode_strict(text)
    if decoded is None:
        raise refuse(FORMAT, "hash_noncanonical", "the invoice hash's last character has stray bits")
    return decoded


def _verify(signed: bytes, signature: bytes, serial: int, keys: FiscalKeys, warnings: list[str]) -> Signature:
    certificate = next((c for c in _certificates(keys.ksef_certificates) if c.serial_number == serial), None)
    if certificate is None:
        warnings.append(
            warning(
                "ksef.certificate_unknown",
                f"the KSeF certificate {serial:X} is not configured; the signature cannot be checked",
            )
        )
        return "unverifiable"
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        candidates = [signature]
        scheme = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)

        def check(candidate: bytes) -> None:
            key.verify(candidate, signed, scheme, hashes.SHA256())

    elif isinstance(key, ec.EllipticCurvePublicKey):
        candidates = [signature]
        if len(signature) == 64:  # IEEE P1363, r || s, 32 bytes each: the recommended form
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            candidates.insert(0, encode_dss_signature(r, s))

        def check(candidate: bytes) -> None:
            key.verify(candidate, signed, ec.ECDSA(hashes.SHA256()))

    else:
        candidates = []
    for candidate in candidates:
        try:
            check(candidate)
        except (InvalidSignature, ValueError):
            continue
        return "valid"
    warnings.append(warning("ksef.signature_invalid", "the link's signature does not match the issuer's KSeF certificate"))
    return "invalid"


@functools.lru_cache(maxsize=8)
def _certificates(blobs: tuple[bytes, ...]) -> tuple[x509.Certificate, ...]:
    """The configured certificates (PEM or DER), loaded once per configuration."""
    loaded = []
    for blob in blobs:
        try:
            if b"-----BEGIN" in blob:
                loaded.append(x509.load_pem_x509_certificate(blob))
            else:
                loaded.append(x509.load_der_x509_certificate(blob))
        except ValueError as error:
            raise FiscalKeysInvalid(f"a KSeF certificate cannot be loaded: {error}") from error
    return tuple(loaded)


registry.register(registry.FiscalFormat(FORMAT, detect, parse))
