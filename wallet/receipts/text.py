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

import datetime as dt
import re
from collections.abc import Sequence
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

_ISO_DATE = re.compile(r"(?<![\d.,/-])(20\d{2})[-/.](\d{1,2})[-/.](\d{1,2})(?![\d]|[.,/-]\d)")
# The second separator may be read as a comma ("30.07,2026"): a four-digit year after it still makes a date.
_DMY_DATE = re.compile(r"(?<![\d.,/-])(\d{1,2})[-/.](\d{1,2})(?:[-/.](20\d{2}|\d{2})|,(20\d{2}))(?![\d]|[.,/-]\d)")
_TIME = re.compile(r"(?<![\d:])([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?(?![\d]|:\d)(?:\s*(AM|PM|ص|م)\b)?",
                   re.IGNORECASE)
_DATE_WORD = re.compile(r"\bDATE\b|\bDATA\b|\bDATED\b|التاريخ|تاريخ", re.IGNORECASE)
_TIME_WORD = re.compile(r"\bTIME\b|\bGODZ|\bCZAS\b|الوقت|الساعة", re.IGNORECASE)
_NOT_PURCHASE_DATE = re.compile(r"\bEXPIR|\bVALID\b|\bWA[ŻZ]N|\bDUE\s*DATE|\bBEST\s*BEFORE|انتهاء|صالح",
                                re.IGNORECASE)


def _date(year: int, month: int, day: int) -> dt.date | None:
    if not 2000 <= year <= 2099:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _dates_on(line: str) -> list[tuple[dt.date, float, str]]:
    found = []
    for m in _ISO_DATE.finditer(line):
        d = _date(int(m[1]), int(m[2]), int(m[3]))
        if d:
            found.append((d, 1.0, "year first"))
    for m in _DMY_DATE.finditer(line):
        a, b, y = int(m[1]), int(m[2]), m[3] or m[4]
        year = int(y) if len(y) == 4 else 2000 + int(y)
        sure = 1.0 if len(y) == 4 else 0.7
        if a > 12 or b > 12 or a == b:
            d = _date(year, b, a) if b <= 12 else _date(year, a, b)
            how = "day first" if b <= 12 else "month first (the second number is over 12)"
            if b > 12:
                sure *= 0.8
        else:
            d, how, sure = _date(year, b, a), "day first (as in the Gulf and Poland; could be month first)", sure * 0.85
        if d:
            found.append((d, sure, how))
    return found


def _find_date(lines: list[str], ocr: Sequence[float]) -> tuple[Found[dt.date] | None, int | None]:
    candidates = []
    for i, line in enumerate(lines):
        if _NOT_PURCHASE_DATE.search(line):
            continue
        for d, sure, how in _dates_on(line):
            keyword = bool(_DATE_WORD.search(line))
            candidates.append((sure * (1.0 if keyword else 0.85) * ocr[i], i, d, how, keyword))
    if not candidates:
        return None, None
    distinct = {c[2] for c in candidates}
    score, i, d, how, keyword = max(candidates, key=lambda c: (c[0], -c[1]))
    note = [f"{how}, on line {i + 1}" + (" after a date keyword" if keyword else "")]
    if len(distinct) > 1:
        score *= 0.8
        note.append(f"{len(distinct)} different dates on the receipt")
    return Found(d, round(score, 2), "; ".join(note)), i


def _times_on(line: str) -> list[dt.time]:
    found = []
    for m in _TIME.finditer(line):
        hour, minute, second = int(m[1]), int(m[2]), int(m[3] or 0)
        suffix = (m[4] or "").upper()
        if suffix in ("PM", "م") and hour < 12:
            hour += 12
        elif suffix in ("AM", "ص") and hour == 12:
            hour = 0
        found.append(dt.time(hour, minute, second))
    return found


