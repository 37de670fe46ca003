"""``Idempotency-Key`` for value-moving POSTs.

A view wrapped by ``value_moving`` runs once per key: on success the wrapper stores the
response under the caller's key (if one was sent) in the request's transaction, so the
request's one commit (``api.db``) keeps both or neither. A retry with the same key and body gets the stored response
without running the view again; with another body, 409.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any, Callable, TypeVar

from flask import Response, request
from flask_smorest import abort

from api.auth import current_user
from api.clock import now
from api.db import get_session
from infra import idempotency
from infra.errors import IdempotencyConflict

F = TypeVar("F", bound=Callable[..., Any])
HEADER = "Idempotency-Key"
MAX_KEY = 255


def _request_hash() -> str:
    body = request.get_json(silent=True)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")) if body is not None else request.get_data(as_text=True)
    return hashlib.sha256(f"{request.method} {request.path}\n{canonical}".encode()).hexdigest()


def _replay(record: idempotency.IdempotencyRecord) -> Response:
    replay = Response(record.body, status=record.status, mimetype="application/json")
    replay.headers["Idempotent-Replayed"] = "true"
    return replay


def value_moving(view: F) -> F:
    """Run ``view`` once per key; store its response with its work.

    Wrap outside ``@blp.response`` so the stored body is what the client received.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        session = get_session()
        if key is not None:
            key = key.strip()
            if not key or len(key) > MAX_KEY:
                abort(400, message=f"{HEADER} must be 1 to {MAX_KEY} characters",
                      errors={"headers": {HEADER: ["1 to 255 characters"]}})
            scope = f"user:{current_user().id}"
            digest = _request_hash()
            record = idempotency.find(session, scope=scope, key=key, request_hash=digest)
            if record is not None:
                return _replay(record)
        response = view(*args, **kwargs)
        if key is not None and isinstance(response, Response) and response.status_code < 400:
            try:
                idempotency.save(session, scope=scope, key=key, request_hash=digest, status=response.status_code,
                                 body=response.get_data(as_text=True), now=now())
            except IdempotencyConflict:
                # The same request, sent twice at once, committed first on the other
                # connection: undo this copy's work and answer with theirs.
                session.rollback()
                record = idempotency.find(session, scope=scope, key=key, request_hash=digest)
                if record is None:
                    raise
                return _replay(record)
        return response

    return wrapper  # type: ignore[return-value]
