"""Bodies of the wallet, the member card, the till and the rules admins set."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas.accounts import TIERS
from api.schemas.fields import Country, Currency, DecimalString, Name, StrictBoolean, Timestamp, not_blank
from wallet.ledger.models import TxType

if TYPE_CHECKING:
    from wallet.overview import WalletOverview

SKU = validate.Length(min=1, max=64)


class MoneySchema(Schema):
    error_messages = {"type": 'Must be an object such as {"amount": "129.50", "currency": "AED"}.'}

    amount = DecimalString(required=True, validate=validate.Range(min=Decimal("0.001"), max=Decimal("10000000")))
    currency = Currency(required=True)


class ItemSchema(Schema):
    error_messages = {"type": 'Must be an object such as {"sku": "MPS5-2055516", "quantity": 4, "unit_price": "420.00"}.'}

    sku = fields.String(required=True, validate=SKU, metadata={"example": "MPS5-2055516"})
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1_000),
                              metadata={"example": 4})
    unit_price = DecimalString(required=True, validate=validate.Range(min=Decimal(0), max=Decimal("10000000")),
                               metadata={"example": "420.00"})


class MemberRefSchema(Schema):
    qr_payload = fields.String(validate=validate.Length(min=1, max=200),
                               metadata={"example": "PW1.k1.40123456787.1975411.MZXW6YTBOI2TKNZUGQ3DAMJRGY"})
    member_number = fields.String(validate=validate.Length(min=1, max=32))

    @validates_schema
    def exactly_one(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("qr_payload" in data) == ("member_number" in data):
            raise ValidationError("give qr_payload or member_number, not both or neither", "qr_payload")


class ScanSchema(MemberRefSchema):
    pass


class ScannedSchema(Schema):
    member_number = fields.String(metadata={"example": "40123456787"})
    name = fields.String(metadata={"example": "Aisha Al Mansoori"})
    tier = fields.String(validate=TIERS, metadata={"description": "the tier's stable code"})
    tier_name = fields.String(metadata={"example": "Blue"})
    balance = fields.Integer(metadata={"example": 1250})


class PurchaseCreateSchema(MemberRefSchema):
    receipt_number = fields.String(required=True, validate=[validate.Length(min=1, max=64), not_blank],
                                   metadata={"example": "INV-2026-004211"})
    total = fields.Nested(MoneySchema, required=True)
    items = fields.List(fields.Nested(ItemSchema), validate=validate.Length(max=200),
                        metadata={"description": "when given, the lines must add up to the total"})


class BreakdownLine(Schema):
    rule = fields.String(metadata={"example": "base"})
    label = fields.String(metadata={"example": "1 point per 1 AED"})
    points = fields.Integer(metadata={"example": 129})
    rule_id = fields.Integer(metadata={"may_be_absent": True, "description": "the bonus rule (absent for the base rate)"})


class PurchaseSchema(Schema):
    id = fields.Integer(attribute="purchase.id", metadata={"example": 311})
    receipt_number = fields.String(attribute="purchase.receipt_number", metadata={"example": "INV-2026-004211"})
    points_earned = fields.Integer(attribute="purchase.points_earned", metadata={"example": 129})
    balance = fields.Integer(metadata={"example": 1379})
    tier = fields.String(validate=TIERS)
    breakdown = fields.List(fields.Nested(BreakdownLine))


class RefundSchema(Schema):
    purchase_id = fields.Integer(metadata={"example": 311})
    points_reversed = fields.Integer(metadata={"example": 129})
    shortfall = fields.Integer(metadata={"example": 0, "description": "points already spent that could not be taken back"})
    balance = fields.Integer(metadata={"example": 1250})


class TierSchema(Schema):
    code = fields.String(validate=TIERS, metadata={"description": "the stable code, as /me's tier says it"})
    name = fields.String(metadata={"example": "Blue"})
    multiplier = fields.Decimal(as_string=True, metadata={"description": "points earned per base point",
                                                          "example": "1.250"})
    qualifying_points = fields.Integer(metadata={"example": 1250})
    next_tier = fields.String(allow_none=True, metadata={"example": "Silver",
                                                         "description": "the next tier's name (null at the top)"})
    points_to_next = fields.Integer(allow_none=True, metadata={"example": 750})


class ExpiringSchema(Schema):
    points = fields.Integer(metadata={"example": 300})
    expires_at = fields.DateTime()


class WalletSchema(Schema):
    balance = fields.Integer(metadata={"example": 1250})
    pending = fields.Integer(metadata={"example": 0})
    lifetime_earned = fields.Integer(metadata={"example": 1550})
    currency_value = fields.Nested(MoneySchema, allow_none=True, metadata={
        "description": "what the balance is worth in the member's currency, where the program says (null until then)"})
    expiring = fields.List(fields.Nested(ExpiringSchema))
    tier = fields.Nested(TierSchema)
    active_vouchers = fields.Integer(metadata={"example": 0})


def wallet_body(wallet: WalletOverview) -> dict[str, Any]:
    """What ``WalletSchema().dump(wallet)`` gives, built directly: the screen every partner opens
    first, where marshmallow's nested dump was about a tenth of a read's CPU (py-spy, in process;
    bench/README.md). The schema stays the contract (the OpenAPI document, the tests compare
    the two on generated wallets); this only writes it faster."""
    tier = wallet.tier
    return {
        "balance": wallet.balance,
        "pending": wallet.pending,
        "lifetime_earned": wallet.lifetime_earned,
        "currency_value": None if wallet.currency_value is None else MoneySchema().dump(wallet.currency_value),
        "expiring": [{"points": e.points, "expires_at": e.expires_at.isoformat()} for e in wallet.expiring],
        "tier": {
            "code": tier.code,
            "name": tier.name,
            "multiplier": format(Decimal(str(tier.multiplier)), "f"),  # as fields.Decimal(as_string=True)
            "qualifying_points": tier.qualifying_points,
            "next_tier": tier.next_tier,
            "points_to_next": tier.points_to_next,
        },
        "active_vouchers": wallet.active_vouchers,
    }


class TransactionSchema(Schema):
    id = fields.Integer(attribute="transaction.id", metadata={"example": 1021})
    type = fields.String(attribute="transaction.type", validate=validate.OneOf([t.value for t in TxType]))
    points = fields.Integer(attribute="amount", metadata={"example": 129})
    balance_after = fields.Integer(metadata={"example": 1379})
    description = fields.String(attribute="transaction.description", metadata={"example": "Purchase INV-2026-004211"})
    created_at = fields.DateTime()
    reference = fields.String(attribute="transaction.reference", allow_none=True, metadata={"example": "purchase:311"})
    breakdown = fields.List(fields.Nested(BreakdownLine), attribute="transaction.breakdown", allow_none=True)


class TransactionPageSchema(Schema):
    items = fields.List(fields.Nested(TransactionSchema))
    next_cursor = fields.String(allow_none=True)


class CardSchema(Schema):
    member_number = fields.String(metadata={"example": "40123456787"})
    qr_payload = fields.String(attribute="payload",
                               metadata={"example": "PW1.k1.40123456787.1975411.MZXW6YTBOI2TKNZUGQ3DAMJRGY"})
    expires_at = fields.DateTime()


class AdjustmentCreateSchema(Schema):
    points = fields.Integer(required=True, strict=True,
                            validate=[validate.Range(min=-10_000_000, max=10_000_000),
                                      validate.NoneOf([0], error="must not be zero")], metadata={"example": 250})
    reason = fields.String(required=True, validate=[validate.Length(min=3, max=500), not_blank],
                           metadata={"example": "goodwill: the till was offline on 21 November"})


class AdjustmentSchema(Schema):
    id = fields.Integer(metadata={"example": 1022})
    points = fields.Integer(metadata={"example": 250})
    balance = fields.Integer(metadata={"example": 1500})
    reason = fields.String(metadata={"example": "goodwill: the till was offline on 21 November"})


class ProgramSchema(Schema):
    country = fields.String(dump_only=True)
    currency = Currency(required=True)
    points_per_unit = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=10_000),
                                     metadata={"example": 1})
    per_amount = DecimalString(required=True, validate=validate.Range(min=Decimal("0.001"), max=Decimal(1_000_000)))
    rounding = fields.String(load_default="down", validate=validate.OneOf(["down", "half_up", "up"]))
    min_purchase = DecimalString(load_default=Decimal(0), validate=validate.Range(min=Decimal(0), max=Decimal(1_000_000)))
    daily_cap = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1, max=10**12))
    expiry_months = fields.Integer(load_default=24, strict=True, validate=validate.Range(min=1, max=120))
    max_bonus_multiplier = DecimalString(load_default=Decimal(3), validate=validate.Range(min=Decimal(1), max=Decimal(100)),
                                         metadata={"description": "the largest multiplier a marketer's bonus may have "
                                                                  "without an admin's approval"})
    max_bonus_per_item = fields.Integer(load_default=50, strict=True, validate=validate.Range(min=0, max=100_000),
                                        metadata={"description": "the most points per item, likewise"})
    max_bonus_per_purchase = fields.Integer(load_default=10_000, strict=True, validate=validate.Range(min=0, max=10**9),
                                            metadata={"description": "what all bonuses together may add to one purchase"})


class BonusTermsSchema(Schema):
    """What a bonus gives, on what, and when: shared by bonus rules and campaign offers."""

    country = Country(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["multiplier", "per_item"]))
    value = DecimalString(required=True, validate=validate.Range(min=Decimal("0.001"), max=Decimal(1000)))
    skus = fields.List(fields.String(validate=SKU), load_default=list, validate=validate.Length(max=1000),
                       metadata={"example": ["MPS5-2055516"]})
    categories = fields.List(fields.String(validate=SKU), load_default=list, validate=validate.Length(max=100),
                             metadata={"example": ["tyres"]})
    starts_at = Timestamp(required=True)
    ends_at = Timestamp(required=True)

    @validates_schema
    def window(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "starts_at" in data and "ends_at" in data and data["ends_at"] <= data["starts_at"]:
            raise ValidationError("must be after starts_at", "ends_at")


class BonusRuleSchema(BonusTermsSchema):
    id = fields.Integer(dump_only=True)
    name = Name(required=True, metadata={"example": "Double points on Michelin, December"})
    tiers = fields.List(fields.String(validate=validate.Length(max=32)), load_default=list)
    active = StrictBoolean(load_default=True)
    status = fields.String(dump_only=True, validate=validate.OneOf(["approved", "pending_approval"]), metadata={
        "description": "approved, or pending_approval: a marketer's bonus above the program's limits, "
                       "which gives nothing until an admin approves it"})
    approved_at = fields.DateTime(dump_only=True, allow_none=True)


class BonusRulePageSchema(Schema):
    items = fields.List(fields.Nested(BonusRuleSchema))
    next_cursor = fields.String(allow_none=True)


class BonusRulePatchSchema(Schema):
    active = StrictBoolean()
    ends_at = Timestamp()
    name = Name(metadata={"example": "Double points on Michelin, December"})


class ProductSchema(Schema):
    sku = fields.String(dump_only=True)
    name = Name(required=True, metadata={"example": "Michelin Pilot Sport 5 205/55 R16"})
    category = fields.String(required=True, validate=SKU, metadata={"example": "tyres"})
