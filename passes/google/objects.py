"""Google Wallet classes and objects for the loyalty program and its vouchers, as REST API dicts.

Google Wallet keeps what a pass shows on its servers: a *class* per program (or per reward
of the catalogue) holds what all its passes share, an *object* per member (or per voucher)
what is theirs. Both are plain dicts in exactly the shapes of the walletobjects v1 REST API
(``loyaltyClass``, ``loyaltyObject``, ``offerClass``, ``offerObject``), ready for
``WalletClient`` or a save link. The deprecated ``kind`` fields are left out.

What always holds:
- ids are ``<issuer_id>.<suffix>``: the issuer id Google gave (digits), a suffix of
  ``A-Z a-z 0-9 . _ -`` (Google's rule). Use opaque suffixes, not member numbers: an id is
  visible in save links.
- the member object's barcode value is exactly the given payload (what the till's
  ``POST /pos/scan`` accepts), with the member number as its human-readable text; a
  voucher's barcode value and text are its code.
- labels are localized (en default, ar, pl) through ``translatedValues``.
- a voucher's state follows Google's meaning of each state: ``ACTIVE`` until it is used
  (``COMPLETED``: "has been used", listed with used and expired passes), ``EXPIRED`` past its
  validity, ``INACTIVE`` when cancelled (hidden).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal, Mapping, Sequence

from passes.google.errors import ObjectError
from passes.google.labels import LANGUAGES, localized, localized_label, text

ISSUER = re.compile(r"[0-9]{1,32}")
SUFFIX = re.compile(r"[A-Za-z0-9._-]{1,200}")
HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
MAX_TEXT = 200
MAX_BARCODE = 512
MAX_EXPIRING_SHOWN = 10

ReviewStatus = Literal["UNDER_REVIEW", "DRAFT"]
RedemptionChannel = Literal["INSTORE", "ONLINE", "BOTH", "TEMPORARY_PRICE_REDUCTION"]
VoucherStatus = Literal["active", "used", "expired", "cancelled"]
OFFER_STATE: dict[str, str] = {"active": "ACTIVE", "used": "COMPLETED", "expired": "EXPIRED", "cancelled": "INACTIVE"}


def _text(name: str, value: object, *, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ObjectError(f"{name} must be non-empty text", reason="invalid", field=name)
    if len(value) > limit:
        raise ObjectError(f"{name} is {len(value)} characters; at most {limit}", reason="too_long", field=name)
    return value


def object_id(issuer_id: str, suffix: str) -> str:
    """``<issuer_id>.<suffix>``, checked. Raises ``ObjectError`` (field ``issuer_id`` or ``suffix``)."""
    if not isinstance(issuer_id, str) or not ISSUER.fullmatch(issuer_id):
        raise ObjectError("issuer_id must be the digits of Google's issuer id", reason="invalid", field="issuer_id")
    if not isinstance(suffix, str) or not SUFFIX.fullmatch(suffix):
        raise ObjectError("an id suffix must be 1-200 characters of A-Z a-z 0-9 . _ -", reason="invalid",
                          field="suffix")
    return f"{issuer_id}.{suffix}"


def _check_id(name: str, value: object) -> str:
    if not isinstance(value, str) or "." not in value:
        raise ObjectError(f"{name} must be <issuer_id>.<suffix>", reason="invalid", field=name)
    issuer, _, suffix = value.partition(".")
    try:
        return object_id(issuer, suffix)
    except ObjectError as exc:
        raise ObjectError(f"{name}: {exc.message}", reason="invalid", field=name) from exc


def _color(value: str | None) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, str) or not HEX_COLOR.fullmatch(value):
        raise ObjectError("hex_background_color must be #rrggbb", reason="invalid", field="hex_background_color")
    return {"hexBackgroundColor": value}


def _translations(name: str, default: str, translations: Mapping[str, str] | None) -> dict[str, Any]:
    values = {"en": default, **(translations or {})}
    for language, value in values.items():
        if language not in LANGUAGES:
            raise ObjectError(f"{name}: no language {language!r} (only {', '.join(LANGUAGES)})", reason="invalid",
                              field=name)
        _text(name, value)
    return localized(values)


def _barcode(value: str, alternate_text: str, name: str) -> dict[str, str]:
    _text(name, value, limit=MAX_BARCODE)
    return {"type": "QR_CODE", "value": value, "alternateText": alternate_text}


def _image(uri: str, description_key: str) -> dict[str, Any]:
    if not isinstance(uri, str) or not uri.startswith("https://") or len(uri) > 2000:
        raise ObjectError("an image must be an https:// URL Google can fetch", reason="invalid", field="logo_uri")
    return {"sourceUri": {"uri": uri}, "contentDescription": localized_label(description_key)}


def _when(name: str, moment: dt.datetime) -> dict[str, str]:
    if not isinstance(moment, dt.datetime) or moment.tzinfo is None:
        raise ObjectError(f"{name} must be a timezone-aware datetime", reason="invalid", field=name)
    return {"date": moment.isoformat(timespec="seconds")}


def loyalty_class(*, issuer_id: str, class_suffix: str, issuer_name: str, program_name: str,
                  program_logo_uri: str, program_name_translations: Mapping[str, str] | None = None,
                  hex_background_color: str | None = "#112a46", country_code: str | None = None,
                  review_status: ReviewStatus = "UNDER_REVIEW") -> dict[str, Any]:
    """The ``loyaltyClass`` of the program: names, logo, colour, and localized labels for id and name.

    ``program_logo_uri`` is an https URL Google fetches (Google does not take image bytes).
    ``program_name_translations`` maps ``ar``/``pl`` to the program's name in them.
    """
    data: dict[str, Any] = {
        "id": object_id(issuer_id, class_suffix),
        "issuerName": _text("issuer_name", issuer_name),
        "programName": _text("program_name", program_name),
        "localizedProgramName": _translations("program_name", program_name, program_name_translations),
        "programLogo": _image(program_logo_uri, "LOGO"),
        "accountIdLabel": text("MEMBER_NUMBER"),
        "localizedAccountIdLabel": localized_label("MEMBER_NUMBER"),
        "accountNameLabel": text("MEMBER"),
        "localizedAccountNameLabel": localized_label("MEMBER"),
        "reviewStatus": review_status,
        **_color(hex_background_color),
    }
    if country_code is not None:
        if not (isinstance(country_code, str) and re.fullmatch(r"[A-Z]{2}", country_code)):
            raise ObjectError("country_code must be two capital letters (ISO 3166-1)", reason="invalid",
                              field="country_code")
        data["countryCode"] = country_code
    return data


def _expiring_module(expiring: Sequence[tuple[int, dt.date]]) -> list[dict[str, Any]]:
    if not expiring:
        return []
    entries = sorted(((p, d.date() if isinstance(d, dt.datetime) else d) for p, d in expiring),
                     key=lambda e: (e[1], e[0]))
    body = "\n".join(f"{day.isoformat()}: {points}" for points, day in entries[:MAX_EXPIRING_SHOWN])
    return [{"id": "expiring", "header": text("EXPIRING_POINTS"), "localizedHeader": localized_label("EXPIRING_POINTS"),
             "body": body}]


def loyalty_object(*, issuer_id: str, object_suffix: str, class_id: str, member_number: str, member_name: str,
                   barcode_value: str, balance: int, tier_name: str,
                   expiring: Sequence[tuple[int, dt.date]] = ()) -> dict[str, Any]:
    """The member's ``loyaltyObject``: account, points balance, tier, expiring points, QR; state ``ACTIVE``."""
    if not isinstance(balance, int) or isinstance(balance, bool):
        raise ObjectError("balance must be a whole number of points", reason="invalid", field="balance")
    return {
        "id": object_id(issuer_id, object_suffix),
        "classId": _check_id("class_id", class_id),
        "state": "ACTIVE",
        "accountId": _text("member_number", member_number, limit=64),
        "accountName": _text("member_name", member_name),
        "loyaltyPoints": balance_points(balance),
        "barcode": _barcode(barcode_value, member_number, "barcode_value"),
        "textModulesData": [
            {"id": "tier", "header": text("TIER"), "localizedHeader": localized_label("TIER"),
             "body": _text("tier_name", tier_name)},
            *_expiring_module(expiring),
        ],
    }


