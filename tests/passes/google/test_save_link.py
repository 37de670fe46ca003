"""The "Save to Google Wallet" link: a JWT that verifies with the service account's public key."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt as google_jwt

from passes.google import ObjectError, ServiceAccountError, offer_object, save_url
from tests.passes.google.conftest import ISSUER, NOW

PREFIX = "https://pay.google.com/gp/v/save/"
ORIGINS = ["https://app.partnerwallet.example"]


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def verified(url: str, key: rsa.RSAPrivateKey) -> dict[str, Any]:
    """The claims of a save link, after checking its RS256 signature against the service account's public key.

    (google.auth.jwt.decode insists on an ``exp`` claim, which save links do not carry; PyJWT does not.)
    """
    return pyjwt.decode(url[len(PREFIX):], public_pem(key), algorithms=["RS256"], audience="google")


def test_the_save_link_is_a_jwt_signed_by_the_service_account_carrying_the_members_object(
        account: dict[str, Any], account_key: rsa.RSAPrivateKey, member: dict[str, Any]) -> None:
    url = save_url(account, loyalty_objects=[member], origins=ORIGINS, now=NOW)

    assert url.startswith(PREFIX)
    claims = verified(url, account_key)
    assert claims["iss"] == "wallet@pw-wallet-test.iam.gserviceaccount.com"
    assert (claims["aud"], claims["typ"]) == ("google", "savetowallet")
    assert claims["iat"] == int(NOW.timestamp())
    assert claims["origins"] == ORIGINS
    assert claims["payload"] == {"loyaltyObjects": [member]}


def test_the_jwt_is_rs256_with_the_keys_id_and_pyjwt_agrees(account: dict[str, Any],
                                                           account_key: rsa.RSAPrivateKey,
                                                           member: dict[str, Any]) -> None:
    token = save_url(account, loyalty_objects=[member], origins=ORIGINS, now=NOW)[len(PREFIX):]

    header = pyjwt.get_unverified_header(token)
    assert (header["alg"], header["kid"]) == ("RS256", "test-key-1")
    claims = pyjwt.decode(token, public_pem(account_key), algorithms=["RS256"], audience="google")
    assert claims["payload"]["loyaltyObjects"][0]["barcode"] == member["barcode"]


def test_a_link_signed_by_another_key_does_not_verify(account: dict[str, Any], member: dict[str, Any]) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = save_url(account, loyalty_objects=[member], origins=ORIGINS, now=NOW)[len(PREFIX):]

    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(token, public_pem(other), algorithms=["RS256"], audience="google")
    with pytest.raises(ValueError, match="signature"):
        google_jwt.decode(token, certs=public_pem(other), audience="google")


def test_an_offer_link_carries_the_voucher(account: dict[str, Any], account_key: rsa.RSAPrivateKey) -> None:
    voucher = offer_object(issuer_id=ISSUER, object_suffix="voucher-91", class_id=f"{ISSUER}.r",
                           voucher_code="WINTER-7QK2-M9PX")

    url = save_url(account, offer_objects=[voucher], origins=[], now=NOW)

    claims = verified(url, account_key)
    assert claims["payload"] == {"offerObjects": [voucher]}


@pytest.mark.parametrize("kwargs, field", [
    ({}, "objects"),
    ({"loyalty_objects": [{"classId": "x"}]}, "objects"),
    ({"loyalty_objects": [{"id": "1.a"}], "origins": "https://app.example"}, "origins"),
])
def test_a_link_that_saves_nothing_is_refused(account: dict[str, Any], kwargs: dict, field: str) -> None:
    with pytest.raises(ObjectError) as error:
        save_url(account, **{"origins": ORIGINS, **kwargs}, now=NOW)

    assert error.value.field == field


@pytest.mark.parametrize("broken", [
    {"private_key": None},
    {"client_email": ""},
    {"private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
])
def test_a_service_account_that_cannot_sign_is_refused(account: dict[str, Any], member: dict[str, Any],
                                                       broken: dict) -> None:
    with pytest.raises(ServiceAccountError) as error:
        save_url({**account, **broken}, loyalty_objects=[member], origins=ORIGINS, now=NOW)

    assert error.value.reason == "bad_service_account"


def test_now_must_be_timezone_aware(account: dict[str, Any], member: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        save_url(account, loyalty_objects=[member], origins=ORIGINS, now=dt.datetime(2026, 11, 23, 9, 0))
