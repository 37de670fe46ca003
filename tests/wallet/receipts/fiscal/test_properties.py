"""Whatever a camera decodes: a complete reading, a refusal with a reason, or None. Nothing else."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from wallet.receipts.fiscal import FiscalCodeRefused, FiscalKeys, FiscalReading, read

from .builders import NOW, atcud, egs_key, gst_jwt, irp_key, kod_i, kod_ii, phase_1, public_pem, stamp, tlv, zatca

KEYS = FiscalKeys(gst_public_keys=(public_pem(irp_key()),))
# What each format always carries, written out here rather than taken from the code.
ALWAYS = {
    "zatca": ("seller_name", "seller_tax_number", "issued_at", "total", "vat", "currency"),
    "ksef": ("seller_tax_number", "invoice_hash", "currency"),
    "atcud": ("seller_tax_number", "invoice_number", "issued_at", "total", "vat", "currency", "invoice_hash"),
    "gst": ("seller_tax_number", "invoice_number", "issued_at", "total", "currency", "invoice_hash"),
}
GOOD = [zatca(phase_1()), zatca(phase_1() + stamp(egs_key())), kod_i(), kod_ii(), atcud(), gst_jwt()]


def outcome(text: str) -> FiscalReading | None:
    """Reads ``text``; only FiscalCodeRefused may escape, and a reading must be whole."""
    try:
        reading = read(text, now=NOW, keys=KEYS)
    except FiscalCodeRefused as refusal:
        assert refusal.reason.startswith(f"{refusal.format}.") or refusal.reason == "fiscal.too_large"
        assert refusal.message
        return None
    if reading is not None:
        assert_whole(reading)
        assert read(text, now=NOW, keys=KEYS) == reading  # and the same every time
    return reading


def assert_whole(reading: FiscalReading) -> None:
    for name in ALWAYS[reading.format]:
        assert getattr(reading, name) is not None, name
    if reading.issued_at is not None:
        assert reading.issued_at.utcoffset() is not None
        assert 2000 <= reading.issued_at.year <= 2099
    else:
        assert reading.detail("code") == "KOD II"
    for amount in (reading.total, reading.vat):
        assert amount is None or (isinstance(amount, Decimal) and amount.is_finite())
    assert reading.signature in ("valid", "invalid", "absent", "unverifiable")
    assert reading.content_key.startswith(reading.format + ":")
    for warning in reading.warnings:
        code, _, text = warning.partition(": ")
        assert code.startswith(reading.format + ".") and text


@settings(max_examples=400)
@given(st.text(max_size=300))
@example("A:*B:")
@example("eyJhbGciOiJSUzI1NiJ9.eyJkYXRhIjoxfQ.AA")
@example("https://qr.ksef.mf.gov.pl/invoice/")
@example("AQ" + "A" * 30)
def test_random_text_is_read_refused_or_ignored(text):
    outcome(text)


_tlv_records = st.lists(st.tuples(st.integers(0, 12), st.binary(max_size=40)), max_size=12)


@settings(max_examples=400)
@given(
    seller_first=st.booleans(),
    records=_tlv_records,
    tail=st.binary(max_size=6),
    cut=st.integers(0, 8),
)
def test_random_tlv_byte_strings_are_read_refused_or_ignored(seller_first, records, tail, cut):
    data = tlv(*([(1, "Tyres")] if seller_first else []), *records) + tail
    data = data[: len(data) - cut] if cut < len(data) else data
    outcome(base64.b64encode(data).decode("ascii"))


@settings(max_examples=300)
@given(st.lists(st.sampled_from(list(range(1, 10)) + [0, 10]), max_size=12), st.lists(st.text(max_size=20), max_size=12))
def test_tlv_records_with_plausible_text_values_are_read_refused_or_ignored(tags, values):
    records = [(1, "Gulf Tyres")] + list(zip(tags, values, strict=False))
    outcome(zatca(records))


@settings(max_examples=600)
@given(
    code=st.sampled_from(GOOD),
    position=st.integers(0, 10_000),
    edit=st.sampled_from(["replace", "insert", "delete"]),
    char=st.characters(codec="utf-8"),
)
def test_a_good_code_with_one_character_changed_is_read_refused_or_ignored(code, position, edit, char):
    position %= len(code)
    if edit == "replace":
        text = code[:position] + char + code[position + 1 :]
    elif edit == "insert":
        text = code[:position] + char + code[position:]
    else:
        text = code[:position] + code[position + 1 :]
    outcome(text)


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(st.sampled_from("ABCDEFGHIJKLMNOPQRST"), st.text(alphabet="0123456789.,-/ :AZaz", max_size=12)), max_size=20
    )
)
def test_portuguese_like_fields_are_read_refused_or_ignored(fields):
    outcome("A:509512348*B:999999990*" + "*".join(f"{k}:{v}" for k, v in fields))


@settings(max_examples=200)
@given(
    st.dictionaries(
        st.sampled_from(
            ["SellerGstin", "BuyerGstin", "DocNo", "DocTyp", "DocDt", "TotInvVal", "ItemCnt", "MainHsnCode", "Irn", "IrnDt"]
        ),
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)),
        max_size=10,
    )
)
def test_gst_data_of_any_shape_is_read_refused_or_ignored(data):
    outcome(gst_jwt({k: v for k, v in data.items() if v is not None}))


def test_the_good_codes_are_read():
    assert all(outcome(code) is not None for code in GOOD)
    assert outcome(zatca(phase_1(timestamp="2026-11-22T12:30:00Z"))).issued_at == dt.datetime(
        2026, 11, 22, 12, 30, tzinfo=dt.timezone.utc
    )