def _find_time(lines: list[str], date_line: int | None, ocr: Sequence[float]) -> Found[dt.time] | None:
    if date_line is not None:
        on_date = _times_on(lines[date_line])
        if on_date:
            return Found(on_date[0], round(0.95 * ocr[date_line], 2), f"beside the date on line {date_line + 1}")
    for i, line in enumerate(lines):
        if _TIME_WORD.search(line) and _times_on(line):
            return Found(_times_on(line)[0], round(0.9 * ocr[i], 2), f"after a time keyword on line {i + 1}")
    every = [(i, t) for i, line in enumerate(lines) for t in _times_on(line)]
    if len({t for _, t in every}) == 1:
        i, t = every[0]
        return Found(t, round(0.7 * ocr[i], 2), f"the only time on the receipt, line {i + 1}")
    return None


# ---- tax numbers ------------------------------------------------------------------------------------

_TAX15 = re.compile(r"(?<![\d-])(\d(?:[ -]?\d){14})(?![\d]|[ -]\d)")
_TAX15_WORD = re.compile(
    r"\bTRN\b|\bVAT\b|\bTAX\b|\bT\.?R\.?N|\bREG(?:ISTRATION)?\b|الرقم الضريبي|رقم التسجيل|الضريبي|ض\.?ب", re.IGNORECASE)
_S = r"(?:\s?-\s?|\s)?"  # a dash, a space, or a dash OCR put a space beside ("47 -30")
_NIP = re.compile(rf"(?<![\d-])(?:PL\s?)?(\d{{3}}{_S}\d{{3}}{_S}\d{{2}}{_S}\d{{2}}|\d{{3}}{_S}\d{{2}}{_S}\d{{2}}{_S}\d{{3}})"
                  r"(?![\d]|\s?-\s?\d)")
_NIP_WORD = re.compile(r"\bNIP\b|\bN\.I\.P|\bVAT\s*(?:ID|UE|EU)\b", re.IGNORECASE)
_NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)


def nip_is_valid(digits: str) -> bool:
    """Whether 10 digits are a Polish NIP: the weighted sum of the first nine, mod 11, is the tenth."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    check = sum(int(d) * w for d, w in zip(digits, _NIP_WEIGHTS)) % 11
    return check != 10 and check == int(digits[9])


def tax15_country(digits: str) -> tuple[str | None, str]:
    """The country and kind a 15-digit tax number's shape points to: Saudi VAT 3...3, UAE TRN 100..."""
    if digits.startswith("3") and digits.endswith("3"):
        return "SA", "vat"
    if digits.startswith("100"):
        return "AE", "trn"
    return None, "tax15"


def _find_tax_number(lines: list[str], ocr: Sequence[float]) -> Found[TaxNumber] | None:
    candidates: list[tuple[float, int, TaxNumber, str]] = []
    for i, line in enumerate(lines):
        nip_word = bool(_NIP_WORD.search(line))
        for m in _NIP.finditer(line):
            digits = re.sub(r"\D", "", m[1])
            if nip_is_valid(digits):
                sure = 0.98 if nip_word else 0.6
                candidates.append((sure * ocr[i], i, TaxNumber(digits, "PL", "nip"),
                                   f"NIP with a good check digit on line {i + 1}" + ("" if nip_word else ", no 'NIP' beside it")))
            elif nip_word:
                candidates.append((0.3 * ocr[i], i, TaxNumber(digits, "PL", "nip"),
                                   f"after 'NIP' on line {i + 1}, but the check digit is wrong"))
        word = bool(_TAX15_WORD.search(line))
        for m in _TAX15.finditer(line):
            digits = re.sub(r"\D", "", m[1])
            country, kind = tax15_country(digits)
            if "TRN" in line.upper() and country is None:
                country, kind = "AE", "trn"
            sure = (0.95 if word else 0.55) * (1.0 if country else 0.7)
            how = f"15 digits on line {i + 1}" + (" after a tax keyword" if word else ", no tax keyword beside them")
            if country:
                how += f"; the shape of a {'Saudi VAT number' if country == 'SA' else 'UAE TRN'}"
            candidates.append((sure * ocr[i], i, TaxNumber(digits, country, kind), how))
    if not candidates:
        return None
    score, i, number, how = max(candidates, key=lambda c: (c[0], -c[1]))
    return Found(number, round(score, 2), how)


