"""GET /me/passes/google and the object PATCHed on change, against the local Wallet API stand-in."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import build_app, work
from tests.passes.conftest import ISSUER
from tests.passes.google.wallet_server import WalletServer

@pytest.fixture
def google_settings(settings: Any, account: dict[str, Any], google: WalletServer) -> Any:
    return settings.with_overrides(google_wallet_issuer_id=ISSUER, google_wallet_credentials=json.dumps(account),
                                   google_wallet_endpoint=google.url,
                                   google_wallet_logo_url="https://wallet.example.com/logo.png",
                                   google_wallet_origins=("https://app.example.com",))


@pytest.fixture
def app(connection: Any, google_settings: Any, clock: Any) -> Any:
    return build_app(connection, google_settings, clock)


def claims_of(save_url: str, key: rsa.RSAPrivateKey) -> dict[str, Any]:
    token = save_url.removeprefix("https://pay.google.com/gp/v/save/")
    return jwt.decode(token, key.public_key(), algorithms=["RS256"], audience="google")


def test_the_save_link_verifies_with_the_public_key_and_carries_the_members_object(client, people, account,
                                                                                     account_key):
    partner = people.partner(name="Layla Haddad")
    response = client.get("/api/v1/me/passes/google", headers=partner["headers"])
    assert response.status_code == 200, response.json
    claims = claims_of(response.json["save_url"], account_key)
    assert claims["iss"] == account["client_email"] and claims["typ"] == "savetowallet"
    assert claims["origins"] == ["https://app.example.com"]
    (obj,) = claims["payload"]["loyaltyObjects"]
    assert obj["id"] == f"{ISSUER}.m{partner['member']['id']}"
    assert obj["accountId"] == partner["member"]["member_number"]
    assert obj["accountName"] == "Layla Haddad"
    assert obj["loyaltyPoints"]["balance"] == {"int": 0}
    assert obj["barcode"]["value"].startswith("PWP1.")
    assert claims["payload"]["loyaltyClasses"][0]["id"] == obj["classId"]


def test_without_google_wallet_settings_the_link_is_503_not_configured(connection, settings, clock, people):
    client = build_app(connection, settings, clock).test_client()
    partner = people.partner()
    response = client.get("/api/v1/me/passes/google", headers=partner["headers"])
    assert response.status_code == 503
    assert "not configured" in response.json["message"]


def test_a_saved_object_is_patched_with_the_new_balance(client, people, till, google, clock, app, account_key):
    # given: the member saved the link (Google made the object from it)
    partner = people.partner()
    link = client.get("/api/v1/me/passes/google", headers=partner["headers"]).json["save_url"]
    (obj,) = claims_of(link, account_key)["payload"]["loyaltyObjects"]
    google.stored.setdefault("loyaltyObject", {})[obj["id"]] = obj
    # when: the member earns, and the minute's update job runs
    assert till.buy(partner, "250.00").status_code == 201
    clock.advance(seconds=61)
    work(app)
    # then: Google got one PATCH with the balance the wallet shows
    balance = client.get("/api/v1/me/wallet", headers=partner["headers"]).json["balance"]
    patches = [r for r in google.api_requests() if r["method"] == "PATCH"]
    assert len(patches) == 1
    assert patches[0]["path"] == f"/walletobjects/v1/loyaltyObject/{obj['id']}"
    assert patches[0]["body"]["loyaltyPoints"]["balance"] == {"int": balance} and balance > 0
    # and nothing more when nothing changed
    clock.advance(minutes=5)
    work(app)
    assert len([r for r in google.api_requests() if r["method"] == "PATCH"]) == 1


def test_an_object_never_saved_is_not_an_error(client, people, till, google, clock, app):
    partner = people.partner()
    assert client.get("/api/v1/me/passes/google", headers=partner["headers"]).status_code == 200
    assert till.buy(partner, "100.00").status_code == 201
    clock.advance(seconds=61)
    work(app)
    assert [r["method"] for r in google.api_requests()] == ["PATCH"]  # 404: the member never saved it


def test_a_voucher_used_at_the_till_is_patched_completed(kit, client, google, clock, app, account_key):
    reward, _ = kit.voucher_reward(codes=2)
    partner = kit.partner(points=10_000)
    voucher_id = kit.redeem(partner, reward["id"]).json["vouchers"][0]["id"]
    voucher = client.get(f"/api/v1/me/vouchers/{voucher_id}", headers=partner["headers"]).json
    link = client.get(f"/api/v1/me/vouchers/{voucher_id}/passes/google", headers=partner["headers"])
    assert link.status_code == 200, link.json
    (obj,) = claims_of(link.json["save_url"], account_key)["payload"]["offerObjects"]
    assert obj["barcode"]["value"] == voucher["code"] and obj["state"] == "ACTIVE"
    google.stored.setdefault("offerObject", {})[obj["id"]] = obj
    assert kit.take(code=voucher["code"]).status_code == 200
    clock.advance(seconds=61)
    work(app)
    patches = [r for r in google.api_requests() if r["method"] == "PATCH" and "offerObject" in r["path"]]
    assert [p["body"]["state"] for p in patches] == ["COMPLETED"]
