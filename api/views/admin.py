"""What an admin sets up: stores and staff; and what support looks up: a member."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import BEARER_SECURITY, current_user, roles_required
from api.clock import now
from api.db import get_session
from api.idempotency import value_moving
from api.schemas.accounts import MemberSchema, StaffCreateSchema, StaffSchema, StoreCreateSchema, StoreSchema
from api.schemas.wallet import AdjustmentCreateSchema, AdjustmentSchema
from wallet import accounts, ledger, rules
from wallet.accounts import Role

blp = Blueprint("admin", __name__, url_prefix="/api/v1/admin", description="Program administration")


@blp.route("/staff")
class Staff(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @blp.arguments(StaffCreateSchema)
    @blp.response(201, StaffSchema)
    @blp.doc(security=BEARER_SECURITY)
    def post(self, body: dict[str, Any]) -> accounts.User:
        """Create a cashier (bound to a store), marketer or admin"""
        session = get_session()
        user = accounts.create_staff(session, now=now(), **body)
        session.commit()
        return user


@blp.route("/stores")
class Stores(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @blp.arguments(StoreCreateSchema)
    @blp.response(201, StoreSchema)
    @blp.doc(security=BEARER_SECURITY)
    def post(self, body: dict[str, Any]) -> accounts.Store:
        """Open a store: where cashiers work, with the currency its tills take"""
        session = get_session()
        store = accounts.create_store(session, now=now(), **body)
        session.commit()
        return store


@blp.route("/members/<id:member_id>")
class MemberById(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @blp.response(200, MemberSchema)
    @blp.doc(security=BEARER_SECURITY)
    def get(self, member_id: int) -> accounts.Member:
        """One member's profile, for support"""
        return accounts.get_member(get_session(), member_id)


@blp.route("/members/<id:member_id>/adjustments")
class Adjustments(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @blp.arguments(AdjustmentCreateSchema)
    @value_moving
    @blp.response(201, AdjustmentSchema)
    @blp.doc(security=BEARER_SECURITY)
    def post(self, body: dict[str, Any], member_id: int) -> dict[str, Any]:
        """Correct a member's points by hand; the reason and the admin are recorded with it"""
        session, at = get_session(), now()
        member = accounts.get_member(session, member_id)
        program = rules.get_program(session, member.country)
        tx = ledger.adjust(
            session,
            member_id=member.id,
            points=body["points"],
            reason=body["reason"],
            actor_user_id=current_user().id,
            now=at,
            expires_at=rules.add_months(at, program.expiry_months),
        )
        balance = ledger.member_account(session, member.id, at).balance
        return {"id": tx.id, "points": tx.points, "balance": balance, "reason": tx.reason}
