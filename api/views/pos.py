"""The cashier's till. A cashier acts only at the store its account belongs to."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from api.auth import confirm_signed_in, current_user, roles_required, signed_in
from api.clock import now
from api.db import get_session
from api.idempotency import value_moving
from api.spec.marks import may_answer
from api.schemas.accounts import StoreSchema
from api.schemas import reward_shapes as shapes
from api.schemas.rewards import TillVoucherSchema, VoucherRedeemSchema
from api.schemas.wallet import PurchaseCreateSchema, PurchaseSchema, RefundSchema, ScannedSchema, ScanSchema
from api.views.rewards import base_url, code_vault
from passes import member_card, voucher_card
from wallet.earning import purchases
from wallet.members import accounts
from wallet.members.models import Member, Role, Store
from wallet.rewards import vouchers

blp = Blueprint("pos", __name__, url_prefix="/api/v1/pos", description="Point of sale")


def _store() -> Store:
    store = current_user().store
    assert store is not None  # the database refuses a cashier without a store
    if not store.is_active:
        abort(403, message="this store is closed")
    return store


def _member_number(body: dict[str, Any]) -> tuple[str, str]:
    """The member number a scanned QR or a typed number names, and the field it came in.

    Reading the input, not domain work: a forged or expired QR (``CardError``) and a
    mistyped number are 422s naming the field (api/errors.py).
    """
    if "qr_payload" in body:
        keys = current_app.config["SETTINGS"].qr_keys()
        return member_card.verify(body["qr_payload"], keys=keys, now=now()), "qr_payload"
    return accounts.normalize_typed_number(body["member_number"]), "member_number"


@blp.route("/store")
class TillStore(MethodView):
    decorators = [roles_required(Role.CASHIER)]

    @blp.response(200, StoreSchema)
    def get(self) -> Store:
        """The store this till is signed in at, with its currency"""
        return _store()


@blp.route("/scan")
class Scan(MethodView):
    decorators = [roles_required(Role.CASHIER)]

    @blp.arguments(ScanSchema)
    @blp.response(200, ScannedSchema)
    @may_answer(404)  # no active member with this number
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Who is this? Checks the member QR (or typed number) and shows name, tier and balance"""
        _store()
        number, field = _member_number(body)
        scanned = purchases.scan(get_session(), member_number=number, field=field, now=now())
        member = scanned.member
        return {"member_number": member.member_number, "name": member.name, "tier": member.tier,
                "tier_name": member.tier_name, "balance": scanned.balance}


@blp.route("/purchases")
class Purchases(MethodView):
    # The till's busiest call: the cashier is checked in the purchase's first statement.
    decorators = [roles_required(Role.CASHIER, checked_by_view=True)]

    # An instance, made once: given the class, webargs makes one (and its nested Money) per request.
    @blp.arguments(PurchaseCreateSchema())
    @value_moving
    @blp.response(201, PurchaseSchema)
    @may_answer(404)  # no active member with this number
    def post(self, body: dict[str, Any]) -> purchases.Booking:
        """Book a purchase and earn its points; the same receipt twice returns the first booking"""
        session, cashier_id = get_session(), signed_in().user_id
        number, field = _member_number(body)
        found = purchases.till_and_member(session, cashier_user_id=cashier_id, member_number=number)
        if found is None:  # the cashier's check (401, 403) or the member's (404) says why
            store, member = _store(), None
        else:
            confirm_signed_in()
            store, member = found
        return purchases.book(
            session,
            store=store,
            cashier_user_id=cashier_id,
            member=member,
            member_number=number,
            member_field=field,
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
    def post(self, purchase_id: int) -> purchases.Refunded:
        """Refund a purchase booked at this store: its points are reversed; a second refund is 409"""
        return purchases.refund_at_store(get_session(), purchase_id=purchase_id, store_id=_store().id,
                                         actor_user_id=current_user().id, now=now())


@blp.route("/vouchers/redeem")
class VoucherRedeem(MethodView):
    decorators = [roles_required(Role.CASHIER)]

    @blp.arguments(VoucherRedeemSchema)
    @value_moving
    @may_answer(404)  # no voucher has this code
    @blp.response(200, TillVoucherSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Take a voucher (its QR or its typed code): marked used here, once.

        Used before, expired, cancelled or of another country: 409 with the reason (and, for a
        used one, when and at which store); an unknown code 404; a forged QR 422.
        """
        store = _store()
        session = get_session()
        if "qr_payload" in body:
            keys = current_app.config["SETTINGS"].voucher_qr_signing_keys()
            voucher = vouchers.get(session, voucher_card.verify(body["qr_payload"], keys=keys))
        else:
            voucher = vouchers.find_by_code(session, body["code"], vault=code_vault())
        used = vouchers.use_at_till(session, voucher=voucher, store=store, cashier_user_id=current_user().id,
                                    now=now())
        member = session.get(Member, used.member_id)
        assert member is not None
        return {"id": used.id, "status": used.status, "used_at": used.used_at, "points": used.points,
                "store": {"id": store.id, "name": store.name, "city": store.city},
                "reward": shapes.reward_brief(used.reward, language="en", base_url=base_url()),
                "member": {"member_number": member.member_number, "name": member.name}}
