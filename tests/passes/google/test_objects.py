"""Google Wallet classes and objects: the REST shapes, the member payload, the localized labels."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from passes import member_card
from passes.google import (
    ObjectError,
    balance_points,
    loyalty_class,
    loyalty_object,
    object_id,
    offer_class,
    offer_object,
)
from tests.passes.google.conftest import CARD_KEYS, ISSUER, NOW

CLASS_ID = f"{ISSUER}.partner-wallet"


def translations(localized: dict[str, Any]) -> dict[str, str]:
    values = {localized["defaultValue"]["language"]: localized["defaultValue"]["value"]}
    values.update({t["language"]: t["value"] for t in localized["translatedValues"]})
    return values


def test_the_member_object_carries_account_balance_tier_and_the_till_payload(member: dict, payload: str) -> None:
    assert member["id"] == f"{ISSUER}.member-7f3a9c" and member["classId"] == CLASS_ID
    assert member["state"] == "ACTIVE"
    assert (member["accountId"], member["accountName"]) == ("40012345678", "Layla Haddad")
    assert member["loyaltyPoints"]["balance"] == {"int": 12_480}
    assert member["barcode"] == {"type": "QR_CODE", "value": payload, "alternateText": "40012345678"}
    assert member_card.verify(member["barcode"]["value"], keys=CARD_KEYS, now=NOW) == "40012345678"
    tier = member["textModulesData"][0]
    assert (tier["id"], tier["header"], tier["body"]) == ("tier", "Tier", "Gold")


def test_labels_are_localized_in_english_arabic_and_polish(member: dict) -> None:
    points = member["loyaltyPoints"]
    assert points["label"] == "Points"
    assert translations(points["localizedLabel"]) == {"en": "Points", "ar": "النقاط", "pl": "Punkty"}
    assert points["localizedLabel"]["defaultValue"] == {"language": "en", "value": "Points"}
    assert translations(member["textModulesData"][0]["localizedHeader"]) == {
        "en": "Tier", "ar": "المستوى", "pl": "Poziom"}


def test_expiring_points_are_a_text_module_soonest_first(payload: str) -> None:
    obj = loyalty_object(issuer_id=ISSUER, object_suffix="m-1", class_id=CLASS_ID, member_number="AE1",
                         member_name="Layla", barcode_value=payload, balance=5, tier_name="Gold",
                         expiring=[(300, dt.date(2027, 3, 31)), (120, dt.date(2027, 1, 31))])

    module = {m["id"]: m for m in obj["textModulesData"]}["expiring"]
    assert module["body"] == "2027-01-31: 120\n2027-03-31: 300"
    assert translations(module["localizedHeader"])["ar"] == "نقاط ستنتهي صلاحيتها"


def test_the_balance_patch_is_the_whole_loyalty_points_with_its_label() -> None:
    assert balance_points(99) == {"label": "Points", "localizedLabel": balance_points(1)["localizedLabel"],
                                  "balance": {"int": 99}}


def test_the_program_class_has_what_google_requires() -> None:
    cls = loyalty_class(issuer_id=ISSUER, class_suffix="partner-wallet", issuer_name="Tyre Co",
                        program_name="Partner Wallet", program_logo_uri="https://cdn.example.com/logo.png",
                        program_name_translations={"ar": "محفظة الشركاء", "pl": "Portfel Partnera"},
                        country_code="AE")

    assert cls["id"] == CLASS_ID
    assert (cls["issuerName"], cls["programName"], cls["reviewStatus"]) == ("Tyre Co", "Partner Wallet", "UNDER_REVIEW")
    assert cls["programLogo"]["sourceUri"] == {"uri": "https://cdn.example.com/logo.png"}
    assert translations(cls["localizedProgramName"]) == {"en": "Partner Wallet", "ar": "محفظة الشركاء",
                                                         "pl": "Portfel Partnera"}
    assert translations(cls["localizedAccountIdLabel"])["pl"] == "Numer uczestnika"
    assert cls["hexBackgroundColor"] == "#112a46" and cls["countryCode"] == "AE"


def test_an_offer_object_carries_the_voucher_code_and_its_validity() -> None:
    obj = offer_object(issuer_id=ISSUER, object_suffix="voucher-91", class_id=f"{ISSUER}.reward-alignment",
                       voucher_code="WINTER-7QK2-M9PX",
                       expires_at=dt.datetime(2027, 2, 28, 23, 59, tzinfo=dt.timezone.utc))

    assert obj["state"] == "ACTIVE"
    assert obj["barcode"] == {"type": "QR_CODE", "value": "WINTER-7QK2-M9PX", "alternateText": "WINTER-7QK2-M9PX"}
    assert obj["validTimeInterval"] == {"end": {"date": "2027-02-28T23:59:00+00:00"}}


@pytest.mark.parametrize("status, state", [
    ("active", "ACTIVE"), ("used", "COMPLETED"), ("expired", "EXPIRED"), ("cancelled", "INACTIVE")])
def test_a_voucher_status_becomes_googles_state(status: str, state: str) -> None:
    obj = offer_object(issuer_id=ISSUER, object_suffix="v-1", class_id=f"{ISSUER}.r", voucher_code="CODE-1",
                       status=status)  # type: ignore[arg-type]

    assert obj["state"] == state


def test_the_offer_class_names_the_reward() -> None:
    cls = offer_class(issuer_id=ISSUER, class_suffix="reward-alignment", issuer_name="Tyre Co",
                      provider="Partner Wallet", title="Wheel alignment",
                      title_translations={"ar": "ضبط زوايا العجلات", "pl": "Ustawienie zbieżności"},
                      fine_print="One per visit.")

    assert (cls["title"], cls["provider"], cls["redemptionChannel"]) == ("Wheel alignment", "Partner Wallet", "INSTORE")
    assert translations(cls["localizedTitle"])["ar"] == "ضبط زوايا العجلات"
    assert cls["finePrint"] == "One per visit."


@pytest.mark.parametrize("issuer, suffix, field", [
    ("abc", "x", "issuer_id"),
    ("", "x", "issuer_id"),
    (ISSUER, "", "suffix"),
    (ISSUER, "has space", "suffix"),
    (ISSUER, "slash/inside", "suffix"),
    (ISSUER, "x" * 201, "suffix"),
])
def test_bad_ids_are_refused(issuer: str, suffix: str, field: str) -> None:
    with pytest.raises(ObjectError) as error:
        object_id(issuer, suffix)

    assert error.value.field == field


@pytest.mark.parametrize("change, field", [
    ({"balance": "12"}, "balance"),
    ({"class_id": "no-issuer"}, "class_id"),
    ({"member_name": ""}, "member_name"),
    ({"barcode_value": "A" * 513}, "barcode_value"),
    ({"tier_name": " "}, "tier_name"),
])
def test_a_bad_member_object_is_refused(payload: str, change: dict, field: str) -> None:
    fields = dict(issuer_id=ISSUER, object_suffix="m", class_id=CLASS_ID, member_number="AE1", member_name="L",
                  barcode_value=payload, balance=1, tier_name="Gold")

    with pytest.raises(ObjectError) as error:
        loyalty_object(**{**fields, **change})

    assert error.value.field == field


@pytest.mark.parametrize("change, field", [
    ({"program_logo_uri": "http://cdn.example.com/logo.png"}, "logo_uri"),
    ({"hex_background_color": "navy"}, "hex_background_color"),
    ({"country_code": "uae"}, "country_code"),
    ({"program_name_translations": {"de": "Partner-Geldbörse"}}, "program_name"),
])
def test_a_bad_program_class_is_refused(change: dict, field: str) -> None:
    fields = dict(issuer_id=ISSUER, class_suffix="pw", issuer_name="Tyre Co", program_name="Partner Wallet",
                  program_logo_uri="https://cdn.example.com/logo.png")

    with pytest.raises(ObjectError) as error:
        loyalty_class(**{**fields, **change})

    assert error.value.field == field


def test_a_naive_expiry_and_an_unknown_status_are_refused() -> None:
    with pytest.raises(ObjectError) as naive:
        offer_object(issuer_id=ISSUER, object_suffix="v", class_id=f"{ISSUER}.r", voucher_code="C",
                     expires_at=dt.datetime(2027, 2, 28))
    with pytest.raises(ObjectError) as unknown:
        offer_object(issuer_id=ISSUER, object_suffix="v", class_id=f"{ISSUER}.r", voucher_code="C",
                     status="lost")  # type: ignore[arg-type]

    assert (naive.value.field, unknown.value.field) == ("expires_at", "status")
