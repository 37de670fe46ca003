"""Line items before the total: "desc qty x price amount", a description then "qty x price amount", a table
row, or "desc amount"."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from wallet.receipts.text.values import LineItem, amounts, parse_amount
from wallet.receipts.text.totals import _NOT_TOTAL, _total_keyword
from wallet.receipts.text.dates import _dates_on
from wallet.receipts.text.sellers import _clean_edges

# ---- line items -----------------------------------------------------------------------------------------

_A = r"(\d{1,3}(?:,\d{3})+\.\d{2}|\d{1,3}(?:\.\d{3})+,\d{2}|\d{1,3}(?: \d{3})+,\d{2}|\d+ ?[.,]\d{2})"
_QTY = r"(\d{1,4}(?:[.,]\d{1,3})?)"
# Polish receipts end an item with its VAT letter; OCR adds a stray mark or two at the paper's edge
# (a "|" from the roll's shadow, a "." of dirt) that are no part of the line.
_TAIL = r"(?:\s*[A-G]\b)?(?:\s*[|!.,:;'`\"_~*-]{1,2})?\s*$"
_X = r"\s*(?:szt\.?|pcs\.?|pc\.?|kg)?\s*[xX*@]\s*"
_ITEM_FULL = re.compile(rf"^(.*?[A-Za-zĄĆĘŁŃÓŚŹŻąćęłńóśźż\u0621-\u064a].*?)\s+{_QTY}{_X}{_A}\s+{_A}{_TAIL}")
_ITEM_QTY = re.compile(rf"^\s*{_QTY}{_X}{_A}\s+{_A}{_TAIL}")
_ITEM_TABLE = re.compile(rf"^(.*?[A-Za-zĄĆĘŁŃÓŚŹŻąćęłńóśźż\u0621-\u064a].*?)\s+(\d{{1,3}})\s+{_A}\s+{_A}{_TAIL}")
_ITEM_AMOUNT = re.compile(rf"^(.*?[A-Za-zĄĆĘŁŃÓŚŹŻąćęłńóśźż\u0621-\u064a].*?)\s+{_A}{_TAIL}")
_NOT_ITEM = re.compile(r"\bDATE\b|\bDATA\b|\bTIME\b|\bTRN\b|\bNIP\b|INVOICE|\bPARAGON|\bTEL\b|\bPTU\b|\bVAT\b|\bTAX\b"
                       r"|\bCARD\b|\bCASH\b|\bPAID\b|\bKARTA|\bGOT[ÓO]WKA|\bRESZTA|\bCHANGE|ضريب|بطاقة|نقد",
                       re.IGNORECASE)


def _number(text: str) -> Decimal:
    return Decimal(text.replace(",", ".")) if text.count(",") == 1 and "." not in text else Decimal(text)


def _item(description: str, qty: str | None, unit: str | None, amount: str) -> LineItem | None:
    value = parse_amount(amount)
    if value is None:
        return None
    if qty is None or unit is None:
        return LineItem(description, None, None, value, 0.5)
    try:
        quantity, price = _number(qty), parse_amount(unit)
    except InvalidOperation:
        return None
    if price is None:
        return None
    adds_up = abs(quantity * price - value) <= Decimal("0.01")
    return LineItem(description, quantity, price, value, 0.95 if adds_up else 0.6)




def _find_items(lines: list[str], end: int) -> tuple[LineItem, ...]:
    """Item lines before the total's line ``end``: "desc qty x price amount", a description line then
    "qty x price amount", a "desc qty price amount" table, or "desc amount"."""
    items: list[LineItem] = []
    previous: str | None = None
    for line in lines[:end]:
        stripped = line.strip()
        if _NOT_ITEM.search(stripped) or _total_keyword(stripped) or _NOT_TOTAL.search(stripped):
            previous = None
            continue
        item = None
        if m := _ITEM_QTY.match(stripped):
            if previous:
                item = _item(previous, m[1], m[2], m[3])
        elif m := _ITEM_FULL.match(stripped):
            item = _item(_clean_edges(m[1]), m[2], m[3], m[4])
        elif m := _ITEM_TABLE.match(stripped):
            item = _item(_clean_edges(m[1]), m[2], m[3], m[4])
        elif (m := _ITEM_AMOUNT.match(stripped)) and not _dates_on(stripped):
            item = _item(_clean_edges(m[1]), None, None, m[2])
        if item:
            items.append(item)
            previous = None
            continue
        letters = sum(ch.isalpha() for ch in stripped)
        previous = _clean_edges(stripped) if letters >= 3 and not amounts(stripped) else None
    return tuple(items)


# ---- the whole receipt ---------------------------------------------------------------------------------
