"""Admins set the earning rules through the API; the till applies them at once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from tests.conftest import START


def test_an_admin_changes_a_countrys_program_and_the_next_purchase_follows_it(client, people, till):
    admin = people.staff("admin")
    body = {"currency": "AED", "points_per_unit": 2, "per_amount": "5", "rounding": "down",
            "min_purchase": "20", "daily_cap": 5000, "expiry_months": 12}
    response = client.put("/api/v1/admin/programs/AE", json=body, headers=admin["headers"])
    assert response.status_code == 200
    assert Decimal(response.json["per_amount"]) == 5
    assert till.buy(people.partner(), "99.00").json["points_earned"] == 38  # 19 fives, 2 points each
    assert till.buy(people.partner(), "19.99").json["points_earned"] == 0


def test_a_winter_bonus_for_a_category_applies_to_the_tyres_on_the_receipt(client, people, till):
    admin = people.staff("admin")
    client.put("/api/v1/admin/products/WT-205", json={"name": "Winter 205/55 R16", "category": "winter-tyres"},
               headers=admin["headers"])
    rule = client.post("/api/v1/admin/bonus-rules", headers=admin["headers"], json={
        "name": "Winter tyres: double points", "country": "AE", "kind": "multiplier", "value": "2",
        "categories": ["winter-tyres"],
        "starts_at": "2026-11-01T00:00:00+04:00", "ends_at": "2026-12-16T00:00:00+04:00"})
    assert rule.status_code == 201
    purchase = till.buy(people.partner(), "500.00",
                        items=[{"sku": "WT-205", "quantity": 4, "unit_price": "100.00"},
                               {"sku": "OIL", "quantity": 1, "unit_price": "100.00"}]).json
    assert purchase["points_earned"] == 900
    assert purchase["breakdown"][-1]["rule_id"] == rule.json["id"]

    client.patch(f"/api/v1/admin/bonus-rules/{rule.json['id']}", json={"active": False}, headers=admin["headers"])
    again = till.buy(people.partner(), "500.00", items=[{"sku": "WT-205", "quantity": 4, "unit_price": "100.00"},
                                                       {"sku": "OIL", "quantity": 1, "unit_price": "100.00"}])
    assert again.json["points_earned"] == 500


def test_a_bonus_rule_that_ends_before_it_starts_or_without_a_timezone_is_422(client, people):
    admin = people.staff("admin")
    base = {"name": "x", "country": "AE", "kind": "multiplier", "value": "2",
            "starts_at": "2026-11-01T00:00:00+00:00", "ends_at": "2026-10-01T00:00:00+00:00"}
    response = client.post("/api/v1/admin/bonus-rules", json=base, headers=admin["headers"])
    assert response.status_code == 422 and "ends_at" in response.json["errors"]["json"]
    naive = base | {"ends_at": "2026-12-01T00:00:00"}
    response = client.post("/api/v1/admin/bonus-rules", json=naive, headers=admin["headers"])
    assert response.status_code == 422 and "ends_at" in response.json["errors"]["json"]


def test_a_program_for_a_country_outside_the_program_is_404(client, people):
    body = {"currency": "EUR", "points_per_unit": 1, "per_amount": "1"}
    response = client.put("/api/v1/admin/programs/DE", json=body, headers=people.staff("admin")["headers"])
    assert response.status_code == 404


def test_an_adjustment_needs_a_reason_and_shows_in_the_members_history(client, people):
    admin, partner = people.staff("admin"), people.partner()
    path = f"/api/v1/admin/members/{partner['member']['id']}/adjustments"
    missing = client.post(path, json={"points": 50}, headers=admin["headers"])
    assert missing.status_code == 422 and "reason" in missing.json["errors"]["json"]
    zero = client.post(path, json={"points": 0, "reason": "nothing"}, headers=admin["headers"])
    assert zero.status_code == 422 and "points" in zero.json["errors"]["json"]
    response = client.post(path, json={"points": 50, "reason": "late delivery goodwill"}, headers=admin["headers"])
    assert response.status_code == 201
    assert (response.json["points"], response.json["balance"]) == (50, 50)
    too_much = client.post(path, json={"points": -51, "reason": "correction"}, headers=admin["headers"])
    assert too_much.status_code == 409
    item = client.get("/api/v1/me/wallet/transactions", headers=partner["headers"]).json["items"][0]
    assert (item["type"], item["points"], item["description"]) == ("adjust", 50, "Adjustment: late delivery goodwill")


def test_only_admins_adjust_points(client, people):
    partner = people.partner()
    for who in (partner, people.staff("cashier"), people.staff("marketer")):
        response = client.post(f"/api/v1/admin/members/{partner['member']['id']}/adjustments",
                               json={"points": 1000, "reason": "free points"}, headers=who["headers"])
        assert response.status_code == 403


def test_the_nightly_commands_expire_points_and_recalculate_tiers(app, client, people, till, clock):
    partner = people.partner()
    till.buy(partner, "2500.00")
    runner = app.test_cli_runner()
    clock.at = START + dt.timedelta(days=365)
    assert "1 downgraded" in runner.invoke(args=["wallet", "tiers"]).output
    clock.at = START + dt.timedelta(days=366 * 2)
    assert "points expired on 1 accounts" in runner.invoke(args=["wallet", "expire"]).output
    assert "points expired on 0 accounts" in runner.invoke(args=["wallet", "expire"]).output
    wallet = client.get("/api/v1/me/wallet", headers=people.login(partner["email"])).json
    assert (wallet["balance"], wallet["tier"]["name"]) == (0, "Blue")


def test_the_daily_cap_counts_the_members_own_day_and_a_refund_gives_the_room_back(client, people, till, clock):
    # given a cap of 300 points a day in the UAE, and a partner in Dubai (UTC+4)
    admin = people.staff("admin")
    client.put("/api/v1/admin/programs/AE", headers=admin["headers"], json={
        "currency": "AED", "points_per_unit": 1, "per_amount": "1", "daily_cap": 300, "expiry_months": 12})
    partner = people.partner()
    clock.at = dt.datetime(2026, 11, 23, 18, 30, tzinfo=dt.timezone.utc)  # 22:30 in Dubai
    till.headers = people.login(till.cashier["email"])  # a token of the evening

    # when three purchases of 200 fall on the evening, the last after Dubai's midnight
    first = till.buy(partner, "200.00").json

    second = till.buy(partner, "200.00").json
    clock.advance(hours=2)  # 00:30 in Dubai, still the 23rd in UTC
    till.headers = people.login(till.cashier["email"])
    third = till.buy(partner, "200.00").json

    # then the second is cut to the cap, and the new local day starts afresh
    assert (first["points_earned"], second["points_earned"], third["points_earned"]) == (200, 100, 200)

    # and refunding today's purchase gives today's room back
    till.client.post(f"/api/v1/pos/purchases/{third['id']}/refund", headers=till.headers)
    assert till.buy(partner, "300.00").json["points_earned"] == 300


def test_bonus_rules_are_listed_newest_first_in_pages_like_every_other_list(client, people):
    marketer = people.staff("marketer")
    ids = []
    for n in range(3):
        created = client.post("/api/v1/admin/bonus-rules", headers=marketer["headers"], json={
            "name": f"Offer {n}", "country": "AE", "kind": "per_item", "value": "5", "skus": ["S"],
            "starts_at": "2026-11-01T00:00:00+04:00", "ends_at": "2026-12-01T00:00:00+04:00"})
        assert created.status_code == 201
        ids.append(created.json["id"])

    first = client.get("/api/v1/admin/bonus-rules?limit=2", headers=marketer["headers"])
    rest = client.get(f"/api/v1/admin/bonus-rules?limit=2&cursor={first.json['next_cursor']}",
                      headers=marketer["headers"])

    assert [r["id"] for r in first.json["items"]] == ids[:0:-1]
    assert [r["name"] for r in rest.json["items"]] == ["Offer 0"] and rest.json["next_cursor"] is None
    assert client.get("/api/v1/admin/bonus-rules?limit=0", headers=marketer["headers"]).status_code == 422
