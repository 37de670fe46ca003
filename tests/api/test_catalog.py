"""The catalog: admins make and change rewards; a partner sees only what its country and tier may redeem."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image

from tests.rewards_kit import VOUCHER


def test_an_admin_makes_a_reward_and_sees_all_its_fields(kit, client):
    body = {**VOUCHER, "limit_per_day": 1, "limit_ever": 3, "validity_days": 90, "tiers": ["gold", "platinum"],
            "available_until": "2027-01-31T00:00:00+04:00"}
    response = client.post("/api/v1/admin/rewards", json=body, headers=kit.admin)
    assert response.status_code == 201
    reward = response.json
    assert {k: reward[k] for k in ("kind", "code_source", "category", "country", "points_cost", "validity_days",
                                   "limit_per_day", "limit_per_month", "limit_ever", "tiers", "active")} == {
        "kind": "voucher", "code_source": "pool", "category": "grocery", "country": "AE", "points_cost": 100,
        "validity_days": 90, "limit_per_day": 1, "limit_per_month": None, "limit_ever": 3,
        "tiers": ["gold", "platinum"], "active": True}
    assert reward["face_value"] == {"amount": "50.00", "currency": "AED"}
    assert reward["names"]["ar"] == VOUCHER["names"]["ar"]
    assert reward["available_until"] == "2027-01-30T20:00:00+00:00"
    assert reward["counts"] == {"available": 0, "issued": 0, "expired_unissued": 0} and reward["low_stock"] is True


@pytest.mark.parametrize("change, field", [
    ({"kind": "coupon"}, "kind"),
    ({"points_cost": 0}, "points_cost"),
    ({"points_cost": "100"}, "points_cost"),
    ({"country": "US"}, "country"),
    ({"names": {"ar": "بدون إنجليزي"}}, "names"),
    ({"names": {"en": "x", "de": "y"}}, "names"),
    ({"face_value": {"amount": "50", "currency": "XXX"}}, "face_value"),
    ({"available_from": "2027-01-01T00:00:00Z", "available_until": "2026-12-01T00:00:00Z"}, "available_until"),
    ({"validity_days": 0}, "validity_days"),
    ({"stock": -1}, "stock"),
    ({"tiers": ["diamond"]}, "tiers"),
    ({"stock": 10}, "stock"),  # a pool counts its codes
    ({"kind": "physical", "code_source": "pool"}, "code_source"),
])
def test_a_reward_that_does_not_make_sense_is_422_naming_the_field(kit, client, change, field):
    response = client.post("/api/v1/admin/rewards", json={**VOUCHER, **change}, headers=kit.admin)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]


def test_patch_changes_what_it_names_and_refuses_the_kind(kit, client):
    reward = kit.reward()
    response = client.patch(f"/api/v1/admin/rewards/{reward['id']}",
                            json={"points_cost": 250, "tiers": ["silver"], "active": False}, headers=kit.admin)
    assert response.status_code == 200
    assert (response.json["points_cost"], response.json["tiers"], response.json["active"]) == (250, ["silver"], False)
    assert response.json["names"] == VOUCHER["names"]  # untouched
    refused = client.patch(f"/api/v1/admin/rewards/{reward['id']}", json={"kind": "physical"}, headers=kit.admin)
    assert refused.status_code == 422 and "kind" in refused.json["errors"]["json"]
    assert client.patch("/api/v1/admin/rewards/99999", json={"active": False}, headers=kit.admin).status_code == 404


@pytest.mark.parametrize("role", ["partner", "cashier", "marketer"])
def test_only_admins_manage_rewards(kit, people, client, role):
    who = people.partner() if role == "partner" else people.staff(role)
    assert client.post("/api/v1/admin/rewards", json=VOUCHER, headers=who["headers"]).status_code == 403
    assert client.get("/api/v1/admin/rewards", headers=who["headers"]).status_code == 403


def _names(response):
    return [item["name"] for item in response.json["items"]]


def test_a_partner_sees_only_its_countrys_and_its_tiers_rewards_that_are_on_and_in_their_window(kit, client, clock):
    # given rewards of every kind of visibility
    now = clock()
    kit.reward(names={"en": "for everyone"})
    kit.reward(names={"en": "for Poland"}, country="PL", face_value={"amount": "50.00", "currency": "PLN"})
    kit.reward(names={"en": "for gold"}, tiers=["gold"])
    kit.reward(names={"en": "for blue and silver"}, tiers=["blue", "silver"])
    kit.reward(names={"en": "switched off"}, active=False)
    kit.reward(names={"en": "not yet"}, available_from=(now + dt.timedelta(days=1)).isoformat())
    kit.reward(names={"en": "over"}, available_until=(now - dt.timedelta(seconds=1)).isoformat())
    partner = kit.partner()

    # when / then: a blue partner in the UAE
    response = client.get("/api/v1/catalog/rewards", headers=partner["headers"])
    assert response.status_code == 200
    assert _names(response) == ["for blue and silver", "for everyone"]
    pl = kit.partner(country="PL")
    assert _names(client.get("/api/v1/catalog/rewards", headers=pl["headers"])) == ["for Poland"]


def test_the_catalog_speaks_the_partners_language_and_says_stock_and_affordability(kit, client):
    cheap, _ = kit.voucher_reward(1, points_cost=100)
    dear, _ = kit.voucher_reward(0, points_cost=5000)
    partner = kit.partner(300, language="ar")
    items = {item["id"]: item for item in client.get("/api/v1/catalog/rewards", headers=partner["headers"]).json["items"]}
    assert items[cheap["id"]]["name"] == VOUCHER["names"]["ar"]
    assert items[cheap["id"]]["description"] == VOUCHER["descriptions"]["en"]  # no Arabic text: English
    assert (items[cheap["id"]]["in_stock"], items[cheap["id"]]["affordable"]) == (True, True)
    assert (items[dear["id"]]["in_stock"], items[dear["id"]]["affordable"]) == (False, False)
    assert items[cheap["id"]]["face_value"] == {"amount": "50.00", "currency": "AED"}
    only_affordable = client.get("/api/v1/catalog/rewards?affordable=true", headers=partner["headers"]).json
    assert [i["id"] for i in only_affordable["items"]] == [cheap["id"]]


def test_generated_and_physical_rewards_are_in_stock_by_their_stock_figure(kit, client):
    unlimited = kit.reward(code_source="generated")
    none_left = kit.reward(code_source="generated", stock=0)
    shipped = kit.reward(kind="physical", stock=3, names={"en": "Torque wrench"})
    partner = kit.partner()
    items = {i["id"]: i["in_stock"] for i in client.get("/api/v1/catalog/rewards", headers=partner["headers"]).json["items"]}
    assert items == {unlimited["id"]: True, none_left["id"]: False, shipped["id"]: True}


def test_the_catalog_filters_by_category_and_pages_sorted_by_cost(kit, client):
    costs = [500, 100, 300, 100, 200]
    ids = [kit.reward(points_cost=c, category="gaming" if i % 2 else "grocery")["id"] for i, c in enumerate(costs)]
    partner = kit.partner()
    seen, cursor = [], None
    while True:
        url = "/api/v1/catalog/rewards?sort=points_cost&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=partner["headers"]).json
        seen += [(i["points_cost"], i["id"]) for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(zip(costs, ids))
    down = client.get("/api/v1/catalog/rewards?sort=-points_cost&limit=3", headers=partner["headers"]).json
    assert [i["points_cost"] for i in down["items"]] == [500, 300, 200]
    gaming = client.get("/api/v1/catalog/rewards?category=gaming", headers=partner["headers"]).json
    assert sorted(i["id"] for i in gaming["items"]) == sorted([ids[1], ids[3]])


@pytest.mark.parametrize("query", ["sort=price", "limit=0", "limit=101", "cursor=abc", "cursor=%00"])
def test_bad_catalog_queries_are_4xx(kit, client, query):
    partner = kit.partner()
    assert client.get(f"/api/v1/catalog/rewards?{query}", headers=partner["headers"]).status_code in (400, 422)


def test_one_reward_of_the_catalog_and_a_hidden_one_is_404(kit, client):
    shown = kit.reward()
    hidden = kit.reward(country="PL", face_value=None)
    partner = kit.partner()
    assert client.get(f"/api/v1/catalog/rewards/{shown['id']}", headers=partner["headers"]).json["id"] == shown["id"]
    response = client.get(f"/api/v1/catalog/rewards/{hidden['id']}", headers=partner["headers"])
    assert response.status_code == 404 and response.json["reason"] == "not_offered"


def test_staff_have_no_catalog(kit, client, people):
    assert client.get("/api/v1/catalog/rewards", headers=people.staff("admin")["headers"]).status_code == 403
    assert client.get("/api/v1/catalog/rewards").status_code == 401


def _png(color=(200, 30, 30), size=(40, 30), mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, "PNG")
    return out.getvalue()


def _upload(client, kit, reward_id, data, name="pic.png", mimetype="image/png"):
    return client.post(f"/api/v1/admin/rewards/{reward_id}/image", data={"image": (io.BytesIO(data), name, mimetype)},
                       headers=kit.admin, content_type="multipart/form-data")


def test_a_reward_picture_is_stored_cleaned_and_served_publicly_with_a_days_cache_and_an_etag(kit, client):
    # given an uploaded picture
    reward = kit.reward()
    response = _upload(client, kit, reward["id"], _png())
    assert response.status_code == 200
    url = response.json["image_url"]
    assert url.startswith(f"http://localhost:8000/api/v1/catalog/rewards/{reward['id']}/image?v=")
    path = url.removeprefix("http://localhost:8000")

    # when anyone fetches it, without a token
    served = client.get(path)

    # then
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.headers["Cache-Control"] == "public, max-age=86400"
    assert Image.open(io.BytesIO(served.data)).size == (40, 30)
    etag = served.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    # the catalog points at it, and a new picture is a new URL
    partner = kit.partner()
    assert client.get("/api/v1/catalog/rewards", headers=partner["headers"]).json["items"][0]["image_url"] == url
    newer = _upload(client, kit, reward["id"], _png(color=(0, 0, 200))).json["image_url"]
    assert newer != url


@pytest.mark.parametrize("data, name, status, words", [
    (b"GIF89a" + b"\x00" * 100, "pic.gif", 422, "PNG, JPEG or WebP"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "pic.svg", 422, "PNG, JPEG or WebP"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "pic.png", 422, "damaged"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * (3 * 1024 * 1024), "big.png", 413, "2 MB"),
])
def test_a_picture_that_is_not_one_is_refused(kit, client, data, name, status, words):
    reward = kit.reward()
    response = _upload(client, kit, reward["id"], data, name=name)
    assert response.status_code == status, response.json
    assert words in response.json["message"]


def test_a_reward_without_a_picture_has_none_to_serve(kit, client):
    reward = kit.reward()
    assert client.get(f"/api/v1/catalog/rewards/{reward['id']}/image").status_code == 404
    assert client.get("/api/v1/catalog/rewards/99999/image").status_code == 404
