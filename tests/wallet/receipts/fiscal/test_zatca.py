"""Saudi ZATCA QR codes: every field read, every structural defect refused with its reason."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from wallet.receipts.fiscal import FiscalCodeRefused, read

from .builders import INVOICE_XML, NOW, SELLER, VAT_NUMBER, ZATCA_SDK_SAMPLE, b64, egs_key, phase_1, stamp, tlv, zatca

UTC = dt.timezone.utc


def refused(text: str) -> FiscalCodeRefused:
    with pytest.raises(FiscalCodeRefused) as caught:
        read(text, now=NOW)
    assert caught.value.format == "zatca"
    return caught.value


def replace(records, tag, value):
    return [(t, value if t == tag else v) for t, v in records]


def test_a_phase_1_code_is_read_field_by_field():
    reading = read(zatca(phase_1()), now=NOW)

    assert reading is not None
    assert reading.format == "zatca"
    assert reading.country == "SA"
    assert reading.seller_name == SELLER
    assert reading.seller_tax_number == VAT_NUMBER
    assert reading.buyer_tax_number is None
    assert reading.invoice_number is None
    assert reading.issued_at == dt.datetime(2026, 11, 22, 12, 30, tzinfo=UTC)
    assert reading.total == Decimal("115.00")
    assert reading.vat == Decimal("15.00")
    assert reading.currency == "SAR"
    assert reading.invoice_hash is None
    assert reading.signature == "absent"
    assert reading.warnings == ()
    assert reading.details == (("phase", "1"),)


def test_a_phase_2_code_signed_by_its_till_verifies():
    key = egs_key()
    reading = read(zatca(phase_1() + stamp(key)), now=NOW)

    assert reading is not None
    assert reading.signature == "valid"
    assert reading.warnings == ()
    assert reading.invoice_hash == b64(hashlib.sha256(INVOICE_XML).digest())
    assert (reading.seller_name, reading.seller_tax_number, reading.total, reading.vat) == (
        SELLER, VAT_NUMBER, Decimal("115.00"), Decimal("15.00"),
    )  # fmt: skip
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert reading.detail("public_key_sha256") == hashlib.sha256(spki).hexdigest()
    assert reading.detail("phase") == "2"
    assert reading.detail("certificate_signature") == "present"


def test_the_sample_invoice_of_zatcas_sdk_verifies():
    reading = read(ZATCA_SDK_SAMPLE, now=NOW)

    assert reading is not None
    assert reading.seller_name == "Acme Widget’s LTD"
    assert reading.seller_tax_number == "311111111101113"
    assert reading.issued_at == dt.datetime(2021, 1, 5, 9, 32, 40, tzinfo=UTC)
    assert (reading.total, reading.vat) == (Decimal("250.00"), Decimal("0.00"))
    assert reading.invoice_hash == "nB55RlCPj1aF1dp/sRG+U26hg8P06M9BtTMxseocyrE="
    assert reading.signature == "valid"
    assert reading.warnings == ()


def test_a_hash_given_as_its_32_raw_bytes_as_the_standard_describes_verifies_too():
    records = phase_1() + stamp(egs_key())
    raw = replace(records, 6, hashlib.sha256(INVOICE_XML).digest())

    reading = read(zatca(raw), now=NOW)

    assert reading is not None and reading.signature == "valid" and reading.warnings == ()
    assert reading.content_key == read(zatca(records), now=NOW).content_key


def _flip_last_byte_of_signature(records):
    der = base64.b64decode(dict(records)[7])
    return replace(records, 7, b64(der[:-1] + bytes([der[-1] ^ 1])))


@pytest.mark.parametrize(
    "tamper, warning",
    [
        pytest.param(_flip_last_byte_of_signature, "zatca.signature_invalid", id="signature byte flipped"),
        pytest.param(
            lambda r: replace(r, 6, b64(hashlib.sha256(b"<Invoice>another</Invoice>").digest())),
            "zatca.signature_invalid",
            id="hash of another invoice",
        ),
        pytest.param(
            lambda r: replace(r, 8, dict(stamp(egs_key("another till")))[8]),
            "zatca.signature_invalid",
            id="another till's public key",
        ),
        pytest.param(lambda r: replace(r, 7, "bm90IGEgc2lnbmF0dXJl"), "zatca.signature_malformed", id="tag 7 not DER"),
        pytest.param(lambda r: replace(r, 8, b"\x30\x03\x02\x01\x00"), "zatca.signature_malformed", id="tag 8 not a key"),
        pytest.param(
            lambda r: replace(
                r,
                8,
                ec.generate_private_key(ec.SECP256R1())
                .public_key()
                .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
            ),
            "zatca.signature_malformed",
            id="P-256 key, not secp256k1",
        ),
    ],
)
def test_a_tampered_signature_is_invalid_with_a_warning_not_a_refusal(tamper, warning):
    reading = read(zatca(tamper(phase_1() + stamp(egs_key()))), now=NOW)

    assert reading is not None
    assert reading.signature == "invalid"
    assert warning in reading.warning_codes
    assert reading.total == Decimal("115.00")  # what the code says is still shown to the reviewer


def test_an_edited_total_keeps_a_valid_signature_and_the_same_content_key():
    # ZATCA signs the invoice hash, not the totals printed beside it: the content key
    # must not let an edited copy pass as another receipt.
    records = phase_1() + stamp(egs_key())
    edited = replace(records, 4, "1150.00")

    original, forged = read(zatca(records), now=NOW), read(zatca(edited), now=NOW)

    assert forged.signature == "valid" and forged.total == Decimal("1150.00")
    assert forged.content_key == original.content_key


def test_a_partial_stamp_is_unverifiable_with_a_warning():
    records = [r for r in phase_1() + stamp(egs_key()) if r[0] != 8]

    reading = read(zatca(records), now=NOW)

    assert reading is not None
    assert reading.signature == "unverifiable"
    assert reading.warning_codes == ("zatca.stamp_incomplete",)


def _without(tag):
    return [r for r in phase_1() if r[0] != tag]


_GOOD = zatca(phase_1())


@pytest.mark.parametrize(
    "text, reason",
    [
        pytest.param(_GOOD[:-1], "zatca.bad_base64", id="a character missing"),
        pytest.param(_GOOD.rstrip("="), "zatca.bad_base64", id="padding stripped"),
        pytest.param(
            zatca(phase_1(seller="ÿþ>?")).replace("/", "_").replace("+", "-"), "zatca.bad_base64", id="url-safe alphabet"
        ),
        pytest.param(b64(tlv(*phase_1()) + b"\x01")[:-2] + "B=", "zatca.bad_base64", id="stray bits in the last character"),
        pytest.param(b64(tlv(*phase_1())[:-3]), "zatca.length_past_end", id="last value cut short"),
        pytest.param(b64(tlv(*phase_1()) + b"\x06"), "zatca.length_past_end", id="a tag without its length byte"),
        pytest.param(b64(tlv(*phase_1()) + b"\x06\x2c" + b"A" * 10), "zatca.length_past_end", id="a length byte past the end"),
        pytest.param(b64(tlv(*phase_1()[:2]) + b"\x00\x00" + tlv(*phase_1()[2:])), "zatca.tag_zero", id="zeros between records"),
        pytest.param(b64(tlv(*phase_1()) + b"\x00\x03abc"), "zatca.tag_zero", id="a tag 0 record with data"),
        pytest.param(zatca(phase_1() + [(10, "x")]), "zatca.unknown_tag", id="tag 10"),
        pytest.param(zatca(phase_1() + [(0x41, "x")]), "zatca.unknown_tag", id="tag 65"),
        pytest.param(zatca(phase_1() + [(2, "300000000000003")]), "zatca.duplicate_tag", id="tag 2 twice"),
        pytest.param(zatca(_without(3)), "zatca.missing_tag", id="no timestamp"),
        pytest.param(zatca(_without(5)), "zatca.missing_tag", id="no VAT total"),
        pytest.param(zatca(replace(phase_1(), 2, "")), "zatca.missing_tag", id="an empty VAT number"),
        pytest.param(zatca(phase_1()[:4]), "zatca.missing_tag", id="phase 1 without tag 5"),
        pytest.param(zatca(replace(phase_1(), 1, b"Caf\xe9 Riyadh")), "zatca.not_utf8", id="latin-1 seller name"),
        pytest.param(zatca(replace(phase_1(), 4, b"\xff\xfe1\x001\x005\x00")), "zatca.not_utf8", id="UTF-16 total"),
        pytest.param(zatca(phase_1() + [(6, b64(b"\x01" * 31))]), "zatca.hash_length", id="hash of 31 bytes as text"),
        pytest.param(zatca(phase_1() + [(6, b64(b"\x01" * 48))]), "zatca.hash_length", id="SHA-384 as text"),
        pytest.param(zatca(phase_1() + [(6, b"\x01" * 20)]), "zatca.hash_length", id="SHA-1 as raw bytes"),
        pytest.param(zatca(replace(phase_1(), 3, "last tuesday")), "zatca.bad_timestamp", id="not a time"),
        pytest.param(zatca(replace(phase_1(), 3, "2026-02-30T10:00:00Z")), "zatca.bad_timestamp", id="30 February"),
        pytest.param(zatca(replace(phase_1(), 3, "22/11/2026 13:00 pm")), "zatca.bad_timestamp", id="13 pm"),
        pytest.param(zatca(replace(phase_1(), 3, "1899-11-22T10:00:00Z")), "zatca.bad_timestamp", id="1899"),
        pytest.param(zatca(replace(phase_1(), 3, "2026-11-22T10:00:00+15:00")), "zatca.bad_timestamp", id="offset +15"),
        pytest.param(zatca(replace(phase_1(), 4, "1,150.00")), "zatca.bad_amount", id="thousands separator"),
        pytest.param(zatca(replace(phase_1(), 4, "SAR 115")), "zatca.bad_amount", id="currency in the amount"),
        pytest.param(zatca(replace(phase_1(), 5, "١٥٫٠٠")), "zatca.bad_amount", id="Arabic-Indic digits"),
    ],
)
def test_a_structural_defect_is_refused_with_its_reason(text, reason):
    assert refused(text).reason == reason


_RIYADH_3AM = dt.datetime(2026, 11, 22, 0, 0, tzinfo=UTC)  # 03:00 in Riyadh


@pytest.mark.parametrize(
    "records, warnings, field, value",
    [
        pytest.param(
            phase_1(vat_number="3101223935"),
            ("zatca.vat_number_format",),
            "seller_tax_number",
            "3101223935",
            id="10-digit VAT number",
        ),
        pytest.param(
            phase_1(vat_number="310122393500001"),
            ("zatca.vat_number_format",),
            "seller_tax_number",
            "310122393500001",
            id="not ending in 3",
        ),
        pytest.param(
            phase_1(timestamp="22/11/2026 03:00 am"),
            ("zatca.timestamp_format", "zatca.timestamp_no_zone"),
            "issued_at",
            _RIYADH_3AM,
            id="22/11/2026 03:00 am",
        ),
        pytest.param(
            phase_1(timestamp="22/11/2026 03:00 pm"),
            ("zatca.timestamp_format", "zatca.timestamp_no_zone"),
            "issued_at",
            _RIYADH_3AM + dt.timedelta(hours=12),
            id="22/11/2026 03:00 pm",
        ),
        pytest.param(
            phase_1(timestamp="2026-11-22 15:30:00"),
            ("zatca.timestamp_no_zone",),
            "issued_at",
            dt.datetime(2026, 11, 22, 12, 30, tzinfo=UTC),
            id="no zone: Riyadh",
        ),
        pytest.param(
            phase_1(timestamp="2026-11-22T15:30:00+03:00"),
            ("zatca.timestamp_offset",),
            "issued_at",
            dt.datetime(2026, 11, 22, 12, 30, tzinfo=UTC),
            id="offset instead of Z",
        ),
        pytest.param(
            phase_1(timestamp="2026-11-22T12:30:00.250Z"),
            (),
            "issued_at",
            dt.datetime(2026, 11, 22, 12, 30, 0, 250000, tzinfo=UTC),
            id="fractional seconds are ISO 8601",
        ),
        pytest.param(phase_1(total="115"), ("zatca.amount_no_decimals",), "total", Decimal("115"), id="115 without decimals"),
        pytest.param(phase_1(total="115,50"), ("zatca.amount_comma_decimal",), "total", Decimal("115.50"), id="comma decimal"),
        pytest.param(
            phase_1(total="-115.00", vat="-15.00"),
            ("zatca.negative_amount", "zatca.negative_amount"),
            "total",
            Decimal("-115.00"),
            id="negative amounts",
        ),
        pytest.param(phase_1(vat="150.00"), ("zatca.vat_exceeds_total",), "vat", Decimal("150.00"), id="VAT above the total"),
        pytest.param(
            phase_1(timestamp="2026-11-25T12:30:00Z"),
            ("zatca.issued_in_future",),
            "issued_at",
            dt.datetime(2026, 11, 25, 12, 30, tzinfo=UTC),
            id="two days ahead",
        ),
        pytest.param(
            [*phase_1()[:2], phase_1()[3], phase_1()[2], phase_1()[4]],
            ("zatca.tag_order",),
            "total",
            Decimal("115.00"),
            id="tags out of order",
        ),
    ],
)
def test_a_readable_oddity_is_read_with_its_warning(records, warnings, field, value):
    reading = read(zatca(records), now=NOW)

    assert reading is not None
    assert reading.warning_codes == warnings
    assert getattr(reading, field) == value


def test_a_code_that_does_not_start_with_the_seller_name_is_not_taken_for_a_zatca_code():
    # Every generator writes tag 1 first; sniffing only that keeps random base64 out.
    assert read(zatca([phase_1()[1], phase_1()[0], *phase_1()[2:]]), now=NOW) is None


def test_a_local_time_labelled_as_utc_does_not_count_as_the_future():
    # Many generators append "Z" to Riyadh time: up to three hours "ahead" is normal.
    reading = read(zatca(phase_1(timestamp="2026-11-23T11:55:00Z")), now=NOW)

    assert reading.warning_codes == ()


@pytest.mark.parametrize("zeros", [1, 2, 7])
def test_trailing_zero_padding_is_stripped_with_a_warning(zeros):
    reading = read(b64(tlv(*phase_1()) + b"\x00" * zeros), now=NOW)

    assert reading is not None
    assert reading.warning_codes == ("zatca.zero_padding",)
    assert reading.content_key == read(zatca(phase_1()), now=NOW).content_key


@pytest.mark.parametrize(
    "records, warning",
    [
        pytest.param(
            lambda r: replace(r, 7, base64.b64decode(dict(r)[7])), "tag 7 holds the DER signature itself", id="raw DER signature"
        ),
        pytest.param(lambda r: replace(r, 8, b64(dict(r)[8])), "tag 8 holds the base64 text", id="base64 public key"),
    ],
)
def test_a_stamp_in_another_encoding_still_verifies_with_a_warning(records, warning):
    reading = read(zatca(records(phase_1() + stamp(egs_key()))), now=NOW)

    assert reading.signature == "valid"
    assert reading.warning_codes == ("zatca.nonstandard_encoding",)
    assert warning in reading.warnings[0]


def test_the_same_receipt_has_the_same_content_key_however_it_is_written():
    plain = read(zatca(phase_1()), now=NOW).content_key

    assert read(zatca(phase_1()), now=NOW).content_key == plain
    assert read(zatca(phase_1(total="115")), now=NOW).content_key == plain
    assert read(zatca(phase_1(timestamp="2026-11-22T15:30:00+03:00")), now=NOW).content_key == plain
    assert read(zatca(phase_1(timestamp="2026-11-22 15:30:00")), now=NOW).content_key == plain
    assert read(zatca(phase_1(seller="Gulf Tyres")), now=NOW).content_key == plain  # the name is not an identity


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(phase_1(total="116.00"), id="another total"),
        pytest.param(phase_1(timestamp="2026-11-22T12:31:00Z"), id="another minute"),
        pytest.param(phase_1(vat_number="300000000000003"), id="another seller"),
    ],
)
def test_another_receipt_has_another_content_key(other):
    assert read(zatca(other), now=NOW).content_key != read(zatca(phase_1()), now=NOW).content_key


def test_another_signed_invoice_has_another_content_key():
    key = egs_key()
    first = read(zatca(phase_1() + stamp(key)), now=NOW)
    second = read(zatca(phase_1() + stamp(key, b"<Invoice><cbc:ID>SME00063</cbc:ID></Invoice>")), now=NOW)

    assert first.content_key != second.content_key
    assert first.content_key.startswith("zatca:") and len(first.content_key) == len("zatca:") + 64


def test_a_signature_over_the_base64_text_instead_of_the_hash_bytes_is_invalid():
    # The exact bytes signed matter: ZATCA signs the 32 hash bytes.
    key = egs_key()
    records = phase_1() + stamp(key)
    wrong = key.sign(dict(records)[6].encode(), ec.ECDSA(hashes.SHA256()))

    reading = read(zatca(replace(records, 7, b64(wrong))), now=NOW)

    assert reading.signature == "invalid"