# ---- currency -----------------------------------------------------------------------------------------

_NA = r"(?<![\u0621-\u064a])"   # not inside an Arabic word
_NZ = r"(?![\u0621-\u064a])"
_CURRENCIES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.IGNORECASE), code) for p, code in (
    (rf"\bSAR\b|\bS\.?R\.?(?=\s|\d|$)|{_NA}ر\.?\s?س{_NZ}|{_NA}ريال", "SAR"),
    (rf"\bAED\b|\bDHS?\b|{_NA}د\.?\s?إ{_NZ}|{_NA}درهم", "AED"),
    (r"\bPLN\b|\bZ[ŁL](?![A-ZĄĆĘŁŃÓŚŹŻ])", "PLN"),
    (rf"\bQAR\b|{_NA}ر\.\s?ق{_NZ}", "QAR"),
    (rf"\bKWD\b|{_NA}د\.\s?ك{_NZ}", "KWD"),
    (rf"\bBHD\b|{_NA}د\.\s?ب{_NZ}", "BHD"),
    (rf"\bOMR\b|{_NA}ر\.\s?ع{_NZ}", "OMR"),
))
_COUNTRY_CURRENCY = {"SA": "SAR", "AE": "AED", "PL": "PLN"}


def _currencies_on(line: str) -> list[str]:
    return [code for pattern, code in _CURRENCIES if pattern.search(line)]


def _find_currency(lines: list[str], total_line: int | None, tax: Found[TaxNumber] | None,
                   ocr: Sequence[float]) -> Found[str] | None:
    from_tax = _COUNTRY_CURRENCY.get(tax.value.country or "") if tax else None
    if total_line is not None:
        near = _currencies_on(lines[total_line])
        if len(near) == 1:
            sure = 0.95 if from_tax in (None, near[0]) else 0.6
            how = f"{near[0]} on the total's line {total_line + 1}"
            if from_tax and from_tax != near[0]:
                how += f"; but the seller's tax number is {tax.value.country}'s"  # type: ignore[union-attr]
            return Found(near[0], round(sure * ocr[total_line], 2), how)
    counts: dict[str, int] = {}
    for line in lines:
        for code in _currencies_on(line):
            counts[code] = counts.get(code, 0) + 1
    if counts:
        code = max(counts, key=lambda c: (counts[c], c == from_tax))
        sure = 0.85 if len(counts) == 1 else 0.6
        if from_tax == code:
            sure = min(1.0, sure + 0.1)
        return Found(code, round(sure, 2), f"{code} written {counts[code]} time(s) on the receipt"
                     + (f"; {len(counts)} currencies seen" if len(counts) > 1 else ""))
    if from_tax:
        return Found(from_tax, round(0.8 * tax.confidence, 2),  # type: ignore[union-attr]
                     f"inferred from the seller's tax number ({tax.value.country})")  # type: ignore[union-attr]
    return None


# ---- receipt number -----------------------------------------------------------------------------------

_RECEIPT_NO = re.compile(
    r"(?:\b(?:TAX\s*)?INVOICE|\bINV|\bRECEIPT|\bRCPT|\bBILL|\bTRANSACTION|\bTRX|\bTXN|\bDOC(?:UMENT)?|\bORDER"
    r"|\bPARAGON(?:\s*FISKALNY)?|\bFAKTURA(?:\s*VAT)?|\bRACHUNEK)"
    r"\s*(?:NO\b\.?|NUMBER|NUM\b\.?|NR\b\.?|#|N[°º])\s*[:.#]?\s*([A-Z0-9][A-Z0-9/\-]{1,30})"
    r"|\bNR\s*(?:PARAGONU|RACH(?:UNKU)?|DOK(?:UMENTU)?|FAKTURY|TRANS(?:AKCJI)?)\b\.?\s*[:.]?\s*([A-Z0-9][A-Z0-9/\-]{1,30})",
    re.IGNORECASE)
