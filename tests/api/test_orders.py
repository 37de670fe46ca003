"""Physical rewards: an order with an address and a timeline; admins move it along; a cancel refunds."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.wallet.helpers import assert_consistent
from wallet import ledger
from wallet.rewards.orders import working_days

ADDRESS = {"name": "Omar's Tyres", "line1": "Warehouse 12, Street 4", "city": "Dubai", "country": "AE",
           "phone": "+971501234567"}
WRENCH = {"kind": "physical", "category": "workshop", "points_cost": 400, "stock": 5, "face_value": None,
          "names": {"en": "Torque wrench", "ar": "مفتاح عزم"}}


def _ordered(kit, quantity=1, points=1000):
    reward = kit.reward(**WRENCH)
    partner = kit.partner(points)
    response = kit.redeem(partner, reward["id"], quantity=quantity, delivery_address=ADDRESS)
    assert response.status_code == 201, response.json
    return reward, partner, response.json


def _move(kit, order_id, **body):
    return kit.client.post(f"/api/v1/admin/orders/{order_id}/status", json=body, headers=kit.admin)


def test_a_physical_reward_is_ordered_with_its_address_and_the_points_spent(kit, client):
    reward, partner, body = _ordered(kit, quantity=2)
    assert (body["points_spent"], body["balance"], body["vouchers"]) == (800, 200, [])
    order = body["order"]
    assert (order["status"], order["quantity"], order["address"]) == ("ordered", 2, ADDRESS)
    assert [step["status"] for step in order["timeline"]] == ["ordered"]
    admin = client.get(f"/api/v1/admin/rewards/{reward['id']}", headers=kit.admin).json
    assert admin["stock"] == 3
    history = client.get("/api/v1/me/wallet/transactions", headers=partner["headers"]).json["items"]
    assert (history[0]["points"], history[0]["description"]) == (-800, "Redeemed: Torque wrench x2")


@pytest.mark.parametrize("address, field", [
    (None, "delivery_address"),
    ({**ADDRESS, "phone": "0501234567"}, "phone"),
    ({k: v for k, v in ADDRESS.items() if k != "line1"}, "line1"),
])
def test_a_physical_reward_needs_a_whole_address(kit, address, field):
    reward = kit.reward(**WRENCH)
    partner = kit.partner(1000)
    body = {"delivery_address": address} if address else {}
    response = kit.redeem(partner, reward["id"], **body)
    assert response.status_code == 422
    assert field in str(response.json["errors"])
    assert kit.balance(partner) == 1000


def test_a_voucher_is_not_shipped(kit):
    reward, _ = kit.voucher_reward(1)
    partner = kit.partner(500)
    response = kit.redeem(partner, reward["id"], delivery_address=ADDRESS)
    assert response.status_code == 422 and "delivery_address" in response.json["errors"]["json"]


def test_the_partner_sees_the_timeline_as_admins_move_the_order_along(kit, client):
    # given an order
    reward, partner, body = _ordered(kit)
    order_id = body["order"]["id"]

    # when it is confirmed, shipped with its tracking number a day later, and delivered
    assert _move(kit, order_id, status="confirmed").status_code == 200
    kit.later(partner, days=1)
    shipped = _move(kit, order_id, status="shipped", carrier="Aramex", tracking_number="AX123456789")
    assert shipped.status_code == 200
    kit.later(partner, days=2)
    assert _move(kit, order_id, status="delivered", note="signed by Omar").status_code == 200

    # then
    mine = client.get(f"/api/v1/me/orders/{order_id}", headers=partner["headers"]).json
    assert mine["status"] == "delivered" and mine["tracking_number"] == "AX123456789"
    assert [(s["status"], s["at"]) for s in mine["timeline"]] == [
        ("ordered", "2026-11-23T09:00:00+00:00"), ("confirmed", "2026-11-23T09:00:00+00:00"),
        ("shipped", "2026-11-24T09:00:00+00:00"), ("delivered", "2026-11-26T09:00:00+00:00")]
    assert mine["timeline"][2]["carrier"] == "Aramex" and mine["timeline"][3]["note"] == "signed by Omar"
    listed = client.get("/api/v1/me/orders", headers=partner["headers"]).json["items"]
    assert [o["id"] for o in listed] == [order_id]


def test_shipping_needs_the_carrier_and_the_tracking_number(kit):
    reward, partner, body = _ordered(kit)
    order_id = body["order"]["id"]
    _move(kit, order_id, status="confirmed")
    response = _move(kit, order_id, status="shipped", carrier="DHL")
    assert response.status_code == 422 and "tracking_number" in response.json["errors"]["json"]


@pytest.mark.parametrize("steps, wanted", [
    ([], "shipped"), ([], "delivered"), (["confirmed"], "confirmed"),
    (["confirmed", "cancelled"], "confirmed"),
])
def test_an_order_moves_only_forward_one_step_at_a_time(kit, steps, wanted):
    reward, partner, body = _ordered(kit)
    order_id = body["order"]["id"]
    for step in steps:
        assert _move(kit, order_id, status=step).status_code == 200
    response = _move(kit, order_id, status=wanted, carrier="DHL", tracking_number="1")
    assert (response.status_code, response.json["reason"]) == (409, "order_status")


def test_cancelling_an_order_refunds_its_points_and_restocks(kit, client, session):
    reward, partner, body = _ordered(kit, quantity=2)
    order_id = body["order"]["id"]
    response = _move(kit, order_id, status="cancelled", note="out of production")
    assert response.status_code == 200
    assert response.json["status"] == "cancelled" and response.json["cancelled_at"] is not None
    assert kit.balance(partner) == 1000
    assert client.get(f"/api/v1/admin/rewards/{reward['id']}", headers=kit.admin).json["stock"] == 5
    account = ledger.member_account(session, partner["member"]["id"], kit.till.clock())
    assert assert_consistent(session, account.id) == 1000
    again = _move(kit, order_id, status="cancelled")
    assert again.status_code == 409 and kit.balance(partner) == 1000


def test_an_order_beyond_the_stock_is_409_out_of_stock(kit):
    reward = kit.reward(**{**WRENCH, "stock": 1})
    partner = kit.partner(2000)
    response = kit.redeem(partner, reward["id"], quantity=2, delivery_address=ADDRESS)
    assert (response.status_code, response.json["reason"]) == (409, "out_of_stock")
    assert response.json["message"] == "only 1 of this reward left; you asked for 2"


def test_another_partners_order_is_404_and_admins_list_by_status(kit, client):
    reward, partner, body = _ordered(kit)
    order_id = body["order"]["id"]
    other = kit.partner()
    assert client.get(f"/api/v1/me/orders/{order_id}", headers=other["headers"]).status_code == 404
    waiting = client.get("/api/v1/admin/orders?status=ordered", headers=kit.admin).json["items"]
    assert [o["id"] for o in waiting] == [order_id]
    assert client.get("/api/v1/admin/orders?status=shipped", headers=kit.admin).json["items"] == []
    assert client.get(f"/api/v1/admin/orders/{order_id}", headers=kit.admin).json["member_id"] == partner["member"]["id"]
    assert client.get("/api/v1/admin/orders", headers=partner["headers"]).status_code == 403


def test_admins_see_the_median_and_90th_percentile_of_working_days_to_delivery(kit, client):
    # given ten orders delivered after 1..10 working days (Monday 23 Nov 2026; the UAE rests Sat-Sun)
    reward = kit.reward(**{**WRENCH, "stock": None, "points_cost": 10})
    partner = kit.partner(1000)
    ids = [kit.redeem(partner, reward["id"], delivery_address=ADDRESS).json["order"]["id"] for _ in range(10)]
    start = kit.till.clock()
    for n, order_id in enumerate(ids, start=1):
        _move(kit, order_id, status="confirmed")
        _move(kit, order_id, status="shipped", carrier="Aramex", tracking_number=f"T{n}")
    delivered_on = {}
    for n, order_id in enumerate(ids, start=1):
        day, left = start, n
        while left:
            day += dt.timedelta(days=1)
            left -= day.weekday() < 5
        delivered_on[order_id] = day
    for order_id, day in sorted(delivered_on.items(), key=lambda item: item[1]):
        kit.later(partner, seconds=(day - kit.till.clock()).total_seconds())
        assert _move(kit, order_id, status="delivered").status_code == 200

    # when
    times = client.get("/api/v1/admin/orders/delivery-times?days=30", headers=kit.admin).json

    # then
    assert times == {"delivered": 10, "median_working_days": 5.5, "p90_working_days": 9}
    none = client.get("/api/v1/admin/orders/delivery-times?country=PL", headers=kit.admin).json
    assert none == {"delivered": 0, "median_working_days": None, "p90_working_days": None}


MON = dt.datetime(2026, 11, 23, 10, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("days_later, country, expected", [
    (0, "AE", 0),   # the same day
    (1, "AE", 1),   # Tuesday
    (4, "AE", 4),   # Friday: a working day in the UAE
    (5, "AE", 4),   # Saturday
    (7, "AE", 5),   # next Monday
    (4, "SA", 3),   # Friday rests in Saudi Arabia
    (6, "SA", 4),   # Sunday works there
    (14, "PL", 10),
    (-1, "PL", 0),
])
def test_working_days_follow_each_countrys_weekend(days_later, country, expected):
    assert working_days(MON, MON + dt.timedelta(days=days_later), country) == expected
