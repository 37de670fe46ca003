"""Request and response bodies for accounts, sign-in, staff and stores."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.fields import Country, Currency, Email, Id, Language, Name, Password, Phone, StrictBoolean, Timezone
from wallet.members import numbers as member_numbers
from wallet.members.models import STAFF_ROLES, TIER_CODES

# Validators on what the server sends are never run: they say what the values can be (enums).
TIERS = validate.OneOf(TIER_CODES)


class RegisterSchema(Schema):
    email = Email(required=True)
    password = Password(required=True)
    name = Name(required=True)
    phone = Phone(allow_none=True)
    country = Country(required=True)
    city = fields.String(allow_none=True, validate=validate.Length(max=120))
    language = Language(allow_none=True)
    timezone = Timezone(allow_none=True)
    company_name = fields.String(allow_none=True, validate=validate.Length(max=120))
    invite_code = fields.String(allow_none=True, validate=validate.Length(max=32))
    marketing_opt_in = StrictBoolean(load_default=False)


class LoginSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    # No minimum here: a wrong password is a 401, not a hint about the rules.
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=128))


class RefreshSchema(Schema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=128))


class TokenPairSchema(Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String(validate=validate.OneOf(["Bearer"]))
    expires_in = fields.Integer(metadata={"description": "seconds the access token lives", "example": 900})


class MemberSchema(Schema):
    id = fields.Integer()
    member_number = fields.String()
    member_number_display = fields.Function(lambda m: member_numbers.display(m.member_number), metadata={
        "type": "string", "description": "the member number grouped for reading aloud"})
    name = fields.String()
    email = fields.String()
    phone = fields.String(allow_none=True)
    country = Country()
    city = fields.String(allow_none=True)
    language = Language()
    timezone = fields.String()
    company_name = fields.String(allow_none=True)
    tier = fields.String(validate=TIERS, metadata={"description": "the tier's stable code"})
    tier_name = fields.String(metadata={"description": "the tier's name as a partner reads it"})
    marketing_opt_in = fields.Boolean()
    created_at = fields.DateTime()


class RegisteredSchema(TokenPairSchema):
    member = fields.Nested(MemberSchema)


class ProfileUpdateSchema(Schema):
    name = Name()
    phone = Phone(allow_none=True)
    city = fields.String(allow_none=True, validate=validate.Length(max=120))
    language = Language()
    timezone = Timezone()
    company_name = fields.String(allow_none=True, validate=validate.Length(max=120))
    marketing_opt_in = StrictBoolean()


class StaffCreateSchema(Schema):
    email = Email(required=True)
    password = Password(required=True)
    name = Name(required=True)
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in STAFF_ROLES]))
    store_id = Id(allow_none=True)


class StaffSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String(validate=validate.OneOf([r.value for r in STAFF_ROLES]))
    store_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class StoreCreateSchema(Schema):
    name = Name(required=True)
    country = Country(required=True)
    city = fields.String(allow_none=True, validate=validate.Length(max=120))
    currency = Currency(required=True)


class StoreSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    country = Country()
    city = fields.String(allow_none=True)
    currency = Currency()
    created_at = fields.DateTime()
