"""The served OpenAPI document: valid, and saying what generated clients need, the same way for every
operation (names, retries, errors, decimals, lists)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Iterator

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import OpenAPIV30SpecValidator
from sqlalchemy import select

from api.limits import LIMITED_ENDPOINTS
from api.spec.operation_ids import OPERATION_IDS
from wallet.members.models import TIER_CODES, Tier

METHODS = ("get", "put", "post", "patch", "delete")
VALUE_MOVING = {"bookPurchase", "refundPurchase", "adjustPoints", "redeemReward", "redeemVoucher", "claimOffer",
                "cancelVoucher", "moveOrder"}
PUBLIC = {"register", "logIn", "refreshTokens", "getRewardImage"}


@pytest.fixture
def document(client) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        kind, name = node["$ref"].split("/")[-2:]
        node = document["components"][kind][name]
    return node


def walk(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{where}/{i}")


def test_the_served_document_is_valid_openapi(document):
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in OpenAPIV30SpecValidator(document).iter_errors()]
    assert errors == []


def test_every_operation_has_a_unique_name_from_the_table(app, document):
    named = [(method, path, op.get("operationId")) for method, path, op in operations(document)]
    unnamed = [f"{m.upper()} {p}" for m, p, name in named if not name]
    assert unnamed == [], "name these operations in api/spec/operation_ids.py"
    names = [name for _, _, name in named]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z][A-Za-z0-9]+", n) for n in names)
    endpoints = {(rule.endpoint, m.lower()) for rule in app.url_map.iter_rules() for m in rule.methods or ()}
    assert set(OPERATION_IDS) <= endpoints, "the table names endpoints that do not exist"


def test_the_servers_are_the_public_url(document, settings):
    assert document["servers"] == [{"url": settings.public_url.rstrip("/"), "description": "this deployment"}]


def test_value_moving_posts_take_an_idempotency_key_and_say_when_they_replay(document):
    ref = {"$ref": "#/components/parameters/IdempotencyKey"}
    moving = {op["operationId"] for _, _, op in operations(document) if ref in op.get("parameters", [])}
    assert moving == VALUE_MOVING
    for _, _, op in operations(document):
        if op["operationId"] in VALUE_MOVING:
            success = next(r for code, r in op["responses"].items() if code.startswith("2"))
            assert "Idempotent-Replayed" in success["headers"]
            assert "409" in op["responses"]
    key = document["components"]["parameters"]["IdempotencyKey"]
    assert (key["in"], key["name"], key["required"], key["schema"]["maxLength"]) == ("header", "Idempotency-Key",
                                                                                     False, 255)


def test_every_operation_declares_the_errors_it_can_answer_with_the_shared_body(document):
    for method, path, op in operations(document):
        codes = set(op["responses"])
        assert {"400", "default"} <= codes, op["operationId"]
        if op["operationId"] not in PUBLIC:
            assert "401" in codes and op.get("security") != [], op["operationId"]
        if "{" in path:
            assert "404" in codes, op["operationId"]
        if method in ("post", "put", "patch", "delete"):
            assert {"413", "415"} <= codes, op["operationId"]
        if "requestBody" in op:
            assert "422" in codes, op["operationId"]
        for code, response in op["responses"].items():
            if code.startswith(("4", "5")) or code == "default":
                assert response["$ref"].startswith("#/components/responses/"), (op["operationId"], code)
    for name, response in document["components"]["responses"].items():
        if name in ("BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict", "PayloadTooLarge",
                    "UnsupportedMediaType", "UnprocessableContent", "TooManyRequests", "Error"):
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "message", "status"]


def test_a_401_says_how_to_authenticate_and_a_429_when_to_come_back(document):
    responses = document["components"]["responses"]
    assert responses["Unauthorized"]["headers"]["WWW-Authenticate"]["required"] is True
    assert responses["TooManyRequests"]["headers"]["Retry-After"]["required"] is True
    assert set(responses["TooManyRequests"]["headers"]) == {"Retry-After", "X-RateLimit-Limit",
                                                           "X-RateLimit-Remaining", "X-RateLimit-Reset"}


def test_the_rate_limited_operations_are_the_ones_that_declare_429(app, document):
    limited = {(rule.rule.replace("<", "{").split(":")[0], method)
               for rule in app.url_map.iter_rules()
               if rule.endpoint in LIMITED_ENDPOINTS and rule.rule.startswith("/api/v1/")  # not Apple's PassKit
               for method in ("get", "post") if method.upper() in (rule.methods or ())
               if any(not extra or extra[0] is None or method.upper() in extra[0]
                      for _, _, *extra in LIMITED_ENDPOINTS[rule.endpoint])}
    declared = {(path, method) for method, path, op in operations(document) if "429" in op["responses"]}
    assert declared == limited
    for method, path, op in operations(document):
        if "429" in op["responses"]:
            success = next(r for code, r in op["responses"].items() if code.startswith("2"))
            assert "X-RateLimit-Remaining" in success["headers"]


def test_every_response_is_described_and_a_binary_one_says_its_media_type(document):
    for _, _, op in operations(document):
        for code, response in op["responses"].items():
            response = resolve(document, response)
            assert response.get("description"), (op["operationId"], code)
            for media_type, media in response.get("content", {}).items():
                if media_type != "application/json":
                    assert media["schema"] == {"type": "string", "format": "binary"}, (op["operationId"], media_type)
    card_png = document["paths"]["/api/v1/me/card/qr.png"]["get"]["responses"]["200"]
    assert set(card_png["content"]) == {"image/png"}


def test_every_field_has_a_type(document):
    untyped = []
    for name, schema in document["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            if not {"type", "$ref", "anyOf", "allOf", "oneOf"} & set(prop):
                untyped.append(f"{name}.{field}")
    assert untyped == []


def test_decimals_are_decimal_strings_with_exact_bounds_never_string_valued_numbers(document):
    for where, node in walk(document):
        for key in ("minimum", "maximum", "default"):
            if key in ("minimum", "maximum") and key in node and not isinstance(node.get(key), dict):
                assert isinstance(node[key], (int, float)), where
        if node.get("format") == "decimal":
            assert node["type"] == "string" and "pattern" in node, where
            for bound in ("x-minimum", "x-maximum"):
                if bound in node:
                    Decimal(node[bound])  # an exact decimal, as a string
    money = document["components"]["schemas"]["MoneyInput"]["properties"]["amount"]
    assert (money["type"], money["format"], money["x-minimum"], money["x-maximum"]) == ("string", "decimal", "0.001",
                                                                                        "10000000")
    assert re.fullmatch(money["pattern"], "129.50") and re.fullmatch(money["pattern"], "١٢٩٫٥٠")
    assert not re.fullmatch(money["pattern"], "1e7")
    multiplier = document["components"]["schemas"]["Tier"]["properties"]["multiplier"]
    assert (multiplier["type"], multiplier["format"]) == ("string", "decimal")
    assert document["components"]["schemas"]["ProgramInput"]["properties"]["min_purchase"]["default"] == "0"


@pytest.mark.parametrize("schema, field, values", [
    ("Transaction", "type", ["earn", "bonus", "redeem", "expire", "adjust", "reversal"]),
    ("Device", "platform", ["android", "ios", "web"]),
    ("Member", "tier", list(TIER_CODES)),
    ("Staff", "role", ["cashier", "marketer", "admin"]),
    ("Receipt", "status", ["processing", "approved", "rejected", "review"]),
])
def test_closed_sets_of_values_are_enums(document, schema, field, values):
    prop = document["components"]["schemas"][schema]["properties"][field]
    assert resolve(document, prop.get("allOf", [prop])[0])["enum"] == values


@pytest.mark.parametrize("schema, field, enum", [
    ("MoneyInput", "currency", "Currency"), ("Store", "currency", "Currency"), ("Member", "country", "Country"),
    ("Register", "country", "Country"), ("Scanned", "tier", "TierCode"), ("DeviceCreate", "platform", "Platform"),
])
def test_a_set_of_values_used_in_many_places_is_one_component(document, schema, field, enum):
    prop = document["components"]["schemas"][schema]["properties"][field]
    assert {"$ref": f"#/components/schemas/{enum}"} in [prop, *prop.get("allOf", ()), *prop.get("anyOf", ())]


def test_the_tier_codes_of_the_document_are_the_tiers_the_database_holds(session):
    assert tuple(session.scalars(select(Tier.code).order_by(Tier.rank))) == TIER_CODES


@pytest.mark.parametrize("schema, always", [
    ("Wallet", ["active_vouchers", "balance", "currency_value", "expiring", "lifetime_earned", "pending", "tier"]),
    ("Purchase", ["balance", "breakdown", "id", "points_earned", "receipt_number", "tier"]),
    ("Card", ["expires_at", "member_number", "qr_payload"]),
])
def test_what_is_always_received_is_required(document, schema, always):
    assert document["components"]["schemas"][schema]["required"] == always


def test_a_schema_sent_and_received_is_two_components_and_the_input_has_no_server_fields(document):
    schemas = document["components"]["schemas"]
    assert "id" in schemas["BonusRule"]["required"] and "status" in schemas["BonusRule"]["required"]
    assert "id" not in schemas["BonusRuleInput"]["properties"]
    assert schemas["BonusRuleInput"]["required"] == ["country", "ends_at", "kind", "name", "starts_at", "value"]
    assert "PurchaseCreateInput" not in schemas and "PurchaseCreate" in schemas  # only ever sent


def test_every_list_is_paged_the_same_way(document):
    for method, path, op in operations(document):
        success = next((r for code, r in op["responses"].items() if code.startswith("2")), {})
        schema = success.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            continue
        assert schema.get("type") != "array", f"{op['operationId']} answers a bare array: page it (api/pagination.py)"
        body = resolve(document, schema)
        if "items" in body.get("properties", {}):
            assert body["required"] == ["items", "next_cursor"], op["operationId"]
            names = {p["name"] for p in op.get("parameters", []) if isinstance(p, dict) and p.get("in") == "query"}
            assert {"limit", "cursor"} <= names, op["operationId"]


def test_every_example_is_valid_for_its_schema(document):
    checked = 0
    for where, node in walk(document):
        schema = node.get("schema")
        if isinstance(schema, dict) and "example" in node:
            OAS30Validator({**schema, "components": document["components"]}).validate(node["example"])
            checked += 1
        if "example" in node and "type" in node and not where.endswith("/schema"):
            OAS30Validator({**node, "components": document["components"]}).validate(node["example"])
            checked += 1
    assert checked > 20


def test_the_document_is_the_same_every_time_it_is_served(client, document):
    assert client.get("/api/v1/openapi.json").json == document
    assert client.get("/api/v1/openapi.json").json == document