def balance_points(balance: int) -> dict[str, Any]:
    """The ``loyaltyPoints`` of a balance, label included: what ``patch_object`` sends when only it changed."""
    return {"label": text("POINTS"), "localizedLabel": localized_label("POINTS"), "balance": {"int": balance}}


def offer_class(*, issuer_id: str, class_suffix: str, issuer_name: str, provider: str, title: str,
                title_translations: Mapping[str, str] | None = None, fine_print: str | None = None,
                redemption_channel: RedemptionChannel = "INSTORE", hex_background_color: str | None = "#112a46",
                review_status: ReviewStatus = "UNDER_REVIEW") -> dict[str, Any]:
    """The ``offerClass`` of a reward of the catalogue (its title is the reward's name)."""
    data: dict[str, Any] = {
        "id": object_id(issuer_id, class_suffix),
        "issuerName": _text("issuer_name", issuer_name),
        "provider": _text("provider", provider),
        "title": _text("title", title),
        "localizedTitle": _translations("title", title, title_translations),
        "redemptionChannel": redemption_channel,
        "reviewStatus": review_status,
        **_color(hex_background_color),
    }
    if fine_print is not None:
        data["finePrint"] = _text("fine_print", fine_print, limit=10_000)
    return data


def offer_object(*, issuer_id: str, object_suffix: str, class_id: str, voucher_code: str,
                 status: VoucherStatus = "active", expires_at: dt.datetime | None = None,
                 valid_from: dt.datetime | None = None) -> dict[str, Any]:
    """A voucher's ``offerObject``: the code as QR and text, its validity, its state (see the module doc)."""
    if status not in OFFER_STATE:
        raise ObjectError(f"status must be one of {', '.join(OFFER_STATE)}", reason="invalid", field="status")
    data: dict[str, Any] = {
        "id": object_id(issuer_id, object_suffix),
        "classId": _check_id("class_id", class_id),
        "state": OFFER_STATE[status],
        "barcode": _barcode(voucher_code, voucher_code, "voucher_code"),
    }
    interval: dict[str, Any] = {}
    if valid_from is not None:
        interval["start"] = _when("valid_from", valid_from)
    if expires_at is not None:
        interval["end"] = _when("expires_at", expires_at)
    if interval:
        data["validTimeInterval"] = interval
    return data
