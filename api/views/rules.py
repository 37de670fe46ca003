"""What admins set without code: each country's earning program, bonus offers, products."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from api.auth import current_user, roles_required
from api.clock import now
from api.db import get_session
from api.pagination import PageArgs, page
from api.spec.marks import may_answer
from api.schemas.wallet import BonusRulePageSchema, BonusRulePatchSchema, BonusRuleSchema, ProductSchema, ProgramSchema
from wallet.earning import rules
from wallet.members.models import Role

blp = Blueprint("rules", __name__, url_prefix="/api/v1/admin", description="Earning rules")


@blp.route("/programs/<string:country>")
class ProgramByCountry(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @blp.response(200, ProgramSchema)
    def get(self, country: str) -> rules.Program:
        """A country's earning program"""
        return rules.get_program(get_session(), country)

    @blp.arguments(ProgramSchema)
    @blp.response(200, ProgramSchema)
    def put(self, body: dict[str, Any], country: str) -> rules.Program:
        """Set a country's points rate, rounding, minimum purchase, daily cap and expiry"""
        if country not in current_app.config["SETTINGS"].countries:
            abort(404, message=f"{country} is not a country of this program")
        return rules.save_program(get_session(), country=country, now=now(), **body)


@blp.route("/bonus-rules")
class BonusRules(MethodView):
    decorators = [roles_required(Role.ADMIN, Role.MARKETER)]

    @blp.arguments(PageArgs, location="query")
    @blp.response(200, BonusRulePageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Bonus offers, newest first"""
        before = args["cursor"]["before"] if args["cursor"] else None
        return page(rules.bonus_rules(get_session(), before_id=before, limit=args["limit"] + 1), args["limit"])

    @blp.arguments(BonusRuleSchema)
    @blp.response(201, BonusRuleSchema)
    @may_answer(404)  # the country has no program
    def post(self, body: dict[str, Any]) -> rules.BonusRule:
        """A time-boxed bonus: a multiplier or points per item, for some SKUs, categories or tiers.

        A marketer's bonus above the country's limits waits for an admin (status pending_approval).
        """
        user = current_user()
        return rules.create_bonus_rule(get_session(), now=now(), created_by_user_id=user.id,
                                       approved=user.role == Role.ADMIN, **body)


@blp.route("/bonus-rules/<id:rule_id>/approve")
class BonusRuleApproval(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @blp.response(200, BonusRuleSchema)
    def post(self, rule_id: int) -> rules.BonusRule:
        """Let a marketer's bonus above the limits run"""
        return rules.approve_bonus_rule(get_session(), rule_id, approved_by_user_id=current_user().id, now=now())


@blp.route("/bonus-rules/<id:rule_id>")
class BonusRuleById(MethodView):
    decorators = [roles_required(Role.ADMIN, Role.MARKETER)]

    @blp.arguments(BonusRulePatchSchema)
    @blp.response(200, BonusRuleSchema)
    def patch(self, body: dict[str, Any], rule_id: int) -> rules.BonusRule:
        """Switch a bonus off, end it early or rename it"""
        return rules.update_bonus_rule(get_session(), rule_id, body)


@blp.route("/products/<string:sku>")
class ProductBySku(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @blp.arguments(ProductSchema)
    @blp.response(200, ProductSchema)
    def put(self, body: dict[str, Any], sku: str) -> rules.Product:
        """Say what a SKU is and its category, so category bonuses find it"""
        if len(sku) > 64:
            abort(404, message="a SKU has at most 64 characters")
        return rules.save_product(get_session(), sku=sku, name=body["name"], category=body["category"])
