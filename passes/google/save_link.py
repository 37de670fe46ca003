"""The "Save to Google Wallet" link: a JWT signed with the issuer's service-account key.

``https://pay.google.com/gp/v/save/<jwt>``. The JWT's claims are ``iss`` (the service
account's e-mail), ``aud`` ``"google"``, ``typ`` ``"savetowallet"``, ``iat`` (``now``),
``origins`` (the web origins allowed to show a save button with it) and ``payload`` with
the classes and objects to save (``loyaltyObjects``, ``offerObjects``, and optionally their
classes). It is signed RS256 with the service-account key by google-auth, the way Google's
own samples do, and carries the key's id (``kid``) so Google picks the right public key.

Google creates what the link holds when the member saves it, so a link can carry whole
objects. Links over about 1,800 characters are cut by some browsers and chat apps: for a
long object, insert it with ``WalletClient.upsert_object`` first and put only
``{"id": ..., "classId": ...}`` in the link.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, Sequence

from google.auth import crypt, jwt

from passes.google.errors import ObjectError, ServiceAccountError

SAVE_URL = "https://pay.google.com/gp/v/save/"


def _signer(service_account_info: Mapping[str, Any]) -> crypt.RSASigner:
    if not isinstance(service_account_info, Mapping) or not service_account_info.get("client_email") \
            or not service_account_info.get("private_key"):
        raise ServiceAccountError("the service-account JSON needs client_email and private_key",
                                  reason="bad_service_account")
    try:
        return crypt.RSASigner.from_service_account_info(dict(service_account_info))
    except (ValueError, TypeError) as exc:
        raise ServiceAccountError(f"the service account's private key cannot be read: {exc}",
                                  reason="bad_service_account") from exc


def save_claims(service_account_info: Mapping[str, Any], *, loyalty_objects: Sequence[Mapping[str, Any]] = (),
                offer_objects: Sequence[Mapping[str, Any]] = (), loyalty_classes: Sequence[Mapping[str, Any]] = (),
                offer_classes: Sequence[Mapping[str, Any]] = (), origins: Sequence[str],
                now: dt.datetime) -> dict[str, Any]:
    """The claims of a save JWT (what ``save_url`` signs). Raises ``ObjectError`` when it would save nothing."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not loyalty_objects and not offer_objects:
        raise ObjectError("a save link needs at least one loyalty or offer object", reason="invalid",
                          field="objects")
    for obj in (*loyalty_objects, *offer_objects):
        if not isinstance(obj, Mapping) or not obj.get("id"):
            raise ObjectError("every object in a save link needs its id", reason="invalid", field="objects")
    if isinstance(origins, str) or not all(isinstance(o, str) and o for o in origins):
        raise ObjectError("origins is a list of web origins such as https://app.example.com", reason="invalid",
                          field="origins")
    payload: dict[str, Any] = {}
    for name, items in (("loyaltyClasses", loyalty_classes), ("loyaltyObjects", loyalty_objects),
                        ("offerClasses", offer_classes), ("offerObjects", offer_objects)):
        if items:
            payload[name] = [dict(item) for item in items]
    return {
        "iss": service_account_info.get("client_email"),
        "aud": "google",
        "typ": "savetowallet",
        "iat": int(now.timestamp()),
        "origins": list(origins),
        "payload": payload,
    }


def save_url(service_account_info: Mapping[str, Any], *, loyalty_objects: Sequence[Mapping[str, Any]] = (),
             offer_objects: Sequence[Mapping[str, Any]] = (), loyalty_classes: Sequence[Mapping[str, Any]] = (),
             offer_classes: Sequence[Mapping[str, Any]] = (), origins: Sequence[str], now: dt.datetime) -> str:
    """The "Save to Google Wallet" URL for these objects, signed with the service account's key.

    Raises ``ServiceAccountError`` when the JSON cannot sign, ``ObjectError`` when the link
    would save nothing or an object has no id.
    """
    signer = _signer(service_account_info)
    claims = save_claims(service_account_info, loyalty_objects=loyalty_objects, offer_objects=offer_objects,
                         loyalty_classes=loyalty_classes, offer_classes=offer_classes, origins=origins, now=now)
    token = jwt.encode(signer, claims)
    return SAVE_URL + (token.decode("ascii") if isinstance(token, bytes) else token)
