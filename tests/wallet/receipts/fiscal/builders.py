"""Fiscal codes built the way their issuers build them, with real keys, for the tests.

Nothing here calls the code under test: TLV bytes, links, ``A:...*B:`` strings and
JWTs are assembled from the specifications, and signatures are made with
``cryptography`` and PyJWT.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)

# --- ZATCA -----------------------------------------------------------------------

SELLER = "شركة الخليج للإطارات"  # Gulf Tyres Company: UTF-8, 2 bytes a letter
VAT_NUMBER = "310122393500003"
INVOICE_XML = b"<Invoice><cbc:ID>SME00062</cbc:ID></Invoice>"


def tlv(*records: tuple[int, bytes | str]) -> bytes:
    """Tag byte, length byte, value: ZATCA's TLV, for any tags and values given."""
    out = bytearray()
    for tag, value in records:
        raw = value.encode("utf-8") if isinstance(value, str) else value
        assert len(raw) < 256, "one length byte"
        out += bytes([tag, len(raw)]) + raw
    return bytes(out)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def phase_1(
    *,
    seller: str = SELLER,
    vat_number: str = VAT_NUMBER,
    timestamp: str = "2026-11-22T12:30:00Z",
    total: str = "115.00",
    vat: str = "15.00",
) -> list[tuple[int, bytes | str]]:
    return [(1, seller), (2, vat_number), (3, timestamp), (4, total), (5, vat)]


@functools.lru_cache(maxsize=None)
def egs_key(name: str = "till") -> ec.EllipticCurvePrivateKey:
    """A till's (EGS unit's) secp256k1 key, as ZATCA's onboarding issues them."""
    del name  # one key per name, cached
    return ec.generate_private_key(ec.SECP256K1())


def stamp(key: ec.EllipticCurvePrivateKey, invoice: bytes = INVOICE_XML) -> list[tuple[int, bytes | str]]:
    """Tags 6-9 as ZATCA's SDK writes them: hash and signature as base64 text, key and CA signature as DER."""
    invoice_hash = hashlib.sha256(invoice).digest()
    signature = key.sign(invoice_hash, ec.ECDSA(hashes.SHA256()))
    public_key = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ca_signature = egs_key("zatca ca").sign(public_key, ec.ECDSA(hashes.SHA256()))
    return [(6, b64(invoice_hash)), (7, b64(signature)), (8, public_key), (9, ca_signature)]


def zatca(records: list[tuple[int, bytes | str]]) -> str:
    return b64(tlv(*records))


# ZATCA's e-invoicing SDK sample simplified invoice (Simplified_Invoice.xml), its QR
# as reproduced in several public repositories: a phase-2 code signed by ZATCA's
# sample key, a known answer independent of the builders above.
ZATCA_SDK_SAMPLE = (
    "ARNBY21lIFdpZGdldOKAmXMgTFREAg8zMTExMTExMTExMDExMTMDFDIwMjEtMDEtMDVUMDk6MzI6NDBaBAYyNTAuMDAFBDAuMDAGLG5CNTVS"
    "bENQajFhRjFkcC9zUkcrVTI2aGc4UDA2TTlCdFRNeHNlb2N5ckU9B2BNRVlDSVFDNFZvZlJxdlZJUng3VUoxTzl4Vjl3SjVFUTdBZk5UV3Bn"
    "TFdEWEhpSlZZd0loQUw1S040TDR6WUhrMnVwWjlOWmUxYjJwK0pldWtTcEM2OXMyZ284ZXNBaVoIWDBWMBAGByqGSM49AgEGBSuBBAAKA0IA"
    "BGGDDKDmhWAITDv7LXqLX2cmr6+qddUkpcLCvWs5rC2O29W/hS4ajAK4Qdnahym6MaijX75Cg3j4aao7ouYXJ9EJRjBEAiA6CM08lbTXuWwi"
    "KOZVBWQ/sbMU7YpAp30Ydq6QuAhYWwIgUkX27AqFMzEONZs37VrCycUjtEsFHED/qFn4XXC1qpQ="
)

# --- KSeF ------------------------------------------------------------------------

NIP = "5265877635"  # the NIP of the Ministry's KSeF-number example
INVOICE_FILE = b"<Faktura><Fa><P_1>2026-11-20</P_1></Fa></Faktura>"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def invoice_hash(invoice: bytes = INVOICE_FILE) -> str:
    return b64url(hashlib.sha256(invoice).digest())


def kod_i(*, nip: str = NIP, date: str = "20-11-2026", hash_: str | None = None, base: str = "https://qr.ksef.mf.gov.pl") -> str:
    """KOD I as the Ministry documents it: .../invoice/{NIP}/{DD-MM-YYYY}/{hash}."""
    return f"{base}/invoice/{nip}/{date}/{hash_ or invoice_hash()}"


