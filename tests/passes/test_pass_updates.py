"""Pass updates: one APNs push per phone after a burst of earns, 410 removes the phone, idempotent jobs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from infra.jobs import Job
from passes.models import PassRegistration
from tests.conftest import build_app, work
from tests.passes.test_apple_passes import apple_pass, auth

DEVICES = {"phone-a": "a" * 64, "phone-b": "b" * 64}


@pytest.fixture
def app(connection: Any, apns_settings: Any, clock: Any) -> Any:
    """The application with APNs pointed at the local HTTP/2 server."""
    return build_app(connection, apns_settings, clock)


def registered(client: Any, partner: dict[str, Any], settings: Any, devices: dict[str, str]) -> dict[str, Any]:
    _, data = apple_pass(client, partner)
    for device, push_token in devices.items():
        url = f"/passkit/v1/devices/{device}/registrations/{settings.apple_pass_type_id}/{data['serialNumber']}"
        assert client.post(url, json={"pushToken": push_token},
                           headers=auth(data["authenticationToken"])).status_code == 201
    return data


def test_ten_earns_in_a_minute_make_one_push_per_phone(client, people, till, apns, apns_settings, clock, app,
                                                       session):
    # given: a pass on two phones
    server, h2 = apns
    partner = people.partner()
    registered(client, partner, apns_settings, DEVICES)
    # when: ten purchases within the same minute, then the minute ends
    clock.advance(seconds=60 - clock().second, microseconds=-clock().microsecond)  # the start of a minute
    for i in range(10):
        clock.advance(seconds=5)
        assert till.buy(partner, "100.00").status_code == 201
    slot = int(clock().timestamp()) // 60
    keys = session.scalars(select(Job.dedupe_key).where(Job.name == "passes.member_changed")).all()
    assert [k for k in keys if k.endswith(f"@{slot}")] == [f"passes.member_changed:{partner['member']['id']}@{slot}"]
    clock.advance(seconds=60)
    work(app)
    # then: each phone got exactly one push, empty, on the pass type's topic, over HTTP/2
    assert sorted(token for token, _, _ in server.pushes) == sorted(DEVICES.values())
    for _, headers, body in server.pushes:
        assert body == b"{}"
        assert headers["apns-topic"] == apns_settings.apple_pass_type_id
        assert headers["apns-push-type"] == "background"
    assert {c.protocol for c in h2.connections} == {"h2"}
    # and running the job again (or a later one with nothing new) pushes nothing more
    clock.advance(minutes=5)
    work(app)
    assert len(server.pushes) == 2


def test_a_phone_apns_calls_gone_is_removed_and_the_others_still_hear(client, people, till, apns, apns_settings,
                                                                      clock, app, session):
    server, _ = apns
    partner = people.partner()
    registered(client, partner, apns_settings, DEVICES)
    server.gone.add(DEVICES["phone-a"])
    assert till.buy(partner, "100.00").status_code == 201
    clock.advance(seconds=61)
    work(app)
    assert [token for token, _, _ in server.pushes] == [DEVICES["phone-b"]]
    left = session.scalars(select(PassRegistration.device_library_id)).all()
    assert left == ["phone-b"]


def test_a_change_that_does_not_show_on_the_pass_pushes_nothing(client, people, apns, apns_settings, clock, app,
                                                              session):
    from passes import tracking

    server, _ = apns
    partner = people.partner()
    registered(client, partner, apns_settings, DEVICES)
    # a job for the member with nothing changed on the card (a retry, a change reverted)
    tracking.schedule(session, "member", partner["member"]["id"], clock())
    session.commit()
    clock.advance(seconds=61)
    assert work(app) == 1
    assert server.pushes == []


def test_the_provider_token_is_kept_and_renewed_within_apples_limits(apns_settings, clock):
    from pathlib import Path

    import jwt

    from passes.apns import TOKEN_LIFETIME, ProviderToken

    token = ProviderToken(key_pem=Path(apns_settings.apns_key).read_bytes(), key_id="KEY1234567",
                          team_id="ABCDE12345", clock=clock)
    first = token.get()
    clock.advance(minutes=19)
    assert token.get() == first  # Apple refuses renewals more often than every 20 minutes
    clock.advance(seconds=TOKEN_LIFETIME.total_seconds() - 19 * 60)
    second = token.get()
    assert second != first and token.renewals == 2
    assert jwt.get_unverified_header(second) == {"alg": "ES256", "kid": "KEY1234567", "typ": "JWT"}
    assert TOKEN_LIFETIME.total_seconds() < 60 * 60


def test_using_a_voucher_at_the_till_voids_its_pass_and_pushes(kit, client, apns, apns_settings, clock, app, till):
    server, _ = apns
    reward, codes = kit.voucher_reward(codes=2)
    partner = kit.partner(points=10_000)
    voucher_id = kit.redeem(partner, reward["id"]).json["vouchers"][0]["id"]
    voucher = client.get(f"/api/v1/me/vouchers/{voucher_id}", headers=partner["headers"]).json
    served = client.get(f"/api/v1/me/vouchers/{voucher['id']}/passes/apple", headers=partner["headers"])
    assert served.status_code == 200
    from tests.passes.conftest import unzip

    data = json.loads(unzip(served.data)["pass.json"])
    assert data["barcodes"][0]["message"] == voucher["code"]
    assert "voided" not in data
    url = (f"/passkit/v1/devices/phone-a/registrations/{apns_settings.apple_pass_type_id}/"
           f"{data['serialNumber']}")
    assert client.post(url, json={"pushToken": "c" * 64}, headers=auth(data["authenticationToken"])).status_code == 201
    # when the till takes the voucher
    assert kit.take(code=voucher["code"]).status_code == 200
    clock.advance(seconds=61)
    work(app)
    # then the phone is told, and the pass it fetches is void
    assert [token for token, _, _ in server.pushes] == ["c" * 64]
    latest = client.get(f"/passkit/v1/passes/{apns_settings.apple_pass_type_id}/{data['serialNumber']}",
                        headers=auth(data["authenticationToken"]))
    assert json.loads(unzip(latest.data)["pass.json"])["voided"] is True
