"""What can go wrong with members, points and rewards, in words a user can read.

Each error is a ``WalletError`` and one of the kinds in ``infra.errors`` (not found,
conflict, invalid input, authentication); ``api/errors.py`` maps the kinds to HTTP.
"""

from __future__ import annotations

from infra.errors import AuthenticationFailed, Conflict, DomainError, IdempotencyConflict, InvalidInput, NotFound

__all__ = [
    "WalletError", "NotFound", "Conflict", "InvalidInput", "AuthenticationFailed", "EmailTaken",
    "InvalidCredentials", "InvalidRefreshToken", "RefreshTokenReused", "IdempotencyConflict",
    "InsufficientPoints", "AlreadyReversed",
]


class WalletError(DomainError):
    """Base of the wallet's own errors."""


class EmailTaken(WalletError, Conflict):
    message = "an account with this email already exists"

    def __init__(self) -> None:
        super().__init__(field="email")


class InvalidCredentials(WalletError, AuthenticationFailed):
    message = "email or password is wrong"


class InvalidRefreshToken(WalletError, AuthenticationFailed):
    message = "the refresh token is unknown, expired or revoked"


class RefreshTokenReused(InvalidRefreshToken):
    """A spent refresh token came back: someone holds a copy. Its whole family is revoked,
    and the revocation is committed although the request fails."""

    message = "the refresh token was already used; every session it belongs to is signed out"
    keeps_changes = True


class InsufficientPoints(WalletError, Conflict):
    message = "not enough points"

    def __init__(self, *, needed: int, balance: int) -> None:
        super().__init__(f"not enough points: {needed} needed, {balance} available")
        self.needed = needed
        self.balance = balance


class AlreadyReversed(WalletError, Conflict):
    message = "this was already reversed"
