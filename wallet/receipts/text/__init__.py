"""Receipt text (from OCR) read into fields: merchant, seller tax number, receipt number, date, time,
total, currency and line items.

The rule is never to guess silently. Each field is either None (not found) or a ``Found``
holding the value, a confidence between 0 and 1 and ``how`` it was found ("keyword 'SUMA
PLN' on line 17; the 3 items add up to it"), so the review queue can show why, and the
lead can set the confidence below which a person looks. Nothing falls back to "the largest
number on the page".

What the parser knows:
- digits: Arabic-Indic (٠-٩) and Eastern Arabic-Indic (۰-۹) digits, the Arabic decimal
  separator (٫) and thousands separator (٬) are read as 0-9 "." ","; bidi marks are dropped;
- amounts carry two decimals: ``1,234.56``, ``1.234,56``, ``1 234,56``, ``1234,56``;
- dates are day first (as in the Gulf and Poland) unless the numbers say otherwise:
  ``2026-11-23``, ``23/11/2026``, ``23.11.2026``, ``23-11-2026 14:05``;
- totals by keyword (TOTAL, Grand Total, Amount Due, الإجمالي, الاجمالي, المجموع, SUMA,
  SUMA PLN, RAZEM, DO ZAPŁATY), never a subtotal, a VAT total (SUMA PTU) or a payment line;
- seller tax numbers: 15 digits (Saudi VAT: 3...3; UAE TRN: 100...), Polish NIP (10 digits
  with its check digit, ``NIP 123-456-32-18``);
- currencies: SAR/SR/ر.س/ريال, AED/Dhs/د.إ/درهم, PLN/zł; else inferred from the country
  of the seller's tax number.
"""

from __future__ import annotations

from collections.abc import Sequence

# One module per kind of field; ``text`` stays the one name the reader and the tests import.
from wallet.receipts.text.dates import _find_date, _find_time
from wallet.receipts.text.items import _find_items
from wallet.receipts.text.sellers import (_find_currency, _find_merchant, _find_receipt_number, _find_tax_number,
                                          nip_is_valid, tax15_country)
from wallet.receipts.text.totals import _SUBTOTAL, _find_total, _total_keyword
from wallet.receipts.text.values import (MAX_TEXT, Found, LineItem, ReceiptText, TaxNumber, amounts, normalise,
                                         parse_amount)

__all__ = ["MAX_TEXT", "Found", "LineItem", "ReceiptText", "TaxNumber", "amounts", "nip_is_valid", "normalise",
           "parse_amount", "parse_receipt", "tax15_country"]


def parse_receipt(text: str, *, line_confidences: Sequence[float] | None = None) -> ReceiptText:
    """Read the fields of a receipt from its text (one printed line per text line).

    ``line_confidences`` (0-100, one per line of ``text``, as OCR gives them) scale each
    field's confidence by how well its line was read. Text beyond ``MAX_TEXT`` characters is
    refused (ValueError): a receipt is never that long.
    """
    if len(text) > MAX_TEXT:
        raise ValueError(f"receipt text is {len(text)} characters; at most {MAX_TEXT}")
    lines = [normalise(line).strip() for line in text.splitlines()]
    if line_confidences is not None and len(line_confidences) == len(lines):
        ocr = [max(0.0, min(1.0, c / 100)) ** 0.5 for c in line_confidences]
    else:
        ocr = [1.0] * len(lines)
    end = next((i for i, line in enumerate(lines) if _total_keyword(line) or _SUBTOTAL.search(line)), len(lines))
    items = _find_items(lines, end)
    total, total_line = _find_total(lines, items, ocr)
    date, date_line = _find_date(lines, ocr)
    tax = _find_tax_number(lines, ocr)
    return ReceiptText(
        merchant=_find_merchant(lines, ocr),
        seller_tax_number=tax,
        receipt_number=_find_receipt_number(lines, ocr),
        date=date,
        time=_find_time(lines, date_line, ocr),
        total=total,
        currency=_find_currency(lines, total_line, tax, ocr),
        items=items,
    )
