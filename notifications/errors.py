"""What can go wrong with devices, segments and campaigns."""

from __future__ import annotations

from wallet.errors import Conflict, InvalidInput, NotFound, WalletError

NotificationError = WalletError

__all__ = ["Conflict", "InvalidInput", "NotFound", "NotificationError", "InvalidSegmentRules"]


class InvalidSegmentRules(InvalidInput):
    def __init__(self, message: str) -> None:
        super().__init__(message, field="rules")
