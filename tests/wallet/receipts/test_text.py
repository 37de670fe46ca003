"""The receipt text parser: each field read in the forms the Gulf and Poland print, and nothing guessed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from wallet.receipts import text
from wallet.receipts.text import LineItem, TaxNumber

ENGLISH = """\
AL NOOR TYRES TRADING LLC
Shop 12, Sheikh Zayed Rd, Dubai
TRN: 100234567890003
TAX INVOICE
Invoice No: INV-2026-004512
Date: 23/11/2026 14:05
Michelin Pilot Sport 5 205/55 R16 91W
  4 x 450.00    1,800.00
Wheel balancing   1 x 40.00   40.00
Subtotal excl. VAT          1,752.38
VAT 5%                         87.62
TOTAL AED                   1,840.00
Paid by card                1,840.00
"""

POLISH = """\
OPONY-SERWIS Sp. z o.o.
ul. Marszałkowska 10, 00-001 Warszawa
NIP 123-456-32-18
2026-11-23                nr wydr. 012345
PARAGON FISKALNY
Michelin Pilot Sport 5 205/55 R16 91W
  4 x 450,00          1 800,00 A
Montaż opon  4 x 30,00   120,00 A
Sprzedaż opodatkowana A     1 920,00
PTU A 23%                     359,02
SUMA PTU                      359,02
SUMA PLN                    1 920,00
Karta płatnicza             1 920,00
Paragon nr 4512                14:05
"""

ARABIC = """\
شركة النور للإطارات
الرياض، طريق الملك فهد
فاتورة ضريبية مبسطة
الرقم الضريبي ٣١٠١٢٣٤٥٦٧٠٠٠٠٣
رقم الفاتورة ٤٥١٢
التاريخ ٢٣/١١/٢٠٢٦ ١٤:٠٥
Michelin Pilot Sport 5 205/55 R16 91W
٤ x ٤٥٠٫٠٠ ١٬٨٠٠٫٠٠
الإجمالي قبل الضريبة ١٬٥٦٥٫٢٢
ضريبة القيمة المضافة ١٥٪ ٢٣٤٫٧٨
الإجمالي ١٬٨٠٠٫٠٠ ر.س
"""


def test_an_english_gulf_receipt_is_read_field_by_field() -> None:
    r = text.parse_receipt(ENGLISH)
    assert r.merchant.value == "AL NOOR TYRES TRADING LLC"
    assert r.seller_tax_number.value == TaxNumber("100234567890003", "AE", "trn")
    assert r.receipt_number.value == "INV-2026-004512"
    assert r.date.value == dt.date(2026, 11, 23)
    assert r.time.value == dt.time(14, 5)
    assert r.purchased_at == dt.datetime(2026, 11, 23, 14, 5)
    assert r.total.value == Decimal("1840.00")
    assert "the 2 items add up to it" in r.total.how and "payment on line 13" in r.total.how
    assert r.currency.value == "AED"
    assert r.items == (
        LineItem("Michelin Pilot Sport 5 205/55 R16 91W", Decimal("4"), Decimal("450.00"), Decimal("1800.00"), 0.95),
        LineItem("Wheel balancing", Decimal("1"), Decimal("40.00"), Decimal("40.00"), 0.95),
    )


def test_a_polish_fiscal_receipt_is_read_and_its_vat_sum_is_not_taken_for_the_total() -> None:
    r = text.parse_receipt(POLISH)
    assert r.merchant.value == "OPONY-SERWIS Sp. z o.o."
    assert r.seller_tax_number.value == TaxNumber("1234563218", "PL", "nip")
    assert r.receipt_number.value == "4512"
    assert r.date.value == dt.date(2026, 11, 23)
    assert r.time.value == dt.time(14, 5)
    assert r.total.value == Decimal("1920.00")
    assert r.total.how.startswith("keyword 'SUMA PLN'")
    assert r.currency.value == "PLN"
    assert [(i.description, i.quantity, i.unit_price, i.amount) for i in r.items] == [
        ("Michelin Pilot Sport 5 205/55 R16 91W", Decimal("4"), Decimal("450.00"), Decimal("1800.00")),
        ("Montaż opon", Decimal("4"), Decimal("30.00"), Decimal("120.00")),
    ]


def test_an_arabic_receipt_in_arabic_indic_digits_is_read() -> None:
    r = text.parse_receipt(ARABIC)
    assert r.merchant.value == "شركة النور للإطارات"
    assert r.seller_tax_number.value == TaxNumber("310123456700003", "SA", "vat")
    assert r.receipt_number.value == "4512"
    assert r.date.value == dt.date(2026, 11, 23) and r.time.value == dt.time(14, 5)
    assert r.total.value == Decimal("1800.00")
    assert r.currency.value == "SAR"
    assert r.items[0].amount == Decimal("1800.00") and r.items[0].quantity == 4


@pytest.mark.parametrize(("line", "amount"), [
    ("TOTAL 1,234.56", "1234.56"),
    ("TOTAL 1234.56", "1234.56"),
    ("SUMA PLN 1 234,56", "1234.56"),
    ("SUMA PLN 1234,56", "1234.56"),
    ("SUMA PLN 1.234,56", "1234.56"),
    ("DO ZAPŁATY: 99,90 zł", "99.90"),
    ("RAZEM 45,00", "45.00"),
    ("Grand Total SAR 12,500.00", "12500.00"),
    ("Amount Due: 75.25", "75.25"),
    ("Total incl. VAT 105.00", "105.00"),
    ("الإجمالي ١٬٢٣٤٫٥٦", "1234.56"),
    ("الاجمالي ۱۲۳۴٫۵۶", "1234.56"),
    ("المجموع 88.00", "88.00"),
    ("الإجمالي شامل الضريبة 115.00", "115.00"),
    ("Karta 10,00\nSUMA PLN 886 ,00", "886.00"),
])
def test_the_total_is_read_from_its_keyword_in_each_form(line, amount) -> None:
    assert text.parse_receipt(line).total.value == Decimal(amount)


@pytest.mark.parametrize("receipt", [
    "Subtotal 100.00",
    "Sub-total 100.00",
    "Total VAT 15.00",
    "VAT total 15.00",
    "Total excl. VAT 100.00",
    "SUMA PTU 23,00",
    "PTU A 23% 23,00",
    "الإجمالي قبل الضريبة 100.00",
    "إجمالي ضريبة القيمة المضافة 15.00",
    "Total items 4",
    "Change 5.00",
])
def test_a_subtotal_a_vat_sum_or_change_is_never_the_total(receipt) -> None:
    assert text.parse_receipt(receipt).total is None


def test_the_grand_total_wins_over_a_subtotal_above_it() -> None:
    r = text.parse_receipt("Subtotal 100.00\nVAT 5% 5.00\nGrand Total 105.00")
    assert r.total.value == Decimal("105.00")


def test_a_misread_total_line_gives_way_to_the_items_and_the_payment_that_agree() -> None:
    receipt = "Wheel balancing 1 x 40.00 40.00\nTyre fitting 4 x 25.00 100.00\nTOTAL 146.00\nPaid by card 140.00"
    r = text.parse_receipt(receipt)
    assert r.total.value == Decimal("140.00")
    assert r.total.how == "the total line 3 reads 146.00, but the 2 items add up to it and the payment on line 4"
    assert r.total.confidence < 0.8


def test_with_no_total_line_the_items_and_payment_agreeing_give_a_low_confidence_total() -> None:
    r = text.parse_receipt("Wheel balancing 1 x 40.00 40.00\nTyre fitting 4 x 25.00 100.00\nPaid by card 140.00")
    assert r.total.value == Decimal("140.00") and r.total.confidence == 0.6
    assert r.total.how.startswith("no total line was read")


def test_a_lone_payment_without_a_total_line_gives_no_total() -> None:
    assert text.parse_receipt("Thank you\nPaid by card 140.00").total is None


@pytest.mark.parametrize(("line", "date", "time"), [
    ("Date: 2026-11-23", dt.date(2026, 11, 23), None),
    ("Date: 23/11/2026", dt.date(2026, 11, 23), None),
    ("Data: 23.11.2026", dt.date(2026, 11, 23), None),
    ("23-11-2026 14:05", dt.date(2026, 11, 23), dt.time(14, 5)),
    ("2026/11/23 14:05:33", dt.date(2026, 11, 23), dt.time(14, 5, 33)),
    ("Date: 05/11/2026 02:05 PM", dt.date(2026, 11, 5), dt.time(14, 5)),
    ("11/23/2026", dt.date(2026, 11, 23), None),
    ("التاريخ ٢٣/١١/٢٠٢٦ ١٤:٠٥", dt.date(2026, 11, 23), dt.time(14, 5)),
    ("التاريخ ۲۰۲۶-۱۱-۲۳", dt.date(2026, 11, 23), None),
    ("30.07,2026", dt.date(2026, 7, 30), None),
])
def test_dates_and_times_are_read_in_many_formats(line, date, time) -> None:
    r = text.parse_receipt(line)
    assert r.date.value == date
    assert (r.time.value if r.time else None) == time


def test_a_day_first_date_that_could_be_month_first_says_so() -> None:
    r = text.parse_receipt("Date: 05/11/2026")
    assert r.date.value == dt.date(2026, 11, 5)
    assert "could be month first" in r.date.how and r.date.confidence < 0.9


@pytest.mark.parametrize("line", ["Date: 31/02/2026", "Date: 2026-13-01", "Date: 23/11/1899", "Total 23.11"])
def test_an_impossible_date_is_no_date(line) -> None:
    assert text.parse_receipt(line).date is None


def test_an_expiry_date_is_not_the_purchase_date() -> None:
    r = text.parse_receipt("Voucher valid until 31/12/2027\nDate: 23/11/2026")
    assert r.date.value == dt.date(2026, 11, 23)


@pytest.mark.parametrize(("line", "number"), [
    ("NIP 123-456-32-18", TaxNumber("1234563218", "PL", "nip")),
    ("NIP: 1234563218", TaxNumber("1234563218", "PL", "nip")),
    ("NIP PL1234563218", TaxNumber("1234563218", "PL", "nip")),
    ("NIP 123-45-63-218", TaxNumber("1234563218", "PL", "nip")),  # the 3-2-2-3 grouping of a person's NIP
    ("VAT No: 310123456700003", TaxNumber("310123456700003", "SA", "vat")),
    ("الرقم الضريبي: ٣١٠١٢٣٤٥٦٧٠٠٠٠٣", TaxNumber("310123456700003", "SA", "vat")),
    ("TRN 100234567890003", TaxNumber("100234567890003", "AE", "trn")),
    ("TRN: 100 2345 6789 0003", TaxNumber("100234567890003", "AE", "trn")),
    ("Tax Reg. No 123456789012345", TaxNumber("123456789012345", None, "tax15")),
])
def test_seller_tax_numbers_are_read_with_their_country(line, number) -> None:
    assert text.parse_receipt(line).seller_tax_number.value == number


def test_a_nip_with_a_wrong_check_digit_is_reported_with_a_low_confidence() -> None:
    found = text.parse_receipt("NIP 123-456-32-19").seller_tax_number
    assert found.value.number == "1234563219" and found.confidence <= 0.3 and "check digit is wrong" in found.how


@pytest.mark.parametrize(("receipt", "currency", "how"), [
    ("TOTAL SAR 10.00", "SAR", "on the total's line"),
    ("الإجمالي 10.00 ر.س", "SAR", "on the total's line"),
    ("TOTAL 10.00 SR", "SAR", "on the total's line"),
    ("TOTAL AED 10.00", "AED", "on the total's line"),
    ("الإجمالي 10.00 د.إ", "AED", "on the total's line"),
    ("TOTAL Dhs 10.00", "AED", "on the total's line"),
    ("SUMA PLN 10,00", "PLN", "on the total's line"),
    ("RAZEM 10,00 zł", "PLN", "on the total's line"),
    ("VAT No 310123456700003\nTOTAL 10.00", "SAR", "inferred from the seller's tax number (SA)"),
    ("TRN 100234567890003\nTOTAL 10.00", "AED", "inferred from the seller's tax number (AE)"),
    ("NIP 123-456-32-18\nSUMA 10,00", "PLN", "inferred from the seller's tax number (PL)"),
])
def test_the_currency_is_read_or_inferred_from_the_tax_number(receipt, currency, how) -> None:
    found = text.parse_receipt(receipt).currency
    assert found.value == currency and how in found.how


def test_a_currency_inside_an_arabic_word_is_not_a_currency() -> None:
    # "طريق" (road) and "القريب" contain the letters of ر.ق (Qatari riyal) without the dot
    assert text.parse_receipt("طريق الملك فهد القريب\nالإجمالي 10.00").currency is None


def test_nothing_found_is_none_never_a_guess() -> None:
    r = text.parse_receipt("Thank you for your visit\n1,234.56\n99.00\n2026\n")
    assert (r.seller_tax_number, r.receipt_number, r.date, r.time, r.total, r.currency) == (None,) * 6
    assert r.items == ()


def test_the_merchant_is_the_company_line_not_the_heading_or_the_address() -> None:
    r = text.parse_receipt("TAX INVOICE\nWelcome\nShop 3, Al Quoz Rd\nGULF WHEELS AUTO SERVICE LLC\nTRN 100234567890003")
    assert r.merchant.value == "GULF WHEELS AUTO SERVICE LLC"
    assert "names a company" in r.merchant.how


def test_line_confidences_from_ocr_lower_the_fields_confidence() -> None:
    sure = text.parse_receipt("TOTAL 10.00", line_confidences=[96.0]).total
    unsure = text.parse_receipt("TOTAL 10.00", line_confidences=[36.0]).total
    assert sure.value == unsure.value and unsure.confidence < sure.confidence


def test_a_text_longer_than_any_receipt_is_refused() -> None:
    with pytest.raises(ValueError):
        text.parse_receipt("x" * (text.MAX_TEXT + 1))


def test_an_item_line_ending_in_a_stray_mark_is_still_an_item() -> None:
    parsed = text.parse_receipt("OPONY-SERWIS\nHankook Ventus Prime 4 205/60 R16 92H\n1 x 299,00 299,00 A |\nSUMA PLN 299,00")
    assert [(i.description, i.amount) for i in parsed.items] == [("Hankook Ventus Prime 4 205/60 R16 92H",
                                                                   Decimal("299.00"))]


def test_a_total_that_the_payment_line_contradicts_is_not_taken_as_sure() -> None:
    parsed = text.parse_receipt("SUMA PLN 1882,00\nKarta płatnicza 1802,00")
    assert parsed.total is not None and parsed.total.confidence < 0.75
