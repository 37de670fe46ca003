"""The code finder reads the exact text of the QR code on receipts photographed badly."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from tests.wallet.receipts import corpus
from tests.wallet.receipts.fiscal import builders
from wallet.receipts import codes, fiscal

# What a ZATCA phase-1 QR holds (base64 of TLV); the corpus prints whatever text it is given.
ZATCA_LIKE = "AQ5BbCBOb29yIFR5cmVzAg8zMTAxMjM0NTY3MDAwMDMDFDIwMjYtMTEtMjNUMTQ6MDU6MDBaBAc3NTEuMDAFBTk3Ljk2"
KSEF_LIKE = "https://qr.ksef.mf.gov.pl/invoice/1234563218/23-11-2026/UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE"
ZATCA_PHASE_1 = builders.zatca(builders.phase_1(seller="Al Noor Tyres", vat_number="310123456700003",
                                                timestamp="2026-11-23T14:05:00Z", total="751.00", vat="97.96"))


def photo(language: str, how: corpus.Degradation, *, text: str = ZATCA_LIKE, box: int = 4, seed: int = 11) -> Image.Image:
    spec = replace(corpus.sample(seed, language=language, qr_text=text), qr_box=box)
    return Image.open(io.BytesIO(corpus.photograph(corpus.render(spec), seed, how)))


@pytest.mark.parametrize("variant", list(corpus.VARIANTS))
@pytest.mark.parametrize("language", ["en", "ar", "pl"])
def test_the_qr_text_is_decoded_exactly_from_each_degraded_photo(fonts, language, variant) -> None:
    text = KSEF_LIKE if language == "pl" else ZATCA_LIKE
    scan = codes.find_codes(photo(language, corpus.VARIANTS[variant], text=text))
    assert [code.text for code in scan.codes] == [text]
    assert scan.codes[0].format == "QRCode"
    assert scan.found_by in codes.PASSES


@pytest.mark.parametrize("how", [
    pytest.param(corpus.Degradation(), id="straight"),
    pytest.param(corpus.Degradation(rotation=10, jpeg_quality=40), id="turned, JPEG 40"),
    pytest.param(corpus.Degradation(noise=10, light=0.5), id="noisy, uneven light"),
])
def test_a_small_code_of_two_pixels_a_module_is_decoded(fonts, how) -> None:
    scan = codes.find_codes(photo("en", how, box=2))
    assert [code.text for code in scan.codes] == [ZATCA_LIKE]


def test_a_small_soft_code_the_photo_misses_is_found_in_the_upscaled_copy(fonts) -> None:
    scan = codes.find_codes(photo("en", corpus.Degradation(blur=1.0), box=2, seed=11))
    assert [code.text for code in scan.codes] == [ZATCA_LIKE]
    assert scan.found_by == "upscaled"
    assert scan.passes_tried == ("original", "binarised", "upscaled")


@pytest.mark.parametrize(("language", "text", "tax_number"), [
    pytest.param("en", ZATCA_PHASE_1, "310123456700003", id="ZATCA"),
    pytest.param("pl", KSEF_LIKE, "1234563218", id="KSeF"),
])
def test_a_code_of_three_pixels_a_module_shrunk_and_blurred_is_found_in_the_deblurred_crop(
        fonts, language, text, tax_number) -> None:
    # About 2.5 pixels a module in the photo, blurred by 1.6: what bench/receipts.py missed, and
    # what none of the four passes before the deblurred one reads.
    how = corpus.Degradation(rotation=4, blur=1.6, scale=0.85, jpeg_quality=60)
    picture = photo(language, how, text=text, box=3, seed=13)

    scan = codes.find_codes(picture)

    assert [code.text for code in scan.codes] == [text]
    assert scan.found_by == "deblurred" and scan.passes_tried == codes.PASSES
    read = fiscal.read(scan.codes[0].text, now=dt.datetime(2027, 1, 2, tzinfo=dt.timezone.utc))
    assert read is not None and read.seller_tax_number == tax_number and not read.warnings
    assert read.issued_at.date() == dt.date(2026, 11, 23)
    # The position is the code's in the whole photo, not in the crop it was read from.
    position = scan.codes[0].position
    xs = [p[0] for p in (position.top_left, position.top_right, position.bottom_right, position.bottom_left)]
    ys = [p[1] for p in (position.top_left, position.top_right, position.bottom_right, position.bottom_left)]
    side = 0.85 * corpus.qr_image(text, 3).width
    assert 0 < min(xs) < max(xs) <= picture.width and 0 < min(ys) < max(ys) <= picture.height
    assert 0.5 * side < max(xs) - min(xs) < 1.2 * side
    assert picture.height / 2 < min(ys)  # the code is printed at the foot of the receipt


def test_a_photo_without_codes_tries_every_pass_and_finds_nothing(fonts) -> None:
    scan = codes.find_codes(photo("pl", corpus.Degradation(rotation=5), text=None))  # type: ignore[arg-type]
    # No region of the receipt looks like a code, so the deblurred pass has no crop to read.
    assert scan == codes.CodeScan((), None, ("original", "binarised", "upscaled", "contrast"))


def test_the_same_code_twice_is_reported_once_and_a_barcode_beside_it_too() -> None:
    qr = corpus.qr_image(ZATCA_LIKE, 4)
    barcode = zxingcpp.write_barcode_to_image(zxingcpp.create_barcode("INV-2026-004512", zxingcpp.BarcodeFormat.Code128),
                                             scale=3, add_quiet_zones=True)
    bar = Image.fromarray(np.asarray(barcode)).convert("RGB")
    sheet = Image.new("RGB", (max(qr.width * 2 + 40, bar.width + 40), qr.height + bar.height + 40), "white")
    sheet.paste(qr, (0, 0))
    sheet.paste(qr, (qr.width + 40, 0))
    sheet.paste(bar, (20, qr.height + 20))

    scan = codes.find_codes(sheet)

    assert sorted((c.text, c.format) for c in scan.codes) == sorted([(ZATCA_LIKE, "QRCode"),
                                                                     ("INV-2026-004512", "Code128")])


def test_positions_are_in_the_pixels_of_the_image_given_even_when_it_was_shrunk_first() -> None:
    qr = corpus.qr_image(ZATCA_LIKE, 12)
    big = Image.new("RGB", (4000, 3000), "white")
    big.paste(qr, (2500, 1500))

    scan = codes.find_codes(big, max_side=1000)

    (code,) = scan.codes
    xs = [p[0] for p in (code.position.top_left, code.position.top_right, code.position.bottom_right,
                         code.position.bottom_left)]
    ys = [p[1] for p in (code.position.top_left, code.position.top_right, code.position.bottom_right,
                         code.position.bottom_left)]
    quiet = 4 * 12
    assert abs(min(xs) - (2500 + quiet)) <= 20 and abs(max(xs) - (2500 + qr.width - quiet)) <= 20
    assert abs(min(ys) - (1500 + quiet)) <= 20 and abs(max(ys) - (1500 + qr.height - quiet)) <= 20
