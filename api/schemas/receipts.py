"""Bodies of receipt scanning: what a partner sees of its receipts, the review queue, the rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from api.schemas.fields import Country, DecimalString, Derived, not_blank
from wallet.receipts.models import STATUSES

STATUS = validate.OneOf(STATUSES)
FORMATS = validate.OneOf(["zatca", "ksef", "atcud", "gst", "ocr"])


class UploadSchema(Schema):
    image = Upload(required=True, metadata={"description": "JPEG, PNG, WebP or HEIC photo, at most 10 MB"})


class SubmittedSchema(Schema):
    id = fields.Integer()
    status = fields.String(validate=STATUS)


class ReceiptTotalSchema(Schema):
    amount = fields.Decimal(as_string=True)
    currency = fields.String(allow_none=True)


class ReceiptLineSchema(Schema):
    description = fields.String()
    category = fields.String(metadata={"may_be_absent": True, "description": "what the line was matched to, "
                                                                            "when a product pattern matched"})
    amount = fields.String()


class SignalSchema(Schema):
    code = fields.String()
    message = fields.String()


def _total(receipt: Any) -> dict[str, Any] | None:
    if receipt.total_amount is None:
        return None
    return {"amount": receipt.total_amount.normalize(), "currency": receipt.currency}


class ReceiptSchema(Schema):
    id = fields.Integer()
    status = fields.String(validate=STATUS)
    points = fields.Integer(metadata={"description": "points given (approved)"})
    points_pending = fields.Integer(metadata={"description": "points a review would give"})
    reason = fields.String(allow_none=True)
    reason_code = fields.String(allow_none=True)
    format = fields.String(allow_none=True, validate=FORMATS, metadata={"description": "how it was read: a fiscal "
                                                                                        "code, or the print (ocr)"})
    merchant = fields.String(allow_none=True)
    seller_tax_number = fields.String(allow_none=True)
    receipt_number = fields.String(allow_none=True)
    purchased_at = fields.DateTime(allow_none=True)
    total = Derived(ReceiptTotalSchema, lambda receipt: _total(receipt), allow_none=True)
    lines = fields.List(fields.Nested(ReceiptLineSchema))
    uploaded_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)


class ReceiptPageSchema(Schema):
    items = fields.List(fields.Nested(ReceiptSchema))
    next_cursor = fields.String(allow_none=True)


class DecisionSchema(Schema):
    status = fields.String(validate=STATUS)
    points = fields.Integer()
    reason_code = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    actor_user_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class ReviewItemSchema(ReceiptSchema):
    member_id = fields.Integer()
    country = Country()
    signals = fields.List(fields.Nested(SignalSchema))
    photo_url = fields.String(allow_none=True, metadata={"description": "a link to the photo, good for 10 minutes"})
    decisions = fields.List(fields.Nested(DecisionSchema))


class ReviewPageSchema(Schema):
    items = fields.List(fields.Nested(ReviewItemSchema))
    next_cursor = fields.String(allow_none=True)


class ReviewArgs(Schema):
    status = fields.String(load_default="review", validate=validate.OneOf(["review", "processing", "approved",
                                                                          "rejected"]))


class ApproveSchema(Schema):
    points = fields.Integer(strict=True, validate=validate.Range(min=0, max=10_000_000),
                            metadata={"description": "points to give; default: the estimate by the rules"})
    reason = fields.String(required=True, validate=[validate.Length(min=3, max=500), not_blank])


class RejectSchema(Schema):
    reason = fields.String(required=True, validate=[validate.Length(min=3, max=500), not_blank])


class PatternSchema(Schema):
    pattern = fields.String(required=True, validate=validate.Length(min=1, max=200))
    category = fields.String(load_default="eligible", validate=validate.Length(min=1, max=64))


class ReceiptProgramSchema(Schema):
    country = fields.String(dump_only=True)
    allowed_sellers = fields.List(fields.String(validate=validate.Regexp(r"^[0-9A-Z]{5,20}$")),
                                  load_default=list, validate=validate.Length(max=5000),
                                  metadata={"example": ["300000000000003"], "description": "the sellers' tax numbers"})
    max_age_days = fields.Integer(load_default=14, strict=True, validate=validate.Range(min=1, max=366))
    min_total = DecimalString(load_default=Decimal(0), validate=validate.Range(min=Decimal(0), max=Decimal(10**7)))
    review_above = DecimalString(load_default=None, allow_none=True,
                                 validate=validate.Range(min=Decimal(0), max=Decimal(10**8)))
    member_daily_limit = fields.Integer(load_default=5, strict=True, validate=validate.Range(min=1, max=1000))
    member_weekly_limit = fields.Integer(load_default=20, strict=True, validate=validate.Range(min=1, max=5000))
    seller_daily_limit = fields.Integer(load_default=500, strict=True, validate=validate.Range(min=1, max=10**6))
    seller_weekly_limit = fields.Integer(load_default=2500, strict=True, validate=validate.Range(min=1, max=10**7))
    first_receipts_reviewed = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=0, max=100))
    product_patterns = fields.List(fields.Nested(PatternSchema), load_default=list, validate=validate.Length(max=100))
