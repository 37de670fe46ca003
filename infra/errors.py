"""The kinds of thing that can go wrong in the domain, in words a user can read.

Each domain package derives its own errors from these kinds (``wallet.errors``,
``notifications.errors``), and ``api/errors.py`` maps the kinds, not each error, to
HTTP statuses. An error may name the input ``field`` it is about, so the API can put
the message under that field in its error body.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every domain error.

    ``keeps_changes``: the request fails, but what it wrote must be committed anyway
    (a reused refresh token revokes its whole family, and the revocation must stand).
    """

    message = "the request cannot be carried out"
    keeps_changes = False

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = message or self.message
        self.field = field
        super().__init__(self.message)


class NotFound(DomainError):
    message = "not found"


class Conflict(DomainError):
    message = "conflicts with the current state"


class InvalidInput(DomainError):
    """Well-formed input the domain refuses (an unknown store, an invite code that does not check)."""

    message = "invalid input"


class IdempotencyConflict(Conflict):
    message = "this idempotency key was already used for a different request"


class TooLarge(DomainError):
    """An upload over its size limit (HTTP 413); nothing of it was kept."""

    message = "too large"


class UnsupportedMediaType(DomainError):
    """An upload that is not of a type this accepts, whatever it was called (HTTP 415)."""

    message = "unsupported media type"


class AuthenticationFailed(DomainError):
    message = "email or password is wrong"


class Unavailable(DomainError):
    """An outside service we depend on cannot take the request now; ``retry_after`` seconds
    is what it asked us to wait, when it said."""

    message = "a service this needs is unavailable right now"
    service = "a service this needs"  # what the person reading the error is told is away

    def __init__(self, message: str | None = None, *, retry_after: float = 0.0, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after
