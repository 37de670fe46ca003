"""Signed Apple Wallet passes (``.pkpass``) from ``StoreCard`` and ``Coupon`` content.

A ``.pkpass`` is a zip of ``pass.json``, the images, ``<lang>.lproj/pass.strings``,
``manifest.json`` (the SHA-1 of every other file) and ``signature``, a detached PKCS#7
signature of ``manifest.json`` by the pass certificate that carries Apple's WWDR
intermediate. Wallet checks every file against the manifest and the manifest against the
signature, and refuses the pass when anything differs.

What always holds:
- The same content and identity give byte-identical files, except ``signature`` (it holds
  its signing time): ``pass.json`` is written with sorted keys, the images are cached PNGs,
  and zip entries are sorted with a fixed timestamp and permissions. ``content_hash`` is
  over exactly those files, so a caller stores it and knows a pass changed when it does
  (the PassKit web service's "changed since" and the push that announces an update).
- The barcode message is the content's ``barcode_message`` (or voucher code), unchanged,
  in ``barcodes`` and in the deprecated single ``barcode`` that iOS before 9 reads.
- A pass is refused (``ContentError``) when its pass type or team is not the signing
  certificate's (Wallet would reject it silently), and a production pass must use https
  for its web service (Wallet allows http only on a phone set up for development).
- Labels and fixed values are keys of ``passes.apple.strings``, localized on the phone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from typing import Any, Union

from passes.apple.certificates import Identity
from passes.apple.content import MAX_EXPIRING_SHOWN, Color, Coupon, StoreCard
from passes.apple.errors import ContentError
from passes.apple.images import pass_images
from passes.apple.strings import LANGUAGES, strings_file

Content = Union[StoreCard, Coupon]

MANIFEST = "manifest.json"
SIGNATURE = "signature"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say; any fixed value keeps builds identical
_STATUS_KEY = {"active": "STATUS_ACTIVE", "used": "STATUS_USED", "cancelled": "STATUS_CANCELLED"}


def _rgb(color: Color) -> str:
    return f"rgb({color[0]}, {color[1]}, {color[2]})"


def _w3c(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _check_identity(content: Content, identity: Identity) -> None:
    if identity.pass_type_id is not None and content.pass_type_id != identity.pass_type_id:
        raise ContentError(
            f"pass_type_id {content.pass_type_id!r} is not the signing certificate's ({identity.pass_type_id!r}): "
            "Wallet would reject the pass", reason="identity_mismatch", field="pass_type_id")
    if identity.team_id is not None and content.team_id != identity.team_id:
        raise ContentError(
            f"team_id {content.team_id!r} is not the signing certificate's ({identity.team_id!r}): "
            "Wallet would reject the pass", reason="identity_mismatch", field="team_id")
    url = content.web_service_url
    if url is not None and not url.startswith("https://") and not identity.is_development:
        raise ContentError("web_service_url must use https with a production certificate",
                           reason="insecure_web_service", field="web_service_url")


def _barcode(message: str, alt_text: str) -> dict[str, str]:
    return {"format": "PKBarcodeFormatQR", "message": message, "messageEncoding": "iso-8859-1", "altText": alt_text}


def _base(content: Content, identity: Identity, *, barcode: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "formatVersion": 1,
        "passTypeIdentifier": content.pass_type_id,
        "serialNumber": content.serial_number,
        "teamIdentifier": content.team_id,
        "organizationName": content.organization_name,
        "description": content.description,
        "foregroundColor": _rgb(content.foreground_color),
        "backgroundColor": _rgb(content.background_color),
        "labelColor": _rgb(content.label_color),
        "barcodes": [barcode],
        "barcode": barcode,  # deprecated since iOS 9, still the only one older phones read
        "sharingProhibited": True,  # the code is the member's own: no share sheet for it
    }
    if content.logo_text is not None:
        data["logoText"] = content.logo_text
    if content.web_service_url is not None:
        data["webServiceURL"] = content.web_service_url
        data["authenticationToken"] = content.authentication_token
    if content.relevant_date is not None:
        data["relevantDate"] = _w3c(content.relevant_date)
    return data


def _back(content: Content, identity: Identity, fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if content.terms:
        fields.append({"key": "terms", "label": "TERMS", "value": content.terms})
    if identity.is_development:
        fields.insert(0, {"key": "development", "label": "DEVELOPMENT", "value": "DEVELOPMENT_NOTE"})
    return fields


def store_card_json(content: StoreCard, identity: Identity) -> dict[str, Any]:
    """The ``pass.json`` dictionary of a store card (what ``build_store_card`` writes)."""
    _check_identity(content, identity)
    data = _base(content, identity, barcode=_barcode(content.barcode_message, content.member_number))
    back: list[dict[str, Any]] = []
    if content.expiring:
        lines = [f"{day.isoformat()}: {points}" for points, day in content.expiring[:MAX_EXPIRING_SHOWN]]
        back.append({"key": "expiring", "label": "EXPIRING_POINTS", "value": "\n".join(lines)})
    data["storeCard"] = {
        "primaryFields": [{"key": "balance", "label": "POINTS", "value": content.balance,
                           "numberStyle": "PKNumberStyleDecimal", "changeMessage": "BALANCE_CHANGED"}],
        "secondaryFields": [{"key": "tier", "label": "TIER", "value": content.tier_name},
                            {"key": "member", "label": "MEMBER", "value": content.member_name}],
        "auxiliaryFields": [{"key": "number", "label": "MEMBER_NUMBER", "value": content.member_number}],
        "backFields": _back(content, identity, back),
    }
    return data


def coupon_json(content: Coupon, identity: Identity) -> dict[str, Any]:
    """The ``pass.json`` dictionary of a coupon (what ``build_coupon`` writes)."""
    _check_identity(content, identity)
    data = _base(content, identity, barcode=_barcode(content.voucher_code, content.voucher_code))
    secondary: list[dict[str, Any]] = []
    if content.expires_at is not None:
        data["expirationDate"] = _w3c(content.expires_at)
        secondary.append({"key": "expires", "label": "EXPIRES", "value": _w3c(content.expires_at),
                          "dateStyle": "PKDateStyleMedium", "timeStyle": "PKDateStyleNone"})
    secondary.append({"key": "status", "label": "STATUS", "value": _STATUS_KEY[content.state],
                      "changeMessage": "STATUS_CHANGED"})
    auxiliary: list[dict[str, Any]] = [{"key": "code", "label": "VOUCHER_CODE", "value": content.voucher_code}]
    if content.member_name is not None:
        auxiliary.append({"key": "member", "label": "MEMBER", "value": content.member_name})
    if content.voided:
        data["voided"] = True
    data["coupon"] = {
        "primaryFields": [{"key": "reward", "label": "REWARD", "value": content.reward_name}],
        "secondaryFields": secondary,
        "auxiliaryFields": auxiliary,
        "backFields": _back(content, identity, []),
    }
    return data


def pass_files(content: Content, identity: Identity) -> dict[str, bytes]:
    """Every file of the pass but ``manifest.json`` and ``signature``, by path in the zip."""
    if isinstance(content, StoreCard):
        data = store_card_json(content, identity)
    elif isinstance(content, Coupon):
        data = coupon_json(content, identity)
    else:
        raise TypeError(f"not pass content: {type(content).__name__}")
    files = {"pass.json": json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()}
    files.update(pass_images(content.foreground_color, content.background_color))
    for language in LANGUAGES:
        files[f"{language}.lproj/pass.strings"] = strings_file(language)
    return files


def manifest(files: dict[str, bytes]) -> bytes:
    """``manifest.json``: the SHA-1 (hex) of each file, keys sorted, one line with no spaces."""
    digests = {name: hashlib.sha1(data, usedforsecurity=False).hexdigest() for name, data in files.items()}
    return json.dumps(digests, sort_keys=True, separators=(",", ":")).encode()


def content_hash(content: Content, identity: Identity) -> str:
    """A SHA-256 (hex) over every file of the pass but the signature: equal hashes, identical passes.

    Takes the identity because the pass depends on it (the development note; the checks).
    """
    digest = hashlib.sha256()
    for name, data in sorted(pass_files(content, identity).items()):
        digest.update(len(name).to_bytes(4, "big") + name.encode() + len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.create_system = 3  # unix, whatever machine builds it
            # PNGs and the DER signature do not shrink; text does
            info.compress_type = zipfile.ZIP_STORED if name.endswith(".png") or name == SIGNATURE \
                else zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return out.getvalue()


def build(content: Content, identity: Identity) -> bytes:
    """The signed ``.pkpass`` (zip bytes) of a store card or a coupon. Raises ``ContentError``."""
    files = pass_files(content, identity)
    files[MANIFEST] = manifest(files)
    files[SIGNATURE] = identity.sign(files[MANIFEST])
    return _zip(files)


def build_store_card(content: StoreCard, identity: Identity) -> bytes:
    """The signed ``.pkpass`` of a member's store card.

    Raises ``ContentError`` (reason ``identity_mismatch``) when the card's pass type or team
    is not the certificate's, and (``insecure_web_service``) for an http web service with a
    production identity.
    """
    if not isinstance(content, StoreCard):
        raise TypeError("build_store_card takes a StoreCard")
    return build(content, identity)


def build_coupon(content: Coupon, identity: Identity) -> bytes:
    """The signed ``.pkpass`` of a voucher; raises ``ContentError`` as ``build_store_card`` does."""
    if not isinstance(content, Coupon):
        raise TypeError("build_coupon takes a Coupon")
    return build(content, identity)
