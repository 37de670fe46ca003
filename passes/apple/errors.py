"""What can go wrong while building an Apple Wallet pass, as errors a person can read.

Every error carries ``message`` (for a person: an operator reading a log, a developer
reading a test), ``reason`` (a stable machine code) and, where one field of the content
is at fault, ``field``. The lead re-bases ``PassError`` onto the project's domain error
base later; nothing else here needs to change then.
"""

from __future__ import annotations


class PassError(Exception):
    """Base of every Apple Wallet pass error."""

    def __init__(self, message: str, *, reason: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.field = field


class CertificateError(PassError):
    """The signing identity cannot be used: unreadable, mismatched, expired or not issued by the WWDR given.

    Reasons: ``unreadable_certificate``, ``unreadable_key``, ``unreadable_wwdr``, ``key_mismatch``,
    ``not_issued_by_wwdr``, ``expired``, ``not_yet_valid``, ``wwdr_expired``,
    ``development_identity_mismatch``, ``development_identity_damaged``.
    """


class ContentError(PassError):
    """The content of a pass is not something Wallet would accept (``field`` names the culprit).

    Reasons: ``invalid`` (a bad value), ``too_long``, ``not_latin1`` (a barcode message
    outside ISO-8859-1), ``identity_mismatch`` (the content names another pass type or team
    than the signing certificate), ``insecure_web_service`` (http:// with a production identity).
    """
