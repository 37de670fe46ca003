"""Seasonal offers by push: the real firebase-admin against a local FCM v1 server."""

from __future__ import annotations

import datetime as dt

import pytest

from notifications import jobs
from notifications.jobs import push_sender
from notifications.policy import Policy
from notifications.push import Push
from tests.conftest import START, work

WINTER = {"title": {"en": "Winter tyres: double points", "ar": "إطارات الشتاء: نقاط مضاعفة", "pl": "Opony zimowe: podwójne punkty"},
          "body": {"en": "Until 15 December", "ar": "حتى ١٥ ديسمبر", "pl": "Do 15 grudnia"},
          "deep_link": "partnerwallet://offers/winter"}


def partner_with_phone(people, client, token, **fields):
    partner = people.partner(marketing_opt_in=True, **fields)
    response = client.post("/api/v1/me/devices", json={"token": token, "platform": "android"}, headers=partner["headers"])
    assert response.status_code == 201
    return partner


def launch(client, marketer, rules, message=WINTER, **extra):
    segment = client.post("/api/v1/segments", json={"name": "s", "rules": rules}, headers=marketer["headers"])
    assert segment.status_code == 201, segment.json
    campaign = client.post("/api/v1/campaigns", json={"name": "Winter", "segment_id": segment.json["id"],
                                                      "message": message, **extra}, headers=marketer["headers"])
    assert campaign.status_code == 201, campaign.json
    scheduled = client.post(f"/api/v1/campaigns/{campaign.json['id']}/schedule", headers=marketer["headers"])
    assert scheduled.status_code == 200, scheduled.json
    work(client.application)  # the job worker sends it
    return campaign.json["id"]


def stats(client, marketer, campaign_id):
    return client.get(f"/api/v1/campaigns/{campaign_id}/stats", headers=marketer["headers"]).json


def test_a_campaign_reaches_each_member_in_their_language_with_android_and_apns_settings(client, people, fcm):
    # given partners speaking three languages, one outside the segment, one who opted out
    marketer = people.staff("marketer")
    partner_with_phone(people, client, "tok-en", country="SA")
    partner_with_phone(people, client, "tok-ar", country="SA", language="ar")
    partner_with_phone(people, client, "tok-pl", country="PL")
    partner_with_phone(people, client, "tok-ae", country="AE")
    quiet = people.partner(country="SA")  # no marketing consent
    client.post("/api/v1/me/devices", json={"token": "tok-no", "platform": "ios"}, headers=quiet["headers"])

    # when
    campaign_id = launch(client, marketer, {"any": [{"field": "country", "op": "in", "value": ["SA", "PL"]}]})

    # then
    assert {m["token"] for m in fcm.messages} == {"tok-en", "tok-ar", "tok-pl"}
    titles = {m["token"]: m["notification"]["title"] for m in fcm.messages}
    assert titles == {"tok-en": WINTER["title"]["en"], "tok-ar": WINTER["title"]["ar"], "tok-pl": WINTER["title"]["pl"]}
    arabic = fcm.sent_to("tok-ar")[0]
    assert arabic["notification"]["body"] == "حتى ١٥ ديسمبر"  # right-to-left text intact
    assert arabic["data"]["deep_link"] == "partnerwallet://offers/winter"
    assert arabic["android"]["priority"] == "high" and arabic["android"]["collapse_key"] == f"campaign-{campaign_id}"
    assert arabic["android"]["notification"]["sound"] == "default" and arabic["android"]["ttl"] == "259200s"
    assert arabic["apns"]["payload"]["aps"]["sound"] == "default"
    assert arabic["apns"]["headers"]["apns-collapse-id"] == f"campaign-{campaign_id}"
    assert len(fcm.auth_headers) == 1 and fcm.auth_headers <= fcm.valid_authorizations()  # one token, ours
    assert stats(client, marketer, campaign_id) == {"targeted": 3, "sent": 3, "failed": 0, "skipped_capped": 0,
                                                    "skipped_quiet_hours": 0, "invalid_tokens_removed": 0, "opened": 0,
                                                    "waiting": 0}


def test_an_unregistered_or_malformed_token_is_removed(client, people, fcm, session):
    from sqlalchemy import select

    from notifications.devices import Device

    marketer = people.staff("marketer")
    partner_with_phone(people, client, "dead-1")
    partner_with_phone(people, client, "bad-1")
    partner_with_phone(people, client, "good-1")
    campaign_id = launch(client, marketer, {"all": [{"field": "has_device", "op": "is", "value": True}]})
    result = stats(client, marketer, campaign_id)
    assert (result["sent"], result["invalid_tokens_removed"]) == (1, 2)
    assert set(session.scalars(select(Device.token))) == {"good-1"}


