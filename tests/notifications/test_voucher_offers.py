"""A campaign whose offer is a voucher: the targeted members find it in their offers and claim it once."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import work
from tests.notifications.test_campaigns import WINTER, partner_with_phone

SEGMENT = {"all": [{"field": "country", "op": "in", "value": ["AE"]}]}


def _campaign(client, marketer, offer):
    segment = client.post("/api/v1/segments", json={"name": "UAE", "rules": SEGMENT}, headers=marketer["headers"])
    return client.post("/api/v1/campaigns", json={"name": "Voucher for you", "segment_id": segment.json["id"],
                                                  "message": WINTER, "offer": offer}, headers=marketer["headers"])


def _launch(client, marketer, offer):
    campaign = _campaign(client, marketer, offer)
    assert campaign.status_code == 201, campaign.json
    assert client.post(f"/api/v1/campaigns/{campaign.json['id']}/schedule", headers=marketer["headers"]).status_code == 200
    work(client.application)
    return campaign.json


def test_targeted_members_claim_the_campaigns_voucher_once_and_spend_no_points(kit, client, people, fcm):
    # given a voucher reward, two targeted partners (one with points), and one outside the segment
    reward, codes = kit.voucher_reward(3)
    marketer = people.staff("marketer")
    first = partner_with_phone(people, client, "tok-1")
    kit.till.buy(first, "250.00")
    second = partner_with_phone(people, client, "tok-2")
    outside = partner_with_phone(people, client, "tok-3", country="PL")

    # when the campaign goes out
    campaign = _launch(client, marketer, {"kind": "voucher", "reward_id": reward["id"]})
    assert campaign["offer"] == {"kind": "voucher", "reward_id": reward["id"], "claim_until": None}

    # then each targeted member has the offer; the one outside has none
    offers = client.get("/api/v1/me/offers", headers=first["headers"]).json["items"]
    assert [(o["campaign_id"], o["reward"]["id"]) for o in offers] == [(campaign["id"], reward["id"])]
    assert client.get("/api/v1/me/offers", headers=outside["headers"]).json["items"] == []
    assert len(client.get("/api/v1/me/offers", headers=second["headers"]).json["items"]) == 1

    # and claiming gives a voucher once, and no points move
    claim = client.post(f"/api/v1/me/offers/{offers[0]['id']}/claim", headers=first["headers"])
    assert claim.status_code == 201, claim.json
    assert (claim.json["status"], claim.json["points"]) == ("active", 0) and "code" not in claim.json
    assert kit.balance(first) == 250
    wallet = client.get("/api/v1/me/vouchers", headers=first["headers"]).json["items"]
    assert [v["code"] for v in wallet] == [codes[0]]
    again = client.post(f"/api/v1/me/offers/{offers[0]['id']}/claim", headers=first["headers"])
    assert (again.status_code, again.json["reason"]) == (409, "already_claimed")
    assert again.json["details"]["voucher_id"] == claim.json["id"]
    assert client.get("/api/v1/me/offers", headers=first["headers"]).json["items"] == []
    # someone else's offer is not yours to claim
    theirs = client.get("/api/v1/me/offers", headers=second["headers"]).json["items"][0]
    assert client.post(f"/api/v1/me/offers/{theirs['id']}/claim", headers=first["headers"]).status_code == 404
    # the push went out as for any campaign
    assert {m["token"] for m in fcm.messages} >= {"tok-1", "tok-2"}


def test_an_offer_out_of_stock_stays_claimable_and_one_past_its_window_is_409(kit, client, people, fcm):
    reward, _ = kit.voucher_reward(0)
    marketer = people.staff("marketer")
    partner = partner_with_phone(people, client, "tok-1")
    until = (kit.till.clock() + dt.timedelta(days=2)).isoformat()
    _launch(client, marketer, {"kind": "voucher", "reward_id": reward["id"], "claim_until": until})
    offer = client.get("/api/v1/me/offers", headers=partner["headers"]).json["items"][0]
    empty = client.post(f"/api/v1/me/offers/{offer['id']}/claim", headers=partner["headers"])
    assert (empty.status_code, empty.json["reason"]) == (409, "out_of_stock")
    assert len(client.get("/api/v1/me/offers", headers=partner["headers"]).json["items"]) == 1
    kit.stock(reward["id"], 1)
    kit.later(partner, days=3)
    late = client.post(f"/api/v1/me/offers/{offer['id']}/claim", headers=partner["headers"])
    assert (late.status_code, late.json["reason"]) == (409, "not_available")
    assert client.get("/api/v1/me/offers", headers=partner["headers"]).json["items"] == []


@pytest.mark.parametrize("offer, words", [
    ({"kind": "voucher", "reward_id": 99999}, "no such reward"),
    ({"kind": "voucher"}, "Missing data"),
    ({"kind": "voucher", "reward_id": 1, "value": "2"}, "Unknown field"),
])
def test_a_voucher_offer_that_names_no_reward_is_422(kit, client, people, offer, words):
    kit.reward()
    response = _campaign(client, people.staff("marketer"), offer)
    assert response.status_code == 422
    assert words in str(response.json["errors"]["json"]["offer"])


def test_a_shipped_reward_is_no_campaign_offer(kit, client, people):
    wrench = kit.reward(kind="physical", stock=5, face_value=None)
    response = _campaign(client, people.staff("marketer"), {"kind": "voucher", "reward_id": wrench["id"]})
    assert response.status_code == 422
    assert response.json["errors"]["json"]["offer"]["reward_id"] == ["a campaign offers a voucher, not a shipped reward"]


def test_a_bonus_offer_still_becomes_a_bonus(kit, client, people):
    offer = {"kind": "multiplier", "value": "2", "country": "AE", "starts_at": "2026-11-01T00:00:00+04:00",
             "ends_at": "2026-12-31T00:00:00+04:00"}
    response = _campaign(client, people.staff("marketer"), offer)
    assert response.status_code == 201 and response.json["offer"]["kind"] == "multiplier"
