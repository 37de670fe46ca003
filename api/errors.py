"""Every error leaves the API in flask-smorest's body: ``{code, status, message, errors?}``.

Domain errors are mapped to HTTP here and nowhere else. Two gaps in flask-smorest's
own handler are closed: it drops the headers an exception carries (``Allow`` on a
405, ``Retry-After`` on a 503), and it sends no ``message`` for a plain ``abort``.
"""

from __future__ import annotations

import logging
from typing import Any

import flask_smorest
from flask import Flask, request
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from api.spec.responses import ErrorSchema
from infra import errors as kinds
from infra import logs

logger = logging.getLogger(__name__)

# By kind (``infra.errors``), not by each error: a new domain error needs no line here.
# Most specific first: the first kind an error is an instance of decides.
DOMAIN_STATUS: tuple[tuple[type[kinds.DomainError], int], ...] = (
    (kinds.AuthenticationFailed, 401),
    (kinds.NotFound, 404),
    (kinds.Conflict, 409),
    (kinds.InvalidInput, 422),
    (kinds.TooLarge, 413),
    (kinds.UnsupportedMediaType, 415),
    (kinds.Unavailable, 503),
)


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema  # the error body as it is: ``message`` always there

    def handle_http_exception(self, error: HTTPException) -> tuple[dict[str, Any], int, dict[str, str]]:
        payload, code, headers = super().handle_http_exception(error)
        if "message" not in payload:
            payload["message"] = _message(error, payload)
        carried = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        return payload, code, {**carried, **(headers or {})}


def _message(error: HTTPException, payload: dict[str, Any]) -> str:
    if isinstance(error, RateLimitExceeded):
        return f"Too many requests (at most {error.description}); try again after Retry-After seconds."
    if "errors" in payload:
        if error.code == 400:
            return "The request body is not valid JSON."
        return "Some fields are invalid; see errors."
    return error.description or error.name


def error_body(status: int, message: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": status, "status": HTTP_STATUS_CODES.get(status, "Error"), "message": message}
    if errors:
        body["errors"] = errors
    return body


def nested(path: str, messages: list[str]) -> dict[str, Any]:
    """``"total.currency"`` -> ``{"total": {"currency": [...]}}``: the shape marshmallow gives
    schema errors, so a client reads field errors one way whoever found them."""
    tree: Any = messages
    for part in reversed(path.split(".")):
        tree = {part: tree}
    return tree


def _domain_error(error: kinds.DomainError) -> tuple[dict[str, Any], int, dict[str, str]]:
    status = next((code for cls, code in DOMAIN_STATUS if isinstance(error, cls)), 400)
    if isinstance(error, kinds.Unavailable):
        wait = max(60, round(error.retry_after))
        message = f"{error.service} is unavailable right now, try again in a minute: {error.message}"
        return error_body(503, message), 503, {"Retry-After": str(wait)}
    errors = {"json": nested(error.field, [error.message])} if error.field else None
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    body = error_body(status, error.message, errors)
    # A refusal a client switches on (out_of_stock, already_used, ...) and its facts (when and
    # where a voucher was used), beside the message a person reads.
    reason, details = getattr(error, "reason", None), getattr(error, "details", None)
    if isinstance(reason, str):
        body["reason"] = reason
    if isinstance(details, dict) and details:
        body["details"] = details
    return body, status, headers


def _unexpected(error: Exception) -> tuple[dict[str, Any], int]:
    # The traceback goes to the log for the engineer on call, never to the client; what the
    # database said about the refused row goes nowhere (infra.logs).
    logger.error("unhandled error on %s %s\n%s", request.method, request.path, logs.describe(error))
    return error_body(500, InternalServerError.description), 500


def init_app(app: Flask) -> None:
    app.register_error_handler(kinds.DomainError, _domain_error)
    app.register_error_handler(Exception, _unexpected)
