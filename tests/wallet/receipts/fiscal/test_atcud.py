"""Portuguese invoice QR codes (Portaria 195/2020): fields read, structure enforced."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from wallet.receipts.fiscal import FiscalCodeRefused, read

from .builders import ATCUD_FIELDS, ISSUER_NIF, NOW, atcud

LISBON = ZoneInfo("Europe/Lisbon")


def refused(text: str) -> str:
    with pytest.raises(FiscalCodeRefused) as caught:
        read(text, now=NOW)
    assert caught.value.format == "atcud"
    return caught.value.reason


def test_a_simplified_invoice_is_read_field_by_field():
    reading = read(atcud(), now=NOW)

    assert reading is not None
    assert reading.format == "atcud"
    assert reading.country == "PT"
    assert reading.seller_tax_number == ISSUER_NIF
    assert reading.seller_name is None
    assert reading.buyer_tax_number is None  # 999999990: a final consumer
    assert reading.invoice_number == "FS PNEU2026/0042"
    assert reading.issued_at == dt.datetime(2026, 11, 20, tzinfo=LISBON)
    assert reading.total == Decimal("176.00")
    assert reading.vat == Decimal("26.00")
    assert reading.currency == "EUR"
    assert reading.invoice_hash == "kLp0"
    assert reading.signature == "absent"
    assert reading.warnings == ()
    assert reading.details == (
        ("buyer_country", "PT"),
        ("document_status", "N"),
        ("document_type", "FS"),
        ("software_certificate", "2345"),
        ("tax_region", "PT"),
    )


def test_the_full_example_of_the_specification_is_read_and_adds_up():
    text = (
        "A:123456789*B:999999990*C:PT*D:FT*E:N*F:20191231*G:FT AB2019/0035*H:CSDF7T5H-0035*I1:PT*I2:12000.00*"
        "I3:15000.00*I4:900.00*I5:50000.00*I6:6500.00*I7:80000.00*I8:18400.00*J1:PT-AC*J2:10000.00*J3:25000.56*"
        "J4:1000.02*J5:75000.00*J6:6750.00*J7:100000.00*J8:18000.00*K1:PT-MA*K2:5000.00*K3:12500.00*K4:625.00*"
        "K5:25000.00*K6:3000.00*K7:40000.00*K8:8800.00*L:100.00*M:25.00*N:64000.02*O:513600.58*P:100.00*Q:kLp0*"
        "R:9999*S:TB;PT00000000000000000000000;513500.58"
    )

    reading = read(text, now=NOW)

    assert (reading.seller_tax_number, reading.invoice_number) == ("123456789", "FT AB2019/0035")
    assert (reading.total, reading.vat) == (Decimal("513600.58"), Decimal("64000.02"))
    assert reading.warnings == ()
    assert reading.detail("stamp_duty") == "25.00"
    assert reading.detail("withholding") == "100.00"
    assert reading.detail("other") == "TB;PT00000000000000000000000;513500.58"


def test_a_business_buyer_is_kept():
    reading = read(atcud(B="512345678"), now=NOW)

    assert reading.buyer_tax_number == "512345678"
    assert reading.warnings == ()


_FIELDS = dict(ATCUD_FIELDS)


@pytest.mark.parametrize(
    "text, reason",
    [
        pytest.param(atcud() + "*", "atcud.bad_field", id="trailing separator"),
        pytest.param(atcud().replace("*C:PT", "*C PT"), "atcud.bad_field", id="no colon"),
        pytest.param(atcud() + "*T:1", "atcud.unknown_field", id="field T"),
        pytest.param(atcud() + "*I9:1.00", "atcud.unknown_field", id="field I9"),
        pytest.param(atcud().replace("*C:PT", "*C:PT*C:ES"), "atcud.duplicate_field", id="C twice"),
        pytest.param(atcud().replace("*C:PT*D:FS", "*D:FS*C:PT"), "atcud.field_order", id="D before C"),
        pytest.param(atcud().replace("*N:26.00*O:176.00", "*O:176.00*N:26.00"), "atcud.field_order", id="O before N"),
        pytest.param(atcud(H=None), "atcud.missing_field", id="no ATCUD"),
        pytest.param(atcud(I1=None), "atcud.missing_field", id="no tax region"),
        pytest.param(atcud(N=None), "atcud.missing_field", id="no tax total"),
        pytest.param(atcud(O=None), "atcud.missing_field", id="no gross total"),
        pytest.param(atcud(Q=None), "atcud.missing_field", id="no hash characters"),
        pytest.param(atcud(R=None), "atcud.missing_field", id="no certificate number"),
        pytest.param(atcud(G=""), "atcud.missing_field", id="an empty document id"),
        pytest.param(atcud().replace("*N:", "*J2:10.00*N:"), "atcud.missing_field", id="J2 without J1"),
        pytest.param(atcud(G="FS " + "X" * 60), "atcud.field_too_long", id="document id over 60"),
        pytest.param(atcud(A="5095123480"), "atcud.field_too_long", id="10-digit issuer NIF"),
        pytest.param(atcud(A="50951234"), "atcud.nif_format", id="8-digit issuer NIF"),
        pytest.param(atcud(A="PT5095123"), "atcud.nif_format", id="letters in the issuer NIF"),
        pytest.param(atcud(A="509512347"), "atcud.nif_checksum", id="issuer NIF check digit"),
        pytest.param(atcud(F="2026-11-20"), "atcud.field_too_long", id="ISO date"),
        pytest.param(atcud(F="20261131"), "atcud.bad_date", id="31 November"),
        pytest.param(atcud(F="20/11/26"), "atcud.bad_date", id="DD/MM/YY"),
        pytest.param(atcud(H="JJ7TR4KD42"), "atcud.bad_atcud", id="ATCUD without dash"),
        pytest.param(atcud(H="JJ7TR4-42"), "atcud.bad_atcud", id="validation code under 8"),
        pytest.param(atcud(H="JJ7TR4KD-4A"), "atcud.bad_atcud", id="letters in the sequence"),
        pytest.param(atcud(O="176.00 EUR"), "atcud.bad_amount", id="currency in the total"),
        pytest.param(atcud(I8="1.023,00"), "atcud.bad_amount", id="thousands separator"),
        pytest.param(atcud(D="fs"), "atcud.bad_value", id="lower-case document type"),
        pytest.param(atcud(E="X"), "atcud.bad_value", id="status X"),
        pytest.param(atcud(I1="Portugal"), "atcud.field_too_long", id="region spelt out"),
        pytest.param(atcud(I1="pt"), "atcud.bad_value", id="lower-case region"),
        pytest.param(atcud(Q="kL0"), "atcud.bad_value", id="3 hash characters"),
        pytest.param(atcud(R="AT12"), "atcud.bad_value", id="certificate not a number"),
    ],
)
def test_a_structural_defect_is_refused_with_its_reason(text, reason):
    assert refused(text) == reason


@pytest.mark.parametrize(
    "text, warnings, field, value",
    [
        pytest.param(
            atcud(G=" FS PNEU2026/0042", H=" JJ7TR4KD-42"),
            ("atcud.value_whitespace",),
            "invoice_number",
            "FS PNEU2026/0042",
            id="blanks as in the specification's examples",
        ),
        pytest.param(atcud(O="176"), ("atcud.amount_no_decimals",), "total", Decimal("176"), id="no decimals"),
        pytest.param(atcud(O="176,00"), ("atcud.amount_comma_decimal",), "total", Decimal("176.00"), id="comma decimal"),
        pytest.param(atcud(D="NC"), ("atcud.document_type",), "total", Decimal("176.00"), id="credit note"),
        pytest.param(atcud(D="PF"), ("atcud.document_type",), "total", Decimal("176.00"), id="pro-forma"),
        pytest.param(atcud(E="A"), ("atcud.cancelled",), "total", Decimal("176.00"), id="cancelled"),
        pytest.param(atcud(H="0"), ("atcud.no_atcud",), "invoice_number", "FS PNEU2026/0042", id="H:0 before series"),
        pytest.param(atcud(H="JJ7TR4KD-43"), ("atcud.atcud_mismatch",), "invoice_hash", "kLp0", id="ATCUD of another number"),
        pytest.param(atcud(B="512345670"), ("atcud.buyer_nif_checksum",), "buyer_tax_number", "512345670", id="buyer NIF"),
        pytest.param(atcud(N="25.00"), ("atcud.tax_total_mismatch", "atcud.total_mismatch"), "vat", Decimal("25.00"), id="N"),
        pytest.param(atcud(O="1176.00"), ("atcud.total_mismatch",), "total", Decimal("1176.00"), id="O edited"),
        pytest.param(
            atcud(F="20261125"), ("atcud.issued_in_future",), "issued_at", dt.datetime(2026, 11, 25, tzinfo=LISBON), id="future"
        ),
    ],
)
def test_a_readable_oddity_is_read_with_its_warning(text, warnings, field, value):
    reading = read(text, now=NOW)

    assert reading is not None
    assert reading.warning_codes == warnings
    assert getattr(reading, field) == value


def test_the_content_key_is_the_issuer_and_the_atcud():
    same = read(atcud(), now=NOW).content_key

    assert read(atcud(), now=NOW).content_key == same
    assert read(atcud(H="jj7tr4kd-42"), now=NOW).content_key == same
    assert read(atcud(O="176"), now=NOW).content_key == same
    assert read(atcud(G="FS PNEU2026/0043", H="JJ7TR4KD-43"), now=NOW).content_key != same
    assert read(atcud(A="512345678"), now=NOW).content_key != same


def test_without_an_atcud_the_document_number_names_the_receipt():
    first = read(atcud(H="0"), now=NOW).content_key

    assert read(atcud(H="0"), now=NOW).content_key == first
    assert read(atcud(H="0", G="FS PNEU2026/0043"), now=NOW).content_key != first
    assert first != read(atcud(), now=NOW).content_key


@pytest.mark.parametrize("text", ["A:", "B:999999990*A:509512348", "Artigo:123*Bom:1", "ATCUD:JJ7TR4KD-42"])
def test_text_that_does_not_start_like_the_portuguese_code_is_not_claimed(text):
    assert read(text, now=NOW) is None
