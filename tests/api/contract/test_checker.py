"""The response check catches drift: a response that strays from the document fails, naming the
operation and the field."""

from __future__ import annotations

import json

import pytest
from werkzeug.datastructures import Headers

from tests.api.contract.checker import ContractViolation, Exchange, check

WALLET = {"balance": 10, "pending": 0, "lifetime_earned": 10, "currency_value": None, "expiring": [],
          "tier": {"code": "blue", "name": "Blue", "multiplier": "1.000", "qualifying_points": 10,
                   "next_tier": "Silver", "points_to_next": 1990}, "active_vouchers": 0}


def _wallet(status: int = 200, **changes) -> Exchange:
    body = {**WALLET, **changes}
    return Exchange("GET", "/api/v1/me/wallet", status, "application/json", Headers(),
                    json.dumps({k: v for k, v in body.items() if v != "absent"}).encode())


def test_a_response_as_documented_passes(app):
    check(app, _wallet())


@pytest.mark.parametrize("changes, words", [
    ({"balance": "10"}, ["getWallet", "balance", "'10' is not of type 'integer'"]),
    ({"pending": "absent"}, ["getWallet", "'pending' is a required property"]),
    ({"surprise": 1}, ["getWallet", "'surprise' was unexpected"]),
    ({"tier": {**WALLET["tier"], "multiplier": 1.0}}, ["getWallet", "tier/multiplier", "not of type 'string'"]),
    ({"tier": {**WALLET["tier"], "code": "diamond"}}, ["getWallet", "tier/code", "'diamond' is not one of"]),
])
def test_a_response_that_strays_from_the_document_fails_naming_the_operation_and_the_field(app, changes, words):
    with pytest.raises(ContractViolation) as failure:
        check(app, _wallet(**changes))
    for word in words:
        assert word in str(failure.value)


def test_a_status_the_operation_does_not_declare_fails_even_though_default_would_match(app):
    with pytest.raises(ContractViolation, match="getWallet answered 409, which its responses do not declare"):
        check(app, Exchange("GET", "/api/v1/me/wallet", 409, "application/json", Headers(),
                            b'{"code": 409, "status": "Conflict", "message": "m"}'))


def test_an_error_without_the_shared_body_fails(app):
    with pytest.raises(ContractViolation, match="'message' is a required property"):
        check(app, Exchange("GET", "/api/v1/me/wallet", 403, "application/json", Headers(),
                            b'{"code": 403, "status": "Forbidden"}'))


def test_a_401_without_its_www_authenticate_header_fails(app):
    with pytest.raises(ContractViolation, match="WWW-Authenticate"):
        check(app, Exchange("GET", "/api/v1/me/wallet", 401, "application/json", Headers(),
                            b'{"code": 401, "status": "Unauthorized", "message": "sign in first"}'))


def test_paths_outside_the_document_are_not_checked(app):
    check(app, Exchange("GET", "/healthz", 200, "text/plain", Headers(), b"anything"))
    check(app, Exchange("GET", "/api/v1/me/wallet/..", 404, "text/plain", Headers(), b"x"))
