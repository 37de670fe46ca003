"""Random JSON at every route of the spec, as every role: never a 500.

Deep nesting, huge and odd numbers, NULs, lone surrogates, every ``+json`` media type and a
few that are not JSON at all, at every operation of ``/api/v1/openapi.json`` with its path
parameters filled in, signed out and as each role.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROLES = ("anonymous", "partner", "cashier", "marketer", "admin")
MEDIA_TYPES = ("application/json", "application/merge-patch+json", "application/vnd.api+json",
               "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded")
PARAM = re.compile(r"\{([^}]+)\}")

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(), st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["\x00", "a\x00b", "\ud800", "\udfff", "١٢٣", "1e7", "-0", "NaN", "Infinity", "  ", "\u200b",
                     "9" * 400, "2026-11-23T09:00:00+04:00", "AED", "PW1.k1.00000000000.0.A", "' OR 1=1 --"]),
)
documents = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=5),
    st.dictionaries(st.sampled_from(["email", "password", "name", "country", "total", "amount", "currency",
                                     "items", "rules", "all", "any", "field", "op", "value", "token", "platform",
                                     "qr_payload", "member_number", "receipt_number", "points", "reason",
                                     "message", "title", "body", "offer", "segment_id", "send_at", "kind",
                                     "starts_at", "ends_at", "refresh_token", "role", "store_id", "read",
                                     "opened", "marketing_opt_in", "sku", "quantity", "unit_price", "reward_id",
                                     "code", "delivery_address", "names", "tiers", "points_cost", "status",
                                     "carrier", "tracking_number"]) | st.text(max_size=8),
                    children, max_size=6),
), max_leaves=25)


def _operations(app):
    spec = app.test_client().get("/api/v1/openapi.json").json
    return [(method.upper(), path) for path, item in sorted(spec["paths"].items())
            for method in item if method in ("get", "post", "put", "patch", "delete")]


@pytest.fixture
def callers(people):
    partner = people.partner()
    return {"anonymous": {}, "partner": partner["headers"], "cashier": people.staff("cashier")["headers"],
            "marketer": people.staff("marketer")["headers"], "admin": people.staff("admin")["headers"]}


def _encode(document, style: str) -> bytes:
    if style == "deep":
        return ("[" * 3000 + "]" * 3000).encode()
    text = json.dumps(document, ensure_ascii=style == "ascii")
    return text.encode("utf-8", "surrogatepass") if style == "utf8" else text.encode()


def _not_configured(response: Any) -> bool:
    """The one 5xx a request may get: an outside service this server has no settings for (Google Wallet
    here), a 503 that says so, never a 500."""
    return response.status_code == 503 and "not configured" in (response.get_json(silent=True) or {}).get("message", "")


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_no_random_document_at_any_route_as_any_role_is_a_500(app, client, callers, data):
    operations = _operations(app)
    method, path = data.draw(st.sampled_from(operations), label="operation")
    role = data.draw(st.sampled_from(ROLES), label="role")
    values = {name: data.draw(st.sampled_from(["1", "2", "99999999999999999999", "x", "AE", "%00", "%2e%2e",
                                               "a" * 300]), label=name)
              for name in PARAM.findall(path)}
    url = PARAM.sub(lambda m: values[m.group(1)], path)
    document = data.draw(documents, label="body")
    style = data.draw(st.sampled_from(["ascii", "utf8", "deep"]), label="encoding")
    media_type = data.draw(st.sampled_from(MEDIA_TYPES), label="media type")
    query = data.draw(st.sampled_from(["", "?limit=0", "?limit=101", "?cursor=%00", "?cursor=abc", "?limit=x"]))

    response = client.open(url + query, method=method, data=_encode(document, style), content_type=media_type,
                           headers={**callers[role], "Idempotency-Key": data.draw(st.sampled_from(["k", "k\x7f", "é"]))})

    assert response.status_code < 500 or _not_configured(response), (method, url, role, media_type,
                                                                      response.get_data(as_text=True)[:300])



# A valid body for each JSON operation, and who may send it: mutated one field at a time
# below, so the random value reaches the schema and the domain, not only the first check.
VALID = {
    ("POST", "/api/v1/auth/register"): ("anonymous", {"email": "f@example.com", "password": "a long enough password",
                                                       "name": "F", "country": "AE", "phone": "+971501234567",
                                                       "timezone": "Asia/Dubai", "language": "ar"}),
    ("POST", "/api/v1/auth/login"): ("anonymous", {"email": "f@example.com", "password": "x"}),
    ("POST", "/api/v1/auth/refresh"): ("anonymous", {"refresh_token": "x"}),
    ("PATCH", "/api/v1/me"): ("partner", {"name": "N", "city": "Dubai", "marketing_opt_in": True}),
    ("POST", "/api/v1/me/devices"): ("partner", {"token": "tok", "platform": "android", "locale": "ar-AE"}),
    ("POST", "/api/v1/pos/scan"): ("cashier", {"member_number": "00000000000"}),
    ("POST", "/api/v1/pos/purchases"): ("cashier", {"member_number": "MEMBER", "receipt_number": "R-1",
                                                    "total": {"amount": "10.00", "currency": "AED"},
                                                    "items": [{"sku": "S", "quantity": 1, "unit_price": "10.00"}]}),
    ("POST", "/api/v1/segments"): ("marketer", {"name": "S", "rules": {"all": [
        {"field": "country", "op": "in", "value": ["AE"]}, {"field": "points_balance", "op": "gte", "value": 5}]}}),
    ("POST", "/api/v1/campaigns"): ("marketer", {"name": "C", "segment_id": 1, "send_at": "2026-12-01T10:00:00+04:00",
                                                 "message": {"title": {"en": "t", "ar": "ع"}, "body": {"en": "b"}},
                                                 "offer": {"country": "AE", "kind": "multiplier", "value": "2",
                                                           "starts_at": "2026-11-01T00:00:00+04:00",
                                                           "ends_at": "2026-12-01T00:00:00+04:00"}}),
    ("POST", "/api/v1/admin/bonus-rules"): ("admin", {"name": "B", "country": "AE", "kind": "per_item", "value": "5",
                                                      "skus": ["S"], "starts_at": "2026-11-01T00:00:00+04:00",
                                                      "ends_at": "2026-12-01T00:00:00+04:00"}),
    ("PUT", "/api/v1/admin/programs/AE"): ("admin", {"currency": "AED", "points_per_unit": 1, "per_amount": "1",
                                                     "daily_cap": 1000, "expiry_months": 12}),
    ("PUT", "/api/v1/admin/products/S"): ("admin", {"name": "Tyre", "category": "tyres"}),
    ("POST", "/api/v1/admin/stores"): ("admin", {"name": "St", "country": "AE", "currency": "AED"}),
    ("POST", "/api/v1/admin/staff"): ("admin", {"email": "s@example.com", "password": "a long enough password",
                                                "name": "S", "role": "cashier", "store_id": 1}),
    ("POST", "/api/v1/admin/members/1/adjustments"): ("admin", {"points": 5, "reason": "goodwill"}),
    ("POST", "/api/v1/admin/rewards"): ("admin", {"kind": "voucher", "code_source": "generated", "category": "c",
                                                  "country": "AE", "points_cost": 10, "stock": 5,
                                                  "face_value": {"amount": "5.00", "currency": "AED"},
                                                  "names": {"en": "R", "ar": "ر"}, "tiers": ["gold"],
                                                  "limit_per_day": 1, "available_until": "2027-01-01T00:00:00Z"}),
    ("PATCH", "/api/v1/admin/rewards/1"): ("admin", {"points_cost": 20, "tiers": ["blue"], "active": True}),
    ("POST", "/api/v1/me/redemptions"): ("partner", {"reward_id": 1, "quantity": 2, "delivery_address": {
        "name": "N", "line1": "L", "city": "Dubai", "country": "AE", "phone": "+971501234567"}}),
    ("POST", "/api/v1/pos/vouchers/redeem"): ("cashier", {"code": "ABCD-EFGH-JKMN-PQR0"}),
    ("POST", "/api/v1/admin/vouchers/1/cancel"): ("admin", {"reason": "sent twice"}),
    ("POST", "/api/v1/admin/orders/1/status"): ("admin", {"status": "shipped", "carrier": "DHL",
                                                          "tracking_number": "T1"}),
}


def _paths(document, prefix=()):
    """Every place in ``document`` a value could be put: each key and each list element."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(document, list):
        for i, value in enumerate(document):
            yield (*prefix, i)
            yield from _paths(value, (*prefix, i))


def _replace(document, path, value):
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[head] = _replace(copy[head], rest, value)
    return copy


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_no_valid_body_with_one_field_made_nasty_is_a_500(client, callers, people, data):
    (method, url), (role, body) = data.draw(st.sampled_from(sorted(VALID.items())), label="operation")
    path = data.draw(st.sampled_from(list(_paths(body))), label="field")
    value = data.draw(scalars | documents, label="value")
    mutated = _replace(body, path, value)
    if data.draw(st.booleans(), label="drop instead") and len(path) == 1:
        mutated = {k: v for k, v in body.items() if k != path[0]}

    response = client.open(url, method=method, data=json.dumps(mutated), content_type="application/json",
                           headers=callers[role])

    assert response.status_code < 500 or _not_configured(response), (method, url, path, value,
                                                                      response.get_data(as_text=True)[:300])
