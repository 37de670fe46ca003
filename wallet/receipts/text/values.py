"""The values receipt text is read into, and the digits and amounts every field finder reads."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Generic, TypeVar


T = TypeVar("T")

MAX_TEXT = 100_000  # characters; a receipt's OCR text is a few thousand

_DIGITS = {**{0x0660 + i: str(i) for i in range(10)}, **{0x06F0 + i: str(i) for i in range(10)},
           0x066B: ".", 0x066C: ",", 0x060C: ",", 0x066A: "%", 0x00A0: " ", 0x202F: " ", 0x2009: " ",
           0x200E: None, 0x200F: None, 0x202A: None, 0x202B: None, 0x202C: None, 0x202D: None, 0x202E: None,
           0x2066: None, 0x2067: None, 0x2068: None, 0x2069: None, 0x00D7: "x", 0xFF1A: ":"}


@dataclass(frozen=True)
class Found(Generic[T]):
    """A value read from the text, how sure the parser is (0-1), and how it was found."""

    value: T
    confidence: float
    how: str


@dataclass(frozen=True)
class TaxNumber:
    """A seller's tax number: its digits, the country it belongs to (None when the digits do not say)
    and its kind ("vat" Saudi VAT, "trn" UAE TRN, "nip" Polish NIP, "tax15" 15 digits of no known country)."""

    number: str
    country: str | None
    kind: str


@dataclass(frozen=True)
class LineItem:
    """One bought line. ``quantity`` and ``unit_price`` are None when the layout shows only the amount."""

    description: str
    quantity: Decimal | None
    unit_price: Decimal | None
    amount: Decimal
    confidence: float


@dataclass(frozen=True)
class ReceiptText:
    """What the text of a receipt says; a field is None when it was not found."""

    merchant: Found[str] | None
    seller_tax_number: Found[TaxNumber] | None
    receipt_number: Found[str] | None
    date: Found[dt.date] | None
    time: Found[dt.time] | None
    total: Found[Decimal] | None
    currency: Found[str] | None
    items: tuple[LineItem, ...]

    @property
    def purchased_at(self) -> dt.datetime | None:
        """Date and time together (local time of the till, no zone), when both were found."""
        if self.date is None or self.time is None:
            return None
        return dt.datetime.combine(self.date.value, self.time.value)


def normalise(text: str) -> str:
    """Arabic-Indic digits and separators to ASCII, bidi marks dropped, odd spaces made plain."""
    return text.translate(_DIGITS)


# ---- amounts --------------------------------------------------------------------------------------

_AMOUNT = re.compile(
    r"(?<![\d.,])(?:"
    r"\d{1,3}(?:,\d{3})+\.\d{2}"              # 1,234.56
    r"|\d{1,3}(?:\.\d{3})+,\d{2}"             # 1.234,56
    r"|\d{1,3}(?: \d{3})+,\d{2}"              # 1 234,56
    r"|\d+ ?[.,]\d{2}"                        # 1234.56, 1234,56, 886 ,00 (a space read into it)
    r")(?![\d]|[.,]\d)"
)


def parse_amount(text: str) -> Decimal | None:
    """The amount a matched string stands for (``1 234,56`` -> 1234.56), or None."""
    s = text.replace(" ", "")
    decimal_sep = s[-3]
    whole = re.sub(r"[.,']", "", s[:-3])
    try:
        return Decimal(f"{whole}.{s[-2:]}") if decimal_sep in ".," else None
    except InvalidOperation:
        return None


def amounts(line: str) -> list[Decimal]:
    """Every amount on a (normalised) line, left to right."""
    found = []
    for m in _AMOUNT.finditer(line):
        value = parse_amount(m.group(0))
        if value is not None:
            found.append(value)
    return found


# ---- totals -----------------------------------------------------------------------------------------

_TOTAL_KEYWORDS: tuple[tuple[re.Pattern[str], float, str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), w, name) for p, w, name in (
        (r"\bGRAND\s*TOTAL\b", 1.0, "Grand Total"),
        (r"\bSUMA\s*(?:PLN|ZŁ|ZL)\b", 1.0, "SUMA PLN"),
        (r"\bDO\s*ZAP[ŁL]ATY\b", 0.95, "DO ZAPŁATY"),
        (r"\bAMOUNT\s*DUE\b", 0.95, "Amount Due"),
        (r"\bTOTAL\s*(?:AMOUNT|DUE|PAYABLE|INCL|INC\b|WITH|\(INCL)", 0.95, "Total incl."),
        (r"\bNET\s*(?:TOTAL|AMOUNT)\s*(?:PAYABLE|DUE)\b", 0.95, "Net amount payable"),
        (r"\bTOTAL\b", 0.9, "TOTAL"),
        (r"\bSUMA\b", 0.85, "SUMA"),
        (r"\bRAZEM\b", 0.8, "RAZEM"),
        (r"[إا]جمال", 0.9, "الإجمالي"),  # the last letter is often misread (ى, ن)
        (r"المجموع", 0.85, "المجموع"),
    ))

# A line with one of these is not the total, even with a total keyword on it.
