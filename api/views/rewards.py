"""The partner's side of rewards: the catalog, redeeming, the voucher wallet, orders, offers."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import PUBLIC, current_member, roles_required
from api.clock import now
from api.db import get_session
from api.idempotency import value_moving
from api.pagination import PageArgs, page
from api.spec.marks import may_answer
from api.schemas import reward_shapes as shapes
from api.schemas.rewards import (
    CatalogArgs,
    CatalogPageSchema,
    CatalogRewardSchema,
    OrderPageSchema,
    OrderSchema,
    RedeemedSchema,
    RedemptionCreateSchema,
    VoucherArgs,
    VoucherBriefSchema,
    VoucherOfferPageSchema,
    VoucherPageSchema,
    VoucherSchema,
    encode_catalog_cursor,
)
from api.views.files import file_store
from notifications import voucher_offers
from passes import voucher_card
from wallet import ledger
from wallet.members.models import Member, Role
from wallet.rewards import catalog, images, orders, redemption, vouchers
from wallet.rewards.codes import CodeVault, vault_from_settings

catalog_blp = Blueprint("catalog", __name__, url_prefix="/api/v1/catalog", description="The rewards catalog")
blp = Blueprint("rewards", __name__, url_prefix="/api/v1/me", description="Redemptions, vouchers, orders, offers")


def code_vault() -> CodeVault:
    return current_app.extensions["resources"].get("code_vault", vault_from_settings)


def base_url() -> str:
    return current_app.config["SETTINGS"].public_url


def _balance(member: Member) -> int:
    return ledger.member_account(get_session(), member.id, now()).balance


@catalog_blp.route("/rewards")
class Catalog(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @catalog_blp.arguments(CatalogArgs, location="query")
    @catalog_blp.response(200, CatalogPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """What this partner may redeem (its country and tier), with stock and whether it can afford it"""
        member = current_member()
        items = catalog.catalog(get_session(), member=member, balance=_balance(member), now=now(),
                                category=args.get("category"), affordable=args.get("affordable"), sort=args["sort"],
                                after=args["cursor"], limit=args["limit"] + 1)
        more = len(items) > args["limit"]
        items = items[:args["limit"]]
        last = items[-1].reward if items else None
        cursor = None
        if more and last is not None:
            cursor = encode_catalog_cursor(0 if args["sort"] == "newest" else last.points_cost, last.id)
        return {"items": [shapes.catalog_item(item, base_url=base_url()) for item in items], "next_cursor": cursor}


@catalog_blp.route("/rewards/<id:reward_id>")
class CatalogReward(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @catalog_blp.response(200, CatalogRewardSchema)
    def get(self, reward_id: int) -> dict[str, Any]:
        """One reward of this partner's catalog (404 for one it may not see)"""
        member = current_member()
        item = catalog.catalog_item(get_session(), reward_id, member=member, balance=_balance(member), now=now())
        return shapes.catalog_item(item, base_url=base_url())


@catalog_blp.route("/rewards/<id:reward_id>/image")
class CatalogImage(MethodView):
    @catalog_blp.doc(security=PUBLIC, responses={
        "200": {"content": {"image/png": {}, "image/jpeg": {}}},
        "304": {"description": "the picture the client holds (If-None-Match) is still the current one"}})
    def get(self, reward_id: int) -> Response:
        """A reward's picture: public, cached for a day (its URL changes with the picture)"""
        picture = images.picture(get_session(), reward_id, store=file_store())  # type: ignore[arg-type]
        etag = f'"{picture.etag}"'
        if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
            picture.stream.close()
            response = Response(status=304)
        else:
            response = Response(picture.stream, mimetype=picture.content_type, direct_passthrough=True)
            response.headers["Content-Length"] = str(picture.size)
        response.headers["ETag"] = etag
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response


