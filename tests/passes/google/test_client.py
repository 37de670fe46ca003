"""WalletClient against a local stand-in for Google's OAuth token endpoint and Wallet API."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt as google_jwt

from passes.google import WalletApiError, WalletClient, balance_points, loyalty_class, offer_object
from passes.google.client import SCOPE
from tests.passes.google.conftest import ISSUER
from tests.passes.google.wallet_server import WalletServer

# google-auth signs the assertion for Google's token endpoint whatever token_uri says; it only posts it there
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"


@pytest.fixture
def client(account: dict[str, Any], google: WalletServer) -> WalletClient:
    """A client whose token_uri and endpoint are the local server."""
    wallet = WalletClient(account, endpoint=google.url, timeout=5)
    yield wallet
    wallet.close()


def test_nothing_is_asked_of_google_before_the_first_call(account: dict[str, Any], google: WalletServer) -> None:
    WalletClient(account, endpoint=google.url)

    assert google.requests == []


def test_upsert_object_inserts_a_new_object_with_the_bearer_token_the_token_endpoint_issued(
        client: WalletClient, google: WalletServer, member: dict[str, Any]) -> None:
    answer = client.upsert_object(member)

    assert answer == member
    (insert,) = google.api_requests()
    assert (insert["method"], insert["path"]) == ("POST", "/walletobjects/v1/loyaltyObject")
    assert insert["body"] == member
    assert insert["headers"]["authorization"] == f"Bearer {google.issued[0]}"


def test_the_token_request_asserts_the_wallet_issuer_scope_signed_by_the_service_account(
        client: WalletClient, google: WalletServer, member: dict[str, Any], account: dict[str, Any],
        account_key: rsa.RSAPrivateKey) -> None:
    client.upsert_object(member)

    (token_request,) = google.token_requests()
    assertion = urllib.parse.parse_qs(token_request["body"])["assertion"][0]
    public = account_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    claims = google_jwt.decode(assertion, certs=public, audience=GOOGLE_TOKEN_AUDIENCE)
    assert claims["scope"] == SCOPE
    assert claims["iss"] == account["client_email"]


def test_upsert_object_patches_on_409(client: WalletClient, google: WalletServer, member: dict[str, Any]) -> None:
    client.upsert_object(member)
    changed = {**member, "accountName": "Layla H."}

    answer = client.upsert_object(changed)

    assert [(r["method"], r["path"]) for r in google.api_requests()] == [
        ("POST", "/walletobjects/v1/loyaltyObject"),
        ("POST", "/walletobjects/v1/loyaltyObject"),
        ("PATCH", f"/walletobjects/v1/loyaltyObject/{member['id']}"),
    ]
    assert google.api_requests()[-1]["body"] == changed
    assert answer["accountName"] == "Layla H."


def test_patch_object_sends_the_new_balance_with_the_issued_token(client: WalletClient, google: WalletServer,
                                                                  member: dict[str, Any]) -> None:
    client.upsert_object(member)

    answer = client.patch_object(member["id"], {"loyaltyPoints": balance_points(13_000)})

    patch = google.api_requests()[-1]
    assert (patch["method"], patch["path"]) == ("PATCH", f"/walletobjects/v1/loyaltyObject/{member['id']}")
    assert patch["body"] == {"loyaltyPoints": balance_points(13_000)}
    assert patch["headers"]["authorization"] == f"Bearer {google.issued[0]}"
    assert len(google.token_requests()) == 1  # the token is reused, not fetched per call
    assert answer["loyaltyPoints"]["balance"] == {"int": 13_000}
    assert google.stored["loyaltyObject"][member["id"]]["loyaltyPoints"]["balance"] == {"int": 13_000}


def test_patching_an_object_google_never_had_is_not_found(client: WalletClient, member: dict[str, Any]) -> None:
    with pytest.raises(WalletApiError) as error:
        client.patch_object(member["id"], {"state": "INACTIVE"})

    assert (error.value.status, error.value.reason) == (404, "NOT_FOUND")
    assert member["id"] in error.value.message


def test_upsert_class_inserts_then_patches(client: WalletClient, google: WalletServer) -> None:
    cls = loyalty_class(issuer_id=ISSUER, class_suffix="partner-wallet", issuer_name="Tyre Co",
                        program_name="Partner Wallet", program_logo_uri="https://cdn.example.com/logo.png")

    client.upsert_class(cls)
    client.upsert_class({**cls, "programName": "Partner Wallet+"})

    assert [(r["method"], r["path"]) for r in google.api_requests()] == [
        ("POST", "/walletobjects/v1/loyaltyClass"),
        ("POST", "/walletobjects/v1/loyaltyClass"),
        ("PATCH", f"/walletobjects/v1/loyaltyClass/{cls['id']}"),
    ]
    assert google.stored["loyaltyClass"][cls["id"]]["programName"] == "Partner Wallet+"


def test_offers_go_to_the_offer_resources(client: WalletClient, google: WalletServer) -> None:
    voucher = offer_object(issuer_id=ISSUER, object_suffix="voucher-91", class_id=f"{ISSUER}.r", voucher_code="C-1")

    client.upsert_object(voucher, kind="offer")
    client.patch_object(voucher["id"], {"state": "COMPLETED"}, kind="offer")

    assert [r["path"] for r in google.api_requests()] == [
        "/walletobjects/v1/offerObject", f"/walletobjects/v1/offerObject/{voucher['id']}"]
    assert client.get_object(voucher["id"], kind="offer")["state"] == "COMPLETED"
    assert client.get_object(f"{ISSUER}.never", kind="offer") is None


@pytest.mark.parametrize("status, code", [(403, "PERMISSION_DENIED"), (400, "INVALID_ARGUMENT"),
                                          (503, "UNAVAILABLE")])
def test_a_refusal_is_an_error_with_googles_status_and_reason(client: WalletClient, google: WalletServer,
                                                              member: dict[str, Any], status: int, code: str) -> None:
    google.fail_next = (status, code, "the issuer cannot do that")

    with pytest.raises(WalletApiError) as error:
        client.upsert_object(member)

    assert (error.value.status, error.value.reason) == (status, code)
    assert "the issuer cannot do that" in error.value.message


def test_a_token_endpoint_that_refuses_is_no_access_token(account: dict[str, Any], google: WalletServer,
                                                          member: dict[str, Any]) -> None:
    wallet = WalletClient({**account, "token_uri": f"{google.url}/no-such-token-endpoint"}, endpoint=google.url)

    with pytest.raises(WalletApiError) as error:
        wallet.upsert_object(member)

    assert (error.value.status, error.value.reason) == (None, "no_access_token")
    assert google.api_requests() == [r for r in google.requests if r["path"].startswith("/walletobjects")] == []


def test_an_api_that_does_not_answer_is_unreachable(account: dict[str, Any], member: dict[str, Any]) -> None:
    wallet = WalletClient(account, endpoint="http://127.0.0.1:9", timeout=2)

    with pytest.raises(WalletApiError) as error:
        wallet.upsert_object(member)

    assert (error.value.status, error.value.reason) == (None, "unreachable")
