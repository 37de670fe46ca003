"""What can go wrong with rewards, redemptions, vouchers and orders, in words a partner reads.

Each error is a ``RewardError`` (a ``WalletError``) and one kind of ``infra.errors``;
``api/errors.py`` maps the kinds to HTTP. A refusal a client may want to switch on
carries a machine ``reason`` (``out_of_stock``, ``limit_reached``, ``already_used``...)
and, where it helps, ``details`` (when and where a voucher was used), which the API
puts beside the message.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from infra.errors import TooLarge
from wallet.errors import Conflict, InvalidInput, NotFound, WalletError

__all__ = [
    "RewardError", "RewardNotFound", "NotForYourTier", "NotAvailableNow", "NotEnoughPoints", "OutOfStock",
    "LimitReached", "VoucherNotFound", "VoucherAlreadyUsed", "VoucherExpired", "VoucherCancelled",
    "VoucherOtherCountry", "VoucherNotActive", "CodeFileTooLarge", "CodeFileUnreadable", "OrderNotFound",
    "OrderTransitionRefused", "OfferNotFound", "OfferAlreadyClaimed", "RewardImageRefused", "RewardImageTooLarge",
    "InvalidRewardInput",
]


class RewardError(WalletError):
    """Base of the rewards' own errors. ``reason``: a stable code; ``details``: facts for the client."""

    reason: str | None = None

    def __init__(self, message: str | None = None, *, field: str | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message, field=field)
        self.details = details or {}


def _day(at: dt.datetime) -> str:
    return at.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


class RewardNotFound(RewardError, NotFound):
    """Unknown, switched off, or of another country: the partner's catalog does not hold it."""

    message = "no such reward in your catalog"
    reason = "not_offered"


class NotForYourTier(RewardError, Conflict):
    reason = "tier"

    def __init__(self, tier_names: list[str]) -> None:
        super().__init__(f"this reward is for {', '.join(tier_names)} partners only",
                         details={"tiers": tier_names})


class NotAvailableNow(RewardError, Conflict):
    reason = "not_available"

    def __init__(self, *, starts_at: dt.datetime | None = None, ended_at: dt.datetime | None = None) -> None:
        if starts_at is not None:
            super().__init__(f"this reward can be redeemed from {_day(starts_at)}",
                             details={"available_from": starts_at.isoformat()})
        else:
            assert ended_at is not None
            super().__init__(f"this reward could be redeemed until {_day(ended_at)}",
                             details={"available_until": ended_at.isoformat()})


class NotEnoughPoints(RewardError, Conflict):
    reason = "insufficient_points"

    def __init__(self, *, needed: int, balance: int) -> None:
        super().__init__(f"not enough points: this needs {needed:,}, you have {balance:,} "
                         f"({needed - balance:,} more to go)",
                         details={"needed": needed, "balance": balance})
        self.needed = needed
        self.balance = balance


class OutOfStock(RewardError, Conflict):
    reason = "out_of_stock"

    def __init__(self, *, wanted: int, left: int) -> None:
        if left:
            message = f"only {left} of this reward left; you asked for {wanted}"
        else:
            message = "this reward is out of stock right now; try again later"
        super().__init__(message, details={"left": left})


class LimitReached(RewardError, Conflict):
    reason = "limit_reached"
    _PERIOD = {"day": "a day", "month": "a month", "ever": "in all"}
    _AGAIN = {"day": "try again tomorrow", "month": "try again next month", "ever": "it cannot be redeemed again"}

    def __init__(self, *, period: str, limit: int, already: int) -> None:
        times = "once" if limit == 1 else f"{limit} times"
        super().__init__(f"this reward can be redeemed {times} {self._PERIOD[period]} and you have redeemed it "
                         f"{already} {'time' if already == 1 else 'times'}; {self._AGAIN[period]}",
                         details={"period": period, "limit": limit, "already": already})


class VoucherNotFound(RewardError, NotFound):
    message = "no such voucher"
    reason = "unknown_voucher"


class VoucherNotActive(RewardError, Conflict):
    """The voucher can no longer be used: the subclasses say why."""


class VoucherAlreadyUsed(VoucherNotActive):
    reason = "already_used"

    def __init__(self, *, used_at: dt.datetime, store_id: int | None, store_name: str | None) -> None:
        where = f" at {store_name}" if store_name else ""
        super().__init__(f"this voucher was already used on {_day(used_at)}{where}",
                         details={"used_at": used_at.isoformat(), "store_id": store_id, "store_name": store_name})


class VoucherExpired(VoucherNotActive):
    reason = "expired"

    def __init__(self, *, expired_at: dt.datetime) -> None:
        super().__init__(f"this voucher expired on {_day(expired_at)}", details={"expired_at": expired_at.isoformat()})


class VoucherCancelled(VoucherNotActive):
    reason = "cancelled"

    def __init__(self, *, cancelled_at: dt.datetime | None) -> None:
        super().__init__("this voucher was cancelled and cannot be used",
                         details={"cancelled_at": cancelled_at.isoformat() if cancelled_at else None})


class VoucherOtherCountry(VoucherNotActive):
    reason = "other_country"

    def __init__(self, *, voucher_country: str, store_country: str) -> None:
        super().__init__(f"this voucher is for {voucher_country}; this store is in {store_country}",
                         details={"voucher_country": voucher_country, "store_country": store_country})


class CodeFileTooLarge(RewardError, TooLarge):
    reason = "too_large"


class CodeFileUnreadable(RewardError, InvalidInput):
    """A code file that is not a CSV we can read (not UTF-8, no ``code`` column, a broken line)."""

    reason = "unreadable_file"

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message, field="file", details={"line": line} if line is not None else None)


class InvalidRewardInput(RewardError, InvalidInput):
    reason = "invalid"


class RewardImageRefused(RewardError, InvalidInput):
    reason = "image"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="image")


class RewardImageTooLarge(RewardError, TooLarge):
    reason = "too_large"

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"a reward's picture is at most {max_bytes // (1024 * 1024)} MB", field="image")


class OrderNotFound(RewardError, NotFound):
    message = "no such order"


class OrderTransitionRefused(RewardError, Conflict):
    reason = "order_status"

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"an order that is {current} cannot become {wanted}",
                         details={"status": current, "wanted": wanted})


class OfferNotFound(RewardError, NotFound):
    message = "no such offer"


class OfferAlreadyClaimed(RewardError, Conflict):
    reason = "already_claimed"

    def __init__(self, *, claimed_at: dt.datetime, voucher_id: int | None) -> None:
        super().__init__(f"you claimed this offer on {_day(claimed_at)}; the voucher is in your wallet",
                         details={"claimed_at": claimed_at.isoformat(), "voucher_id": voucher_id})
