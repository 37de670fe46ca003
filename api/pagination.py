"""The contract's lists: ``?limit=`` (default 20, at most 100) and an opaque ``?cursor=``,
answered with ``{"items": [...], "next_cursor": "..." | null}``.

Cursors are keyset positions (the last id seen), so a page costs the same on the
first page and the thousandth, and rows written meanwhile neither repeat nor vanish.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate


def encode_cursor(position: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode().rstrip("=")


class CursorField(fields.String):
    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dict[str, Any]:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            decoded = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
            raise ValidationError("Not a cursor this API gave out.") from exc
        before = decoded.get("before") if isinstance(decoded, dict) else None
        if type(before) is not int or not 0 < before < 2**63:
            raise ValidationError("Not a cursor this API gave out.")
        return decoded


class PageArgs(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = CursorField(load_default=None, validate=validate.Length(max=200))


def page(rows: list[Any], limit: int, key: str = "id") -> dict[str, Any]:
    """``rows`` fetched with ``limit + 1``: the extra row only says another page exists."""
    items = rows[:limit]
    more = len(rows) > limit
    return {"items": items, "next_cursor": encode_cursor({"before": getattr(items[-1], key)}) if more else None}
