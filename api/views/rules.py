"""What admins set without code: each country's earning program, bonus offers, products."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from api.auth import BEARER_SECURITY, roles_required
from api.clock import now
from api.db import get_session
from api.schemas.wallet import BonusRulePatchSchema, BonusRuleSchema, ProgramSchema, ProductSchema
from wallet import rules
from wallet.accounts import Role
from wallet.errors import NotFound

blp = Blueprint("rules", __name__, url_prefix="/api/v1/admin", description="Earning rules")


@blp.route("/programs/<string:country>")
class ProgramByCountry(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @blp.response(200, ProgramSchema)
    @blp.doc(security=BEARER_SECURITY)
    def get(self, country: str) -> rules.Program:
        """A country's earning program"""
        return rules.get_program(get_session(), country)

    @blp.arguments(ProgramSchema)
    @blp.response(200, ProgramSchema)
    @blp.doc(security=BEARER_SECURITY)
    def put(self, body: dict[str, Any], country: str) -> rules.Program:
        """Set a country's points rate, rounding, minimum purchase, daily cap and expiry"""
        if country not in current_app.config["SETTINGS"].countries:
            abort(404, message=f"{country} is not a country of this program")
        session = get_session()
        program = rules.save_program(session, country=country, now=now(), **body)
        session.commit()
        return program


@blp.route("/bonus-rules")
class BonusRules(MethodView):
    decorators = [roles_required(Role.ADMIN, Role.MARKETER)]

    @blp.response(200, BonusRuleSchema(many=True))
    @blp.doc(security=BEARER_SECURITY)
    def get(self) -> list[rules.BonusRule]:
        """Bonus offers, newest first"""
        return list(get_session().scalars(select(rules.BonusRule).order_by(rules.BonusRule.id.desc()).limit(500)))

    @blp.arguments(BonusRuleSchema)
    @blp.response(201, BonusRuleSchema)
    @blp.doc(security=BEARER_SECURITY)
    def post(self, body: dict[str, Any]) -> rules.BonusRule:
        """A time-boxed bonus: a multiplier or points per item, for some SKUs, categories or tiers"""
        session = get_session()
        rule = rules.BonusRule(created_at=now(), **body)
        session.add(rule)
        session.commit()
        return rule


@blp.route("/bonus-rules/<id:rule_id>")
class BonusRuleById(MethodView):
    decorators = [roles_required(Role.ADMIN, Role.MARKETER)]

    @blp.arguments(BonusRulePatchSchema)
    @blp.response(200, BonusRuleSchema)
    @blp.doc(security=BEARER_SECURITY)
    def patch(self, body: dict[str, Any], rule_id: int) -> rules.BonusRule:
        """Switch a bonus off, end it early or rename it"""
        session = get_session()
        rule = session.get(rules.BonusRule, rule_id)
        if rule is None:
            raise NotFound("no such bonus rule")
        if "ends_at" in body and body["ends_at"] <= rule.starts_at:
            abort(422, message="ends_at must be after starts_at", errors={"json": {"ends_at": ["must be after starts_at"]}})
        for key, value in body.items():
            setattr(rule, key, value)
        session.commit()
        return rule


@blp.route("/products/<string:sku>")
class ProductBySku(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @blp.arguments(ProductSchema)
    @blp.response(200, ProductSchema)
    @blp.doc(security=BEARER_SECURITY)
    def put(self, body: dict[str, Any], sku: str) -> rules.Product:
        """Say what a SKU is and its category, so category bonuses find it"""
        if len(sku) > 64:
            abort(404, message="a SKU has at most 64 characters")
        session = get_session()
        product = session.get(rules.Product, sku) or rules.Product(sku=sku)
        product.name, product.category = body["name"], body["category"]
        session.add(product)
        session.commit()
        return product
