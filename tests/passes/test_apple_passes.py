"""GET /me/passes/apple and Apple's PassKit web service, end to end through the app."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from werkzeug.http import http_date

from passes.identity import DEVELOPMENT_DIR
from tests.passes.conftest import unzip

PKPASS = "application/vnd.apple.pkpass"
DEVICE = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
PUSH_TOKEN = "f" * 64


def apple_pass(client: Any, partner: dict[str, Any]) -> tuple[dict[str, bytes], dict[str, Any]]:
    response = client.get("/api/v1/me/passes/apple", headers=partner["headers"])
    assert response.status_code == 200, response.data[:200]
    assert response.mimetype == PKPASS
    files = unzip(response.data)
    return files, json.loads(files["pass.json"])


def cms_verify(tmp_path: Path, signature: bytes, manifest: bytes, ca_file: Path) -> subprocess.CompletedProcess[str]:
    (tmp_path / "signature").write_bytes(signature)
    (tmp_path / "manifest.json").write_bytes(manifest)
    return subprocess.run(
        ["/usr/bin/openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "signature"),
         "-content", str(tmp_path / "manifest.json"), "-CAfile", str(ca_file), "-purpose", "any",
         "-out", str(tmp_path / "verified")], capture_output=True, text=True, timeout=30, check=False)


def passkit(serial: str, settings: Any) -> str:
    return f"/passkit/v1/devices/{DEVICE}/registrations/{settings.apple_pass_type_id}/{serial}"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"ApplePass {token}"}


def test_the_served_pass_holds_every_file_its_manifest_names_and_a_signature_openssl_verifies(
        client, people, settings, tmp_path):
    # given
    partner = people.partner(name="Layla Haddad")
    # when
    files, data = apple_pass(client, partner)
    # then
    manifest = json.loads(files["manifest.json"])
    assert set(manifest) == set(files) - {"manifest.json", "signature"}
    for name, digest in manifest.items():
        assert hashlib.sha1(files[name]).hexdigest() == digest, name
    for name in ("icon.png", "icon@2x.png", "icon@3x.png", "logo.png", "logo@2x.png", "logo@3x.png",
                 "en.lproj/pass.strings", "ar.lproj/pass.strings", "pl.lproj/pass.strings"):
        assert name in files
    root = settings.instance_dir / DEVELOPMENT_DIR / "root.pem"
    verified = cms_verify(tmp_path, files["signature"], files["manifest.json"], root)
    assert verified.returncode == 0, verified.stderr
    tampered = files["manifest.json"].replace(b'"pass.json":"', b'"pass.json":"0', 1)
    assert cms_verify(tmp_path, files["signature"], tampered, root).returncode != 0


def test_the_served_pass_is_the_members_store_card_with_its_web_service(client, people, settings):
    partner = people.partner(name="Layla Haddad")
    _, data = apple_pass(client, partner)
    assert data["formatVersion"] == 1
    assert data["passTypeIdentifier"] == settings.apple_pass_type_id
    assert data["teamIdentifier"] == settings.apple_pass_team_id
    assert data["serialNumber"] == f"m{partner['member']['id']}"
    assert data["webServiceURL"] == settings.public_url + "/passkit"
    assert len(data["authenticationToken"]) >= 16
    assert data["barcodes"][0]["altText"] == partner["member"]["member_number"]
    card = data["storeCard"]
    assert card["primaryFields"][0]["value"] == 0
    assert [f["value"] for f in card["secondaryFields"]] == ["Blue", "Layla Haddad"]
    assert any(f["key"] == "development" for f in card["backFields"])  # no APPLE_PASS_*: it says so


def test_the_pass_barcode_is_accepted_by_the_till_long_after_the_app_qr_would_expire(client, people, till, clock):
    partner = people.partner()
    _, data = apple_pass(client, partner)
    clock.advance(days=30)
    cashier = people.login(till.cashier["email"])  # the cashier's own sign-in expired meanwhile
    response = client.post("/api/v1/pos/scan", json={"qr_payload": data["barcodes"][0]["message"]},
                           headers=cashier)
    assert response.status_code == 200, response.json
    assert response.json["member_number"] == partner["member"]["member_number"]


def test_a_forged_pass_barcode_is_refused_at_the_till(client, people, till):
    partner = people.partner()
    _, data = apple_pass(client, partner)
    message = data["barcodes"][0]["message"]
    forged = message[:-3] + ("AAA" if not message.endswith("AAA") else "BBB")
    response = client.post("/api/v1/pos/scan", json={"qr_payload": forged}, headers=till.headers)
    assert response.status_code == 422


def test_the_web_service_flow_register_earn_updated_serials_latest_pass_not_modified_unregister(
        client, people, till, settings, clock, app):
    from tests.conftest import work

    # given: the member's pass on a phone
    partner = people.partner()
    _, data = apple_pass(client, partner)
    serial, token = data["serialNumber"], data["authenticationToken"]
    url = passkit(serial, settings)
    assert client.post(url, json={"pushToken": PUSH_TOKEN}, headers=auth("x" * 32)).status_code == 401
    assert client.post(url, json={"pushToken": PUSH_TOKEN}, headers=auth(token)).status_code == 201
    assert client.post(url, json={"pushToken": PUSH_TOKEN}, headers=auth(token)).status_code == 200
    listing = f"/passkit/v1/devices/{DEVICE}/registrations/{settings.apple_pass_type_id}"
    first = client.get(listing)
    assert first.status_code == 200 and first.json["serialNumbers"] == [serial]
    tag = first.json["lastUpdated"]
    assert client.get(listing, query_string={"passesUpdatedSince": tag}).status_code == 204
    # when: the member earns, and the update job runs at the end of the minute
    clock.advance(seconds=5)
    assert till.buy(partner, "250.00").status_code == 201
    clock.advance(seconds=61)
    work(app)
    # then: the pass is listed as updated, and the latest pass shows the new balance
    updated = client.get(listing, query_string={"passesUpdatedSince": tag})
    assert updated.status_code == 200 and updated.json["serialNumbers"] == [serial]
    assert int(updated.json["lastUpdated"]) > int(tag)
    latest_url = f"/passkit/v1/passes/{settings.apple_pass_type_id}/{serial}"
    assert client.get(latest_url, headers=auth("y" * 32)).status_code == 401
    latest = client.get(latest_url, headers=auth(token))
    assert latest.status_code == 200 and latest.mimetype == PKPASS
    balance = json.loads(unzip(latest.data)["pass.json"])["storeCard"]["primaryFields"][0]["value"]
    assert balance == client.get("/api/v1/me/wallet", headers=partner["headers"]).json["balance"] > 0
    modified = latest.headers["Last-Modified"]
    unchanged = client.get(latest_url, headers={**auth(token), "If-Modified-Since": modified})
    assert unchanged.status_code == 304
    # and after unregistering, the phone has no passes to hear about
    assert client.delete(url, headers=auth("z" * 32)).status_code == 401
    assert client.delete(url, headers=auth(token)).status_code == 200
    assert client.get(listing).status_code == 204


def test_an_unchanged_pass_is_not_modified_and_a_changed_one_is(client, people, settings, clock):
    partner = people.partner()
    _, data = apple_pass(client, partner)
    latest_url = f"/passkit/v1/passes/{settings.apple_pass_type_id}/{data['serialNumber']}"
    first = client.get(latest_url, headers=auth(data["authenticationToken"]))
    since = first.headers["Last-Modified"]
    assert client.get(latest_url, headers={**auth(data["authenticationToken"]),
                                           "If-Modified-Since": since}).status_code == 304
    earlier = http_date(clock() - __import__("datetime").timedelta(days=1))
    assert client.get(latest_url, headers={**auth(data["authenticationToken"]),
                                           "If-Modified-Since": earlier}).status_code == 200


@pytest.mark.parametrize("serial", ["m999999999", "x1", "v0"])
def test_a_serial_we_never_issued_is_refused_by_its_token(client, settings, serial):
    response = client.get(f"/passkit/v1/passes/{settings.apple_pass_type_id}/{serial}", headers=auth("a" * 32))
    assert response.status_code == 401


def test_another_pass_type_is_refused(client, people, settings):
    partner = people.partner()
    _, data = apple_pass(client, partner)
    url = f"/passkit/v1/devices/{DEVICE}/registrations/pass.other.type/{data['serialNumber']}"
    assert client.post(url, json={"pushToken": PUSH_TOKEN}, headers=auth(data["authenticationToken"])).status_code == 401


def test_the_log_endpoint_takes_what_wallet_says(client, caplog):
    response = client.post("/passkit/v1/log", json={"logs": ["Web service error for pass.x: 500"]})
    assert response.status_code == 200
    assert "Web service error" in caplog.text


def test_wrong_pass_tokens_are_limited_per_address_and_phones_with_theirs_are_not(connection, settings, clock, people):
    from tests.conftest import build_app

    app = build_app(connection, settings.with_overrides(passkit_token_failure_limit="3 per minute"), clock)
    client = people.client = app.test_client()
    _, data = apple_pass(client, people.partner())
    url, right = passkit(data["serialNumber"], settings), auth(data["authenticationToken"])
    latest = f"/passkit/v1/passes/{settings.apple_pass_type_id}/{data['serialNumber']}"
    # a phone with its token: five calls from one address, none counted
    assert [client.get(latest, headers=right, environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code
            for _ in range(5)] == [200] * 5
    # someone trying tokens from another address: the fourth wrong one is 429
    assert [client.post(url, json={"pushToken": PUSH_TOKEN}, headers=auth("b" * 32),
                        environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code for _ in range(4)] == [401] * 3 + [429]
    # and the phone's own address is untouched by it
    assert client.post(url, json={"pushToken": PUSH_TOKEN}, headers=right,
                       environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 201


def test_wallets_log_reports_are_limited_per_address(connection, settings, clock):
    from tests.conftest import build_app

    client = build_app(connection, settings.with_overrides(passkit_log_limit="2 per hour"), clock).test_client()
    statuses = [client.post("/passkit/v1/log", json={"logs": ["x"]}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