def test_unavailable_answers_are_retried_after_what_retry_after_asks(sender, fcm, sleeps):
    outcomes = sender.send([Push(token="flaky-1", platform="android", title="t", body="b"),
                            Push(token="ok-1", platform="android", title="t", body="b")])
    assert [o.status for o in outcomes] == ["sent", "sent"]
    assert fcm.tries["flaky-1"] == 2 and fcm.tries["ok-1"] == 1
    assert sleeps == [7.0]  # Retry-After: 7 beats the first backoff (0.5 s)


def test_a_device_that_stays_unavailable_fails_after_backoff_that_grows(sender, fcm, sleeps):
    outcomes = sender.send([Push(token="down-1", platform="ios", title="t", body="b")])
    assert outcomes[0].status == "failed"
    assert fcm.tries["down-1"] == sender.max_attempts
    assert sleeps == [0.5, 1.0, 2.0, 4.0]  # 0.5 s doubling (jitter pinned to its top)


def test_members_in_quiet_hours_get_it_in_their_morning(client, people, fcm, clock, app):
    # given 19:00 UTC: 22:00 in Riyadh (quiet), 20:00 in Warsaw (not yet)
    marketer = people.staff("marketer")
    partner_with_phone(people, client, "tok-riyadh", country="SA")
    partner_with_phone(people, client, "tok-warsaw", country="PL")
    clock.at = START.replace(hour=19)
    marketer["headers"] = people.login(marketer["email"])

    campaign_id = launch(client, marketer, {"all": [{"field": "country", "op": "in", "value": ["SA", "PL"]}]})
    assert [m["token"] for m in fcm.messages] == ["tok-warsaw"]
    result = stats(client, marketer, campaign_id)
    assert (result["skipped_quiet_hours"], result["waiting"]) == (1, 1)

    # when the scheduler ticks at 07:59 Riyadh, then at 08:00 Riyadh (05:00 UTC)
    tick = lambda: app.test_cli_runner().invoke(args=["campaigns", "tick"]).output
    clock.at = dt.datetime(2026, 11, 24, 4, 59, tzinfo=dt.timezone.utc)
    tick()
    assert [m["token"] for m in fcm.messages] == ["tok-warsaw"]
    clock.at = dt.datetime(2026, 11, 24, 5, 0, tzinfo=dt.timezone.utc)
    assert tick() == "campaigns worked on: 1\n"

    # then
    assert [m["token"] for m in fcm.messages] == ["tok-warsaw", "tok-riyadh"]
    marketer["headers"] = people.login(marketer["email"])
    assert stats(client, marketer, campaign_id)["waiting"] == 0


def test_quiet_hours_follow_the_members_clock_across_the_date_line():
    policy = Policy()
    from zoneinfo import ZoneInfo

    at = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)  # 23:00 in Kiritimati (+14), 22:00 in Pago Pago (-11)
    kiritimati, pago = at.astimezone(ZoneInfo("Pacific/Kiritimati")), at.astimezone(ZoneInfo("Pacific/Pago_Pago"))
    assert policy.quiet(kiritimati) and policy.quiet(pago)
    assert policy.morning_after(kiritimati) == dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.timezone.utc)  # 08:00 on the 24th there
    assert policy.morning_after(pago) == dt.datetime(2026, 11, 23, 19, 0, tzinfo=dt.timezone.utc)  # 08:00 on the 23rd there


def test_the_frequency_cap_skips_a_fourth_push_in_a_week(client, people, fcm, clock):
    marketer = people.staff("marketer")
    partner_with_phone(people, client, "tok-busy")
    rules = {"all": [{"field": "has_device", "op": "is", "value": True}]}
    for day in range(4):
        clock.at = START + dt.timedelta(days=day)
        marketer["headers"] = people.login(marketer["email"])
        last = launch(client, marketer, rules)
    assert len(fcm.sent_to("tok-busy")) == 3
    assert stats(client, marketer, last)["skipped_capped"] == 1
    clock.at = START + dt.timedelta(days=7)  # the first push leaves the window
    marketer["headers"] = people.login(marketer["email"])
    launch(client, marketer, rules)
    assert len(fcm.sent_to("tok-busy")) == 4


def test_running_a_campaign_job_again_sends_nothing_twice(client, people, fcm, app, clock):
    marketer = people.staff("marketer")
    for i in range(3):
        partner_with_phone(people, client, f"tok-{i}")
    campaign_id = launch(client, marketer, {"all": [{"field": "has_device", "op": "is", "value": True}]})
    assert len(fcm.messages) == 3
    for _ in range(2):
        jobs.run_campaign(app.extensions["sessionmaker"], campaign_id, clock=clock,
                          sender=push_sender(app.extensions["resources"]), policy=Policy())
    assert len(fcm.messages) == 3
    assert stats(client, marketer, campaign_id)["targeted"] == 3


