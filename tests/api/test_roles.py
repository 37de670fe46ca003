"""Who may call what: every endpoint checks role and ownership."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD


def test_a_partner_cannot_read_another_member_through_the_admin_lookup(client, people):
    me, other = people.partner(), people.partner()
    response = client.get(f"/api/v1/admin/members/{other['member']['id']}", headers=me["headers"])
    assert response.status_code == 403
    assert other["email"] not in response.get_data(as_text=True)


def test_a_partner_sees_only_itself_at_me(client, people):
    me, other = people.partner(), people.partner()
    assert client.get("/api/v1/me", headers=me["headers"]).json["id"] == me["member"]["id"]
    assert client.get("/api/v1/me", headers=other["headers"]).json["id"] == other["member"]["id"]


def test_an_admin_can_look_a_member_up(client, people):
    partner, admin = people.partner(), people.staff("admin")
    response = client.get(f"/api/v1/admin/members/{partner['member']['id']}", headers=admin["headers"])
    assert response.status_code == 200
    assert response.json["email"] == partner["email"]


def test_looking_up_a_member_that_does_not_exist_is_404(client, people):
    admin = people.staff("admin")
    response = client.get("/api/v1/admin/members/999999", headers=admin["headers"])
    assert response.status_code == 404
    assert response.json["message"] == "no such member"


@pytest.mark.parametrize("role", ["partner", "marketer", "admin"])
def test_the_till_refuses_everyone_but_cashiers(client, people, role):
    who = people.partner() if role == "partner" else people.staff(role)
    response = client.get("/api/v1/pos/store", headers=who["headers"])
    assert response.status_code == 403
    assert response.json["message"] == "this needs the role cashier"


def test_a_cashier_sees_its_own_store(client, people):
    store = people.store(country="PL", currency="PLN")
    cashier = people.staff("cashier", store=store)
    response = client.get("/api/v1/pos/store", headers=cashier["headers"])
    assert response.status_code == 200
    assert (response.json["id"], response.json["currency"]) == (store.id, "PLN")


@pytest.mark.parametrize("role", ["cashier", "marketer", "admin"])
def test_staff_have_no_partner_profile(client, people, role):
    response = client.get("/api/v1/me", headers=people.staff(role)["headers"])
    assert response.status_code == 403


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/v1/admin/stores", {"name": "S", "country": "AE", "currency": "AED"}),
        ("/api/v1/admin/staff", {"email": "x@example.com", "password": PASSWORD, "name": "X", "role": "admin"}),
    ],
)
@pytest.mark.parametrize("role", ["partner", "cashier", "marketer"])
def test_only_admins_manage_stores_and_staff(client, people, path, body, role):
    who = people.partner() if role == "partner" else people.staff(role)
    response = client.post(path, json=body, headers=who["headers"])
    assert response.status_code == 403


def test_without_a_token_admin_endpoints_are_401(client):
    response = client.post("/api/v1/admin/stores", json={"name": "S", "country": "AE", "currency": "AED"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_an_admin_opens_a_store_and_hires_a_cashier_who_can_sign_in(client, people):
    admin = people.staff("admin")
    store = client.post(
        "/api/v1/admin/stores",
        json={"name": "Riyadh North", "country": "SA", "city": "Riyadh", "currency": "SAR"},
        headers=admin["headers"],
    )
    assert store.status_code == 201
    assert store.json["currency"] == "SAR"
    staff = client.post(
        "/api/v1/admin/staff",
        json={"email": "till@example.com", "password": PASSWORD, "name": "Till 1", "role": "cashier",
              "store_id": store.json["id"]},
        headers=admin["headers"],
    )
    assert staff.status_code == 201
    assert (staff.json["role"], staff.json["store_id"]) == ("cashier", store.json["id"])
    assert "password" not in staff.json
    till = people.login("till@example.com")
    assert client.get("/api/v1/pos/store", headers=till).json["name"] == "Riyadh North"


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"role": "cashier"}, "store_id"),  # a cashier needs a store
        ({"role": "cashier", "store_id": 999999}, "store_id"),  # that exists
        ({"role": "marketer", "store_id": "STORE"}, "store_id"),  # an id is a number
        ({"role": "partner"}, "role"),  # partners register themselves
        ({"role": "root"}, "role"),
    ],
)
def test_staff_creation_names_the_wrong_field(client, people, extra, field):
    admin = people.staff("admin")
    body = {"email": "s@example.com", "password": PASSWORD, "name": "S", **extra}
    response = client.post("/api/v1/admin/staff", json=body, headers=admin["headers"])
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]


def test_a_marketer_with_a_store_is_refused(client, people):
    admin, store = people.staff("admin"), people.store()
    body = {"email": "m@example.com", "password": PASSWORD, "name": "M", "role": "marketer", "store_id": store.id}
    response = client.post("/api/v1/admin/staff", json=body, headers=admin["headers"])
    assert response.status_code == 422
    assert response.json["errors"]["json"] == {"store_id": ["only a cashier belongs to a store"]}
