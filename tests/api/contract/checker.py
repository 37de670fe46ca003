"""Every response the test suite receives, checked against the served OpenAPI document.

``ContractClient`` is the test client of every app the suite builds (``tests/conftest.py`` sets it
as ``Flask.test_client_class``): after each request whose path and method the document has, the
response is validated with openapi-core, and a mismatch fails the test that made the request,
naming the operation, the status and the field. Requests the document does not describe
(``/healthz``, ``/files``, the docs page, a method a path does not take) pass unchecked; so does
the request itself, since some tests send garbage on purpose.

It is stricter than the document in two ways a client relies on:
- a status below 500 must be declared by the operation itself, not only by ``default``;
- a received object may hold only the fields its schema lists (the document leaves
  ``additionalProperties`` open, so that clients ignore fields added later; the server must still
  not send a field the document does not name).

One validator per distinct document (the apps of the suite differ only in settings), built once.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict
from werkzeug.test import TestResponse

SPEC_PATH = "/api/v1/openapi.json"
# Apple's PassKit web service answers as Apple specifies (plain 401s, 304s), not as this API does.
UNCHECKED_PREFIXES = ("/passkit/",)
HOST = "http://localhost"
METHODS = ("get", "put", "post", "patch", "delete")


class ContractViolation(AssertionError):
    """A response the document does not allow."""


@dataclass
class Contract:
    openapi: OpenAPI
    routes: list[tuple[re.Pattern[str], str, dict[str, Any]]]  # (path regex, template, path item)
    checked: set[tuple[str, str]] = field(default_factory=set)  # (operationId, status) seen

    def find(self, path: str, method: str) -> tuple[str, dict[str, Any]] | None:
        for pattern, template, item in self.routes:
            if pattern.fullmatch(path):
                operation = item.get(method)
                return (template, operation) if isinstance(operation, dict) else None
        return None


_contracts: dict[str, Contract] = {}
_lock = threading.Lock()
_EXTENSION = "contract_checker"


def strict(document: dict[str, Any]) -> dict[str, Any]:
    """The document as the checker reads it: served from ``HOST``, every listed object closed."""
    document = copy.deepcopy(document)
    document["servers"] = [{"url": HOST}]

    def close(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(document.get("components", {}).get("schemas", {}))
    return document


def _route(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    # A parameter is one segment, and not "." or ".." (a URL resolves those: they name no parameter).
    return re.compile("".join(r"(?!\.\.?(?:/|$))[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


def contract_of(app: Flask) -> Contract:
    """The validator of the document ``app`` serves (fetched with a plain client: nothing to check)."""
    known = app.extensions.get(_EXTENSION)
    if known is not None:
        return known
    served = FlaskClient(app).get(SPEC_PATH)
    assert served.status_code == 200, served.status_code
    text = served.get_data(as_text=True)
    digest = hashlib.sha256(text.encode()).hexdigest()
    with _lock:
        contract = _contracts.get(digest)
        if contract is None:
            document = json.loads(text)
            # Longest templates first, so /purchases/{id}/refund is not taken for another path.
            routes = sorted(((_route(t), t, item) for t, item in document["paths"].items()),
                            key=lambda r: (-r[1].count("/"), r[1].count("{")))
            contract = Contract(OpenAPI.from_dict(strict(document)), routes)
            _contracts[digest] = contract
    app.extensions[_EXTENSION] = contract
    return contract


class _Request:
    """What openapi-core needs of the request to find the operation: no body, no parameters (the
    request is not what is checked)."""

    def __init__(self, path: str, method: str) -> None:
        self.host_url, self.path, self.method = HOST, path, method
        self.parameters = RequestParameters(query=ImmutableMultiDict(), header=Headers(), cookie=ImmutableMultiDict())
        self.body, self.content_type = None, "application/json"


@dataclass
class Exchange:
    """One request and the response it got, as the checker needs them (from a Flask test client or httpx)."""

    method: str
    path: str
    status_code: int
    content_type: str
    headers: Headers
    data: bytes

    @classmethod
    def of_flask(cls, response: TestResponse) -> "Exchange":
        return cls(response.request.method, response.request.path, response.status_code, response.mimetype or "",
                   Headers(response.headers), response.get_data())

    @classmethod
    def of_httpx(cls, response: Any) -> "Exchange":
        """From an ``httpx.Response`` (read first: the body is checked)."""
        response.read()
        content_type = response.headers.get("content-type", "").split(";")[0].strip()
        return cls(response.request.method, response.request.url.path, response.status_code, content_type,
                   Headers(list(response.headers.items())), response.content)


def describe(error: BaseException) -> str:
    """The field and the reason, from openapi-core's error and the schema errors under it."""
    lines = [f"{type(error).__name__}: {error}"]
    cause: BaseException | None = error
    while cause is not None:
        for schema_error in getattr(cause, "schema_errors", ()) or ():
            where = "/".join(str(p) for p in schema_error.absolute_path) or "(the body)"
            lines.append(f"  at {where}: {schema_error.message}")
        cause = cause.__cause__ or cause.__context__
    return "\n".join(lines)


def check(app: Flask, exchange: Exchange) -> None:
    """Raise ``ContractViolation`` when the response is not what the document says its operation answers."""
    method = exchange.method.lower()
    if method not in METHODS or exchange.path == SPEC_PATH or exchange.path.startswith(UNCHECKED_PREFIXES):
        return
    contract = contract_of(app)
    found = contract.find(exchange.path, method)
    if found is None:
        return
    template, operation = found
    name = operation.get("operationId") or f"{method.upper()} {template}"
    status = str(exchange.status_code)
    body = exchange.data.decode("utf-8", "replace")
    if status not in operation.get("responses", {}) and exchange.status_code < 500:
        raise ContractViolation(f"{name} answered {status}, which its responses do not declare "
                                f"(declared: {', '.join(operation.get('responses', {}))}): {body[:300]}")
    try:
        contract.openapi.validate_response(_Request(exchange.path, method), exchange)
    except Exception as error:  # openapi-core's errors have no common base worth naming
        raise ContractViolation(f"{name} answered {status} with a response the document does not allow:\n"
                                f"{describe(error)}\nbody: {body[:500]}") from None
    contract.checked.add((name, status))


class ContractClient(FlaskClient):
    """A test client that validates every response against the document (``check``)."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        check(self.application, Exchange.of_flask(response))
        return response
