"""What can go wrong in the domain, in words a user can read.

Each error may name the input ``field`` it is about, so the API can put it under
that field in its error body. Only ``api/errors.py`` turns these into HTTP.
"""

from __future__ import annotations


class WalletError(Exception):
    """Base of every domain error."""

    message = "the request cannot be carried out"

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = message or self.message
        self.field = field
        super().__init__(self.message)


class NotFound(WalletError):
    message = "not found"


class Conflict(WalletError):
    message = "conflicts with the current state"


class InvalidInput(WalletError):
    """Well-formed input the domain refuses (an unknown store, an invite code that does not check)."""

    message = "invalid input"


class EmailTaken(Conflict):
    message = "an account with this email already exists"

    def __init__(self) -> None:
        super().__init__(field="email")


class AuthenticationFailed(WalletError):
    message = "email or password is wrong"


class InvalidRefreshToken(AuthenticationFailed):
    message = "the refresh token is unknown, expired or revoked"


class RefreshTokenReused(InvalidRefreshToken):
    """A spent refresh token came back: someone holds a copy. Its whole family is revoked.

    The revocation must be committed although the request fails.
    """

    message = "the refresh token was already used; every session it belongs to is signed out"


class IdempotencyConflict(Conflict):
    message = "this idempotency key was already used for a different request"


class InsufficientPoints(Conflict):
    message = "not enough points"

    def __init__(self, *, needed: int, balance: int) -> None:
        super().__init__(f"not enough points: {needed} needed, {balance} available")
        self.needed = needed
        self.balance = balance


class AlreadyReversed(Conflict):
    message = "this was already reversed"
