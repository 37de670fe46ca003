"""The error body, the error responses and the headers every operation shares, as components.

One ``Error`` schema for every error (``api/errors.py`` sends nothing else), one response component
per status so an operation lists ``401``, ``404``... by reference, and the headers that say how to
retry: ``Retry-After`` and ``X-RateLimit-*`` on 429, ``WWW-Authenticate`` on 401.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from marshmallow import Schema, fields


class ErrorSchema(Schema):
    """What every error answers with (flask-smorest's body, with ``message`` always there)."""

    code = fields.Integer(required=True, metadata={"description": "the HTTP status again", "example": 422})
    status = fields.String(required=True, metadata={"description": "the status' name",
                                                    "example": "Unprocessable Entity"})
    message = fields.String(required=True, metadata={"description": "what went wrong, for a person to read",
                                                     "example": "Some fields are invalid; see errors."})
    errors = fields.Dict(keys=fields.String(), values=fields.Raw(), metadata={
        "description": "field errors by where the input was (json, query, files, headers), then by field: "
                       "a list of messages, or an object of the nested fields' errors (a list of messages "
                       "for the input as a whole, such as a body that is not JSON)",
        "example": {"json": {"total": {"currency": ["Must be one of: AED, SAR."]}}},
        "may_be_absent": True})
    reason = fields.String(metadata={
        "description": "a stable code for what went wrong, for a client to switch on (insufficient_points, "
                       "out_of_stock, limit_reached, already_used, expired...)",
        "example": "insufficient_points", "may_be_absent": True})
    details = fields.Dict(keys=fields.String(), values=fields.Raw(), metadata={
        "description": "the figures behind the message (what was needed and what the balance holds, when and "
                       "where a voucher was used...)",
        "example": {"needed": 300, "balance": 250}, "may_be_absent": True})


HEADERS: dict[str, dict[str, Any]] = {
    "WWW-Authenticate": {"description": "the bearer scheme, and why the token was refused",
                         "schema": {"type": "string", "example": 'Bearer error="invalid_token"'}},
    "Retry-After": {"description": "seconds to wait before trying again",
                    "schema": {"type": "integer", "minimum": 0, "example": 30}},
    "X-RateLimit-Limit": {"description": "requests allowed in the current window",
                          "schema": {"type": "integer", "minimum": 0}},
    "X-RateLimit-Remaining": {"description": "requests left in the current window",
                              "schema": {"type": "integer", "minimum": 0}},
    "X-RateLimit-Reset": {"description": "when the window resets, in seconds since the epoch (UTC)",
                          "schema": {"type": "integer", "minimum": 0}},
    "Idempotent-Replayed": {"description": "present when this is the stored answer to an earlier request "
                                           "with the same Idempotency-Key: the work was not done again",
                            "schema": {"type": "string", "enum": ["true"]}},
}
RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")

IDEMPOTENCY_KEY = "IdempotencyKey"  # the parameter component

# status -> (response component, description). ``default`` covers what no request can avoid: a 500
# (reported to the engineer on call) and a 503 when an outside service is down.
ERRORS: dict[str, tuple[str, str]] = {
    "400": ("BadRequest", "The request is malformed: a body that is not JSON or nests too deep, a NUL character "
                          "or half a surrogate pair, a NUL in the URL, or an Idempotency-Key that is not 1 to 255 "
                          "printable ASCII characters."),
    "401": ("Unauthorized", "No valid access token (absent, expired, revoked, or its account deactivated), or "
                            "credentials that do not match."),
    "403": ("Forbidden", "Signed in, but this role may not do this (or the till's store is closed)."),
    "404": ("NotFound", "What the path (or the body) names does not exist, or is not the caller's."),
    "409": ("Conflict", "The current state forbids it (already used, refunded or decided), or the "
                        "Idempotency-Key was used before with another body."),
    "413": ("PayloadTooLarge", "The body is larger than this operation takes."),
    "415": ("UnsupportedMediaType", "The body is not of the media type this operation reads."),
    "422": ("UnprocessableContent", "Some fields are invalid: ``errors`` names each one."),
    "429": ("TooManyRequests", "Rate limited: wait ``Retry-After`` seconds."),
    "default": ("Error", "Anything else: 500, an unexpected error (logged for the engineer on call), or 503, "
                         "an outside service is unavailable (``Retry-After`` says when to try again)."),
}
ERROR_HEADERS: dict[str, dict[str, bool]] = {
    "401": {"WWW-Authenticate": True},
    "429": {"Retry-After": True, **{name: False for name in RATE_LIMIT_HEADERS}},
    "default": {"Retry-After": False},
}


def header_ref(name: str, required: bool = False) -> dict[str, Any]:
    """A response's header: the shared component, required or not (OpenAPI 3.0 puts ``required`` on the
    Header Object, so a required one is written out in full)."""
    if not required:
        return {"$ref": f"#/components/headers/{name}"}
    return {**HEADERS[name], "required": True}


def register(spec: APISpec, error_schema: type[Schema]) -> None:
    """Add the shared headers, the Idempotency-Key parameter and the error responses to ``spec``."""
    for name, header in HEADERS.items():
        spec.components.header(name, header)
    spec.components.parameter(IDEMPOTENCY_KEY, "header", {
        "name": "Idempotency-Key",
        "description": "Any string you choose (1 to 255 printable ASCII characters), new for each operation you "
                       "mean: sending it again with the same body returns the first answer (with "
                       "``Idempotent-Replayed: true``) instead of doing the work twice; with another body, 409. "
                       "Send it on every retry of a purchase or refund after a timeout.",
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$",
                   "example": "till-7-2026-11-23-0042"},
    })
    for status, (name, description) in ERRORS.items():
        response: dict[str, Any] = {"description": description,
                                    "content": {"application/json": {"schema": error_schema}}}
        if status in ERROR_HEADERS:
            response["headers"] = {h: header_ref(h, required) for h, required in ERROR_HEADERS[status].items()}
        spec.components.response(name, response)
