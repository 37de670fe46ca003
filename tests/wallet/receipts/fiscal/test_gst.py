"""India's signed e-invoice QR code: a JWT from the registration portal, checked and read."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from wallet.receipts.fiscal import FiscalCodeRefused, FiscalKeys, FiscalKeysInvalid, read

from .builders import BUYER_GSTIN, IRN, NOW, SELLER_GSTIN, b64url, gst_data, gst_jwt, irp_key, jws, public_pem

KOLKATA = ZoneInfo("Asia/Kolkata")
KEYS = FiscalKeys(gst_public_keys=(public_pem(irp_key()),))


def refused(text: str, keys: FiscalKeys = KEYS) -> str:
    with pytest.raises(FiscalCodeRefused) as caught:
        read(text, now=NOW, keys=keys)
    assert caught.value.format == "gst"
    return caught.value.reason


def test_a_signed_e_invoice_is_read_field_by_field_and_verifies():
    reading = read(gst_jwt(), now=NOW, keys=KEYS)

    assert reading is not None
    assert reading.format == "gst"
    assert reading.country == "IN"
    assert reading.seller_tax_number == SELLER_GSTIN
    assert reading.buyer_tax_number == BUYER_GSTIN
    assert reading.seller_name is None
    assert reading.invoice_number == "TY/26-27/0042"
    assert reading.issued_at == dt.datetime(2026, 11, 20, tzinfo=KOLKATA)
    assert reading.total == Decimal("47200.0")
    assert reading.vat is None
    assert reading.currency == "INR"
    assert reading.invoice_hash == IRN
    assert reading.signature == "valid"
    assert reading.warnings == ()
    assert reading.details == (
        ("document_type", "INV"),
        ("issuer", "NIC"),
        ("item_count", "4"),
        ("main_hsn_code", "4011"),
        ("registered_at", "2026-11-20T15:42:07+05:30"),
    )


def test_any_of_several_portal_keys_may_have_signed():
    keys = FiscalKeys(gst_public_keys=(public_pem(irp_key("IRP 2")), public_pem(irp_key())))

    assert read(gst_jwt(), now=NOW, keys=keys).signature == "valid"


def test_a_portal_certificate_is_accepted_in_place_of_a_bare_key():
    from .builders import offline_certificate, pem

    key, certificate = offline_certificate("rsa")
    reading = read(gst_jwt(key=key), now=NOW, keys=FiscalKeys(gst_public_keys=(pem(certificate),)))

    assert reading.signature == "valid"


def test_without_configured_keys_the_signature_is_unverifiable_with_a_warning():
    reading = read(gst_jwt(), now=NOW)

    assert reading.signature == "unverifiable"
    assert reading.warning_codes == ("gst.signature_unverifiable",)
    assert reading.total == Decimal("47200.0")


def test_a_code_signed_by_someone_else_is_invalid():
    reading = read(gst_jwt(key=irp_key("forger")), now=NOW, keys=KEYS)

    assert reading.signature == "invalid"
    assert reading.warning_codes == ("gst.signature_invalid",)


def test_an_edited_payload_under_the_original_signature_is_invalid():
    header, _, signature = gst_jwt().split(".")
    edited = gst_jwt(gst_data(TotInvVal=472000.00), key=irp_key("forger")).split(".")[1]

    reading = read(f"{header}.{edited}.{signature}", now=NOW, keys=KEYS)

    assert reading.signature == "invalid"
    assert reading.total == Decimal("472000.0")


def test_the_nic_sandbox_sample_is_refused_for_its_dummy_buyer_gstin():
    # A signed QR from the NIC sandbox, as published in a support forum; its buyer
    # GSTIN is a sandbox dummy that fails GSTN's check character.
    sample = (
        "eyJhbGciOiJSUzI1NiIsImtpZCI6IjE1MTNCODIxRUU0NkM3NDlBNjNCODZFMzE4QkY3MTEwOTkyODdEMUYiLCJ4NXQiOiJGUk80SWU1R3gwbW1PNGJq"
        "R0w5eEVKa29mUjgiLCJ0eXAiOiJKV1QifQ.eyJkYXRhIjoie1wiU2VsbGVyR3N0aW5cIjpcIjI0QUFDQ1QzMzUyTTFaOVwiLFwiQnV5ZXJHc3RpblwiOlwi"
        "MjlBV0dQVjcxMDdCMVoxXCIsXCJEb2NOb1wiOlwiRE9DLzM2NTBcIixcIkRvY1R5cFwiOlwiSU5WXCIsXCJEb2NEdFwiOlwiMjUvMDcvMjAyM1wiLFwi"
        "VG90SW52VmFsXCI6MTI5MDgsXCJJdGVtQ250XCI6MSxcIk1haW5Ic25Db2RlXCI6XCIxMDAxXCIsXCJJcm5cIjpcIjM4ZDNjOWNiMmNhZDcxYWZmMjMy"
        "ZGI4MWFjMzdhNWIwMzE5OGIwODdiMjBiZWI1ZjkxOGY1NjBlMjMzOTgzOTVcIixcIklybkR0XCI6XCIyMDIzLTA3LTI1IDE2OjM0OjIwXCJ9IiwiaXNz"
        "IjoiTklDIFNhbmRib3gifQ.2fxrE-VaLYITI0bdAgX9q76BK7Crh05R2vrRHJlLDzpgbBNzvnCo53XMRCMgPWJNr91-jO0rHia-9iMWRI43kh4A4ZYkUoAd"
        "FgB-4ePBiPUEZzgLxuSqSsuLMsPTv9KmjhPDyHBv0SaTARu2y3Co9dk-L-AgCtWMvcPyXXz-q-ZNivhuvU9iuu_Oe1UcxaxcEEkAX11r99w4wnpIg8h-A0"
        "La8DLaA7iStLy7cOjCGQKgh5cIsSKJzUY2k_iFG85UXReygBVvt-_yTyQWxOM2H7SnXGtz4U3dU7f-Fd02CCspp7Mj1T5gHa7pBdZYKqsREav-mb8UUfNlH"
        "JqaPU8mTQ"
    )

    assert refused(sample, keys=FiscalKeys()) == "gst.buyer_gstin_checksum"


_RS256 = {"alg": "RS256", "typ": "JWT"}


@pytest.mark.parametrize(
    "text, reason",
    [
        pytest.param(gst_jwt() + "=", "gst.bad_base64", id="padded signature"),
        pytest.param(
            ".".join(part + "=" * (-len(part) % 4) for part in gst_jwt(gst_data(DocNo="TY/26-27/00421")).split(".")),
            "gst.bad_base64",
            id="padded segments",
        ),
        pytest.param(gst_jwt().rsplit(".", 1)[0] + ".", "gst.bad_base64", id="no signature"),
        pytest.param(jws({"alg": "none"}, {"data": json.dumps(gst_data())}, b""), "gst.unsupported_alg", id="alg none"),
        pytest.param(jws({"alg": "HS256"}, {"data": json.dumps(gst_data())}), "gst.unsupported_alg", id="HS256"),
        pytest.param(jws(_RS256, {"data": gst_data()}), "gst.bad_data", id="data an object, not text"),
        pytest.param(jws(_RS256, {"data": "{not json"}), "gst.bad_data", id="data not JSON"),
        pytest.param(jws(_RS256, {"data": "[1, 2]"}), "gst.bad_data", id="data a list"),
        pytest.param(jws(_RS256, {"data": "[" * 1100 + "]" * 1100}), "gst.bad_data", id="data nested too deep"),
        pytest.param(gst_jwt(gst_data(Irn=None)), "gst.missing_field", id="no IRN"),
        pytest.param(gst_jwt(gst_data(DocNo=None)), "gst.missing_field", id="no document number"),
        pytest.param(gst_jwt(gst_data(TotInvVal=None)), "gst.missing_field", id="no total"),
        pytest.param(gst_jwt(gst_data(MainHsnCode=None)), "gst.missing_field", id="no HSN code"),
        pytest.param(gst_jwt(gst_data(TotInvVal="47200.00")), "gst.bad_field", id="total as text"),
        pytest.param(gst_jwt(gst_data(TotInvVal=True)), "gst.bad_field", id="total a boolean"),
        pytest.param(gst_jwt(gst_data(TotInvVal=1e300)), "gst.bad_field", id="total 1e300"),
        pytest.param(gst_jwt(gst_data(ItemCnt=0)), "gst.bad_field", id="no items"),
        pytest.param(gst_jwt(gst_data(ItemCnt=2.5)), "gst.bad_field", id="half an item"),
        pytest.param(gst_jwt(gst_data(DocTyp="BIL")), "gst.bad_field", id="document type BIL"),
        pytest.param(gst_jwt(gst_data(DocNo="")), "gst.bad_field", id="empty document number"),
        pytest.param(gst_jwt(gst_data(MainHsnCode="tyres")), "gst.bad_field", id="HSN not digits"),
        pytest.param(gst_jwt(gst_data(SellerGstin="27AAPFU0939F1Z")), "gst.seller_gstin_format", id="14-character seller"),
        pytest.param(gst_jwt(gst_data(SellerGstin="27aapfu0939f1zv")), "gst.seller_gstin_format", id="lower-case seller"),
        pytest.param(gst_jwt(gst_data(SellerGstin="40AAPFU0939F1ZV")), "gst.seller_gstin_format", id="state code 40"),
        pytest.param(gst_jwt(gst_data(SellerGstin="27AAPFU0939F1ZW")), "gst.seller_gstin_checksum", id="seller check character"),
        pytest.param(gst_jwt(gst_data(BuyerGstin="29AAACR5055K1Z")), "gst.buyer_gstin_format", id="14-character buyer"),
        pytest.param(gst_jwt(gst_data(BuyerGstin="29AAACR5055K1Z4")), "gst.buyer_gstin_checksum", id="buyer check character"),
        pytest.param(gst_jwt(gst_data(DocDt="2026-11-20")), "gst.bad_date", id="ISO document date"),
        pytest.param(gst_jwt(gst_data(DocDt="31/11/2026")), "gst.bad_date", id="31 November"),
        pytest.param(gst_jwt(gst_data(IrnDt="20/11/2026 15:42")), "gst.bad_date", id="IRN date in another form"),
        pytest.param(gst_jwt(gst_data(IrnDt="2026-11-20 25:42:07")), "gst.bad_date", id="25 o'clock"),
        pytest.param(gst_jwt(gst_data(Irn=IRN.upper())), "gst.bad_irn", id="upper-case IRN"),
        pytest.param(gst_jwt(gst_data(Irn=IRN[:63] + "g")), "gst.bad_irn", id="IRN not hex"),
    ],
)
def test_a_malformed_code_is_refused_with_its_reason(text, reason):
    assert refused(text) == reason


@pytest.mark.parametrize(
    "text, warnings, field, value",
    [
        pytest.param(gst_jwt(gst_data(DocTyp="CRN")), ("gst.document_type",), "total", Decimal("47200.0"), id="credit note"),
        pytest.param(gst_jwt(gst_data(BuyerGstin="URP")), (), "buyer_tax_number", None, id="unregistered buyer"),
        pytest.param(gst_jwt(gst_data(TotInvVal=47200)), (), "total", Decimal("47200"), id="a whole number total"),
        pytest.param(
            gst_jwt(gst_data(IrnDt="2026-11-19 10:00:00")),
            ("gst.registered_before_issue",),
            "issued_at",
            dt.datetime(2026, 11, 20, tzinfo=KOLKATA),
            id="registered the day before",
        ),
        pytest.param(
            gst_jwt(gst_data(DocDt="25/11/2026", IrnDt="2026-11-25 10:00:00")),
            ("gst.issued_in_future",),
            "issued_at",
            dt.datetime(2026, 11, 25, tzinfo=KOLKATA),
            id="future",
        ),
        pytest.param(gst_jwt(iss="NIC Sandbox"), ("gst.sandbox",), "invoice_hash", IRN, id="sandbox"),
    ],
)
def test_a_readable_oddity_is_read_with_its_warning(text, warnings, field, value):
    reading = read(text, now=NOW, keys=KEYS)

    assert reading is not None
    assert reading.warning_codes == warnings
    assert getattr(reading, field) == value


def test_the_xmldsig_name_of_rsa_sha256_is_read_with_a_warning():
    # Same bytes as an RS256 JWT, only the header's alg differs: sign it by hand.
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    header = b64url(json.dumps({"alg": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"data": json.dumps(gst_data()), "iss": "NIC"}).encode())
    signature = irp_key().sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())

    reading = read(f"{header}.{payload}.{b64url(signature)}", now=NOW, keys=KEYS)

    assert reading.signature == "valid"
    assert reading.warning_codes == ("gst.nonstandard_alg",)


def test_extra_fields_in_the_data_are_ignored():
    reading = read(gst_jwt(gst_data(EwbNo="181003123456")), now=NOW, keys=KEYS)

    assert reading.warnings == () and reading.signature == "valid"


def test_the_content_key_is_the_irn():
    same = read(gst_jwt(), now=NOW, keys=KEYS).content_key

    assert read(gst_jwt(), now=NOW).content_key == same  # whether or not it could be verified
    assert read(gst_jwt(gst_data(TotInvVal=1.00)), now=NOW, keys=KEYS).content_key == same
    assert read(gst_jwt(gst_data(Irn="0" * 64)), now=NOW, keys=KEYS).content_key != same


@pytest.mark.parametrize(
    "text",
    [
        jws({"alg": "RS256"}, {"sub": "member-42", "exp": 1893456000}),
        jws({"typ": "JWT"}, {"data": "{}"}),
        "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln",
        "a.b.c",
    ],
    ids=["a login token", "no alg", "payload not JSON", "three words"],
)
def test_a_jwt_that_is_not_an_e_invoice_is_not_claimed(text):
    assert read(text, now=NOW) is None


def test_a_key_that_is_not_rsa_is_a_configuration_error():
    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem = ec_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    with pytest.raises(FiscalKeysInvalid):
        read(gst_jwt(), now=NOW, keys=FiscalKeys(gst_public_keys=(pem,)))
    with pytest.raises(FiscalKeysInvalid):
        read(
            gst_jwt(),
            now=NOW,
            keys=FiscalKeys(gst_public_keys=(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",)),
        )
