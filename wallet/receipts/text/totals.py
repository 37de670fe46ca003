"""The total: by its keyword, never a subtotal, a VAT total or a payment line, with the evidence for it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from wallet.receipts.text.values import Found, LineItem, _TOTAL_KEYWORDS, amounts

_NOT_TOTAL = re.compile(
    r"SUB\s*-?\s*TOTAL|\bPTU\b|\bEXCL|\bBEFORE\b|\bW/?O\s*VAT|\bNET\b(?!\s*(?:TOTAL|AMOUNT)\s*(?:PAYABLE|DUE))"
    r"|\bTOTAL\s*(?:QTY|QUANTITY|ITEMS?|DISCOUNT|SAVING|SAVED|VAT|TAX)\b|\b(?:VAT|TAX)\s*TOTAL\b"
    r"|\bDISCOUNT|\bRABAT|\bCHANGE\b|\bRESZTA|\bCASH\b|\bGOT[ÓO]WKA|\bKARTA|\bCARD\b|\bPAID\b|\bSPRZEDA[ŻZ]"
    r"|\bTENDER|\bITEMS?\b|\bPOINTS?\b|\bPUNKT"
    r"|قبل|خصم|المدفوع|الباقي|نقد[اي]?|بطاقة|مدى",
    re.IGNORECASE)
# VAT/tax words exclude a line unless it says the total includes them.
_TAX_WORD = re.compile(r"\bVAT\b|\bTAX\b|ضريب|\bPODAT", re.IGNORECASE)
_INCLUDES_TAX = re.compile(r"\bINCL|\bINC\b|\bWITH\b|شامل|\bWITH\b|\bBRUTTO", re.IGNORECASE)
_PAYMENT = re.compile(r"\bCARD\b|\bCASH\b|\bPAID\b|\bKARTA|\bGOT[ÓO]WKA|\bVISA\b|\bMASTERCARD|بطاقة|نقد|مدى",
                      re.IGNORECASE)


def _total_keyword(line: str) -> tuple[float, str] | None:
    if _NOT_TOTAL.search(line):
        return None
    if _TAX_WORD.search(line) and not _INCLUDES_TAX.search(line):
        return None
    for pattern, weight, name in _TOTAL_KEYWORDS:
        if pattern.search(line):
            return weight, name
    return None


_SUBTOTAL = re.compile(r"SUB\s*-?\s*TOTAL|\bNET\b|\bEXCL|قبل|\bSPRZEDA[ŻZ]\s*OPODATK", re.IGNORECASE)
_SALES = re.compile(r"\bSPRZEDA[ŻZ]\s*OPODATK", re.IGNORECASE)


def _evidence(lines: list[str], items: Sequence[LineItem], skip: int | None) -> list[tuple[Decimal, str]]:
    """Amounts elsewhere on the receipt that a total should equal, each with where it comes from:
    the items' sum (when every item's quantity x price adds up), a card or cash payment, the
    amount before VAT plus the VAT, and the taxable sales of a Polish receipt."""
    found: list[tuple[Decimal, str]] = []
    if items and all(item.confidence >= 0.9 for item in items):
        found.append((sum((item.amount for item in items), Decimal("0")), f"the {len(items)} items add up to it"))
    for j, line in enumerate(lines):
        if j == skip:
            continue
        values = amounts(line)
        if values and _PAYMENT.search(line) and not _total_keyword(line):
            paid = max(values)
            found.append((paid, f"the payment on line {j + 1}"))
            again = [k for k, other in enumerate(lines[j - 3:j], start=max(0, j - 3))
                     if k != skip and paid in amounts(other) and not _NOT_TOTAL.search(other)
                     and not _TAX_WORD.search(other) and not _SUBTOTAL.search(other)]
            if again:  # the same amount just above the payment: the total line, its keyword misread
                found.append((paid, f"the same amount on line {again[-1] + 1}"))
            break
    net = [(j, amounts(line)) for j, line in enumerate(lines)
           if j != skip and _SUBTOTAL.search(line) and not _SALES.search(line) and amounts(line)]
    vat = [(j, amounts(line)) for j, line in enumerate(lines)
           if j != skip and _TAX_WORD.search(line) and not _SUBTOTAL.search(line) and not _INCLUDES_TAX.search(line)
           and amounts(line)]
    if len(net) == 1 and len(vat) == 1:  # the amount before VAT and the VAT: their sum is the total
        found.append((net[0][1][-1] + vat[0][1][-1],
                      f"the amount before VAT on line {net[0][0] + 1} and the VAT on line {vat[0][0] + 1} add up to it"))
    sales = [(j, amounts(line)) for j, line in enumerate(lines) if _SALES.search(line) and j != skip]
    if sales and all(values for _, values in sales):
        found.append((sum((values[-1] for _, values in sales), Decimal("0")), f"the taxable sales on line {sales[0][0] + 1}"))
    return found


def _find_total(lines: list[str], items: Sequence[LineItem],
                ocr: Sequence[float]) -> tuple[Found[Decimal] | None, int | None]:
    """The total and the index of its line, or (None, None).

    The line with the strongest total keyword gives it. It is checked against the rest of
    the receipt (items, payment, taxable sales): when two of those agree on another amount,
    the total line was misread and their amount is taken, saying so. When no total line was
    read, two agreeing amounts give the total with a low confidence; one alone gives nothing.
    """
    best: tuple[float, Decimal, int, str] | None = None
    for i, line in enumerate(lines):
        keyword = _total_keyword(line)
        if keyword is None:
            continue
        weight, name = keyword
        values = amounts(line)
        where = i
        if not values and i + 1 < len(lines) and _total_keyword(lines[i + 1]) is None:
            values, where = amounts(lines[i + 1]), i + 1  # "TOTAL" above, the amount below
        if not values:
            continue
        value = max(values)
        score = weight * ocr[where]
        if best is None or (score, value) > (best[0], best[1]):
            best = (score, value, i, name)
    evidence = _evidence(lines, items, best[2] if best else None)
    tally: dict[Decimal, list[str]] = {}
    for value, source in evidence:
        tally.setdefault(value, []).append(source)
    agreed = max(tally.items(), key=lambda kv: len(kv[1]), default=(None, []))
    if best is None:
        if agreed[0] is not None and len(agreed[1]) >= 2:
            return Found(agreed[0], 0.6, "no total line was read; " + " and ".join(agreed[1])), None
        return None, None
    score, value, i, name = best
    how = [f"keyword {name!r} on line {i + 1}"]
    if value in tally:
        score = min(1.0, score + 0.1 * len(tally[value]))
        how.extend(tally[value])
    elif agreed[0] is not None and len(agreed[1]) >= 2:
        return Found(agreed[0], round(0.75 * score, 2),
                     f"the total line {i + 1} reads {value}, but " + " and ".join(agreed[1])), i
    elif evidence:
        # Something else on the receipt (the payment, the items' sum) names another amount: the
        # total line may be misread, so it is not taken as sure.
        score *= 0.6
        how.append("another amount on the receipt contradicts it (" + ", ".join(f"{v}: {s}" for v, s in evidence) + ")")
    return Found(value, round(score, 2), "; ".join(how)), i


# ---- dates and times -----------------------------------------------------------------------------

