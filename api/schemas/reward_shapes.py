"""What the rewards' endpoints answer, shaped from the domain's rows for one reader.

A reward is named in the reader's language (English when it has none); an image is a URL
that changes with the picture (``?v=`` its hash), so the app may cache it for a day; a
voucher's status is what it is *now* (an active voucher past its time reads as expired
before the hourly sweep gets to it). Codes appear only where a ``Revealed`` is passed in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from wallet.rewards.catalog import CatalogItem, StockCounts, is_low
from wallet.rewards.models import Order, Reward, Voucher
from wallet.rewards.vouchers import Revealed


def image_url(reward: Reward, base_url: str) -> str | None:
    if not reward.image_sha256:
        return None
    return f"{base_url.rstrip('/')}/api/v1/catalog/rewards/{reward.id}/image?v={reward.image_sha256[:16]}"


def reward_brief(reward: Reward, *, language: str, base_url: str) -> dict[str, Any]:
    return {"id": reward.id, "name": reward.name_in(language), "kind": reward.kind, "category": reward.category,
            "face_value": reward.face_value, "image_url": image_url(reward, base_url)}


def catalog_item(item: CatalogItem, *, base_url: str) -> dict[str, Any]:
    reward = item.reward
    return {"id": reward.id, "name": item.name, "description": item.description, "category": reward.category,
            "kind": reward.kind, "points_cost": reward.points_cost, "face_value": reward.face_value,
            "country": reward.country, "in_stock": item.in_stock, "affordable": item.affordable,
            "image_url": image_url(reward, base_url), "validity_days": reward.validity_days,
            "available_until": reward.available_until, "limits": reward}


def voucher(v: Voucher, *, language: str, now: dt.datetime, base_url: str,
            revealed: Revealed | None = None) -> dict[str, Any]:
    store = v.used_store if v.used_store_id else None
    shaped = {"id": v.id, "reward": reward_brief(v.reward, language=language, base_url=base_url),
              "status": v.status_at(now), "points": v.points, "issued_at": v.issued_at, "expires_at": v.expires_at,
              "used_at": v.used_at, "cancelled_at": v.cancelled_at,
              "used_store": {"id": store.id, "name": store.name, "city": store.city} if store else None}
    if revealed is not None:
        shaped["code"], shaped["pin"] = revealed.code, revealed.pin
    return shaped


def order(o: Order, *, language: str, base_url: str) -> dict[str, Any]:
    return {"id": o.id, "reward": reward_brief(o.reward, language=language, base_url=base_url),
            "member_id": o.member_id, "quantity": o.quantity, "points_spent": o.points_spent, "status": o.status,
            "address": o.address, "carrier": o.carrier, "tracking_number": o.tracking_number,
            "created_at": o.created_at, "delivered_at": o.delivered_at, "cancelled_at": o.cancelled_at,
            "timeline": [{"status": e.status, "at": e.at, "carrier": e.carrier,
                          "tracking_number": e.tracking_number, "note": e.note} for e in o.events]}


def admin_reward(reward: Reward, counts: StockCounts, *, base_url: str) -> dict[str, Any]:
    fields = ("id", "kind", "code_source", "category", "country", "points_cost", "face_value", "stock",
              "limit_per_day", "limit_per_month", "limit_ever", "validity_days", "available_from",
              "available_until", "names", "descriptions", "tiers", "low_stock_threshold", "active", "created_at",
              "updated_at")
    shaped = {name: getattr(reward, name) for name in fields}
    shaped.update(image_url=image_url(reward, base_url), low_stock=is_low(reward, counts),
                  counts={"available": counts.available, "issued": counts.issued,
                          "expired_unissued": counts.expired_unissued})
    return shaped
