"""Fiscal codes on receipts: the QR codes tax authorities make sellers print, read strictly.

Another part of receipt scanning decodes every QR code and barcode in a photo into
text; ``read`` turns each text into a ``FiscalReading``, refuses it with
``FiscalCodeRefused`` (a fiscal code, but broken: never half-read), or returns None
(not a fiscal code: a shop's URL, a product barcode). Pure functions of the text, the
moment of reading and the configured keys: no database, no network, no images.

Formats, each a module that registers itself: ``zatca`` (Saudi Arabia),
``ksef`` (Poland), ``atcud`` (Portugal), ``gst`` (India). A reading with any warning
goes to a person before points are given.
"""

from __future__ import annotations

from .errors import FiscalCodeRefused, FiscalKeysInvalid
from .reading import FiscalKeys, FiscalReading
from .registry import MAX_TEXT_BYTES, read, registered_formats

# Imported for their registration; the order does not matter (see registry).
from . import ksef, atcud, gst, zatca  # noqa: E402,F401  isort: skip

__all__ = [
    "MAX_TEXT_BYTES",
    "FiscalCodeRefused",
    "FiscalKeys",
    "FiscalKeysInvalid",
    "FiscalReading",
    "read",
    "registered_formats",
]
