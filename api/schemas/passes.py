"""What the wallet-pass endpoints answer in JSON (the Apple pass itself is a file)."""

from __future__ import annotations

from marshmallow import Schema, fields


class SaveLinkSchema(Schema):
    save_url = fields.String(required=True, metadata={
        "description": "A \"Save to Google Wallet\" link; its JWT is signed with the issuer's service-account key",
        "example": "https://pay.google.com/gp/v/save/eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9.e30.c2ln"})
