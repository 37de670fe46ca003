"""What can go wrong when a fiscal code is read, in words a reviewer can read.

A code that a format claims but cannot read completely is refused with
``FiscalCodeRefused``; it is never half-read. Its ``reason`` is a stable machine code
(``"zatca.duplicate_tag"``) that the review screen and the statistics group by; its
``message`` says what was wrong in this code. A configuration mistake (a key that is
not a key) is ``FiscalKeysInvalid``: the operator must fix it, the receipt is not to
blame.
"""

from __future__ import annotations


class FiscalCodeRefused(Exception):
    """A code that looks like a fiscal code of ``format`` but is broken.

    ``format`` is None only when the text was refused before any format looked at it
    (it was too large to be a code at all).
    """

    def __init__(self, format: str | None, reason: str, message: str) -> None:
        self.format = format
        self.reason = reason
        self.message = message
        super().__init__(f"{reason}: {message}")


class FiscalKeysInvalid(ValueError):
    """A key or certificate configured in ``FiscalKeys`` cannot be loaded."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)
