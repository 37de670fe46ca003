"""Bad input gets a clear 4xx that names the field, never a 500 and never a half-written row."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from wallet.members.models import User

VALID = {"email": "new@example.com", "password": PASSWORD, "name": "New Partner", "country": "AE"}


@pytest.mark.parametrize(
    "change, field",
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a" * 250 + "@example.com"}, "email"),
        ({"email": None}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "p" * 129}, "password"),
        ({"password": 1234567890123}, "password"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 121}, "name"),
        ({"name": ["a list"]}, "name"),
        ({"country": "XX"}, "country"),
        ({"country": "ae"}, "country"),
        ({"phone": "0501234567"}, "phone"),
        ({"language": "de"}, "language"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "Asia/Dubai" + "x" * 100}, "timezone"),
        ({"marketing_opt_in": "yes"}, "marketing_opt_in"),
        ({"marketing_opt_in": 1}, "marketing_opt_in"),
        ({"company_name": "c" * 121}, "company_name"),
        ({"is_admin": True}, "is_admin"),
        ({"role": "admin"}, "role"),
    ],
)
def test_register_refuses_bad_fields_by_name_and_writes_nothing(client, session, change, field):
    before = session.scalar(select(func.count()).select_from(User))
    response = client.post("/api/v1/auth/register", json={**VALID, **change})
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]
    assert response.json["status"] == "Unprocessable Entity"
    assert session.scalar(select(func.count()).select_from(User)) == before


@pytest.mark.parametrize("missing", ["email", "password", "name", "country"])
def test_register_names_a_missing_field(client, missing):
    body = {k: v for k, v in VALID.items() if k != missing}
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    assert response.json["errors"]["json"] == {missing: ["Missing data for required field."]}


def test_a_malformed_json_body_is_400(client):
    response = client.post("/api/v1/auth/login", data='{"email": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json["message"] == "The request body is not valid JSON."


def test_a_body_that_is_not_an_object_is_422(client):
    response = client.post("/api/v1/auth/login", json=["email", "password"])
    assert response.status_code == 422


def test_a_body_over_the_size_limit_is_413(client):
    response = client.post("/api/v1/auth/register", json={**VALID, "name": "n" * 100_000})
    assert response.status_code == 413
    assert response.json["code"] == 413


def test_a_wrong_method_is_405_with_allow(client, people):
    partner = people.partner()
    response = client.delete("/api/v1/me", headers=partner["headers"])
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "PATCH"}
    assert response.json["status"] == "Method Not Allowed"


def test_an_unknown_path_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["code"] == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "S", "country": "AE", "currency": "XYZ"}, "currency"),
        ({"name": "S", "country": "DE", "currency": "EUR"}, "country"),
        ({"name": "S", "country": "AE"}, "currency"),
        ({"name": "S", "country": "AE", "currency": "AED", "city": "c" * 121}, "city"),
    ],
)
def test_store_creation_names_the_wrong_field(client, people, body, field):
    response = client.post("/api/v1/admin/stores", json=body, headers=people.staff("admin")["headers"])
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]


def test_an_unexpected_error_is_a_json_500_without_details(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail")

    response = client.get("/boom")
    assert response.status_code == 500
    assert "secret detail" not in response.get_data(as_text=True)
    assert response.json["code"] == 500


BIG = 10**22


@pytest.mark.parametrize("method, path", [
    ("get", f"/api/v1/admin/members/{BIG}"),
    ("post", f"/api/v1/admin/members/{BIG}/adjustments"),
    ("patch", f"/api/v1/admin/bonus-rules/{BIG}"),
    ("get", f"/api/v1/segments/{BIG}/preview"),
    ("get", f"/api/v1/campaigns/{BIG}/stats"),
    ("get", "/api/v1/admin/members/0"),
])
def test_ids_beyond_the_database_range_are_404_not_500(client, people, method, path):
    admin = people.staff("admin")
    response = getattr(client, method)(path, json={}, headers=admin["headers"])
    assert response.status_code == 404


def test_body_ids_beyond_the_database_range_are_422(client, people):
    admin = people.staff("admin")
    response = client.post("/api/v1/admin/staff", headers=admin["headers"], json={
        "email": "c@example.com", "password": PASSWORD, "name": "C", "role": "cashier", "store_id": BIG})
    assert response.status_code == 422 and "store_id" in response.json["errors"]["json"]


@pytest.mark.parametrize("position", [True, BIG, -1, 1.5, "3"])
def test_a_forged_cursor_is_422(client, people, position):
    import base64
    import json

    cursor = base64.urlsafe_b64encode(json.dumps({"before": position}).encode()).decode().rstrip("=")
    response = client.get("/api/v1/me/wallet/transactions", query_string={"cursor": cursor},
                          headers=people.partner()["headers"])
    assert response.status_code == 422 and "cursor" in response.json["errors"]["query"]


@pytest.mark.parametrize("when", ["9999-12-31T23:00:00-23:59", "0001-01-01T00:00:00+05:00", "1999-12-31T00:00:00+00:00"])
def test_times_outside_sane_years_are_422(client, people, when):
    body = {"name": "x", "country": "AE", "kind": "multiplier", "value": "2",
            "starts_at": "2026-11-01T00:00:00+00:00", "ends_at": when}
    response = client.post("/api/v1/admin/bonus-rules", json=body, headers=people.staff("admin")["headers"])
    assert response.status_code == 422 and "ends_at" in response.json["errors"]["json"]


def test_a_blank_adjustment_reason_is_422(client, people):
    partner, admin = people.partner(), people.staff("admin")
    response = client.post(f"/api/v1/admin/members/{partner['member']['id']}/adjustments",
                           json={"points": 5, "reason": "    "}, headers=admin["headers"])
    assert response.status_code == 422 and "reason" in response.json["errors"]["json"]


def test_a_nul_character_anywhere_in_the_body_is_400(client):
    response = client.post("/api/v1/auth/register", data='{"email": "a@example.com", "name": "x\\u0000y"}',
                           content_type="application/json")
    assert response.status_code == 400
    assert "NUL" in response.json["message"]


def test_a_sku_longer_than_a_sku_is_404(client, people):
    response = client.put("/api/v1/admin/products/" + "S" * 65, json={"name": "n", "category": "c"},
                          headers=people.staff("admin")["headers"])
    assert response.status_code == 404
