"""Content Wallet would not accept is refused where it is made, naming the field."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from passes.apple import ContentError, Coupon, Identity, StoreCard, build_store_card
from tests.passes.apple.conftest import replace, unzip


@pytest.mark.parametrize("change, field, reason", [
    ({"serial_number": ""}, "serial_number", "invalid"),
    ({"serial_number": "a/b"}, "serial_number", "invalid"),
    ({"serial_number": "x" * 65}, "serial_number", "invalid"),
    ({"barcode_message": "PW1.k1.Łódź"}, "barcode_message", "not_latin1"),
    ({"barcode_message": "A" * 513}, "barcode_message", "too_long"),
    ({"barcode_message": ""}, "barcode_message", "invalid"),
    ({"authentication_token": "short"}, "authentication_token", "invalid"),
    ({"authentication_token": "has spaces in it, sixteen+"}, "authentication_token", "invalid"),
    ({"authentication_token": None}, "authentication_token", "invalid"),
    ({"web_service_url": None}, "web_service_url", "invalid"),
    ({"web_service_url": "ftp://wallet.example.com/"}, "web_service_url", "invalid"),
    ({"web_service_url": "https://"}, "web_service_url", "invalid"),
    ({"relevant_date": dt.datetime(2026, 11, 23, 9, 0)}, "relevant_date", "invalid"),
    ({"balance": "12480"}, "balance", "invalid"),
    ({"balance": True}, "balance", "invalid"),
    ({"member_name": "x" * 201}, "member_name", "too_long"),
    ({"tier_name": " "}, "tier_name", "invalid"),
    ({"terms": "x" * 10_001}, "terms", "too_long"),
    ({"expiring": [(100, "2027-01-31")]}, "expiring", "invalid"),
    ({"expiring": [(1, dt.date(2027, 1, 1))] * 51}, "expiring", "too_long"),
    ({"background_color": (0, 0, 256)}, "background_color", "invalid"),
    ({"label_color": "#ffffff"}, "label_color", "invalid"),
])
def test_a_bad_store_card_is_refused(card: StoreCard, change: dict, field: str, reason: str) -> None:
    with pytest.raises(ContentError) as error:
        replace(card, **change)

    assert (error.value.field, error.value.reason) == (field, reason)


@pytest.mark.parametrize("change, field, reason", [
    ({"voucher_code": "КОД-1"}, "voucher_code", "not_latin1"),
    ({"state": "expired"}, "state", "invalid"),
    ({"expires_at": dt.datetime(2027, 2, 28)}, "expires_at", "invalid"),
    ({"reward_name": ""}, "reward_name", "invalid"),
])
def test_a_bad_coupon_is_refused(coupon: Coupon, change: dict, field: str, reason: str) -> None:
    with pytest.raises(ContentError) as error:
        replace(coupon, **change)

    assert (error.value.field, error.value.reason) == (field, reason)


@pytest.mark.parametrize("change, field", [
    ({"pass_type_id": "pass.com.example.other"}, "pass_type_id"),
    ({"team_id": "ZZZZZ99999"}, "team_id"),
])
def test_content_for_another_pass_type_or_team_than_the_certificate_is_refused(
        card: StoreCard, identity: Identity, change: dict, field: str) -> None:
    with pytest.raises(ContentError) as error:
        build_store_card(replace(card, **change), identity)

    assert (error.value.field, error.value.reason) == (field, "identity_mismatch")


def test_an_http_web_service_is_refused_with_a_production_identity_only(card: StoreCard,
                                                                        identity: Identity) -> None:
    local = replace(card, web_service_url="http://192.168.1.20:8000/api/passes/")

    assert json.loads(unzip(build_store_card(local, identity))["pass.json"])["webServiceURL"].startswith("http://")
    with pytest.raises(ContentError) as error:
        build_store_card(local, replace(identity, is_development=False))
    assert error.value.reason == "insecure_web_service"


def test_a_card_without_web_service_has_neither_url_nor_token(card: StoreCard, identity: Identity) -> None:
    plain = replace(card, web_service_url=None, authentication_token=None, relevant_date=None)

    data = json.loads(unzip(build_store_card(plain, identity))["pass.json"])

    assert not {"webServiceURL", "authenticationToken", "relevantDate"} & set(data)


def test_expiring_points_are_kept_as_an_immutable_sorted_tuple(card: StoreCard) -> None:
    assert card.expiring == ((120, dt.date(2027, 1, 31)), (300, dt.date(2027, 3, 31)))
    assert hash(card) == hash(replace(card))


def test_only_the_ten_soonest_expiring_entries_are_shown(card: StoreCard, identity: Identity) -> None:
    many = [(i, dt.date(2027, 1, 1) + dt.timedelta(days=i)) for i in range(1, 16)]

    store = json.loads(unzip(build_store_card(replace(card, expiring=many), identity))["pass.json"])["storeCard"]

    lines = {f["key"]: f["value"] for f in store["backFields"]}["expiring"].splitlines()
    assert lines[0] == "2027-01-02: 1" and lines[-1] == "2027-01-11: 10" and len(lines) == 10
