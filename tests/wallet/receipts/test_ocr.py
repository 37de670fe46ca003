"""OCR of rendered receipts, read through the text parser: the total, date, currency and tax number come out right."""

from __future__ import annotations

import io
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from tests.wallet.receipts import corpus
from wallet.receipts import ocr, text
from wallet.receipts.errors import OcrUnavailable

LANGUAGES = {"en": ("ara", "eng"), "ar": ("ara", "eng"), "pl": ("pol",)}


def read(spec: corpus.ReceiptSpec, how: corpus.Degradation | None, seed: int = 3) -> text.ReceiptText:
    picture = corpus.render(spec)
    if how is not None:
        picture = Image.open(io.BytesIO(corpus.photograph(picture, seed, how)))
    result = ocr.recognise(picture, LANGUAGES[spec.language])
    return text.parse_receipt(result.text, line_confidences=[line.confidence for line in result.lines])


PHONE = corpus.Degradation(rotation=-9, perspective=0.03, blur=0.8, light=0.4, noise=6, jpeg_quality=40)


@pytest.mark.parametrize("how", [pytest.param(None, id="as printed"), pytest.param(PHONE, id="phone photo")])
@pytest.mark.parametrize(("language", "seed"), [("en", 4), ("ar", 5), ("pl", 6)])
def test_the_total_date_currency_and_tax_number_are_read_from_a_receipt(fonts, tessdata, language, seed, how) -> None:
    spec = corpus.sample(seed, language=language)

    r = read(spec, how)

    assert r.total is not None and r.total.value == spec.total
    assert r.date is not None and r.date.value == spec.issued_at.date()
    assert r.currency is not None and r.currency.value == spec.currency
    assert r.seller_tax_number is not None and r.seller_tax_number.value.number == spec.tax_number.replace("-", "")
    assert r.seller_tax_number.value.country == {"en": "AE", "ar": "SA", "pl": "PL"}[language]


def test_the_line_items_of_a_printed_receipt_are_read(fonts, tessdata) -> None:
    spec = corpus.sample(8, language="en")
    r = read(spec, None)
    assert [(i.description, i.quantity, i.unit_price, i.amount) for i in r.items] == [
        (item.description, item.quantity, item.unit_price, item.amount) for item in spec.items]


def test_a_receipt_photographed_upside_down_is_read_the_right_way_up(fonts, tessdata) -> None:
    spec = corpus.sample(4, language="en")
    picture = Image.open(io.BytesIO(corpus.photograph(corpus.render(spec), 3, corpus.Degradation(rotation=183))))
    result = ocr.recognise(picture, ("eng",))
    assert text.parse_receipt(result.text).total.value == spec.total
    assert abs(result.angle - 177) < 2 or abs(result.angle + 183) < 2


def test_a_receipt_photographed_sideways_is_read(fonts, tessdata) -> None:
    spec = corpus.sample(6, language="pl")
    picture = Image.open(io.BytesIO(corpus.photograph(corpus.render(spec), 3, corpus.Degradation(rotation=90))))
    r = text.parse_receipt(ocr.recognise(picture, ("pol",)).text)
    assert r.total.value == spec.total and r.date.value == spec.issued_at.date()


def test_each_thread_reads_with_its_own_tesseract_and_gets_the_same_text(fonts, tessdata) -> None:
    picture = corpus.render(corpus.sample(4, language="en"))
    alone = ocr.recognise(picture, ("eng",)).text
    results: list[str] = []
    apis: list[object] = []

    def work() -> None:
        results.append(ocr.recognise(picture, ("eng",)).text)
        apis.append(ocr._local.apis[(str(ocr.find_tessdata(("eng",))), "eng")])

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [alone] * 3
    assert len({id(api) for api in apis}) == 3


def test_the_result_carries_lines_with_their_confidences(fonts, tessdata) -> None:
    result = ocr.recognise(corpus.render(corpus.sample(4, language="en")), ("eng",))
    assert result.text.splitlines() == [line.text for line in result.lines]
    assert all(0 <= line.confidence <= 100 for line in result.lines)
    assert result.mean_confidence > 80 and result.languages == ("eng",)


def test_ocr_is_available_here_with_the_three_languages(tessdata) -> None:
    assert ocr.available(("eng", "ara", "pol")) is None


def test_a_missing_language_is_named_with_the_package_to_install(tmp_path: Path, tessdata) -> None:
    source = ocr.find_tessdata(("eng",))
    (tmp_path / "eng.traineddata").symlink_to(source / "eng.traineddata")

    assert ocr.available(("eng", "ara"), tessdata=tmp_path) == (
        "OCR not available: tesseract language data for ara is missing (apt-get install -y tesseract-ocr-ara)")
    with pytest.raises(OcrUnavailable) as caught:
        ocr.recognise(Image.new("L", (10, 10), 255), ("ara",), tessdata=tmp_path)
    assert "ara is missing" in caught.value.message


def test_no_tessdata_at_all_is_a_reason_too(tmp_path: Path) -> None:
    assert ocr.find_tessdata(("eng",), search=(str(tmp_path / "none"),)) is None
    assert ocr.available(("eng",), tessdata=tmp_path / "none").startswith("OCR not available: no tessdata")


def test_an_arabic_indic_digit_receipt_keeps_its_arabic_words(fonts, tessdata) -> None:
    # Debian's Arabic model has no Arabic-Indic digits (٤ ٥ ٦ ٩ are missing from its character
    # set), so their numbers cannot be read; the words around them still are.
    spec = replace(corpus.sample(5, language="ar"), arabic_digits=True)
    result = ocr.recognise(corpus.render(spec), ("ara", "eng"))
    assert "فاتورة ضريبية مبسطة" in result.text
    assert "الإجمالي" in result.text
