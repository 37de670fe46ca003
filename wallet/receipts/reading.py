"""From a photo to what the receipt says: fiscal codes first, OCR where they fall short.

A fiscal code (ZATCA, KSeF, ATCUD, GST) is machine-read and, for ZATCA phase 2, signed: it
is the better source for the seller, the time, the total and the receipt's identity. OCR
adds what a code does not carry (a KSeF code has no amount; no code has the lines) and is
the only source for receipts without a code. Where both read a total and they differ,
the receipt goes to review (``total_mismatch``): a QR printed for another amount is how an
edited receipt gives itself away.

Everything found is returned, with ``signals`` for the reviewer and the decision: a
warning of the fiscal reader, a refused code, OCR that is not available or not sure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageStat

from wallet.receipts import codes, ocr, text
from wallet.receipts.errors import OcrUnavailable
from wallet.receipts.fiscal import FiscalCodeRefused, FiscalKeys, FiscalReading, read

# What OCR confidence (0-1, as text.py rates a field) a field needs to be taken without review.
SURE = 0.75
OCR_LANGUAGES = {"AE": ("eng", "ara"), "SA": ("eng", "ara"), "QA": ("eng", "ara"), "KW": ("eng", "ara"),
                 "BH": ("eng", "ara"), "OM": ("eng", "ara"), "PL": ("pol", "eng")}
ZONES = {"AE": "Asia/Dubai", "SA": "Asia/Riyadh", "QA": "Asia/Qatar", "KW": "Asia/Kuwait", "BH": "Asia/Bahrain",
         "OM": "Asia/Muscat", "PL": "Europe/Warsaw"}


@dataclass(frozen=True)
class Line:
    description: str
    quantity: Decimal | None
    unit_price: Decimal | None
    amount: Decimal


@dataclass
class Reading:
    """What the receipt says, whichever way it was read."""

    format: str | None = None  # a fiscal format, or "ocr"
    merchant: str | None = None
    seller_tax_number: str | None = None
    receipt_number: str | None = None
    purchased_at: dt.datetime | None = None
    total: Decimal | None = None
    currency: str | None = None
    lines: list[Line] = field(default_factory=list)
    content_key: str | None = None
    machine_read: bool = False  # from a fiscal code (not OCR)
    signals: list[dict[str, str]] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)  # every code's text, for the reviewer

    def signal(self, code: str, message: str) -> None:
        self.signals.append({"code": code, "message": message})


def _fiscal(reading: Reading, texts: list[str], *, now: dt.datetime, keys: FiscalKeys | None) -> FiscalReading | None:
    for value in texts:
        try:
            found = read(value, now=now, keys=keys)
        except FiscalCodeRefused as refused:
            reading.signal(refused.reason, f"a fiscal code on the receipt is broken: {refused.message}")
            continue
        if found is not None:
            return found
    return None


def purchase_key(reading: Reading) -> str | None:
    """The seller, the minute and the total: the same purchase whichever way it was read."""
    if not (reading.seller_tax_number and reading.purchased_at and reading.total is not None):
        return None
    minute = reading.purchased_at.astimezone(dt.timezone.utc).strftime("%Y%m%d%H%M")
    return f"{reading.seller_tax_number}:{minute}:{reading.total.normalize()}"


def _ocr_key(reading: Reading) -> str | None:
    """A receipt's identity from what OCR read: the seller, its receipt number, the minute and the total."""
    if not (reading.seller_tax_number and reading.purchased_at and reading.total is not None):
        return None
    minute = reading.purchased_at.astimezone(dt.timezone.utc).strftime("%Y%m%d%H%M")
    return f"ocr:{reading.seller_tax_number}:{reading.receipt_number or '-'}:{minute}:{reading.total.normalize()}"


def without_codes(image: Image.Image, found: list[codes.DecodedCode]) -> Image.Image:
    """A copy with every code painted over in white: Tesseract reads a QR code's modules as lines
    of noise, which lowers its confidence for the whole page (58 against 89, bench/README.md) and
    doubles the time it takes."""
    if not found:
        return image
    copy = image.copy()
    draw = ImageDraw.Draw(copy)
    # The page's own median colour, not white: a white patch on a dim or yellowed photo is an edge
    # Tesseract's thresholding reacts to, and it read the lines around it worse (bench/README.md:
    # white lost a sixth of the receipts whose every item line was read).
    median = [int(v) for v in ImageStat.Stat(image).median]
    fill = median[0] if len(median) == 1 else tuple(median)
    for code in found:
        corners = [code.position.top_left, code.position.top_right, code.position.bottom_right,
                   code.position.bottom_left]
        # The code's own quadrilateral, grown by a quarter around its centre (the quiet zone and the
        # finder patterns' blurred edges), not its upright bounding box: on a tilted photo that box
        # would cover the printed lines beside the code.
        cx, cy = sum(x for x, _ in corners) / 4, sum(y for _, y in corners) / 4
        draw.polygon([(cx + (x - cx) * 1.25, cy + (y - cy) * 1.25) for x, y in corners], fill=fill)
    return copy