@blp.route("/redemptions")
class Redemptions(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @blp.arguments(RedemptionCreateSchema)
    @value_moving
    @may_answer(404)  # no such reward in this partner's catalog
    @blp.response(201, RedeemedSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Spend points on a reward: its vouchers go into the wallet (a physical one is ordered).

        409 with a reason (insufficient_points, out_of_stock, limit_reached, tier, not_available).
        """
        member = current_member()
        done = redemption.redeem(get_session(), member=member, reward_id=body["reward_id"],
                                 quantity=body["quantity"], address=body.get("delivery_address"), now=now(),
                                 vault=code_vault())
        shaped = [shapes.voucher(v, language=member.language, now=now(), base_url=base_url()) for v in done.vouchers]
        return {"id": done.id, "reward_id": done.reward.id, "quantity": done.redemption.quantity,
                "points_spent": done.points_spent, "balance": done.balance, "vouchers": shaped,
                "order": shapes.order(done.order, language=member.language, base_url=base_url())
                if done.order else None}


@blp.route("/vouchers")
class Vouchers(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @blp.arguments(VoucherArgs, location="query")
    @blp.response(200, VoucherPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The vouchers in this partner's wallet, newest first, with their codes; ?status= to filter"""
        member = current_member()
        before = args["cursor"]["before"] if args["cursor"] else None
        rows = vouchers.page(get_session(), member_id=member.id, now=now(), status=args.get("status"),
                             before_id=before, limit=args["limit"] + 1)
        paged = page(rows, args["limit"])
        vault = code_vault()
        paged["items"] = [shapes.voucher(v, language=member.language, now=now(), base_url=base_url(),
                                         revealed=vouchers.reveal(v, vault)) for v in paged["items"]]
        return paged


@blp.route("/vouchers/<id:voucher_id>")
class VoucherById(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @blp.response(200, VoucherSchema)
    def get(self, voucher_id: int) -> dict[str, Any]:
        """One of this partner's vouchers, with its code (another partner's is 404)"""
        member = current_member()
        voucher = vouchers.own(get_session(), member_id=member.id, voucher_id=voucher_id)
        return shapes.voucher(voucher, language=member.language, now=now(), base_url=base_url(),
                              revealed=vouchers.reveal(voucher, code_vault()))


@blp.route("/vouchers/<id:voucher_id>/qr.png")
class VoucherQr(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @blp.doc(responses={"200": {"content": {"image/png": {}}}})
    def get(self, voucher_id: int) -> Response:
        """The voucher's QR for the till: a signed payload naming the voucher"""
        voucher = vouchers.own(get_session(), member_id=current_member().id, voucher_id=voucher_id)
        payload = voucher_card.issue(voucher.id, keys=current_app.config["SETTINGS"].voucher_qr_signing_keys())
        response = Response(voucher_card.png(payload), mimetype="image/png")
        response.headers["Cache-Control"] = "no-store"  # whoever holds it can spend the voucher
        return response


@blp.route("/orders")
class Orders(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @blp.arguments(PageArgs, location="query")
    @blp.response(200, OrderPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """This partner's orders of physical rewards, newest first, each with its timeline"""
        member = current_member()
        before = args["cursor"]["before"] if args["cursor"] else None
        paged = page(orders.page(get_session(), member_id=member.id, before_id=before, limit=args["limit"] + 1),
                     args["limit"])
        paged["items"] = [shapes.order(o, language=member.language, base_url=base_url()) for o in paged["items"]]
        return paged


@blp.route("/orders/<id:order_id>")
class OrderById(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @blp.response(200, OrderSchema)
    def get(self, order_id: int) -> dict[str, Any]:
        """One order with its timeline: ordered, confirmed, shipped (carrier, tracking number), delivered"""
        member = current_member()
        return shapes.order(orders.own(get_session(), member_id=member.id, order_id=order_id),
                            language=member.language, base_url=base_url())


@blp.route("/offers")
class Offers(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @blp.arguments(PageArgs, location="query")
    @blp.response(200, VoucherOfferPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Vouchers campaigns offer this partner, to claim once each"""
        member = current_member()
        before = args["cursor"]["before"] if args["cursor"] else None
        paged = page(voucher_offers.open_offers(get_session(), member_id=member.id, now=now(), before_id=before,
                                                limit=args["limit"] + 1), args["limit"])
        paged["items"] = [{"id": o.id, "campaign_id": o.campaign_id, "claim_until": o.claim_until,
                           "created_at": o.created_at,
                           "reward": shapes.reward_brief(o.reward, language=member.language, base_url=base_url())}
                          for o in paged["items"]]
        return paged


@blp.route("/offers/<id:offer_id>/claim")
class OfferClaim(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @value_moving
    @blp.response(201, VoucherBriefSchema)
    def post(self, offer_id: int) -> dict[str, Any]:
        """Claim a campaign's voucher: it goes into the wallet, once (no points spent)"""
        member = current_member()
        voucher = voucher_offers.claim(get_session(), member=member, offer_id=offer_id, now=now(), vault=code_vault())
        return shapes.voucher(voucher, language=member.language, now=now(), base_url=base_url())
