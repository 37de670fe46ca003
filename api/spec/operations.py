"""An apispec plugin that completes every operation from what its view is.

It runs for each operation flask-smorest documents and reads the view behind it (the werkzeug
rule's endpoint, its view class and method function) for the marks the decorators left
(``api.spec.marks``), the rate limits (``api.limits``) and the class attributes
the guards read (``accepts_multipart``). From those it writes, the same way for every endpoint:

- ``operationId`` from ``operation_ids.OPERATION_IDS``;
- the ``Idempotency-Key`` header parameter and the ``Idempotent-Replayed`` header on value-moving ones;
- ``X-RateLimit-*`` on the successes of rate-limited ones;
- each error status the operation can answer, by reference to the shared responses: 400 always
  (``api.guards`` refuses malformed URLs and bodies before any view), 401 unless public, 403 when
  roles are restricted, 404 when the path names something, 409 for value-moving ones, 413 and
  415 where a body is read, 422 where input is parsed, 429 where rate limited, and whatever
  ``@may_answer`` adds; ``default`` for 500 and 503;
- a description and a ``format: binary`` schema for a response that has none (images).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from apispec import APISpec, BasePlugin
from flask import Flask
from werkzeug.routing import Rule

from api.guards import BODY_METHODS
from api.limits import is_limited
from api.spec import marks, responses
from api.spec.operation_ids import OPERATION_IDS
from wallet.members.models import Role

JSON = "application/json"
METHODS = ("get", "put", "post", "patch", "delete")


class ContractPlugin(BasePlugin):
    def __init__(self, app: Flask, error_schema: Any) -> None:
        self.app = app
        self.error_schema = error_schema

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        responses.register(spec, self.error_schema)

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None,
                         **kwargs: Any) -> None:
        rule: Rule | None = kwargs.get("rule")
        if rule is None or not operations:
            return
        view = self.app.view_functions.get(rule.endpoint)
        view_class = getattr(view, "view_class", None)
        for method, operation in operations.items():
            if method not in METHODS or not isinstance(operation, dict):
                continue
            function = getattr(view_class, method, None) if view_class is not None else view
            self._complete(rule, method, operation, view, view_class, function)

    def _complete(self, rule: Rule, method: str, operation: dict[str, Any], view: Any, view_class: Any,
                  function: Any) -> None:
        operation_id = OPERATION_IDS.get((rule.endpoint, method))
        if operation_id:
            operation["operationId"] = operation_id
        value_moving = bool(getattr(function, marks.VALUE_MOVING, False))
        limited = is_limited(rule.endpoint, method)
        if value_moving:
            operation.setdefault("parameters", []).append(responses.IDEMPOTENCY_KEY)

        answered = {str(code): response for code, response in operation.get("responses", {}).items()}
        for code, response in answered.items():
            if isinstance(response, dict):
                _describe(code, response)
                if code.startswith("2"):
                    headers = response.setdefault("headers", {})
                    if value_moving:
                        headers["Idempotent-Replayed"] = responses.header_ref("Idempotent-Replayed")
                    if limited:
                        headers.update({h: responses.header_ref(h) for h in responses.RATE_LIMIT_HEADERS})
                    if not headers:
                        del response["headers"]

        errors = {"400", "default"}
        public = operation.get("security") == []
        if not public:
            errors.add("401")
        allowed = getattr(view, marks.ROLES, None)
        if allowed is not None and set(allowed) != {r.value for r in Role}:
            errors.add("403")
        if rule.arguments:
            errors.add("404")
        if value_moving:
            errors.add("409")
        if method.upper() in BODY_METHODS:
            errors |= {"413", "415"}
        if "422" in answered or "requestBody" in operation or _reads_input(operation):
            errors.add("422")
        if limited:
            errors.add("429")
        for source in (function, view_class):
            errors |= {str(code) for code in getattr(source, marks.MAY_ANSWER, ())}
        for code in errors:
            answered[code] = responses.ERRORS[code][0]
        operation["responses"] = dict(sorted(answered.items(), key=lambda item: (item[0] == "default", item[0])))


def _reads_input(operation: dict[str, Any]) -> bool:
    return any(isinstance(p, dict) and p.get("in") in ("query", "header") for p in operation.get("parameters", []))


def _describe(code: str, response: dict[str, Any]) -> None:
    """A response must say what it is; a non-JSON body is bytes of its media type."""
    if not response.get("description"):
        response["description"] = HTTPStatus(int(code)).phrase if code.isdigit() else "Other"
    for media_type, media in response.get("content", {}).items():
        if media_type != JSON and not media.get("schema"):
            media["schema"] = {"type": "string", "format": "binary"}
