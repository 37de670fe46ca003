"""Which format a decoded code belongs to; what is not a fiscal code at all; the size limit."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from decimal import Decimal

import pytest

from wallet.receipts.fiscal import MAX_TEXT_BYTES, FiscalCodeRefused, FiscalReading, read, registered_formats
from wallet.receipts.fiscal.registry import claimants

from .builders import NOW, ZATCA_SDK_SAMPLE, atcud, egs_key, gst_jwt, kod_i, kod_ii, phase_1, stamp, zatca

GOOD = {
    "zatca": zatca(phase_1()),
    "zatca phase 2": zatca(phase_1() + stamp(egs_key())),
    "ksef": kod_i(),
    "ksef kod ii": kod_ii(),
    "atcud": atcud(),
    "gst": gst_jwt(),
}


def test_the_four_formats_are_registered():
    assert sorted(registered_formats()) == ["atcud", "gst", "ksef", "zatca"]


@pytest.mark.parametrize("name", GOOD)
def test_each_good_code_is_claimed_by_exactly_its_own_format(name):
    assert claimants(GOOD[name]) == (name.split()[0],)


@pytest.mark.parametrize(
    "text",
    [
        "https://www.example.com/receipt?id=5&amount=115.00",
        "https://tyres.example.sa/ar/p/185-65-r15",
        "http://ksef.example.com/invoice/5265877635/20-11-2026/abc",
        "upi://pay?pa=tyres@okaxis&pn=Tyres&am=4720.00&cu=INR",
        "WIFI:S:Shop;T:WPA;P:secret;;",
        "BEGIN:VCARD\nVERSION:3.0\nFN:Tyre Shop\nEND:VCARD",
        "4006381333931",  # EAN-13
        "5901234123457",  # EAN-13 (Poland)
        "6281100000006",  # EAN-13 (Saudi prefix 628)
        "036000291452",  # UPC-A
        "9780201379624",  # ISBN
        "0000000000000000000000000",
        "AAAAAAAAAAAAAAAAAAAAAAAA",
        "Thank you for shopping with us",
        "",
        "   \n",
    ],
)
def test_text_that_is_not_a_fiscal_code_gives_none(text):
    assert read(text, now=NOW) is None


@pytest.mark.parametrize("seed", range(20))
def test_random_bytes_give_none_or_a_refusal_never_anything_else(seed):
    text = os.urandom(200).decode("latin-1")
    try:
        assert read(text, now=NOW) is None
    except FiscalCodeRefused:
        pass


def test_text_over_4_kib_is_refused_before_any_format_reads_it():
    with pytest.raises(FiscalCodeRefused) as caught:
        read(ZATCA_SDK_SAMPLE + " " * (MAX_TEXT_BYTES + 1 - len(ZATCA_SDK_SAMPLE)), now=NOW)

    assert (caught.value.format, caught.value.reason) == (None, "fiscal.too_large")


def test_the_limit_counts_utf8_bytes_not_characters():
    arabic = "ف" * (MAX_TEXT_BYTES // 2 + 1)  # 2 bytes each in UTF-8
    assert len(arabic) < MAX_TEXT_BYTES

    with pytest.raises(FiscalCodeRefused) as caught:
        read(arabic, now=NOW)
    assert caught.value.reason == "fiscal.too_large"


def test_a_code_of_exactly_4_kib_is_still_read():
    text = atcud(S="x") + " " * (MAX_TEXT_BYTES - len(atcud(S="x")))

    assert read(text, now=NOW) is not None


@pytest.mark.parametrize("name", GOOD)
def test_blanks_a_scanner_adds_around_a_code_are_ignored(name):
    assert read(f" {GOOD[name]}\r\n", now=NOW) == read(GOOD[name], now=NOW)


def test_now_must_be_timezone_aware():
    with pytest.raises(ValueError):
        read(GOOD["atcud"], now=dt.datetime(2026, 11, 23, 9, 0))


def test_content_keys_of_different_formats_never_collide():
    keys = {read(text, now=NOW).content_key for name, text in GOOD.items() if name not in ("zatca phase 2", "ksef kod ii")}

    assert len(keys) == 4


def test_a_half_filled_reading_cannot_be_made():
    reading = read(GOOD["zatca"], now=NOW)

    with pytest.raises(ValueError):
        dataclasses.replace(reading, total=None)
    with pytest.raises(ValueError):
        dataclasses.replace(reading, issued_at=dt.datetime(2026, 11, 22, 12, 30))  # naive
    with pytest.raises(ValueError):
        dataclasses.replace(reading, total=Decimal("NaN"))
    with pytest.raises(ValueError):
        dataclasses.replace(reading, warnings=("no code here",))
    with pytest.raises(ValueError):
        dataclasses.replace(reading, signature="probably")


def test_a_reading_is_a_frozen_value():
    reading = read(GOOD["gst"], now=NOW)

    with pytest.raises(dataclasses.FrozenInstanceError):
        reading.total = Decimal("1")  # type: ignore[misc]
    assert isinstance(reading, FiscalReading)
    assert hash(reading) == hash(read(GOOD["gst"], now=NOW))