_RECEIPT_NO_AR = re.compile(r"رقم\s*(?:الفاتورة|الإيصال|الايصال|الفاتوره)")
_TOKEN = re.compile(r"(?<![\w/-])([A-Z0-9][A-Z0-9/\-]{1,30})(?![\w/-])", re.IGNORECASE)


def _find_receipt_number(lines: list[str], ocr: Sequence[float]) -> Found[str] | None:
    for i, line in enumerate(lines):
        m = _RECEIPT_NO.search(line)
        if m:
            value = (m[1] or m[2]).strip("-/")
            if any(ch.isdigit() for ch in value):
                return Found(value, round(0.9 * ocr[i], 2), f"after a receipt-number keyword on line {i + 1}")
        if _RECEIPT_NO_AR.search(line):
            tokens = [t for t in _TOKEN.findall(_RECEIPT_NO_AR.sub(" ", line)) if any(ch.isdigit() for ch in t)]
            if len(tokens) == 1:
                return Found(tokens[0], round(0.9 * ocr[i], 2), f"beside 'رقم الفاتورة' on line {i + 1}")
    return None


# ---- merchant ------------------------------------------------------------------------------------------

_COMPANY = re.compile(
    r"\bL\.?L\.?C\b|\bSP\.?\s*Z\s*O\.?\s*O\b|\bS\.?A\.?$|\bSP\.?\s*J\b|\bS\.?C\.?$|\bSP\.?\s*K\b|\bTRADING\b|\bCO\b\.?"
    r"|\bEST\b\.?|\bESTABLISHMENT\b|\bCOMPANY\b|\bLTD\b|\bGMBH\b|\bF\.?Z\.?E\b|\bFZ-?LLC\b|شركة|مؤسسة|محلات|مركز",
    re.IGNORECASE)
_NOT_MERCHANT = re.compile(
    r"INVOICE|RECEIPT|PARAGON|FISKALNY|FAKTURA|WELCOME|\bTRN\b|\bVAT\b|\bNIP\b|\bTEL\b|\bPHONE\b|\bMOB|\bFAX\b"
    r"|\bUL\.|\bSTREET\b|\bRD\b|\bROAD\b|\bST\.|\bP\.?O\.?\s*BOX|\bAL\.|@|WWW\.|HTTP|\bDATE\b|\bDATA\b"
    r"|فاتورة|ضريبي|هاتف|جوال|ص\.ب|شارع|طريق|حي\b|مرحبا|أهلا",
    re.IGNORECASE)
_POSTCODE = re.compile(r"\b\d{2}-\d{3}\b")


def _clean_edges(line: str) -> str:
    # OCR often adds a stray mark or letter at a line's ends (the paper's edge, a smudge).
    tokens = line.split()
    while tokens and len(tokens[0]) == 1 and not tokens[0].isdigit():
        tokens.pop(0)
    while tokens and len(tokens[-1]) == 1 and not tokens[-1].isdigit():
        tokens.pop()
    return " ".join(tokens)


def _find_merchant(lines: list[str], ocr: Sequence[float]) -> Found[str] | None:
    head = []
    for i, raw in enumerate(lines[:8]):
        line = _clean_edges(raw)
        letters = sum(ch.isalpha() for ch in line)
        if letters < 3 or letters < len(line.replace(" ", "")) * 0.6:
            continue
        if _NOT_MERCHANT.search(line) or _POSTCODE.search(line) or amounts(line) or _dates_on(line):
            continue
        head.append((i, line))
    for i, line in head[:4]:
        if _COMPANY.search(line):
            return Found(line, round(0.85 * ocr[i], 2), f"line {i + 1} names a company (legal form in it)")
    if head:
        i, line = head[0]
        return Found(line, round(0.5 * ocr[i], 2), f"the first line of text that is not an address or heading, line {i + 1}")
    return None


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
