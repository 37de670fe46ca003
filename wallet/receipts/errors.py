"""What can go wrong when a receipt photo is taken in and read, in words a person can read.

Every error carries a ``message`` for the partner and a machine ``reason`` code the API
and the review queue can switch on, and is one of the kinds of ``infra.errors``: a type
that is not a photo is 415, too large 413, unreadable 422.
"""

from __future__ import annotations

from infra.errors import InvalidInput, TooLarge, UnsupportedMediaType
from wallet.errors import WalletError


class ReceiptImageError(WalletError):
    """Base of the errors of ``wallet.receipts`` image intake and recognition."""

    message = "the receipt photo cannot be used"
    reason = "receipt_image"

    def __init__(self, message: str | None = None, *, reason: str | None = None, field: str | None = "image") -> None:
        self.reason = reason or self.reason
        super().__init__(message, field=field)


class UnsupportedImage(ReceiptImageError, UnsupportedMediaType):
    """The bytes are not a JPEG, PNG, WebP or HEIC/HEIF photo (or not what the client said they were).

    ``detected`` is the type the bytes really are ("gif", "pdf", "svg", "unknown", ...).
    """

    message = "only JPEG, PNG, WebP and HEIC photos are accepted"
    reason = "unsupported_type"

    def __init__(self, detected: str, message: str | None = None, *, claimed: str | None = None,
                 reason: str | None = None) -> None:
        self.detected = detected
        self.claimed = claimed
        super().__init__(message or f"{self.message} (this file is {detected})", reason=reason)


class ImageTooLarge(ReceiptImageError, TooLarge):
    """Too many bytes, too many pixels, or a file that inflates far beyond its size (a decompression bomb)."""

    message = "the photo is too large"
    reason = "too_large"


class UnreadableImage(ReceiptImageError, InvalidInput):
    """The bytes claim a supported type but cannot be decoded (truncated, corrupt, empty)."""

    message = "the photo is damaged or incomplete and cannot be read"
    reason = "unreadable"


class OcrUnavailable(ReceiptImageError):
    """Text recognition cannot run here: tesserocr or a language's data is missing."""

    message = "OCR not available"
    reason = "ocr_unavailable"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, field=None)
