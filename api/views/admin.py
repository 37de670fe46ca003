"""What an admin sets up: stores and staff; and what support looks up: a member."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_user, roles_required
from api.clock import now
from api.db import get_session
from api.idempotency import value_moving
from api.spec.marks import may_answer
from api.schemas.accounts import MemberSchema, StaffCreateSchema, StaffSchema, StoreCreateSchema, StoreSchema
from api.schemas.wallet import AdjustmentCreateSchema, AdjustmentSchema
from wallet.earning import adjustments
from wallet.members import accounts
from wallet.members.models import Member, Role, Store, User

blp = Blueprint("admin", __name__, url_prefix="/api/v1/admin", description="Program administration")


@blp.route("/staff")
class Staff(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @blp.arguments(StaffCreateSchema)
    @blp.response(201, StaffSchema)
    @may_answer(409)  # the email has an account
    def post(self, body: dict[str, Any]) -> User:
        """Create a cashier (bound to a store), marketer or admin"""
        return accounts.create_staff(get_session(), now=now(), **body)


@blp.route("/stores")
class Stores(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @blp.arguments(StoreCreateSchema)
    @blp.response(201, StoreSchema)
    def post(self, body: dict[str, Any]) -> Store:
        """Open a store: where cashiers work, with the currency its tills take"""
        return accounts.create_store(get_session(), now=now(), **body)


@blp.route("/members/<id:member_id>")
class MemberById(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @blp.response(200, MemberSchema)
    def get(self, member_id: int) -> Member:
        """One member's profile, for support"""
        return accounts.get_member(get_session(), member_id)


@blp.route("/members/<id:member_id>/adjustments")
class Adjustments(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @blp.arguments(AdjustmentCreateSchema)
    @value_moving
    @blp.response(201, AdjustmentSchema)
    def post(self, body: dict[str, Any], member_id: int) -> dict[str, Any]:
        """Correct a member's points by hand; the reason and the admin are recorded with it"""
        done = adjustments.adjust_member(get_session(), member_id=member_id, points=body["points"],
                                         reason=body["reason"], actor_user_id=current_user().id, now=now())
        tx = done.transaction
        return {"id": tx.id, "points": tx.points, "balance": done.balance, "reason": tx.reason}
