"""The partner's wallet: balance, tier progress, history and the member card."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import confirm_signed_in, current_member, roles_required, signed_in
from api.clock import now
from api.db import get_session, read_connection
from api.pagination import PageArgs, page
from api.schemas.wallet import CardSchema, TransactionPageSchema, WalletSchema, wallet_body
from passes import member_card
from wallet import overview
from wallet.members.models import Role

blp = Blueprint("wallet", __name__, url_prefix="/api/v1/me", description="The partner's wallet and card")


@blp.route("/wallet")
class Wallet(MethodView):
    # The screen every partner opens first: the sign-in is checked in the wallet's own statement.
    decorators = [roles_required(Role.PARTNER, checked_by_view=True)]

    @blp.response(200, WalletSchema)
    def get(self) -> Response:
        """Balance, what expires in the next 90 days, and progress to the next tier"""
        wallet = overview.wallet_of_partner(read_connection(), signed_in().user_id, now())
        if wallet is None:  # not an active partner (current_member says which), or no account yet
            wallet = overview.wallet_of(get_session(), current_member(), now())
        else:
            confirm_signed_in()
        return jsonify(wallet_body(wallet))


@blp.route("/wallet/transactions")
class Transactions(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @blp.arguments(PageArgs, location="query")
    @blp.response(200, TransactionPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The points history, newest first"""
        before = args["cursor"]["before"] if args["cursor"] else None
        rows = overview.history(get_session(), current_member(), now(), before_id=before, limit=args["limit"] + 1)
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
    def get(self) -> member_card.Card:
        """The rotating, signed payload for the in-app QR; fetch a new one before ``expires_at``"""
        return _card()


@blp.route("/card/qr.png")
class CardPng(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @blp.doc(responses={"200": {"content": {"image/png": {}}}})
    def get(self) -> Response:
        """The member QR as a PNG"""
        return _no_store(Response(member_card.png(_card().payload), mimetype="image/png"))


@blp.route("/card/qr.svg")
class CardSvg(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @blp.doc(responses={"200": {"content": {"image/svg+xml": {}}}})
    def get(self) -> Response:
        """The member QR as SVG"""
        return _no_store(Response(member_card.svg(_card().payload), mimetype="image/svg+xml"))