@functools.lru_cache(maxsize=None)
def offline_certificate(kind: str = "rsa", serial: int = 0x01F20A5D352AE590) -> tuple[Any, x509.Certificate]:
    """A KSeF "Offline" certificate and its private key (RSA 2048 or EC P-256)."""
    key: Any = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if kind == "rsa"
        else ec.generate_private_key(ec.SECP256R1())
    )
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "KSeF offline " + kind)])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=730))
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def kod_ii(
    *,
    kind: str = "rsa",
    ec_format: str = "p1363",
    nip: str = NIP,
    context: str = "Nip/" + NIP,
    hash_: str | None = None,
    host: str = "qr.ksef.mf.gov.pl",
    tamper: bool = False,
) -> str:
    """KOD II: the link without https:// signed with the Offline certificate's key, appended base64url."""
    key, certificate = offline_certificate(kind)
    path = f"{host}/certificate/{context}/{nip}/{certificate.serial_number:016X}/{hash_ or invoice_hash()}"
    if kind == "rsa":
        signature = key.sign(path.encode(), padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
    else:
        der = key.sign(path.encode(), ec.ECDSA(hashes.SHA256()))
        if ec_format == "p1363":
            r, s = decode_dss_signature(der)
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        else:
            signature = der
    if tamper:
        signature = bytes([signature[0] ^ 1]) + signature[1:]
    return f"https://{path}/{b64url(signature)}"


def pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


# --- Portugal --------------------------------------------------------------------

ISSUER_NIF = "509512348"
# A simplified invoice as in the worked examples of AT's specification.
ATCUD_FIELDS: list[tuple[str, str]] = [
    ("A", ISSUER_NIF),
    ("B", "999999990"),
    ("C", "PT"),
    ("D", "FS"),
    ("E", "N"),
    ("F", "20261120"),
    ("G", "FS PNEU2026/0042"),
    ("H", "JJ7TR4KD-42"),
    ("I1", "PT"),
    ("I3", "50.00"),
    ("I4", "3.00"),
    ("I7", "100.00"),
    ("I8", "23.00"),
    ("N", "26.00"),
    ("O", "176.00"),
    ("Q", "kLp0"),
    ("R", "2345"),
]


def atcud(fields: list[tuple[str, str]] | None = None, **changes: str | None) -> str:
    """The fields joined as ``K:V*K:V``; ``changes`` replace (or, with None, drop) fields in place."""
    out = []
    for key, value in fields if fields is not None else ATCUD_FIELDS:
        if key in changes:
            value = changes[key]  # type: ignore[assignment]
            if value is None:
                continue
        out.append(f"{key}:{value}")
    return "*".join(out)


# --- India -----------------------------------------------------------------------

SELLER_GSTIN = "27AAPFU0939F1ZV"
BUYER_GSTIN = "29AAACR5055K1Z3"
IRN = hashlib.sha256(b"27AAPFU0939F1ZV2026-27INVTY/26-27/0042").hexdigest()


def gst_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "SellerGstin": SELLER_GSTIN,
        "BuyerGstin": BUYER_GSTIN,
        "DocNo": "TY/26-27/0042",
        "DocTyp": "INV",
        "DocDt": "20/11/2026",
        "TotInvVal": 47200.00,
        "ItemCnt": 4,
        "MainHsnCode": "4011",
        "Irn": IRN,
        "IrnDt": "2026-11-20 15:42:07",
    }
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


@functools.lru_cache(maxsize=None)
def irp_key(name: str = "NIC") -> rsa.RSAPrivateKey:
    del name
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def gst_jwt(data: dict[str, Any] | None = None, *, iss: str = "NIC", key: rsa.RSAPrivateKey | None = None, **headers: Any) -> str:
    """The IRP's signed QR: RS256 JWT whose ``data`` claim is the invoice JSON as text."""
    payload = {"data": json.dumps(data if data is not None else gst_data(), separators=(",", ":")), "iss": iss}
    return jwt.encode(payload, key or irp_key(), algorithm="RS256", headers={"kid": "1513B821EE46C749", "typ": "JWT", **headers})


def jws(header: dict[str, Any] | str, payload: dict[str, Any] | str, signature: bytes = b"\x01" * 256) -> str:
    """A compact JWS from any header and payload, for codes no honest portal would sign."""
    encode = lambda part: b64url(part.encode() if isinstance(part, str) else json.dumps(part).encode())  # noqa: E731
    return f"{encode(header)}.{encode(payload)}.{b64url(signature)}"
