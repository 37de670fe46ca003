"""The partner's wallet: balance, tier progress, history and the member card."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import BEARER_SECURITY, current_member, roles_required
from api.clock import now
from api.db import get_session
from api.pagination import PageArgs, page
from api.schemas.wallet import CardSchema, TransactionPageSchema, WalletSchema
from passes import member_card
from wallet import ledger, tiers
from wallet.accounts import Role

blp = Blueprint("wallet", __name__, url_prefix="/api/v1/me", description="The partner's wallet and card")

EXPIRING_WITHIN = dt.timedelta(days=90)


@blp.route("/wallet")
class Wallet(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @blp.response(200, WalletSchema)
    @blp.doc(security=BEARER_SECURITY)
    def get(self) -> dict[str, Any]:
        """Balance, what expires in the next 90 days, and progress to the next tier"""
        session, member, at = get_session(), current_member(), now()
        account = ledger.member_account(session, member.id, at)
        progress = tiers.progress(session, member, at)
        return {
            "balance": account.balance,
            "pending": 0,
            "lifetime_earned": account.lifetime_earned,
            "currency_value": None,
            "expiring": [{"points": p, "expires_at": e} for p, e in ledger.expiring(session, account, at, EXPIRING_WITHIN)],
            "tier": {
                "name": progress.tier.name,
                "multiplier": progress.tier.multiplier,
                "qualifying_points": progress.qualifying_points,
                "next_tier": progress.next_tier.name if progress.next_tier else None,
                "points_to_next": progress.points_to_next,
            },
            "active_vouchers": 0,
        }


@blp.route("/wallet/transactions")
class Transactions(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @blp.arguments(PageArgs, location="query")
    @blp.response(200, TransactionPageSchema)
    @blp.doc(security=BEARER_SECURITY)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The points history, newest first"""
        session, member = get_session(), current_member()
        account = ledger.member_account(session, member.id, now())
        before = args["cursor"]["before"] if args["cursor"] else None
        rows = ledger.history(session, account, before_id=before, limit=args["limit"] + 1)
        return page(rows, args["limit"])


def _card() -> member_card.Card:
    keys = current_app.config["SETTINGS"].qr_keys()
    return member_card.issue(current_member().member_number, keys=keys, now=now())


def _no_store(response: Response) -> Response:
    # A QR that lets anyone collect on the member's account must not sit in a cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/card")
class Card(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @blp.response(200, CardSchema)
    @blp.doc(security=BEARER_SECURITY)
    def get(self) -> member_card.Card:
        """The rotating, signed payload for the in-app QR; fetch a new one before ``expires_at``"""
        return _card()


@blp.route("/card/qr.png")
class CardPng(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @blp.doc(security=BEARER_SECURITY, responses={"200": {"content": {"image/png": {}}}})
    def get(self) -> Response:
        """The member QR as a PNG"""
        return _no_store(Response(member_card.png(_card().payload), mimetype="image/png"))


@blp.route("/card/qr.svg")
class CardSvg(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @blp.doc(security=BEARER_SECURITY, responses={"200": {"content": {"image/svg+xml": {}}}})
    def get(self) -> Response:
        """The member QR as SVG"""
        return _no_store(Response(member_card.svg(_card().payload), mimetype="image/svg+xml"))