def _apply_ocr(reading: Reading, image: Image.Image, country: str, *, fiscal: FiscalReading | None) -> None:
    missing = ocr.available(OCR_LANGUAGES.get(country, ("eng",)))
    if missing:
        reading.signal("ocr_unavailable", missing)
        return
    try:
        result = ocr.recognise(image, OCR_LANGUAGES.get(country, ("eng",)))
    except OcrUnavailable as exc:
        reading.signal("ocr_unavailable", exc.message)
        return
    parsed = text.parse_receipt(result.text, line_confidences=[line.confidence for line in result.lines])
    unsure: list[str] = []

    def take(found: text.Found | None, name: str):  # type: ignore[no-untyped-def]
        if found is not None and found.confidence < SURE:
            unsure.append(name)
        return found.value if found is not None else None

    # Only what decides is asked to be sure: the total, the date and the seller. A merchant name or
    # a currency read with doubt is shown as read (the currency is the program's when in doubt).
    merchant = parsed.merchant.value if parsed.merchant else None
    currency = parsed.currency.value if parsed.currency and parsed.currency.confidence >= SURE else None
    number = parsed.receipt_number.value if parsed.receipt_number else None
    tax = take(parsed.seller_tax_number, "seller tax number")
    total = take(parsed.total, "total")
    take(parsed.date, "date")
    when = parsed.purchased_at
    if when is None and parsed.date is not None:
        when = dt.datetime.combine(parsed.date.value, dt.time(12, 0))
        if fiscal is None or fiscal.issued_at is None:
            reading.signal("ocr_no_time", "no time of day was read: noon is assumed")
    reading.lines = [Line(i.description, i.quantity, i.unit_price, i.amount) for i in parsed.items]
    if fiscal is not None:
        if fiscal.total is not None and total is not None and total != fiscal.total:
            reading.signal("total_mismatch", f"the fiscal code says {fiscal.total}, the printed total {total}")
        reading.merchant = reading.merchant or merchant
        reading.receipt_number = reading.receipt_number or number
        if reading.total is None:
            reading.total = total
            if total is not None and "total" in unsure:
                reading.signal("ocr_unsure", "the total was read with low confidence")
        reading.currency = reading.currency or currency
        return
    reading.format = "ocr"
    reading.merchant, reading.receipt_number, reading.total, reading.currency = merchant, number, total, currency
    reading.seller_tax_number = tax.number if tax is not None else None
    if when is not None:
        reading.purchased_at = when.replace(tzinfo=ZoneInfo(ZONES.get(country, "UTC")))
    if unsure:
        reading.signal("ocr_unsure", f"read with low confidence: {', '.join(unsure)}")
    if result.mean_confidence < 60:
        reading.signal("ocr_low_confidence", f"the photo was hard to read ({result.mean_confidence:.0f}% confidence)")
    reading.content_key = _ocr_key(reading)


def read_receipt(image: Image.Image, *, country: str, now: dt.datetime, keys: FiscalKeys | None = None) -> Reading:
    """Everything the photo says. Never raises for what the photo holds (the signals say it)."""
    reading = Reading()
    scan = codes.find_codes(image)
    reading.codes = [c.text for c in scan.codes][:10]
    fiscal = _fiscal(reading, reading.codes, now=now, keys=keys)
    if fiscal is not None:
        reading.format, reading.machine_read = fiscal.format, True
        reading.merchant, reading.seller_tax_number = fiscal.seller_name, fiscal.seller_tax_number
        reading.receipt_number, reading.purchased_at = fiscal.invoice_number, fiscal.issued_at
        reading.total, reading.currency, reading.content_key = fiscal.total, fiscal.currency, fiscal.content_key
        if fiscal.signature == "invalid":
            reading.signal("signature_invalid", "the fiscal code's signature does not match its contents")
        for warning in fiscal.warnings:
            code, _, message = warning.partition(": ")
            reading.signal(code, message or code)
    # Always read the print too: the lines (which products earn), a KSeF code's missing amount,
    # and the printed total a code's total is checked against; without a code, everything.
    _apply_ocr(reading, without_codes(image, list(scan.codes)), country, fiscal=fiscal)
    return reading
