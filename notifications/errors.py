"""What can go wrong with devices, segments and campaigns."""

from __future__ import annotations

from infra.errors import Conflict, DomainError, InvalidInput, NotFound, Unavailable

__all__ = ["NotificationError", "NotFound", "Conflict", "InvalidInput", "InvalidSegmentRules", "PushUnavailable"]


class NotificationError(DomainError):
    """Base of the notifications' own errors."""


class InvalidSegmentRules(NotificationError, InvalidInput):
    def __init__(self, message: str) -> None:
        super().__init__(message, field="rules")


class PushUnavailable(NotificationError, Unavailable):
    """FCM cannot take pushes now (down, unreachable, refusing our credentials): the caller
    pauses rather than marking devices failed; a request that needed it answers 503."""

    service = "push"
