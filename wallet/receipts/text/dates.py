"""The purchase date and time: day first unless the numbers say otherwise, never an expiry date."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from wallet.receipts.text.values import Found

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
