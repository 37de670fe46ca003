"""Wallet passes for the partner (Apple .pkpass, Google save links) and Apple's PassKit web service.

The partner's endpoints are in the API document. The PassKit web service (``/passkit/v1``)
is Apple's protocol, called by the Wallet app with ``Authorization: ApplePass <token>``:
answers are bare status codes as Apple specifies, so it stays out of this API's document.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint as FlaskBlueprint
from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.http import http_date, parse_date

from api.auth import current_member, roles_required
from api.clock import now
from api.db import get_session
from api.schemas.passes import SaveLinkSchema
from passes import cards, registrations, service
from passes.identity import apple_identity
from passes.updates import code_vault
from wallet.members.models import Role
from wallet.rewards import vouchers

logger = logging.getLogger(__name__)

blp = Blueprint("passes", __name__, url_prefix="/api/v1/me", description="Apple and Google Wallet passes")
passkit = FlaskBlueprint("passkit", __name__, url_prefix="/passkit/v1")

PKPASS = "application/vnd.apple.pkpass"


def _settings() -> Any:
    return current_app.config["SETTINGS"]


def _resources() -> Any:
    return current_app.extensions["resources"]


def _pkpass(served: service.ServedPass) -> Response:
    response = Response(served.data, mimetype=PKPASS)
    response.headers["Content-Disposition"] = f'attachment; filename="{served.serial_number}.pkpass"'
    response.headers["Last-Modified"] = http_date(served.updated_at)
    return response


def _apple(serial: str) -> service.ServedPass:
    return service.apple_pass(get_session(), serial, settings=_settings(), identity=apple_identity(_resources()),
                              vault=code_vault(_resources()), now=now())


def _google(serial: str) -> dict[str, str]:
    return {"save_url": service.google_link(get_session(), serial, settings=_settings(),
                                            vault=code_vault(_resources()), now=now())}


def _own_voucher(voucher_id: int) -> str:
    return cards.voucher_serial(vouchers.own(get_session(), member_id=current_member().id, voucher_id=voucher_id).id)


@blp.route("/passes/apple")
class MemberApplePass(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @blp.doc(responses={"200": {"description": "The signed pass", "content": {PKPASS: {}}}})
    def get(self) -> Response:
        """The member card as an Apple Wallet pass (storeCard), kept current by the PassKit web service"""
        return _pkpass(_apple(cards.member_serial(current_member().id)))


@blp.route("/passes/google")
class MemberGooglePass(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @blp.response(200, SaveLinkSchema)
    def get(self) -> dict[str, str]:
        """A "Save to Google Wallet" link for the member card; 503 when Google Wallet is not configured"""
        return _google(cards.member_serial(current_member().id))


@blp.route("/vouchers/<id:voucher_id>/passes/apple")
class VoucherApplePass(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @blp.doc(responses={"200": {"description": "The signed pass", "content": {PKPASS: {}}}})
    def get(self, voucher_id: int) -> Response:
        """The voucher as an Apple Wallet coupon with its code as barcode; voided once used"""
        return _pkpass(_apple(_own_voucher(voucher_id)))


@blp.route("/vouchers/<id:voucher_id>/passes/google")
class VoucherGooglePass(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @blp.response(200, SaveLinkSchema)
    def get(self, voucher_id: int) -> dict[str, str]:
        """A "Save to Google Wallet" link for the voucher (an offer); 503 when Google Wallet is not configured"""
        return _google(_own_voucher(voucher_id))


# --- Apple's PassKit web service -------------------------------------------------------------

def _authorized(pass_type: str, serial: str) -> bool:
    """The pass type is ours and the request carries the serial's token."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return (pass_type == _settings().apple_pass_type_id and scheme == "ApplePass"
            and cards.token_matches(serial, token.strip(), _settings().pass_token_key()))


def _empty(status: int) -> Response:
    return Response(status=status)


@passkit.route("/devices/<device_id>/registrations/<pass_type>/<serial>", methods=["POST", "DELETE"])
def registration(device_id: str, pass_type: str, serial: str) -> Response:
    """Register (201 new, 200 already) or unregister (200) a phone for a pass; 401 for a wrong token."""
    if not _authorized(pass_type, serial) or len(device_id) > 128:
        return _empty(401)
    session = get_session()
    if request.method == "DELETE":
        registrations.unregister(session, serial=serial, device_id=device_id)
        return _empty(200)
    body = request.get_json(silent=True)
    push_token = body.get("pushToken") if isinstance(body, dict) else None
    if not isinstance(push_token, str) or not push_token or len(push_token) > 200 or not push_token.isalnum():
        return _empty(400)
    created = registrations.register(session, serial=serial, device_id=device_id, push_token=push_token, now=now(),
                                     content_hash=None)
    if created is None:
        return _empty(404)
    return _empty(201 if created else 200)


@passkit.route("/devices/<device_id>/registrations/<pass_type>", methods=["GET"])
def updated_serials(device_id: str, pass_type: str) -> Response:
    """The phone's passes changed since ``passesUpdatedSince``: ``{serialNumbers, lastUpdated}``, or 204."""
    if pass_type != _settings().apple_pass_type_id:
        return _empty(404)
    found = registrations.updated_since(get_session(), device_id=device_id,
                                        since=request.args.get("passesUpdatedSince"))
    if found is None:
        return _empty(204)
    serials, tag = found
    return current_app.json.response({"serialNumbers": serials, "lastUpdated": tag})


@passkit.route("/passes/<pass_type>/<serial>", methods=["GET"])
def latest_pass(pass_type: str, serial: str) -> Response:
    """The pass as it is now, with Last-Modified; 304 when it has not changed since If-Modified-Since."""
    if not _authorized(pass_type, serial):
        return _empty(401)
    session = get_session()
    row = registrations.pass_row(session, serial)
    since = parse_date(request.headers.get("If-Modified-Since"))
    if row is not None and since is not None and row.updated_at <= since:
        response = _empty(304)
        response.headers["Last-Modified"] = http_date(row.updated_at)
        return response
    try:
        return _pkpass(_apple(serial))
    except service.PassNotFound:
        return _empty(404)


@passkit.route("/log", methods=["POST"])
def log() -> Response:
    """Wallet's error messages about our passes, into our log."""
    body = request.get_json(silent=True)
    logs = body.get("logs") if isinstance(body, dict) else None
    for line in (logs if isinstance(logs, list) else [])[:100]:
        logger.warning("PassKit: %r", str(line)[:1000])  # repr: a newline in it cannot forge a log line
    return _empty(200)
