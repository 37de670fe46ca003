"""Bodies of the catalog, redemptions, vouchers, orders, offers, and the admins' rewards."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from flask_smorest.fields import Upload

from api.pagination import PageArgs
from api.schemas.fields import Country, Id, Name, Phone, StrictBoolean, Timestamp, not_blank
from api.schemas.wallet import MoneySchema
from wallet.money import MINOR_UNITS
from wallet.rewards.models import KINDS, ORDER_STATUSES, VOUCHER_STATUSES

CATEGORY = [validate.Length(min=1, max=64), not_blank]
LANGUAGES = ("en", "ar", "pl")


def _texts(max_length: int, **kwargs: Any) -> fields.Dict:
    return fields.Dict(keys=fields.String(validate=validate.OneOf(LANGUAGES)),
                       values=fields.String(validate=[validate.Length(min=1, max=max_length), not_blank]), **kwargs)


def money(value: dict[str, Any] | None) -> dict[str, str] | None:
    """``{"amount": "25.00", "currency": "AED"}`` with the currency's own decimals."""
    if not value:
        return None
    places = MINOR_UNITS.get(value["currency"], 2)
    return {"amount": f"{value['amount']:.{places}f}", "currency": value["currency"]}


class Money(fields.Nested):
    """A face value as the wallet writes money (the Money component), in the currency's own decimals."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(MoneySchema, **kwargs)

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        return money(value)


# --- admins ------------------------------------------------------------------------------


class RewardCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    code_source = fields.String(allow_none=True, validate=validate.OneOf(["pool", "generated"]), metadata={
        "description": "voucher and digital rewards: pool (a vendor's codes, uploaded; the default) or generated "
                       "(codes the program makes); physical rewards have none"})
    category = fields.String(required=True, validate=CATEGORY)
    country = Country(required=True)
    points_cost = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10**9))
    face_value = fields.Nested(MoneySchema, allow_none=True)
    stock = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=10**9), metadata={
        "description": "generated-code and physical rewards; None: unlimited. A pool's stock is its codes"})
    limit_per_day = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=10**6))
    limit_per_month = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=10**6))
    limit_ever = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=10**6))
    validity_days = fields.Integer(load_default=365, strict=True, validate=validate.Range(min=1, max=3650))
    available_from = Timestamp(allow_none=True)
    available_until = Timestamp(allow_none=True)
    names = _texts(120, required=True)
    descriptions = _texts(2000, load_default=dict)
    tiers = fields.List(fields.String(validate=validate.Length(min=1, max=32)), load_default=list,
                        validate=validate.Length(max=20), metadata={"description": "tier codes; empty: every tier"})
    low_stock_threshold = fields.Integer(load_default=50, strict=True, validate=validate.Range(min=0, max=10**6))
    active = StrictBoolean(load_default=True)

    @validates_schema
    def english_and_window(self, data: dict[str, Any], **kwargs: Any) -> None:
        for part in ("names", "descriptions"):
            if data.get(part) and not data[part].get("en"):
                raise ValidationError("English is required: it is the fallback for every language", part)
        if data.get("available_from") and data.get("available_until") and \
                data["available_until"] <= data["available_from"]:
            raise ValidationError("must be after available_from", "available_until")


class RewardPatchSchema(RewardCreateSchema):
    """Any of the fields; kind and code source stay as they were made."""

    class Meta:
        exclude = ("kind", "code_source")


class CountsSchema(Schema):
    available = fields.Integer(allow_none=True, metadata={"description": "codes (or stock) left; null: unlimited"})
    issued = fields.Integer()
    expired_unissued = fields.Integer()


class RewardAdminSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    code_source = fields.String(allow_none=True)
    category = fields.String()
    country = fields.String()
    points_cost = fields.Integer()
    face_value = Money(allow_none=True)
    stock = fields.Integer(allow_none=True)
    limit_per_day = fields.Integer(allow_none=True)
    limit_per_month = fields.Integer(allow_none=True)
    limit_ever = fields.Integer(allow_none=True)
    validity_days = fields.Integer()
    available_from = fields.DateTime(allow_none=True)
    available_until = fields.DateTime(allow_none=True)
    names = fields.Dict()
    descriptions = fields.Dict()
    tiers = fields.List(fields.String())
    low_stock_threshold = fields.Integer()
    active = fields.Boolean()
    image_url = fields.String(allow_none=True)
    counts = fields.Nested(CountsSchema)
    low_stock = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class RewardAdminPageSchema(Schema):
    items = fields.List(fields.Nested(RewardAdminSchema))
    next_cursor = fields.String(allow_none=True)


class RewardAdminArgs(PageArgs):
    country = fields.String(validate=validate.Length(equal=2))
    kind = fields.String(validate=validate.OneOf(KINDS))


class CodeFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "CSV, UTF-8: a header row with a code column "
                                                          "(optionally expires_at, pin)"})


class ImageFileSchema(Schema):
    image = Upload(required=True, metadata={"description": "PNG, JPEG or WebP, at most 2 MB"})


class ImportReportSchema(Schema):
    import_id = fields.Integer()
    rows = fields.Integer(metadata={"description": "lines after the header"})
    imported = fields.Integer()
    duplicates_in_file = fields.List(fields.Integer(), metadata={"description": "line numbers (the header is line 1)"})
    already_held = fields.List(fields.Integer())
    blank = fields.List(fields.Integer())
    too_long = fields.List(fields.Integer())
    bad_characters = fields.List(fields.Integer())
    bad_expiry = fields.List(fields.Integer())
    malformed = fields.List(fields.Integer())
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "every problem's full count; the lists stop at lists_capped_at"})
    lists_capped_at = fields.Integer()


class CancelSchema(Schema):
    reason = fields.String(required=True, validate=[validate.Length(min=3, max=500), not_blank])


class AdminVoucherArgs(PageArgs):
    member_id = Id()
    reward_id = Id()
    status = fields.String(validate=validate.OneOf(VOUCHER_STATUSES))


class OrderArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))


class OrderMoveSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["confirmed", "shipped", "delivered", "cancelled"]))
    carrier = fields.String(validate=[validate.Length(min=1, max=64), not_blank])
    tracking_number = fields.String(validate=[validate.Length(min=1, max=64), not_blank])
    note = fields.String(validate=[validate.Length(min=1, max=500), not_blank])


class DeliveryTimesArgs(Schema):
    country = fields.String(validate=validate.Length(equal=2))
    days = fields.Integer(load_default=90, validate=validate.Range(min=1, max=3650),
                          metadata={"description": "orders delivered in the last this many days"})


class DeliveryTimesSchema(Schema):
    delivered = fields.Integer()
    median_working_days = fields.Float(allow_none=True)
    p90_working_days = fields.Integer(allow_none=True)


# --- the partner -------------------------------------------------------------------------


class CatalogCursor(fields.String):
    """An opaque position (points cost and id of the last item), as the catalog pages by cost."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> tuple[int, int]:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            decoded = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            cost, last = decoded["after"]
        except (binascii.Error, ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
            raise ValidationError("Not a cursor this API gave out.") from exc
        if type(cost) is not int or type(last) is not int or not (0 <= cost < 2**63 and 0 < last < 2**63):
            raise ValidationError("Not a cursor this API gave out.")
        return cost, last


def encode_catalog_cursor(cost: int, last: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": [cost, last]}).encode()).decode().rstrip("=")


class CatalogArgs(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = CatalogCursor(load_default=None, validate=validate.Length(max=200))
    category = fields.String(validate=validate.Length(min=1, max=64))
    sort = fields.String(load_default="newest", validate=validate.OneOf(["newest", "points_cost", "-points_cost"]))
    affordable = fields.Boolean(metadata={"description": "only what the partner can (true) or cannot (false) afford"})


class LimitsSchema(Schema):
    per_day = fields.Integer(allow_none=True, attribute="limit_per_day")
    per_month = fields.Integer(allow_none=True, attribute="limit_per_month")
    ever = fields.Integer(allow_none=True, attribute="limit_ever")


class CatalogRewardSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    description = fields.String(allow_none=True)
    category = fields.String()
    kind = fields.String()
    points_cost = fields.Integer()
    face_value = Money(allow_none=True)
    country = fields.String()
    in_stock = fields.Boolean()
    affordable = fields.Boolean(metadata={"description": "the partner's balance covers points_cost"})
    image_url = fields.String(allow_none=True)
    validity_days = fields.Integer()
    available_until = fields.DateTime(allow_none=True)
    limits = fields.Nested(LimitsSchema)


class CatalogPageSchema(Schema):
    items = fields.List(fields.Nested(CatalogRewardSchema))
    next_cursor = fields.String(allow_none=True)


class AddressSchema(Schema):
    name = Name(required=True)
    line1 = fields.String(required=True, validate=[validate.Length(min=1, max=200), not_blank])
    line2 = fields.String(validate=validate.Length(max=200))
    city = fields.String(required=True, validate=[validate.Length(min=1, max=120), not_blank])
    postal_code = fields.String(validate=validate.Length(max=20))
    country = Country(required=True)
    phone = Phone(required=True)


class RedemptionCreateSchema(Schema):
    reward_id = Id(required=True)
    quantity = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=10))
    delivery_address = fields.Nested(AddressSchema, metadata={"description": "physical rewards only"})


class RewardBriefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    category = fields.String()
    face_value = Money(allow_none=True)
    image_url = fields.String(allow_none=True)


class StoreBriefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    city = fields.String(allow_none=True)


class VoucherBriefSchema(Schema):
    """A voucher without its code: what answers that are stored (Idempotency-Key replays) or that
    admins read show."""

    id = fields.Integer()
    reward = fields.Nested(RewardBriefSchema)
    status = fields.String(metadata={"description": "active, used, expired or cancelled"})
    points = fields.Integer(metadata={"description": "what it cost (0 for a campaign's offer)"})
    issued_at = fields.DateTime()
    expires_at = fields.DateTime()
    used_at = fields.DateTime(allow_none=True)
    used_store = fields.Nested(StoreBriefSchema, allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)


class VoucherSchema(VoucherBriefSchema):
    code = fields.String(metadata={"description": "the code in clear, for the owner's eyes only"})
    pin = fields.String(allow_none=True)


class VoucherPageSchema(Schema):
    items = fields.List(fields.Nested(VoucherSchema))
    next_cursor = fields.String(allow_none=True)


class VoucherArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(VOUCHER_STATUSES))


