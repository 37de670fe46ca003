"""``Idempotency-Key`` for value-moving POSTs.

A view wrapped by ``value_moving`` runs once per key: the wrapper first reserves the caller's
key (if one was sent) in the request's transaction, then stores the response under it, so
the request's one commit (``api.db``) keeps both or neither; requests with the same key at
once wait for the first and replay its answer (``infra.idempotency.reserve``). A retry with the same key and body gets the stored response
without running the view again; with another body, 409.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any, Callable, TypeVar

from flask import Response, request
from flask_smorest import abort

from api.auth import signed_in
from api.clock import now
from api.db import get_session
from api.spec import marks
from infra import idempotency

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
        if key is None:
            return view(*args, **kwargs)
        key = key.strip()
        if not key or len(key) > MAX_KEY or not key.isprintable() or not key.isascii():
            abort(400, message=f"{HEADER} must be 1 to {MAX_KEY} printable ASCII characters",
                  errors={"headers": {HEADER: [f"1 to {MAX_KEY} printable ASCII characters"]}})
        session = get_session()
        scope = f"user:{signed_in().user_id}"
        earlier = idempotency.reserve(session, scope=scope, key=key, request_hash=_request_hash(), now=now())
        if earlier is not None:
            return _replay(earlier)
        response = view(*args, **kwargs)
        if isinstance(response, Response) and response.status_code < 400:
            idempotency.complete(session, scope=scope, key=key, status=response.status_code,
                                 body=response.get_data(as_text=True))
        # An error answer is not stored: the request rolls back, the reservation with it, and a
        # retry runs again.
        return response

    setattr(wrapper, marks.VALUE_MOVING, True)  # the OpenAPI document's Idempotency-Key, replay header, 409
    return wrapper  # type: ignore[return-value]
