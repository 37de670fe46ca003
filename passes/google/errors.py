"""What can go wrong with Google Wallet: building objects, signing save links, calling the API.

Every error carries ``message`` (for a person), ``reason`` (a stable machine code) and,
where it applies, ``field`` or the HTTP ``status`` Google answered. The lead re-bases
``GoogleWalletError`` onto the project's domain error base later.
"""

from __future__ import annotations


class GoogleWalletError(Exception):
    """Base of every Google Wallet error."""

    def __init__(self, message: str, *, reason: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.field = field


class ObjectError(GoogleWalletError):
    """A class or object would not be valid for Google (``field`` names the culprit).

    Reasons: ``invalid``, ``too_long``.
    """


class ServiceAccountError(GoogleWalletError):
    """The service-account JSON cannot sign (missing ``client_email`` / ``private_key``, unreadable key).

    Reason: ``bad_service_account``.
    """


class WalletApiError(GoogleWalletError):
    """Google's Wallet API (or its OAuth token endpoint) refused or could not be reached.

    ``status`` is the HTTP status Google answered (None when no answer came: connection
    refused, timeout, no access token). ``reason`` is Google's own ``error.status``
    (``ALREADY_EXISTS``, ``NOT_FOUND``, ``PERMISSION_DENIED``, ``INVALID_ARGUMENT``...) when it
    gave one, else ``http_<status>``, ``unreachable``, ``no_access_token`` or ``bad_answer``.
    """

    def __init__(self, message: str, *, reason: str, status: int | None, body: object = None) -> None:
        super().__init__(message, reason=reason)
        self.status = status
        self.body = body