class TimelineSchema(Schema):
    status = fields.String()
    at = fields.DateTime()
    carrier = fields.String(allow_none=True)
    tracking_number = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class OrderSchema(Schema):
    id = fields.Integer()
    reward = fields.Nested(RewardBriefSchema)
    member_id = fields.Integer()
    quantity = fields.Integer()
    points_spent = fields.Integer()
    status = fields.String()
    address = fields.Dict()
    carrier = fields.String(allow_none=True)
    tracking_number = fields.String(allow_none=True)
    created_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    timeline = fields.List(fields.Nested(TimelineSchema))


class OrderPageSchema(Schema):
    items = fields.List(fields.Nested(OrderSchema))
    next_cursor = fields.String(allow_none=True)


class RedeemedSchema(Schema):
    id = fields.Integer()
    reward_id = fields.Integer()
    quantity = fields.Integer()
    points_spent = fields.Integer()
    balance = fields.Integer()
    vouchers = fields.List(fields.Nested(VoucherBriefSchema), metadata={
        "description": "the vouchers, without their codes: GET /me/vouchers/{id} shows a code"})
    order = fields.Nested(OrderSchema, allow_none=True)


class VoucherOfferSchema(Schema):
    id = fields.Integer()
    campaign_id = fields.Integer()
    reward = fields.Nested(RewardBriefSchema)
    claim_until = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class VoucherOfferPageSchema(Schema):
    items = fields.List(fields.Nested(VoucherOfferSchema))
    next_cursor = fields.String(allow_none=True)


# --- the till ----------------------------------------------------------------------------


class VoucherRedeemSchema(Schema):
    code = fields.String(validate=validate.Length(min=1, max=100))
    qr_payload = fields.String(validate=validate.Length(min=1, max=200))

    @validates_schema
    def exactly_one(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("code" in data) == ("qr_payload" in data):
            raise ValidationError("give code or qr_payload, not both or neither", "code")


class MemberBriefSchema(Schema):
    member_number = fields.String()
    name = fields.String()


class TillVoucherSchema(Schema):
    id = fields.Integer()
    status = fields.String()
    used_at = fields.DateTime()
    store = fields.Nested(StoreBriefSchema)
    reward = fields.Nested(RewardBriefSchema)
    member = fields.Nested(MemberBriefSchema)
    points = fields.Integer()


class CancelledSchema(Schema):
    voucher = fields.Nested(VoucherBriefSchema)
    points_refunded = fields.Integer()
    balance = fields.Integer()


class AdminVoucherPageSchema(Schema):
    items = fields.List(fields.Nested(VoucherBriefSchema))
    next_cursor = fields.String(allow_none=True)
