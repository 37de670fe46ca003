"""What every request passes before a view sees it, and what every response carries.

Before: a body must be of a media type the endpoint reads (JSON, or multipart where a view
says so: else 415); a JSON body may nest at most ``MAX_JSON_DEPTH`` deep (Python's parser
recurses, and 2,000 ``[`` in 4 KB would otherwise be a RecursionError, a 500, for anyone);
no text anywhere may hold U+0000 (PostgreSQL text cannot store it, and a failure in the
database would log the statement). This covers every ``application/*+json`` type webargs
parses, the path and the query string, not only ``application/json``.

After: ``nosniff``, no framing, a strict CSP on everything but the docs page, no caching
unless a view allowed it (tokens, cards and wallets are one person's), and ``Retry-After``
only where it means something (429, 503): Flask-Limiter adds it to every limited response.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Callable, TypeVar

from flask import Flask, Response, current_app, request

from api.errors import error_body
from infra.errors import TooLarge

F = TypeVar("F", bound=Callable[..., Any])
# What a multipart body adds around its file: boundaries and part headers.
MULTIPART_SLACK = 64 * 1024

MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(rb"[\[\]{}]")
_ESCAPED_NUL = re.compile(rb"\\u0000", re.I)
# A UTF-16 surrogate escape that is not half of a pair: Python reads it into a str that no
# encoder (UTF-8, PostgreSQL) will take.
_LONE_SURROGATE = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
                             rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}")

API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; frame-ancestors 'none'")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def json_depth(raw: bytes) -> int:
    """How deep arrays and objects nest in ``raw`` (strings skipped), without parsing it."""
    depth = deepest = 0
    for bracket in _BRACKET.finditer(_JSON_STRING.sub(b'""', raw)):
        if bracket.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def accepts_multipart(endpoint: str | None, app: Flask) -> bool:
    return bool(getattr(_view_class(endpoint, app), "accepts_multipart", False))


def upload_limit(max_bytes: Callable[[], int]) -> Callable[[F], F]:
    """Let this view's body be as large as ``max_bytes()`` (plus multipart's framing), not the
    JSON limit: a declared Content-Length over it is a 413 before a byte is read, and a body
    without one stops being read there (werkzeug's limit). Put it in the class's
    ``decorators`` before the role check, which then runs first."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            limit = max_bytes()
            if request.content_length is not None and request.content_length > limit + MULTIPART_SLACK:
                raise TooLarge(f"the upload is over its limit of {limit / 1_048_576:.0f} MB; nothing was read")
            request.max_content_length = limit + MULTIPART_SLACK
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def _refuse(status: int, message: str, errors: dict[str, Any] | None = None) -> tuple[dict[str, Any], int]:
    return error_body(status, message, errors), status


def _view_class(endpoint: str | None, app: Flask) -> Any:
    return getattr(app.view_functions.get(endpoint or ""), "view_class", None)


def _check_request() -> tuple[dict[str, Any], int] | None:
    # An upload endpoint names its own body limit (``max_upload_bytes``); werkzeug answers 413
    # from Content-Length before reading, and stops a body without one at the limit.
    upload_limit = getattr(_view_class(request.endpoint, current_app), "max_upload_bytes", None)
    if upload_limit:
        request.max_content_length = upload_limit
    if "\x00" in request.path or b"%00" in request.query_string or b"\x00" in request.query_string:
        return _refuse(400, "The URL holds a NUL character (%00), which no path or parameter accepts.")
    if request.method not in BODY_METHODS or not request.content_length:
        return None
    if request.is_json:
        raw = request.get_data(cache=True)
        # A body cannot nest deeper than it opens: most are let through on that count alone.
        if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and json_depth(raw) > MAX_JSON_DEPTH:
            return _refuse(400, f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.")
        if _ESCAPED_NUL.search(raw):
            return _refuse(400, "The body holds a NUL character (\\u0000), which no field accepts.")
        if _LONE_SURROGATE.search(raw):
            return _refuse(400, "The body holds half of a UTF-16 surrogate pair (\\ud800 to \\udfff alone), "
                                "which is no character.")
        return None
    if request.mimetype == "multipart/form-data" and accepts_multipart(request.endpoint, current_app):
        return None
    expected = "multipart/form-data" if accepts_multipart(request.endpoint, current_app) else "application/json"
    return _refuse(415, f"The body must be {expected}, not {request.mimetype or 'of no type'}.",
                   {"headers": {"Content-Type": [f"use {expected}"]}})


def _secure(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    docs = request.path.startswith("/api/v1/docs")
    headers.setdefault("Content-Security-Policy", DOCS_CSP if docs else API_CSP)
    headers.setdefault("Referrer-Policy", "no-referrer")
    if "Cache-Control" not in headers and not docs:
        headers["Cache-Control"] = "no-store"
    if response.status_code not in (429, 503):
        headers.pop("Retry-After", None)
    headers.pop("Server", None)
    return response


def init_app(app: Flask) -> None:
    app.before_request(_check_request)
    app.after_request(_secure)
