"""Member numbers: what a partner reads out or types at the till when the phone is dead.

Ten random digits and a Damm check digit. Damm catches every single wrong digit and
every swap of two neighbours (Luhn misses 09 <-> 90), so a mistyped number is refused
instead of booking points to a stranger. Random, not sequential, so that one number
says nothing about the next.
"""

from __future__ import annotations

import secrets

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

BODY_DIGITS = 10
LENGTH = BODY_DIGITS + 1


def damm_digit(digits: str) -> int:
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return interim


def generate() -> str:
    # A leading zero is avoided: spreadsheets and some tills drop it.
    body = str(secrets.randbelow(9 * 10 ** (BODY_DIGITS - 1)) + 10 ** (BODY_DIGITS - 1))
    return body + str(damm_digit(body))


def normalize(text: str) -> str | None:
    """The member number in ``text`` (spaces and dashes allowed), or None when it does not check."""
    digits = "".join(ch for ch in text if ch not in " -")
    if len(digits) != LENGTH or not digits.isascii() or not digits.isdigit():
        return None
    if damm_digit(digits) != 0:
        return None
    return digits


def display(number: str) -> str:
    """Grouped for reading aloud: 1234 5678 901."""
    return f"{number[:4]} {number[4:8]} {number[8:]}"
