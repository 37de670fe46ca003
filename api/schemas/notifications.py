"""Bodies of devices, the inbox, segments and campaigns."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas.accounts import TIERS
from api.schemas.fields import Country, Id, Name, StrictBoolean, Timestamp
from api.schemas.wallet import BonusTermsSchema
from notifications.devices import PLATFORMS


class DeviceCreateSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=4096),
                          metadata={"example": "fcm:dQw4w9WgXcQ:APA91bH"})
    platform = fields.String(required=True, validate=validate.OneOf(PLATFORMS))
    locale = fields.String(allow_none=True, validate=validate.Length(max=35), metadata={"example": "ar-AE"})
    app_version = fields.String(allow_none=True, validate=validate.Length(max=32), metadata={"example": "3.4.1"})


class DeviceSchema(Schema):
    id = fields.Integer(metadata={"example": 5})
    platform = fields.String(validate=validate.OneOf(PLATFORMS))
    locale = fields.String(allow_none=True, metadata={"example": "ar-AE"})
    app_version = fields.String(allow_none=True, metadata={"example": "3.4.1"})
    created_at = fields.DateTime()


class NotificationSchema(Schema):
    id = fields.Integer()
    campaign_id = fields.Integer(allow_none=True)
    title = fields.String()
    body = fields.String()
    deep_link = fields.String(allow_none=True)
    image_url = fields.String(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)
    opened_at = fields.DateTime(allow_none=True)


class NotificationPageSchema(Schema):
    items = fields.List(fields.Nested(NotificationSchema))
    next_cursor = fields.String(allow_none=True)


class NotificationMarkSchema(Schema):
    read = StrictBoolean(load_default=True)
    opened = StrictBoolean(load_default=False)


class SegmentCreateSchema(Schema):
    name = Name(required=True, metadata={"example": "Gold partners in Dubai"})
    rules = fields.Dict(required=True)


class SegmentSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    rules = fields.Dict()
    created_at = fields.DateTime()


class MemberSampleSchema(Schema):
    id = fields.Integer()
    member_number = fields.String()
    name = fields.String()
    country = Country()
    city = fields.String(allow_none=True)
    tier = fields.String(validate=TIERS)


class PreviewSchema(Schema):
    count = fields.Integer()
    sample = fields.List(fields.Nested(MemberSampleSchema))


def _texts(required: bool, max_length: int) -> fields.Dict:
    return fields.Dict(
        keys=fields.String(validate=validate.OneOf(["en", "ar", "pl"])),
        values=fields.String(validate=validate.Length(min=1, max=max_length)),
        required=required,
    )


class MessageSchema(Schema):
    title = _texts(True, 100)
    body = _texts(True, 1000)
    deep_link = fields.String(allow_none=True, validate=validate.Length(max=500))
    image_url = fields.Url(allow_none=True, schemes={"https"}, validate=validate.Length(max=500))

    @validates_schema
    def english_is_there(self, data: dict[str, Any], **kwargs: Any) -> None:
        for part in ("title", "body"):
            if part in data and not data[part].get("en"):
                raise ValidationError("English is required: it is the fallback for every language", part)


class OfferSchema(BonusTermsSchema):
    """A bonus that becomes active for exactly the campaign's targeted members."""

    name = Name()


class VoucherOfferTermsSchema(Schema):
    """A voucher each targeted member may claim once, free (``GET /me/offers``)."""

    kind = fields.String(required=True, validate=validate.Equal("voucher"))
    reward_id = Id(required=True)
    claim_until = Timestamp(allow_none=True)


class OfferField(fields.Field):
    """A campaign's offer: a bonus (``kind`` multiplier or per_item) or a voucher (``kind`` voucher),
    each read by its own schema."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ValidationError("Must be an object: a bonus, or {\"kind\": \"voucher\", \"reward_id\": N}.")
        schema = VoucherOfferTermsSchema() if value.get("kind") == "voucher" else OfferSchema()
        return schema.load(value)


class CampaignCreateSchema(Schema):
    name = Name(required=True)
    segment_id = Id(required=True)
    message = fields.Nested(MessageSchema, required=True)
    send_at = Timestamp(allow_none=True)
    offer = OfferField(allow_none=True, metadata={"type": "object", "description": "a bonus for the targeted members "
                                                                 "(bonus terms), or a voucher each may claim once: "
                                                                 '{"kind": "voucher", "reward_id": N, "claim_until"?}'})


class CampaignSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    segment_id = fields.Integer()
    message = fields.Dict()
    offer = fields.Dict(allow_none=True)
    status = fields.String(validate=validate.OneOf(["draft", "scheduled", "sending", "sent"]))
    send_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class TestSendSchema(Schema):
    member_id = Id(required=True, metadata={"example": 42})


class TestSentSchema(Schema):
    devices = fields.Integer()
    sent = fields.Integer()
    failed = fields.Integer()


class StatsSchema(Schema):
    targeted = fields.Integer(metadata={"description": "members the campaign reached (inbox)"})
    sent = fields.Integer(metadata={"description": "devices FCM accepted a push for"})
    failed = fields.Integer()
    skipped_capped = fields.Integer(metadata={"description": "devices not pushed: the member hit the weekly cap"})
    skipped_quiet_hours = fields.Integer(metadata={"description": "devices put off to the member's morning"})
    invalid_tokens_removed = fields.Integer()
    opened = fields.Integer(metadata={"description": "members who opened it (reported by the app)"})
    waiting = fields.Integer(metadata={"description": "devices still due (deferred to the morning, or in flight)"})
