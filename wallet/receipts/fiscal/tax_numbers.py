"""Tax identification numbers of the four countries, and their check digits.

Each function answers one question about an exact string (no spaces, no prefixes
stripped): a reader decides what a failed check costs. A check digit catches a
misread or mistyped number, not a forged one.
"""

from __future__ import annotations

import re

_NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)
_GSTIN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# State code (01-38, 97 other territory, 99 centre jurisdiction), the holder's PAN
# (5 letters, 4 digits, 1 letter), the registration's number within the PAN, "Z"
# (reserved), the check character.
_GSTIN = re.compile(r"(0[1-9]|[12][0-9]|3[0-8]|97|99)[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]")
_SAUDI_VAT = re.compile(r"3[0-9]{13}3")


def saudi_vat_number_looks_right(number: str) -> bool:
    """15 digits, starting and ending with 3 (ZATCA's VAT registration number)."""
    return bool(_SAUDI_VAT.fullmatch(number))


def nip_is_well_formed(number: str) -> bool:
    """Ten ASCII digits (Polish NIP, written without dashes)."""
    return len(number) == 10 and number.isascii() and number.isdigit()


def nip_checks(number: str) -> bool:
    """The NIP's tenth digit is its weighted sum mod 11 (a sum of 10 mod 11 is never issued)."""
    remainder = sum(int(d) * w for d, w in zip(number[:9], _NIP_WEIGHTS, strict=True)) % 11
    return remainder != 10 and remainder == int(number[9])


def nif_is_well_formed(number: str) -> bool:
    """Nine ASCII digits (Portuguese NIF)."""
    return len(number) == 9 and number.isascii() and number.isdigit()


def nif_checks(number: str) -> bool:
    """The NIF's ninth digit is 11 minus its weighted sum (9..2) mod 11, or 0 when that is 10 or 11."""
    remainder = sum(int(d) * w for d, w in zip(number[:8], range(9, 1, -1), strict=True)) % 11
    return int(number[8]) == (0 if remainder < 2 else 11 - remainder)


def gstin_is_well_formed(gstin: str) -> bool:
    """A regular taxpayer's GSTIN shape (state code, PAN, entity number, Z, check character)."""
    return bool(_GSTIN.fullmatch(gstin))


def gstin_check_character(first_14: str) -> str:
    """GSTN's check character: a Luhn mod 36 over the first 14 characters."""
    total = 0
    for position, char in enumerate(first_14):
        product = _GSTIN_ALPHABET.index(char) * (2 if position % 2 else 1)
        total += product // 36 + product % 36
    return _GSTIN_ALPHABET[(36 - total % 36) % 36]


def gstin_checks(gstin: str) -> bool:
    return gstin_check_character(gstin[:14]) == gstin[14]
