"""What an admin sets up: stores and staff; and what support looks up: a member."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import BEARER_SECURITY, roles_required
from api.clock import now
from api.db import get_session
from api.schemas.accounts import MemberSchema, StaffCreateSchema, StaffSchema, StoreCreateSchema, StoreSchema
from wallet import accounts
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


@blp.route("/members/<int:member_id>")
class MemberById(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @blp.response(200, MemberSchema)
    @blp.doc(security=BEARER_SECURITY)
    def get(self, member_id: int) -> accounts.Member:
        """One member's profile, for support"""
        return accounts.get_member(get_session(), member_id)
