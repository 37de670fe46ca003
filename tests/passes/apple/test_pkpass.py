"""A built .pkpass: its files, manifest, signature (checked by openssl), strings and content hash."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest

from passes import member_card
from passes.apple import Coupon, Identity, StoreCard, build_coupon, build_store_card, content_hash
from passes.apple.certificates import ROOT_FILE
from passes.apple.strings import LABELS, parse_strings_file
from tests.passes.apple.conftest import CARD_KEYS, NOW, PASS_TYPE, TEAM, replace, unzip

IMAGES = {"icon.png": (29, 29), "icon@2x.png": (58, 58), "icon@3x.png": (87, 87),
          "logo.png": (160, 50), "logo@2x.png": (320, 100), "logo@3x.png": (480, 150)}
STRINGS = ["ar.lproj/pass.strings", "en.lproj/pass.strings", "pl.lproj/pass.strings"]


def test_every_file_is_in_the_manifest_with_its_sha1(card: StoreCard, identity: Identity) -> None:
    files = unzip(build_store_card(card, identity))
    listed = json.loads(files["manifest.json"])

    assert set(listed) == set(files) - {"manifest.json", "signature"}
    assert set(listed) == {"pass.json", *IMAGES, *STRINGS}
    for name, digest in listed.items():
        assert hashlib.sha1(files[name]).hexdigest() == digest, name


def test_pass_json_has_what_wallet_requires_and_the_member_payload_as_barcode(
        card: StoreCard, identity: Identity, payload: str) -> None:
    data = json.loads(unzip(build_store_card(card, identity))["pass.json"])

    assert data["formatVersion"] == 1
    assert data["passTypeIdentifier"] == PASS_TYPE and data["teamIdentifier"] == TEAM
    assert data["serialNumber"] == "card-7f3a9c"
    assert data["organizationName"] == "Partner Wallet" and data["description"] == "Partner Wallet member card"
    assert data["foregroundColor"] == "rgb(255, 255, 255)" and data["backgroundColor"] == "rgb(17, 42, 70)"
    assert data["labelColor"] == "rgb(255, 193, 7)"
    barcode = {"format": "PKBarcodeFormatQR", "message": payload, "messageEncoding": "iso-8859-1",
               "altText": "40012345678"}
    assert data["barcodes"] == [barcode] and data["barcode"] == barcode
    # the till accepts exactly what the pass shows
    assert member_card.verify(data["barcodes"][0]["message"], keys=CARD_KEYS, now=NOW) == "40012345678"
    assert data["webServiceURL"] == "https://wallet.example.com/api/passes/"
    assert data["authenticationToken"] == "tok_0123456789abcdef0123"
    assert data["relevantDate"] == "2026-11-23T09:00:00+00:00"


def test_the_store_card_shows_balance_tier_name_and_on_the_back_expiring_points_terms_and_the_development_note(
        card: StoreCard, identity: Identity) -> None:
    store = json.loads(unzip(build_store_card(card, identity))["pass.json"])["storeCard"]

    assert [(f["key"], f["label"], f["value"]) for f in store["primaryFields"]] == [("balance", "POINTS", 12_480)]
    assert [(f["label"], f["value"]) for f in store["secondaryFields"]] == [
        ("TIER", "Gold"), ("MEMBER", "Layla Haddad")]
    back = {f["key"]: (f["label"], f["value"]) for f in store["backFields"]}
    assert back["expiring"] == ("EXPIRING_POINTS", "2027-01-31: 120\n2027-03-31: 300")  # soonest first
    assert back["terms"] == ("TERMS", "Points expire 24 months after they are earned.")
    assert back["development"] == ("DEVELOPMENT", "DEVELOPMENT_NOTE")
    assert store["backFields"][0]["key"] == "development"  # the first thing on the back


def test_a_production_identity_puts_no_development_note(card: StoreCard, identity: Identity) -> None:
    production = replace(identity, is_development=False)

    store = json.loads(unzip(build_store_card(card, production))["pass.json"])["storeCard"]

    assert "development" not in {f["key"] for f in store["backFields"]}


def test_images_have_apples_sizes(card: StoreCard, identity: Identity) -> None:
    from PIL import Image

    files = unzip(build_store_card(card, identity))

    for name, size in IMAGES.items():
        with Image.open(io.BytesIO(files[name])) as image:
            assert image.format == "PNG" and image.size == size, name


def test_the_signature_verifies_with_openssl_against_the_development_root(
        card: StoreCard, identity: Identity, identity_dir: Path, cms_verify) -> None:
    files = unzip(build_store_card(card, identity))

    result = cms_verify(files["signature"], files["manifest.json"], identity_dir / ROOT_FILE)

    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr


def test_a_tampered_manifest_fails_verification(card: StoreCard, identity: Identity, identity_dir: Path,
                                                cms_verify) -> None:
    files = unzip(build_store_card(card, identity))
    listed = json.loads(files["manifest.json"])
    listed["pass.json"] = hashlib.sha1(b'{"balance": 999999}').hexdigest()
    tampered = json.dumps(listed, sort_keys=True, separators=(",", ":")).encode()

    result = cms_verify(files["signature"], tampered, identity_dir / ROOT_FILE)

    assert result.returncode != 0
    assert "digest failure" in result.stderr.lower() or "verification failure" in result.stderr.lower()


def test_a_pass_signed_by_another_identity_fails_verification(card: StoreCard, other_identity: Identity,
                                                              identity_dir: Path, cms_verify) -> None:
    files = unzip(build_store_card(card, other_identity))

    result = cms_verify(files["signature"], files["manifest.json"], identity_dir / ROOT_FILE)

    assert result.returncode != 0
    assert "certificate verify error" in result.stderr.lower() or "unable to get" in result.stderr.lower()


def test_the_signature_carries_the_wwdr_intermediate(card: StoreCard, identity: Identity) -> None:
    from cryptography.hazmat.primitives.serialization import pkcs7

    signature = unzip(build_store_card(card, identity))["signature"]

    carried = pkcs7.load_der_pkcs7_certificates(signature)
    assert identity.wwdr in carried and identity.certificate in carried


def test_the_strings_files_are_utf16_and_hold_every_label_in_arabic_english_and_polish(
        card: StoreCard, identity: Identity) -> None:
    files = unzip(build_store_card(card, identity))

    for name in STRINGS:
        assert files[name].startswith(b"\xff\xfe"), name  # UTF-16 with its byte-order mark
        files[name].decode("utf-16")
    arabic = parse_strings_file(files["ar.lproj/pass.strings"])
    assert arabic["POINTS"] == "النقاط"
    assert arabic["TIER"] == "المستوى"
    assert arabic["EXPIRING_POINTS"] == "نقاط ستنتهي صلاحيتها"
    assert parse_strings_file(files["pl.lproj/pass.strings"])["POINTS"] == "Punkty"
    assert parse_strings_file(files["en.lproj/pass.strings"])["BALANCE_CHANGED"] == "Your points balance is now %@"
    for name in STRINGS:
        assert set(parse_strings_file(files[name])) == set(LABELS), name


def test_every_label_and_fixed_value_on_the_pass_has_a_translation(card: StoreCard, coupon: Coupon,
                                                                     identity: Identity) -> None:
    for pkpass, style in ((build_store_card(card, identity), "storeCard"), (build_coupon(coupon, identity), "coupon")):
        fields = json.loads(unzip(pkpass)["pass.json"])[style]
        keys = {f[k] for group in fields.values() for f in group for k in ("label", "changeMessage") if k in f}
        keys |= {f["value"] for group in fields.values() for f in group
                 if isinstance(f["value"], str) and f["value"].isupper() and "_" in f["value"]}
        assert keys and keys <= set(LABELS), keys - set(LABELS)


def test_two_builds_of_the_same_content_are_identical_but_for_the_signature(card: StoreCard,
                                                                           identity: Identity) -> None:
    first, second = unzip(build_store_card(card, identity)), unzip(build_store_card(card, identity))

    assert {k: v for k, v in first.items() if k != "signature"} == {k: v for k, v in second.items() if k != "signature"}
    assert content_hash(card, identity) == content_hash(replace(card), identity)


def test_zip_entries_are_sorted_with_a_fixed_timestamp(card: StoreCard, identity: Identity) -> None:
    with zipfile.ZipFile(io.BytesIO(build_store_card(card, identity))) as archive:
        infos = archive.infolist()

    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


@pytest.mark.parametrize("change", [
    {"balance": 12_481},
    {"tier_name": "Platinum"},
    {"expiring": [(120, __import__("datetime").date(2027, 1, 31))]},
    {"barcode_message": "PW1.k1.40012345678.29657000.AAAA"},
    {"foreground_color": (0, 0, 0)},
])
def test_a_change_of_content_changes_the_content_hash(card: StoreCard, identity: Identity, change: dict) -> None:
    assert content_hash(replace(card, **change), identity) != content_hash(card, identity)


def test_the_content_hash_covers_the_development_note(card: StoreCard, identity: Identity) -> None:
    assert content_hash(card, replace(identity, is_development=False)) != content_hash(card, identity)


def test_a_coupon_carries_the_voucher_code_as_barcode_and_its_expiry(coupon: Coupon, identity: Identity) -> None:
    data = json.loads(unzip(build_coupon(coupon, identity))["pass.json"])

    barcode = {"format": "PKBarcodeFormatQR", "message": "WINTER-7QK2-M9PX", "messageEncoding": "iso-8859-1",
               "altText": "WINTER-7QK2-M9PX"}
    assert data["barcodes"] == [barcode] and data["barcode"] == barcode
    assert data["expirationDate"] == "2027-02-28T23:59:00+00:00"
    assert data["coupon"]["primaryFields"] == [{"key": "reward", "label": "REWARD", "value": "Wheel alignment"}]
    status = {f["key"]: f["value"] for f in data["coupon"]["secondaryFields"]}
    assert status == {"expires": "2027-02-28T23:59:00+00:00", "status": "STATUS_ACTIVE"}
    assert "voided" not in data and "storeCard" not in data


@pytest.mark.parametrize("state, status", [("used", "STATUS_USED"), ("cancelled", "STATUS_CANCELLED")])
def test_a_used_or_cancelled_coupon_is_voided(coupon: Coupon, identity: Identity, state: str, status: str) -> None:
    data = json.loads(unzip(build_coupon(replace(coupon, state=state), identity))["pass.json"])

    assert data["voided"] is True
    assert {f["key"]: f["value"] for f in data["coupon"]["secondaryFields"]}["status"] == status
    assert content_hash(replace(coupon, state=state), identity) != content_hash(coupon, identity)


def test_a_coupon_verifies_with_openssl_too(coupon: Coupon, identity: Identity, identity_dir: Path,
                                            cms_verify) -> None:
    files = unzip(build_coupon(coupon, identity))

    assert cms_verify(files["signature"], files["manifest.json"], identity_dir / ROOT_FILE).returncode == 0


def test_the_builders_refuse_the_other_kind_of_content(card: StoreCard, coupon: Coupon, identity: Identity) -> None:
    with pytest.raises(TypeError):
        build_store_card(coupon, identity)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        build_coupon(card, identity)  # type: ignore[arg-type]
