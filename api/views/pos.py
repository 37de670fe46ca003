"""The cashier's till. A cashier acts only at the store its account belongs to."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from api.auth import BEARER_SECURITY, current_user, roles_required
from api.clock import now
from api.db import get_session
from api.idempotency import value_moving
from api.schemas.accounts import StoreSchema
from api.schemas.wallet import PurchaseCreateSchema, PurchaseSchema, RefundSchema, ScannedSchema, ScanSchema
from passes import member_card
from wallet import accounts, ledger, member_numbers, purchases
from wallet.accounts import Member, Role

blp = Blueprint("pos", __name__, url_prefix="/api/v1/pos", description="Point of sale")


def _store() -> accounts.Store:
    store = current_user().store
    assert store is not None  # the database refuses a cashier without a store
    if not store.is_active:
        abort(403, message="this store is closed")
    return store


def _member(body: dict[str, Any]) -> Member:
    """The member a scanned QR or a typed number names; 422 with the reason a cashier can read."""
    if "qr_payload" in body:
        try:
            number = member_card.verify(body["qr_payload"], keys=current_app.config["SETTINGS"].qr_keys(), now=now())
        except member_card.CardError as exc:
            abort(422, message=exc.message, errors={"json": {"qr_payload": [exc.message]}})
        field = "qr_payload"
    else:
        number = member_numbers.normalize(body["member_number"])
        if number is None:
            message = "this member number is mistyped: a digit is wrong or two are swapped"
            abort(422, message=message, errors={"json": {"member_number": [message]}})
        field = "member_number"
    member = get_session().scalar(select(Member).where(Member.member_number == number))
    if member is None or not member.user.is_active:
        abort(404, message="no active member with this number", errors={"json": {field: ["no such member"]}})
    return member


@blp.route("/store")
class TillStore(MethodView):
    decorators = [roles_required(Role.CASHIER)]

    @blp.response(200, StoreSchema)
    @blp.doc(security=BEARER_SECURITY)
    def get(self) -> accounts.Store:
        """The store this till is signed in at, with its currency"""
        return _store()


@blp.route("/scan")
class Scan(MethodView):
    decorators = [roles_required(Role.CASHIER)]

    @blp.arguments(ScanSchema)
    @blp.response(200, ScannedSchema)
    @blp.doc(security=BEARER_SECURITY)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Who is this? Checks the member QR (or typed number) and shows name, tier and balance"""
        _store()
        member = _member(body)
        session = get_session()
        return {
            "member_number": member.member_number,
            "name": member.name,
            "tier": member.tier,
            "balance": ledger.member_account(session, member.id, now()).balance,
        }


@blp.route("/purchases")
class Purchases(MethodView):
    decorators = [roles_required(Role.CASHIER)]

    @blp.arguments(PurchaseCreateSchema)
    @value_moving
    @blp.response(201, PurchaseSchema)
    @blp.doc(security=BEARER_SECURITY)
    def post(self, body: dict[str, Any]) -> purchases.Booking:
        """Book a purchase and earn its points; the same receipt twice returns the first booking"""
        return purchases.book(
            get_session(),
            store=_store(),
            cashier_user_id=current_user().id,
            member=_member(body),
            receipt_number=body["receipt_number"].strip(),
            total=body["total"]["amount"],
            currency=body["total"]["currency"],
            items=body.get("items"),
            now=now(),
        )


@blp.route("/purchases/<id:purchase_id>/refund")
class Refund(MethodView):
    decorators = [roles_required(Role.CASHIER)]

    @value_moving
    @blp.response(201, RefundSchema)
    @blp.doc(security=BEARER_SECURITY)
    def post(self, purchase_id: int) -> dict[str, Any]:
        """Refund a purchase booked at this store: its points are reversed; a second refund is 409"""
        session, at = get_session(), now()
        purchase = purchases.get_at_store(session, purchase_id, _store().id)
        tx = purchases.refund(session, purchase=purchase, actor_user_id=current_user().id, now=at)
        return {
            "purchase_id": purchase.id,
            "points_reversed": -tx.points if tx else 0,
            "shortfall": tx.shortfall if tx else 0,
            "balance": ledger.member_account(session, purchase.member_id, at).balance,
        }
