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
    password = Password(required=True, metadata={"example": "a long enough password"})
    name = Name(required=True, metadata={"example": "Aisha Al Mansoori"})
    phone = Phone(allow_none=True, metadata={"example": "+971501234567"})
    country = Country(required=True)
    city = fields.String(allow_none=True, validate=validate.Length(max=120), metadata={"example": "Dubai"})
    language = Language(allow_none=True)
    timezone = Timezone(allow_none=True, metadata={"example": "Asia/Dubai"})
    company_name = fields.String(allow_none=True, validate=validate.Length(max=120),
                                 metadata={"example": "Al Noor Tyres LLC"})
    invite_code = fields.String(allow_none=True, validate=validate.Length(max=32), metadata={"example": "K7Q2M9XD"})
    marketing_opt_in = StrictBoolean(load_default=False, metadata={"example": True})


class LoginSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254),
                          metadata={"example": "partner@example.com"})
    # No minimum here: a wrong password is a 401, not a hint about the rules.
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=128),
                             metadata={"example": "a long enough password"})


class RefreshSchema(Schema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=128),
                                  metadata={"example": "r1.Zm9vYmFyYmF6cXV4cXV1eA"})


class TokenPairSchema(Schema):
    access_token = fields.String(
                                 metadata={"example": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl"})
    refresh_token = fields.String(metadata={"example": "r1.Zm9vYmFyYmF6cXV4cXV1eA"})
    token_type = fields.String(validate=validate.OneOf(["Bearer"]))
    expires_in = fields.Integer(metadata={"description": "seconds the access token lives", "example": 900})


class MemberSchema(Schema):
    id = fields.Integer(metadata={"example": 42})
    member_number = fields.String(metadata={"example": "40123456787"})
    member_number_display = fields.Function(lambda m: member_numbers.display(m.member_number), metadata={
        "example": "4012 3456 787", "type": "string", "description": "the member number grouped for reading aloud"})
    name = fields.String(metadata={"example": "Aisha Al Mansoori"})
    email = fields.String(metadata={"example": "partner@example.com"})
    phone = fields.String(allow_none=True, metadata={"example": "+971501234567"})
    country = Country()
    city = fields.String(allow_none=True, metadata={"example": "Dubai"})
    language = Language()
    timezone = fields.String(metadata={"example": "Asia/Dubai"})
    company_name = fields.String(allow_none=True, metadata={"example": "Al Noor Tyres LLC"})
    tier = fields.String(validate=TIERS, metadata={"description": "the tier's stable code"})
    tier_name = fields.String(metadata={"example": "Blue", "description": "the tier's name as a partner reads it"})
    marketing_opt_in = fields.Boolean()
    created_at = fields.DateTime()


class RegisteredSchema(TokenPairSchema):
    member = fields.Nested(MemberSchema)


class ProfileUpdateSchema(Schema):
    name = Name(metadata={"example": "Aisha Al Mansoori"})
    phone = Phone(allow_none=True)
    city = fields.String(allow_none=True, validate=validate.Length(max=120), metadata={"example": "Abu Dhabi"})
    language = Language()
    timezone = Timezone(metadata={"example": "Asia/Dubai"})
    company_name = fields.String(allow_none=True, validate=validate.Length(max=120))
    marketing_opt_in = StrictBoolean()


class StaffCreateSchema(Schema):
    email = Email(required=True, metadata={"example": "cashier@example.com"})
    password = Password(required=True, metadata={"example": "a long enough password"})
    name = Name(required=True, metadata={"example": "Till 1, Deira"})
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in STAFF_ROLES]))
    store_id = Id(allow_none=True, metadata={"example": 7})


class StaffSchema(Schema):
    id = fields.Integer(metadata={"example": 9})
    email = fields.String(metadata={"example": "cashier@example.com"})
    name = fields.String(metadata={"example": "Till 1, Deira"})
    role = fields.String(validate=validate.OneOf([r.value for r in STAFF_ROLES]))
    store_id = fields.Integer(allow_none=True, metadata={"example": 7})
    created_at = fields.DateTime()


class StoreCreateSchema(Schema):
    name = Name(required=True, metadata={"example": "Al Noor Tyres, Deira"})
    country = Country(required=True)
    city = fields.String(allow_none=True, validate=validate.Length(max=120), metadata={"example": "Dubai"})
    currency = Currency(required=True)


class StoreSchema(Schema):
    id = fields.Integer(metadata={"example": 7})
    name = fields.String(metadata={"example": "Al Noor Tyres, Deira"})
    country = Country()
    city = fields.String(allow_none=True, metadata={"example": "Dubai"})
    currency = Currency()
    created_at = fields.DateTime()
