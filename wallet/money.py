"""Money: a Decimal amount in a currency, with that currency's minor units.

Gulf dinars and the Omani rial have three decimals, so no amount is rounded to two
without asking the currency first.
"""

from __future__ import annotations

# ISO 4217 minor units of the currencies the program deals in.
MINOR_UNITS = {
    "AED": 2,
    "SAR": 2,
    "QAR": 2,
    "KWD": 3,
    "BHD": 3,
    "OMR": 3,
    "PLN": 2,
    "EUR": 2,
    "USD": 2,
}

CURRENCIES = tuple(sorted(MINOR_UNITS))
