"""Who sold: the seller's tax number (Saudi VAT, UAE TRN, Polish NIP), the currency, the receipt number and
the merchant's name."""

from __future__ import annotations

import re
from collections.abc import Sequence

from wallet.receipts.text.values import Found, TaxNumber, amounts
from wallet.receipts.text.dates import _TAX15, _TAX15_WORD, _dates_on

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