def test_the_inbox_lists_the_message_and_opened_is_counted(client, people, fcm):
    marketer = people.staff("marketer")
    partner = partner_with_phone(people, client, "tok-reader", language="pl")
    campaign_id = launch(client, marketer, {"all": [{"field": "language", "op": "in", "value": ["pl"]}]})
    items = client.get("/api/v1/me/notifications", headers=partner["headers"]).json["items"]
    assert [(i["campaign_id"], i["title"]) for i in items] == [(campaign_id, WINTER["title"]["pl"])]
    opened = client.patch(f"/api/v1/me/notifications/{items[0]['id']}", json={"opened": True}, headers=partner["headers"])
    assert opened.json["opened_at"] is not None
    assert stats(client, marketer, campaign_id)["opened"] == 1
    other = people.partner()
    assert client.patch(f"/api/v1/me/notifications/{items[0]['id']}", json={"opened": True},
                        headers=other["headers"]).status_code == 404


def test_an_offer_with_the_campaign_gives_its_bonus_to_the_targeted_members_only(client, people, fcm, till):
    marketer = people.staff("marketer")
    gold = partner_with_phone(people, client, "tok-gold", city="Dubai")
    other = partner_with_phone(people, client, "tok-other", city="Sharjah")
    offer = {"country": "AE", "kind": "multiplier", "value": "2", "starts_at": "2026-11-01T00:00:00+04:00",
             "ends_at": "2026-12-16T00:00:00+04:00"}
    launch(client, marketer, {"all": [{"field": "city", "op": "in", "value": ["Dubai"]}]}, offer=offer)
    assert till.buy(gold, "100.00").json["points_earned"] == 200
    assert till.buy(other, "100.00").json["points_earned"] == 100


def test_a_test_send_goes_to_one_member_only_and_leaves_no_stats(client, people, fcm):
    marketer = people.staff("marketer")
    target = partner_with_phone(people, client, "tok-me")
    partner_with_phone(people, client, "tok-someone")
    segment = client.post("/api/v1/segments", json={"name": "all", "rules": {"all": []}}, headers=marketer["headers"]).json
    campaign = client.post("/api/v1/campaigns", json={"name": "c", "segment_id": segment["id"], "message": WINTER},
                           headers=marketer["headers"]).json
    response = client.post(f"/api/v1/campaigns/{campaign['id']}/test", json={"member_id": target["member"]["id"]},
                           headers=marketer["headers"])
    assert response.json == {"devices": 1, "sent": 1, "failed": 0}
    assert [(m["token"], m["notification"]["title"]) for m in fcm.messages] == [("tok-me", "[TEST] " + WINTER["title"]["en"])]
    assert stats(client, marketer, campaign["id"])["targeted"] == 0


def test_segment_preview_counts_with_sql_and_shows_a_sample(client, people, till):
    marketer = people.staff("marketer")
    rich = people.partner(country="AE", city="Dubai")
    people.partner(country="AE", city="Dubai")
    till.buy(rich, "600.00")
    segment = client.post("/api/v1/segments", headers=marketer["headers"], json={"name": "Dubai big spenders", "rules": {
        "all": [{"field": "city", "op": "in", "value": ["Dubai"]},
                {"field": "points_balance", "op": "gte", "value": 500},
                {"field": "last_purchase", "op": "within_days", "value": 30}]}}).json
    preview = client.get(f"/api/v1/segments/{segment['id']}/preview", headers=marketer["headers"]).json
    assert preview["count"] == 1
    assert [m["member_number"] for m in preview["sample"]] == [rich["member"]["member_number"]]


@pytest.mark.parametrize("rules, says", [
    ({"all": [{"field": "shoe_size", "op": "in", "value": ["42"]}]}, "unknown field"),
    ({"all": [{"field": "tier", "op": "gte", "value": 3}]}, "operators"),
    ({"all": [{"field": "points_balance", "op": "gte", "value": "many"}]}, "whole number"),
    ({"some": []}, "a condition is"),
    ({"all": [{"all": [{"all": [{"all": [{"all": [{"all": []}]}]}]}]}]}, "nest"),
])
def test_bad_segment_rules_are_422_on_rules_with_the_reason(client, people, rules, says):
    response = client.post("/api/v1/segments", json={"name": "x", "rules": rules}, headers=people.staff("marketer")["headers"])
    assert response.status_code == 422
    assert says in response.json["errors"]["json"]["rules"][0]


def test_partners_and_cashiers_cannot_run_campaigns(client, people):
    for who in (people.partner(), people.staff("cashier")):
        assert client.post("/api/v1/segments", json={"name": "x", "rules": {"all": []}},
                           headers=who["headers"]).status_code == 403


