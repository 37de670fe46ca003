"""The voucher QR: a signed payload naming the voucher, refused by its alphabet before any MAC is computed."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from passes import voucher_card
from passes.voucher_card import VoucherCodeError

K1 = [("k1", b"one key for voucher QR payloads, 32+ bytes")]
ROTATED = [("k2", b"the next key for voucher QR payloads, 32+"), *K1]


def test_a_payload_names_its_scheme_key_and_voucher_and_verifies():
    payload = voucher_card.issue(4711, keys=K1)
    scheme, kid, voucher_id, mac = payload.split(".")
    assert (scheme, kid, voucher_id, len(mac)) == ("PWV1", "k1", "4711", 26)
    assert voucher_card.verify(payload, keys=K1) == 4711
    # a scanner that lower-cases the MAC or adds a line break still reads it
    assert voucher_card.verify(f"  {scheme}.{kid}.{voucher_id}.{mac.lower()}\n", keys=K1) == 4711


def test_payloads_made_before_a_rotation_verify_until_their_key_is_dropped():
    old = voucher_card.issue(7, keys=K1)
    assert voucher_card.verify(old, keys=ROTATED) == 7
    assert voucher_card.issue(7, keys=ROTATED).startswith("PWV1.k2.7.")
    with pytest.raises(VoucherCodeError):
        voucher_card.verify(old, keys=ROTATED[:1])


@pytest.mark.parametrize("payload, message", [
    ("", "this is not a Partner Wallet voucher code"),
    ("PW1.k1.12345678901.1.AAAAAAAAAAAAAAAAAAAAAAAAAA", "this is not a Partner Wallet voucher code"),
    ("PWV1.k1.8.AAAAAAAAAAAAAAAAAAAAAAAAAA", "this voucher code is not genuine"),
    ("PWV1.k1.٨.AAAAAAAAAAAAAAAAAAAAAAAAAA", "this voucher code is not genuine"),  # Arabic-Indic eight
    ("PWV1.k1.08.AAAAAAAAAAAAAAAAAAAAAAAAAA", "this voucher code is not genuine"),  # no leading zeros
    ("PWV1.k1.8.ÄAAAAAAAAAAAAAAAAAAAAAAAAA", "this voucher code is not genuine"),
    ("PWV1.kx.8.AAAAAAAAAAAAAAAAAAAAAAAAAA", "this voucher code is not genuine"),
    ("PWV1.k1.99999999999999999999.AAAAAAAAAAAAAAAAAAAAAAAAAA", "this voucher code is not genuine"),
])
def test_a_payload_that_is_not_ours_is_refused_with_the_reason(payload, message):
    with pytest.raises(VoucherCodeError) as refused:
        voucher_card.verify(payload, keys=K1)
    assert refused.value.message == message and refused.value.field == "qr_payload"


def test_another_vouchers_id_under_this_signature_is_refused():
    scheme, kid, _, mac = voucher_card.issue(8, keys=K1).split(".")
    with pytest.raises(VoucherCodeError):
        voucher_card.verify(f"{scheme}.{kid}.9.{mac}", keys=K1)


def test_the_png_reads_back_as_the_payload():
    payload = voucher_card.issue(123, keys=K1)
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(voucher_card.png(payload))))
    assert [d.text for d in decoded] == [payload]
