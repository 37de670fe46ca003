"""A week before a voucher expires: a message in the inbox, and a push when the member opted in and has a phone."""

from __future__ import annotations

from infra.jobs import runner
from tests.conftest import work
from tests.notifications.test_campaigns import partner_with_phone

REMIND = "rewards.voucher_reminders"


def _remind(app, session, clock) -> int:
    runner.schedule_recurring(session, clock())
    session.commit()
    return work(app, names=[REMIND])


def _voucher(kit, partner, validity_days=30):
    reward, codes = kit.voucher_reward(1, validity_days=validity_days)
    kit.till.buy(partner, "100.00")
    response = kit.redeem(partner, reward["id"])
    assert response.status_code == 201, response.json
    return response.json["vouchers"][0], codes[0]


def _inbox(client, partner):
    return client.get("/api/v1/me/notifications", headers=partner["headers"]).json["items"]


def test_a_week_before_expiry_the_member_finds_a_message_and_its_phone_a_push_once(kit, client, people, fcm, app,
                                                                                   session, clock):
    # given an Arabic-speaking partner with a phone and a voucher valid for 30 days
    partner = partner_with_phone(people, client, "tok-ar", language="ar")
    voucher, _ = _voucher(kit, partner)

    # when 23 days have passed and the hourly job runs (13:00 in Dubai)
    kit.later(partner, days=23)
    assert _remind(app, session, clock) == 1

    # then
    (note,) = _inbox(client, partner)
    assert note["title"] == "قسيمتك تنتهي قريبًا"
    assert note["body"] == "تنتهي صلاحية قسيمة كارفور ٥٠ درهم في 2026-12-23. استخدمها قبل ذلك."
    assert note["deep_link"] == f"partnerwallet://vouchers/{voucher['id']}" and note["campaign_id"] is None
    (push,) = fcm.sent_to("tok-ar")
    assert push["data"] == {"voucher_id": str(voucher["id"]), "notification_id": str(note["id"]),
                            "deep_link": note["deep_link"]}
    assert push["notification"]["title"] == note["title"]
    # and the next runs remind nothing more
    kit.later(partner, hours=2)
    _remind(app, session, clock)
    assert len(_inbox(client, partner)) == 1 and len(fcm.sent_to("tok-ar")) == 1


def test_a_member_who_did_not_opt_in_gets_the_inbox_message_only(kit, client, people, fcm, app, session, clock):
    partner = people.partner()
    client.post("/api/v1/me/devices", json={"token": "tok-quiet", "platform": "ios"}, headers=partner["headers"])
    _voucher(kit, partner)
    kit.later(partner, days=23, hours=1)
    _remind(app, session, clock)
    assert [n["title"] for n in _inbox(client, partner)] == ["Your voucher expires soon"]
    assert fcm.sent_to("tok-quiet") == []


def test_no_one_is_woken_the_reminder_waits_for_the_members_morning(kit, client, people, fcm, app, session, clock):
    partner = partner_with_phone(people, client, "tok-pl", country="PL", timezone="Europe/Warsaw")
    reward, codes = kit.voucher_reward(1, validity_days=30, country="PL", face_value=None)
    kit.till.buy(partner, "100.00")
    assert kit.redeem(partner, reward["id"]).status_code == 201
    kit.later(partner, days=23, hours=13)  # 22:00 UTC: 23:00 in Warsaw
    _remind(app, session, clock)
    assert _inbox(client, partner) == []
    kit.later(partner, hours=9)  # 08:00 in Warsaw
    _remind(app, session, clock)
    assert [n["title"] for n in _inbox(client, partner)] == ["Twój voucher wkrótce wygaśnie"]


def test_a_short_lived_or_used_voucher_is_not_reminded(kit, client, people, fcm, app, session, clock):
    partner = partner_with_phone(people, client, "tok-1")
    _voucher(kit, partner, validity_days=5)
    _, code = _voucher(kit, partner, validity_days=30)
    assert kit.take(code=code).status_code == 200
    for days in (1, 22, 1, 1):
        kit.later(partner, days=days)
        _remind(app, session, clock)
    assert _inbox(client, partner) == []