def test_a_device_token_moves_to_whoever_registers_it_last_and_only_its_owner_removes_it(client, people):
    first, second = people.partner(), people.partner()
    for who in (first, second):
        assert client.post("/api/v1/me/devices", json={"token": "shared-phone", "platform": "ios"},
                           headers=who["headers"]).status_code == 201
    assert client.delete("/api/v1/me/devices/shared-phone", headers=first["headers"]).status_code == 404
    assert client.delete("/api/v1/me/devices/shared-phone", headers=second["headers"]).status_code == 204


def test_a_campaign_without_english_is_422(client, people):
    marketer = people.staff("marketer")
    segment = client.post("/api/v1/segments", json={"name": "s", "rules": {"all": []}}, headers=marketer["headers"]).json
    response = client.post("/api/v1/campaigns", headers=marketer["headers"], json={
        "name": "c", "segment_id": segment["id"], "message": {"title": {"ar": "x"}, "body": {"ar": "y"}}})
    assert response.status_code == 422
    assert "title" in response.json["errors"]["json"]["message"]


def test_a_segment_of_winter_tyre_buyers_leaves_out_refunded_and_other_purchases(client, people, till):
    marketer, admin = people.staff("marketer"), people.staff("admin")
    client.put("/api/v1/admin/products/WT-1", json={"name": "Winter", "category": "winter-tyres"}, headers=admin["headers"])
    client.put("/api/v1/admin/products/OIL", json={"name": "Oil", "category": "oil"}, headers=admin["headers"])
    buyer, oil_only, refunded = people.partner(), people.partner(), people.partner()
    till.buy(buyer, "400.00", items=[{"sku": "WT-1", "quantity": 4, "unit_price": "100.00"}])
    till.buy(oil_only, "50.00", items=[{"sku": "OIL", "quantity": 1, "unit_price": "50.00"}])
    back = till.buy(refunded, "100.00", items=[{"sku": "WT-1", "quantity": 1, "unit_price": "100.00"}]).json
    client.post(f"/api/v1/pos/purchases/{back['id']}/refund", headers=till.headers)
    rules = {"all": [{"field": "categories_bought", "op": "any_of", "value": ["winter-tyres"]}]}
    segment = client.post("/api/v1/segments", json={"name": "winter buyers", "rules": rules}, headers=marketer["headers"]).json
    preview = client.get(f"/api/v1/segments/{segment['id']}/preview", headers=marketer["headers"]).json
    assert [m["member_number"] for m in preview["sample"]] == [buyer["member"]["member_number"]]


def test_an_offer_with_a_nonsense_value_is_422_before_it_can_break_the_till(client, people):
    marketer = people.staff("marketer")
    segment = client.post("/api/v1/segments", json={"name": "s", "rules": {"all": []}}, headers=marketer["headers"]).json
    for value in ("0", "-3", "1E+30"):
        offer = {"country": "AE", "kind": "multiplier", "value": value, "starts_at": "2026-11-01T00:00:00+04:00",
                 "ends_at": "2026-12-16T00:00:00+04:00"}
        response = client.post("/api/v1/campaigns", headers=marketer["headers"], json={
            "name": "c", "segment_id": segment["id"], "message": WINTER, "offer": offer})
        assert response.status_code == 422, value
        assert "value" in response.json["errors"]["json"]["offer"]


def test_a_campaign_that_fails_does_not_hold_back_the_others(client, people, fcm, app, clock, session):
    # given two campaigns due at the same tick, the first of which cannot be targeted
    from notifications.segments import Segment

    marketer = people.staff("marketer")
    partner_with_phone(people, client, "tok-next")
    ids = []
    for name in ("broken", "fine"):
        segment = client.post("/api/v1/segments", json={"name": name, "rules": {"all": []}}, headers=marketer["headers"]).json
        campaign = client.post("/api/v1/campaigns", headers=marketer["headers"], json={
            "name": name, "segment_id": segment["id"], "message": WINTER, "send_at": "2026-11-23T10:00:00+00:00"}).json
        client.post(f"/api/v1/campaigns/{campaign['id']}/schedule", headers=marketer["headers"])
        ids.append((segment["id"], campaign["id"]))
    broken = session.get(Segment, ids[0][0])
    broken.rules = {"all": [{"field": "no_such_field", "op": "in", "value": ["x"]}]}  # e.g. rules from an older release
    session.commit()

    # when the tick comes
    clock.advance(hours=1)
    output = app.test_cli_runner().invoke(args=["campaigns", "tick"]).output

    # then the good one went out
    assert output == "campaigns worked on: 2\n"
    assert [m["token"] for m in fcm.messages] == ["tok-next"]
